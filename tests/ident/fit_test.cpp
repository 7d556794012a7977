// twind fit's estimator on data from the plant simulators: the seed plant under its PI loop at
// every sampling the twin takes, the rotating machine, and the data it must refuse.
#include "twind/ident/fit.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>

#include "machine.hpp"
#include "twind/model/linear.hpp"
#include "twind/sim/closed_loop.hpp"
#include "twind/sim/machine.hpp"

namespace twind::ident {
namespace {

config::SignalSpec signal(std::string name, Role role) {
  config::SignalSpec s;
  s.name = std::move(name);
  s.role = role;
  return s;
}

config::AssetSpec seed_asset(config::ModelKind kind) {
  config::AssetSpec a;
  a.id = "plant";
  a.model.id = {"first-order-lag", "1"};
  a.model.kind = kind;
  // A wrong guess to start from: pole -0.4, gain 1.25 (the truth: -1 and 1).
  if (kind == config::ModelKind::transfer_function) {
    a.model.num = {0.5};
    a.model.den = {1.0, 0.4};
  } else {
    a.model.a = {1, 1, {-0.4}};
    a.model.b = {1, 1, {0.5}};
    a.model.c = {1, 1, {1.0}};
    a.model.d = {1, 1, {0.0}};
  }
  a.signals = {signal("u", Role::input), signal("y", Role::output)};
  return a;
}

struct Sampling {
  double dt;
  bool jitter;
};

// The seed loop (PI at `dt`, set-point 3, noise 0.01 on y) for `seconds`, as the twin takes its
// samples: y then u of each instant. With jitter each interval is dt * U(0.7, 1.3).
Series seed_series(const Sampling& s, double seconds, std::uint64_t seed = 7) {
  sim::Scenario sc;
  sc.dt = s.dt;
  sc.wear_at = -1.0;
  sc.noise_std = 0.01;
  sc.seed = seed;
  sim::ClosedLoop loop(sc, 1000.0);
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> jitter(0.7, 1.3);
  Series out{"plant", {}};
  while (loop.time() < 1000.0 + seconds) {
    const double next = loop.time() + s.dt * (s.jitter ? jitter(rng) : 1.0);
    const sim::Sample smp = loop.step_to(next);
    out.samples.push_back({smp.t, 1, smp.y});
    out.samples.push_back({smp.t, 0, smp.u});
  }
  return out;
}

// Pole and DC gain of a fitted first-order model, whatever its form.
std::pair<double, double> pole_and_gain(const config::ModelSpec& m) {
  if (m.kind == config::ModelKind::transfer_function) {
    EXPECT_EQ(m.den.size(), 2U);
    return {-m.den[1] / m.den[0], m.num.back() / m.den[1]};
  }
  return {m.a(0, 0), -m.c(0, 0) * m.b(0, 0) / m.a(0, 0)};
}

class SeedFit : public ::testing::TestWithParam<std::tuple<config::ModelKind, Sampling>> {};

TEST_P(SeedFit, PoleAndGainWithinOnePercentFromAMinuteOfNoisyClosedLoopData) {
  const auto [kind, sampling] = GetParam();
  const Series data = seed_series(sampling, 60.0);
  const FitResult r = fit(seed_asset(kind), std::span(&data, 1));
  const auto [pole, gain] = pole_and_gain(r.model);
  EXPECT_NEAR(pole, -1.0, 0.01) << r.report.method;
  EXPECT_NEAR(gain, 1.0, 0.01);
  EXPECT_EQ(r.model.id.version, "2");
  // The intervals are honest: the truth lies within them (a little slack for the gain, which
  // is a ratio of two estimates).
  ASSERT_FALSE(r.report.parameters.empty());
  for (const Parameter& p : r.report.parameters) {
    EXPECT_GT(p.ci95, 0.0) << p.name;
    EXPECT_TRUE(std::isfinite(p.ci95)) << p.name;
  }
  ASSERT_EQ(r.report.outputs.size(), 1U);
  const OutputFit& o = r.report.outputs[0];
  // The residuals are the measurement noise.
  EXPECT_NEAR(o.noise, 0.01, 0.002);
  EXPECT_NEAR(o.holdout_rms, 0.01, 0.003);
  EXPECT_GT(o.holdout_samples, 10U);
  EXPECT_NEAR(o.interval, sampling.dt, sampling.jitter ? 0.2 * sampling.dt : 1e-9);
  EXPECT_EQ(r.residuals.size(), 1U);
  EXPECT_NEAR(r.rates[0], 1.0 / sampling.dt, 0.1 / sampling.dt);
}

std::string sampling_name(const ::testing::TestParamInfo<SeedFit::ParamType>& info) {
  const auto& [kind, s] = info.param;
  return std::string(kind == config::ModelKind::transfer_function ? "TransferFunction"
                                                                  : "StateSpace") +
         std::to_string(int(std::lround(s.dt * 1000))) + "ms" + (s.jitter ? "Jittered" : "");
}

INSTANTIATE_TEST_SUITE_P(
    Sampling, SeedFit,
    ::testing::Combine(
        ::testing::Values(config::ModelKind::transfer_function, config::ModelKind::state_space),
        ::testing::Values(Sampling{0.01, false}, Sampling{0.01, true}, Sampling{0.02, false},
                          Sampling{0.02, true}, Sampling{0.1, false}, Sampling{0.1, true},
                          Sampling{0.5, false}, Sampling{0.5, true})),
    sampling_name);

TEST(Fit, OrderOnAStateSpaceRealisesTheFittedTransferFunction) {
  const Series data = seed_series({0.02, false}, 60.0);
  FitOptions o;
  o.order = 1;
  const FitResult r = fit(seed_asset(config::ModelKind::state_space), std::span(&data, 1), o);
  EXPECT_EQ(r.model.kind, config::ModelKind::state_space);
  const auto [pole, gain] = pole_and_gain(r.model);
  EXPECT_NEAR(pole, -1.0, 0.01);
  EXPECT_NEAR(gain, 1.0, 0.01);
}

TEST(Fit, ADiscreteModelKeepsItsSampleTime) {
  // Sampled at the model's own 100 ms: the exact discretisation of 1/(s+1) is
  // x[k+1] = e^-0.1 x[k] + (1 - e^-0.1) u[k].
  const Series data = seed_series({0.1, false}, 120.0);
  config::AssetSpec a = seed_asset(config::ModelKind::state_space);
  a.model.domain = config::Domain::discrete;
  a.model.dt = 0.1;
  a.model.a = {1, 1, {0.5}};
  a.model.b = {1, 1, {0.3}};
  const FitResult r = fit(a, std::span(&data, 1));
  EXPECT_EQ(r.model.domain, config::Domain::discrete);
  EXPECT_EQ(r.model.dt, 0.1);
  EXPECT_NEAR(r.model.a(0, 0), std::exp(-0.1), 0.002);
  EXPECT_NEAR(r.model.b(0, 0) / (1.0 - r.model.a(0, 0)), 1.0, 0.01);
}

TEST(Fit, TooHighAnOrderIsRefusedAsNotIdentified) {
  // A second-order model of the first-order seed plant: a pole cancelled by a zero anywhere.
  const Series data = seed_series({0.05, false}, 60.0);
  FitOptions o;
  o.order = 2;
  try {
    (void)fit(seed_asset(config::ModelKind::transfer_function), std::span(&data, 1), o);
    FAIL() << "an order-2 fit of a first-order plant was accepted";
  } catch (const FitError& e) {
    EXPECT_NE(std::string(e.what()).find("order may be too high"), std::string::npos) << e.what();
  }
}

TEST(Fit, AnInputThatNeverMovesIsRefusedAsNotPersistentlyExciting) {
  Series data{"plant", {}};
  for (int k = 0; k < 3000; ++k) {
    data.samples.push_back({k * 0.02, 1, 3.0 + 0.01 * std::sin(k)});
    data.samples.push_back({k * 0.02, 0, 3.0});
  }
  try {
    (void)fit(seed_asset(config::ModelKind::transfer_function), std::span(&data, 1));
    FAIL() << "a constant input was accepted";
  } catch (const FitError& e) {
    EXPECT_NE(std::string(e.what()).find("input u never moves"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("not persistently exciting"), std::string::npos);
  }
}

TEST(Fit, TooFewSamplesAreRefused) {
  const Series data = seed_series({0.5, false}, 5.0);
  try {
    (void)fit(seed_asset(config::ModelKind::transfer_function), std::span(&data, 1));
    FAIL() << "5 s at 2 Hz was accepted";
  } catch (const FitError& e) {
    EXPECT_NE(std::string(e.what()).find("too few samples"), std::string::npos) << e.what();
  }
}

TEST(Fit, NoSamplesAtAllIsRefused) {
  const Series empty{"plant", {}};
  EXPECT_THROW((void)fit(seed_asset(config::ModelKind::transfer_function), std::span(&empty, 1)),
               FitError);
}

// A second-order plant (poles -1 and -5, gain 1) under a random staircase input.
Series second_order_series(double seconds, double noise) {
  const auto m = model::make_transfer_function({"p", "1"}, {5.0}, {1.0, 6.0, 5.0});
  std::vector<double> x(m->states(), 0.0);
  std::vector<double> u(1, 0.0);
  std::vector<double> y(1, 0.0);
  model::StepMemo memo;
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> level(0.0, 5.0);
  std::normal_distribution<double> e(0.0, noise);
  Series out{"plant", {}};
  const double dt = 0.02;
  for (int k = 0; k * dt < seconds; ++k) {
    if (k % 100 == 0) u[0] = level(rng);
    m->output(x, u, y);
    out.samples.push_back({k * dt, 1, y[0] + e(rng)});
    out.samples.push_back({k * dt, 0, u[0]});
    (void)m->advance(x, u, dt, memo);
  }
  return out;
}

TEST(Fit, AFirstOrderModelOfASecondOrderPlantIsRefusedAsTheWrongOrder) {
  const Series data = second_order_series(120.0, 0.01);
  try {
    (void)fit(seed_asset(config::ModelKind::transfer_function), std::span(&data, 1));
    FAIL() << "a first-order fit of a second-order plant was accepted";
  } catch (const FitError& e) {
    EXPECT_NE(std::string(e.what()).find("order or structure"), std::string::npos) << e.what();
  }
}

TEST(Fit, TheRightOrderFitsTheSecondOrderPlant) {
  const Series data = second_order_series(120.0, 0.01);
  FitOptions o;
  o.order = 2;
  const FitResult r = fit(seed_asset(config::ModelKind::transfer_function), std::span(&data, 1), o);
  ASSERT_EQ(r.model.den.size(), 3U);
  EXPECT_NEAR(r.model.den[1], 6.0, 0.06);
  EXPECT_NEAR(r.model.den[2], 5.0, 0.05);
  EXPECT_NEAR(r.model.num.back() / r.model.den[2], 1.0, 0.01);
}

// --- The rotating machine ---------------------------------------------------------------------

TEST(Fit, TheRotatingMachinesParametersFromAnHourOfItsEmulator) {
  sim::MachineScenario sc;
  sc.dt = 1.0;
  sc.noise_rpm = 2.0;
  sc.noise_temp = 0.05;
  sc.noise_vib = 0.02;
  sc.speed_steps.clear();
  const double commands[] = {1500, 1100, 1400, 900, 1300, 1500};
  for (int i = 0; i < 12; ++i) sc.speed_steps.emplace_back(300.0 * (i + 1), commands[i % 6]);
  sim::MachineSim machine(sc, 0.0);
  const Series data = testing::machine_series(machine, 0.0, 3600.0);
  // Start half to twice away from the truth (the defaults).
  model::RotatingMachineParams start;
  start.tau_mech_s = 3.0;
  start.k_speed_w = 200.0;
  start.r_th_k_per_w = 0.15;
  start.c_th_j_per_k = 4000.0;
  start.v_base_mm_s = 0.5;
  start.k_imb_mm_s = 0.6;
  const config::AssetSpec a = testing::machine_asset("3", start);
  const FitResult r = fit(a, std::span(&data, 1));
  const model::RotatingMachineParams truth{};
  const model::RotatingMachineParams& got = r.model.machine;
  EXPECT_NEAR(got.tau_mech_s, truth.tau_mech_s, 0.02 * truth.tau_mech_s);
  EXPECT_NEAR(got.k_speed_w, truth.k_speed_w, 0.02 * truth.k_speed_w);
  EXPECT_NEAR(got.r_th_k_per_w, truth.r_th_k_per_w, 0.02 * truth.r_th_k_per_w);
  EXPECT_NEAR(got.c_th_j_per_k, truth.c_th_j_per_k, 0.02 * truth.c_th_j_per_k);
  EXPECT_NEAR(got.v_base_mm_s, truth.v_base_mm_s, 0.05 * truth.v_base_mm_s);
  EXPECT_NEAR(got.k_imb_mm_s, truth.k_imb_mm_s, 0.02 * truth.k_imb_mm_s);
  EXPECT_EQ(r.model.id.version, "4");
  // Each estimate's interval holds the truth (3 half-widths: a 95 % interval misses 1 in 20).
  const double truths[] = {truth.tau_mech_s,   truth.k_speed_w,   truth.r_th_k_per_w,
                           truth.c_th_j_per_k, truth.v_base_mm_s, truth.k_imb_mm_s};
  for (std::size_t i = 0; i < 6; ++i) {
    const Parameter& p = r.report.parameters[i];
    EXPECT_FALSE(p.held);
    EXPECT_NEAR(p.value, truths[i], 3.0 * p.ci95) << p.name;
    EXPECT_FALSE(p.unit.empty());
  }
  EXPECT_TRUE(r.report.parameters[6].held);  // rpm_rated
}

}  // namespace
}  // namespace twind::ident
