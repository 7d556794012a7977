// The rotating-machine model against closed forms: the fixed point computed by hand from the
// defaults, the exponential responses of the two first-order balances, and the factory's table
// of refused parameters.
#include "twind/model/rotating_machine.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <functional>
#include <limits>
#include <memory>
#include <ostream>
#include <string>

namespace twind::model {
namespace {

constexpr double kNan = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// Defaults: tau_mech 2 s, thermal time constant 0.1 K/W * 6000 J/K = 600 s, so h_max = 0.2 s.
constexpr double kTauMech = 2.0;
constexpr double kTauTh = 600.0;
// Long enough for every transient to shrink by e^-50.
constexpr double kSettle = 50.0 * kTauTh;

std::shared_ptr<const Model> make_default() {
  return make_rotating_machine({"pump", "1"}, RotatingMachineParams{});
}

std::array<double, 2> advanced(const Model& sut, std::array<double, 2> x, std::array<double, 2> u,
                               double dt) {
  StepMemo memo;
  EXPECT_TRUE(sut.advance(x, u, dt, memo));
  return x;
}

TEST(RotatingMachine, ReportsItsSizesAndId) {
  const auto sut = make_default();

  EXPECT_EQ(sut->states(), 2U);
  EXPECT_EQ(sut->inputs(), 2U);
  EXPECT_EQ(sut->outputs(), 3U);
  EXPECT_EQ(sut->id(), (ModelId{"pump", "1"}));
}

TEST(RotatingMachine, DefaultsSettleAtTheHandComputedFixedPoint) {
  const auto sut = make_default();
  const std::array<double, 2> u{1500.0, 0.5};

  const auto x = advanced(*sut, {0.0, 25.0}, u, kSettle);
  std::array<double, 3> y{};
  sut->output(x, u, y);

  // P = 100 + 300 * (1500/1500)^2 * (0.5 + 0.5) = 400 W; T = 25 + 0.1 * 400;
  // v = 0.3 + 0.8 * 1.5^2.
  EXPECT_NEAR(y[0], 1500.0, 1e-6);
  EXPECT_NEAR(y[1], 65.0, 1e-6);
  EXPECT_NEAR(y[2], 2.1, 1e-6);
}

TEST(RotatingMachine, OtherOperatingPointSettlesAtItsHandComputedFixedPoint) {
  const auto sut = make_default();
  const std::array<double, 2> u{1200.0, 1.0};

  const auto x = advanced(*sut, {1800.0, 90.0}, u, kSettle);
  std::array<double, 3> y{};
  sut->output(x, u, y);

  // P = 100 + 300 * 0.8^2 * 1.5 = 388 W; T = 25 + 38.8; v = 0.3 + 0.8 * 1.44.
  EXPECT_NEAR(y[0], 1200.0, 1e-6);
  EXPECT_NEAR(y[1], 63.8, 1e-6);
  EXPECT_NEAR(y[2], 1.452, 1e-6);
}

TEST(RotatingMachine, NegativeLoadHeatsLikeNoLoad) {
  const auto sut = make_default();

  const auto x = advanced(*sut, {1500.0, 25.0}, {1500.0, -0.3}, kSettle);

  // P = 100 + 300 * 1 * 0.5 = 250 W; T = 25 + 25.
  EXPECT_NEAR(x[1], 50.0, 1e-6);
}

TEST(RotatingMachine, SpeedStepResponseMatchesFirstOrderClosedForm) {
  const auto sut = make_default();
  const std::array<double, 2> u{1500.0, 0.5};

  const auto at_tau = advanced(*sut, {0.0, 25.0}, u, kTauMech);
  const auto at_two_tau = advanced(*sut, at_tau, u, kTauMech);

  // RK4 with h = tau/10 multiplies the deviation by 1 + O(1e-7) per step: well inside 1e-6.
  const double expected_tau = 1500.0 * (1.0 - std::exp(-1.0));
  const double expected_two_tau = 1500.0 * (1.0 - std::exp(-2.0));
  EXPECT_NEAR(at_tau[0], expected_tau, 1e-6 * expected_tau);
  EXPECT_NEAR(at_two_tau[0], expected_two_tau, 1e-6 * expected_two_tau);
}

TEST(RotatingMachine, TemperatureAtSteadySpeedApproachesFixedPointWithThermalTimeConstant) {
  const auto sut = make_default();
  const std::array<double, 2> u{1500.0, 0.5};

  const auto at_tau = advanced(*sut, {1500.0, 25.0}, u, kTauTh);
  const auto at_two_tau = advanced(*sut, at_tau, u, kTauTh);

  // At constant speed the losses are constant (400 W): T = 65 - 40 exp(-t / 600 s).
  EXPECT_NEAR(at_tau[1], 65.0 - 40.0 * std::exp(-1.0), 1e-6 * 40.0);
  EXPECT_NEAR(at_two_tau[1], 65.0 - 40.0 * std::exp(-2.0), 1e-6 * 40.0);
  EXPECT_DOUBLE_EQ(at_two_tau[0], 1500.0);
}

TEST(RotatingMachine, SplittingOnTheSubStepGridGivesTheSameState) {
  const auto sut = make_default();
  const std::array<double, 2> u{1500.0, 0.5};
  const std::array<double, 2> start{0.0, 25.0};

  const auto whole = advanced(*sut, start, u, 4.0);
  const auto split = advanced(*sut, advanced(*sut, start, u, 1.4), u, 2.6);

  // 1.4 s and 2.6 s are 7 and 13 steps of h_max = 0.2 s, the same 20 equal steps as 4 s takes
  // at once, so only rounding separates them. Off that grid the step sizes differ and so do
  // RK4's O(h^4) errors (a few 1e-7 of a transient here), which the next test bounds instead.
  EXPECT_NEAR(split[0], whole[0], 1e-9 * std::abs(whole[0]));
  EXPECT_NEAR(split[1], whole[1], 1e-9 * std::abs(whole[1]));
}

TEST(RotatingMachine, SplittingOffTheSubStepGridStaysOnTheClosedForm) {
  const auto sut = make_default();
  const std::array<double, 2> u{1500.0, 0.5};

  const auto split = advanced(*sut, advanced(*sut, {0.0, 25.0}, u, 0.33), u, 1.67);

  const double expected = 1500.0 * (1.0 - std::exp(-2.0 / kTauMech));
  EXPECT_NEAR(split[0], expected, 1e-6 * expected);
}

TEST(RotatingMachine, GapFarLongerThanEveryTimeConstantEndsAtTheFixedPoint) {
  const auto sut = make_default();

  const auto x = advanced(*sut, {0.0, 25.0}, {1500.0, 0.5}, 1e12);

  EXPECT_NEAR(x[0], 1500.0, 1e-6);
  EXPECT_NEAR(x[1], 65.0, 1e-6);
}

TEST(RotatingMachine, ZeroIntervalLeavesStateAlone) {
  const auto sut = make_default();
  std::array<double, 2> x{700.0, 42.0};
  StepMemo memo;

  EXPECT_TRUE(sut->advance(x, std::array<double, 2>{1500.0, 0.5}, 0.0, memo));

  EXPECT_EQ(x, (std::array<double, 2>{700.0, 42.0}));
}

struct BadCall {
  const char* name;
  std::array<double, 2> u;
  double dt;
};

void PrintTo(const BadCall& bad, std::ostream* out) {
  *out << bad.name;
}

class BadAdvanceIsRefused : public ::testing::TestWithParam<BadCall> {};

TEST_P(BadAdvanceIsRefused, AdvanceReturnsFalseAndLeavesStateUnchanged) {
  const auto sut = make_default();
  std::array<double, 2> x{700.0, 42.0};
  StepMemo memo;

  const bool ok = sut->advance(x, GetParam().u, GetParam().dt, memo);

  EXPECT_FALSE(ok);
  EXPECT_EQ(x, (std::array<double, 2>{700.0, 42.0}));
}

INSTANTIATE_TEST_SUITE_P(RotatingMachine, BadAdvanceIsRefused,
                         ::testing::Values(BadCall{"NanCommand", {kNan, 0.5}, 0.5},
                                           BadCall{"InfiniteCommand", {kInf, 0.5}, 0.5},
                                           BadCall{"NanLoad", {1500.0, kNan}, 0.5},
                                           BadCall{"InfiniteLoad", {1500.0, -kInf}, 0.5},
                                           BadCall{"NegativeInterval", {1500.0, 0.5}, -0.5},
                                           BadCall{"NanInterval", {1500.0, 0.5}, kNan},
                                           BadCall{"InfiniteInterval", {1500.0, 0.5}, kInf}),
                         [](const auto& param_info) { return std::string(param_info.param.name); });

TEST(RotatingMachine, NonFiniteStateMakesAdvanceReturnFalse) {
  const auto sut = make_default();
  std::array<double, 2> x{kNan, 25.0};
  StepMemo memo;

  EXPECT_FALSE(sut->advance(x, std::array<double, 2>{1500.0, 0.5}, 0.5, memo));
}

TEST(RotatingMachine, OutputIsSpeedTemperatureAndImbalanceVibration) {
  const auto sut = make_default();
  const std::array<double, 2> x{2000.0, 40.0};
  std::array<double, 3> y{};

  sut->output(x, std::array<double, 2>{0.0, 0.0}, y);

  // v = 0.3 + 0.8 * 2^2.
  EXPECT_EQ(y[0], 2000.0);
  EXPECT_EQ(y[1], 40.0);
  EXPECT_NEAR(y[2], 3.5, 1e-12);
}

TEST(RotatingMachine, InitialStateTakesSpeedAndTemperatureFromTheMeasurements) {
  const auto sut = make_default();
  const std::array<double, 3> y{1234.0, 55.0, 9.0};
  std::array<double, 2> x{};

  sut->initial_state(y, std::array<double, 2>{1500.0, 0.5}, x);

  EXPECT_EQ(x, (std::array<double, 2>{1234.0, 55.0}));
}

struct BadParams {
  const char* name;
  std::function<void(RotatingMachineParams&)> spoil;
  const char* expected_message;
};

void PrintTo(const BadParams& bad, std::ostream* out) {
  *out << bad.name;
}

class BadParamsAreRefused : public ::testing::TestWithParam<BadParams> {};

TEST_P(BadParamsAreRefused, FactoryThrowsModelErrorNamingTheParameter) {
  RotatingMachineParams params;
  GetParam().spoil(params);
  try {
    (void)make_rotating_machine({"bad", "1"}, params);
    FAIL() << "no ModelError for " << GetParam().name;
  } catch (const ModelError& error) {
    EXPECT_EQ(std::string(error.what()), GetParam().expected_message);
  }
}

const BadParams kBadParams[] = {
    {"ZeroTauMech", [](auto& p) { p.tau_mech_s = 0.0; },
     "tau_mech_s: got 0, expected a positive finite number of seconds"},
    {"NanTauMech", [](auto& p) { p.tau_mech_s = kNan; },
     "tau_mech_s: got nan, expected a positive finite number of seconds"},
    {"NegativeRatedSpeed", [](auto& p) { p.rpm_rated = -1500.0; },
     "rpm_rated: got -1500, expected a positive finite number of rpm"},
    {"NegativeIdleLosses", [](auto& p) { p.p_idle_w = -1.0; },
     "p_idle_w: got -1, expected a non-negative finite number of watts"},
    {"InfiniteSpeedLosses", [](auto& p) { p.k_speed_w = kInf; },
     "k_speed_w: got inf, expected a non-negative finite number of watts"},
    {"ZeroThermalResistance", [](auto& p) { p.r_th_k_per_w = 0.0; },
     "r_th_k_per_w: got 0, expected a positive finite number of K/W"},
    {"NegativeThermalCapacity", [](auto& p) { p.c_th_j_per_k = -5.0; },
     "c_th_j_per_k: got -5, expected a positive finite number of J/K"},
    {"AmbientBelowAbsoluteZero", [](auto& p) { p.t_ambient_c = -300.0; },
     "t_ambient_c: got -300, expected a finite temperature above -273.15 degC"},
    {"NanAmbient", [](auto& p) { p.t_ambient_c = kNan; },
     "t_ambient_c: got nan, expected a finite temperature above -273.15 degC"},
    {"NegativeBaseVibration", [](auto& p) { p.v_base_mm_s = -0.1; },
     "v_base_mm_s: got -0.1, expected a non-negative finite number of mm/s"},
    {"NegativeImbalance", [](auto& p) { p.k_imb_mm_s = -0.8; },
     "k_imb_mm_s: got -0.8, expected a non-negative finite number of mm/s per (1000 rpm)^2"},
    {"TimeConstantsTooFarApart", [](auto& p) { p.tau_mech_s = 0.001; },
     "tau_mech_s: got 0.001, expected within a factor 1e5 of the thermal time constant "
     "r_th_k_per_w * c_th_j_per_k = 600 s"},
    {"ThermalTimeConstantOverflows",
     [](auto& p) {
       p.r_th_k_per_w = 1e200;
       p.c_th_j_per_k = 1e200;
     },
     "tau_mech_s: got 2, expected within a factor 1e5 of the thermal time constant "
     "r_th_k_per_w * c_th_j_per_k = inf s"},
};

INSTANTIATE_TEST_SUITE_P(RotatingMachine, BadParamsAreRefused, ::testing::ValuesIn(kBadParams),
                         [](const auto& param_info) { return std::string(param_info.param.name); });

}  // namespace
}  // namespace twind::model
