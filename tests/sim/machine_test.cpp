// The rotating-machine emulator against closed forms: the hand-computed steady state of the
// defaults, the first-order responses of speed and temperature (with the worn parameter where
// wear has been injected), and a healthy run with the same seed as the reference for each wear
// mode.
#include "twind/sim/machine.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <functional>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "twind/codec/recording.hpp"

namespace twind::sim {
namespace {

constexpr double kNan = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();
// Default parameters: T = 25 + 0.1 * 400 at 1500 rpm and load 0.5 (see rotating_machine.hpp).
constexpr double kSteadyTemp = 65.0;
constexpr double kSteadyVib = 2.1;
constexpr double kLossesW = 400.0;
constexpr double kTauThermal = 0.1 * 6000.0;

std::vector<MachineSample> run(const MachineScenario& scenario, std::size_t samples,
                               double t0 = 0.0) {
  MachineSim sut(scenario, t0);
  std::vector<MachineSample> out;
  out.reserve(samples);
  for (std::size_t k = 0; k < samples; ++k) out.push_back(sut.step());
  return out;
}

MachineScenario constant_speed() {
  MachineScenario s;
  s.speed_steps.clear();
  return s;
}

void expect_same_sample(const MachineSample& a, const MachineSample& b) {
  EXPECT_EQ(a.t, b.t);
  EXPECT_EQ(a.speed_command, b.speed_command);
  EXPECT_EQ(a.rpm, b.rpm) << "t=" << a.t;
  EXPECT_EQ(a.temperature, b.temperature) << "t=" << a.t;
  EXPECT_EQ(a.vibration, b.vibration) << "t=" << a.t;
}

TEST(MachineSim, HealthyMachineAtTheDefaultsStaysAtItsAnalyticSteadyStateUntilTheFirstStep) {
  const MachineScenario scenario;

  const auto samples = run(scenario, 200);  // 0 .. 19.9 s, before the step at 20 s

  for (const auto& s : samples) {
    EXPECT_NEAR(s.rpm, 1500.0, 1e-9) << "t=" << s.t;
    EXPECT_NEAR(s.temperature, kSteadyTemp, 1e-9) << "t=" << s.t;
    EXPECT_NEAR(s.vibration, kSteadyVib, 1e-9) << "t=" << s.t;
    EXPECT_EQ(s.speed_command, 1500.0);
    EXPECT_EQ(s.load, 0.5);
    EXPECT_FALSE(s.wear_injected);
  }
}

TEST(MachineSim, HealthyMachineWithoutStepsStaysAtItsSteadyStateForAnHour) {
  const auto samples = run(constant_speed(), 36000);

  EXPECT_NEAR(samples.back().rpm, 1500.0, 1e-9);
  EXPECT_NEAR(samples.back().temperature, kSteadyTemp, 1e-9);
  EXPECT_NEAR(samples.back().vibration, kSteadyVib, 1e-9);
}

TEST(MachineSim, SamplesComeAtTheStartTimePlusWholePeriods) {
  const auto samples = run(MachineScenario{}, 5, 100.0);

  for (std::size_t k = 0; k < samples.size(); ++k) {
    EXPECT_DOUBLE_EQ(samples[k].t, 100.0 + 0.1 * static_cast<double>(k));
  }
}

TEST(MachineSim, DefaultCommandProfileStepsDownAtTwentyAndBackAtFortySeconds) {
  const auto samples = run(MachineScenario{}, 600);

  for (const auto& s : samples) {
    const double expected = (s.t >= 20.0 - 1e-9 && s.t < 40.0 - 1e-9) ? 1200.0 : 1500.0;
    EXPECT_EQ(s.speed_command, expected) << "t=" << s.t;
  }
}

TEST(MachineSim, SpeedFollowsACommandStepAsAFirstOrderLag) {
  const auto samples = run(MachineScenario{}, 400);

  // rpm(t) = 1200 + 300 exp(-(t - 20) / tau_mech) after the step to 1200 at t = 20 s.
  for (const auto& s : samples) {
    if (s.t < 20.0 - 1e-9) continue;
    EXPECT_NEAR(s.rpm, 1200.0 + 300.0 * std::exp(-(s.t - 20.0) / 2.0), 1e-4) << "t=" << s.t;
  }
}

TEST(MachineSim, StepDueAtTheStartSetsTheInitialSteadyState) {
  MachineScenario scenario;
  scenario.speed_steps = {{0.0, 1200.0}};
  scenario.load = 1.0;

  const auto samples = run(scenario, 10);

  // P = 100 + 300 * 0.8^2 * 1.5 = 388 W; T = 25 + 38.8; v = 0.3 + 0.8 * 1.44.
  EXPECT_NEAR(samples.back().rpm, 1200.0, 1e-9);
  EXPECT_NEAR(samples.back().temperature, 63.8, 1e-9);
  EXPECT_NEAR(samples.back().vibration, 1.452, 1e-9);
}

TEST(WornParams, EachModeMultipliesOnlyItsParameter) {
  const model::RotatingMachineParams nominal;

  auto bearing = nominal;
  bearing.k_imb_mm_s = 0.8 * 3.0;
  auto fouling = nominal;
  fouling.r_th_k_per_w = 0.1 * 3.0;
  auto friction = nominal;
  friction.tau_mech_s = 2.0 * 3.0;

  EXPECT_EQ(worn_params(nominal, WearMode::none, 3.0), nominal);
  EXPECT_EQ(worn_params(nominal, WearMode::bearing, 3.0), bearing);
  EXPECT_EQ(worn_params(nominal, WearMode::fouling, 3.0), fouling);
  EXPECT_EQ(worn_params(nominal, WearMode::friction, 3.0), friction);
}

// A family: for each mode, the worn run equals the healthy run with the same seed (noise on) on
// every sample before wear_at, and the wear is flagged exactly once, on the first sample at or
// after wear_at.
class WearOnset : public ::testing::TestWithParam<WearMode> {};

TEST_P(WearOnset, WornRunMatchesTheHealthyRunBeforeWearAtAndFlagsItOnce) {
  MachineScenario healthy;
  healthy.noise_rpm = 2.0;
  healthy.noise_temp = 0.2;
  healthy.noise_vib = 0.05;
  healthy.seed = 42;
  MachineScenario worn = healthy;
  worn.wear = GetParam();
  worn.wear_at = 12.3;

  const auto h = run(healthy, 600);
  const auto w = run(worn, 600);

  std::size_t flagged = 0;
  for (std::size_t k = 0; k < w.size(); ++k) {
    if (w[k].t < 12.3 - 1e-9) expect_same_sample(w[k], h[k]);
    if (w[k].wear_injected) {
      ++flagged;
      EXPECT_NEAR(w[k].t, 12.3, 1e-9);
    }
  }
  EXPECT_EQ(flagged, 1U);
}

INSTANTIATE_TEST_SUITE_P(AllModes, WearOnset,
                         ::testing::Values(WearMode::bearing, WearMode::fouling,
                                           WearMode::friction));

TEST(MachineSim, NoWearModeChangesNothingEvenWithWearAtSet) {
  MachineScenario worn;
  worn.wear_at = 5.0;

  const auto h = run(MachineScenario{}, 600);
  const auto w = run(worn, 600);

  for (std::size_t k = 0; k < w.size(); ++k) {
    expect_same_sample(w[k], h[k]);
    EXPECT_FALSE(w[k].wear_injected);
  }
}

class BearingWear : public ::testing::TestWithParam<double> {};

TEST_P(BearingWear, RaisesVibrationByTheExtraImbalanceTermFromWearAtOn) {
  const double factor = GetParam();
  MachineScenario healthy = constant_speed();
  healthy.noise_rpm = 1.0;
  healthy.noise_temp = 0.1;
  healthy.noise_vib = 0.05;
  MachineScenario worn = healthy;
  worn.wear = WearMode::bearing;
  worn.wear_at = 10.0;
  worn.wear_factor = factor;

  const auto h = run(healthy, 300);
  const auto w = run(worn, 300);

  // (factor - 1) * k_imb * (1500 / 1000)^2, at the steady 1500 rpm; speed and temperature stay.
  const double extra = (factor - 1.0) * 0.8 * 2.25;
  for (std::size_t k = 100; k < w.size(); ++k) {
    EXPECT_NEAR(w[k].vibration - h[k].vibration, extra, 1e-9) << "t=" << w[k].t;
    EXPECT_EQ(w[k].rpm, h[k].rpm);
    EXPECT_EQ(w[k].temperature, h[k].temperature);
  }
}

INSTANTIATE_TEST_SUITE_P(Factors, BearingWear, ::testing::Values(1.5, 2.0, 4.0));

TEST(FoulingWear, RaisesTemperatureTowardsTheWornSteadyStateWithTheWornTimeConstant) {
  MachineScenario healthy = constant_speed();
  MachineScenario worn = healthy;
  worn.wear = WearMode::fouling;
  worn.wear_at = 10.0;
  worn.wear_factor = 2.0;

  const auto h = run(healthy, 36000);  // one hour: 3 worn time constants of 1200 s
  const auto w = run(worn, 36000);

  // T(t) = T_inf + (65 - T_inf) exp(-(t - 10) / (factor R_th C_th)), T_inf = 25 + factor R_th P.
  const double t_inf = 25.0 + 2.0 * 0.1 * kLossesW;
  const double tau = 2.0 * kTauThermal;
  for (std::size_t k = 100; k < w.size(); k += 50) {
    const double t = w[k].t;
    EXPECT_NEAR(w[k].temperature, t_inf + (kSteadyTemp - t_inf) * std::exp(-(t - 10.0) / tau), 1e-6)
        << "t=" << t;
    EXPECT_EQ(w[k].rpm, h[k].rpm);
    EXPECT_EQ(w[k].vibration, h[k].vibration);
  }
  EXPECT_GT(w.back().temperature, h.back().temperature + 30.0);
  EXPECT_LT(w.back().temperature, t_inf);
}

TEST(FoulingWear, TemperatureIsContinuousAtTheInjection) {
  MachineScenario worn = constant_speed();
  worn.wear = WearMode::fouling;
  worn.wear_at = 10.0;

  const auto w = run(worn, 102);

  // The state carries over: at the injection sample the temperature is still the healthy one,
  // and one sample later it has risen by only about dt (T_inf - T) / tau = 0.1 * 40 / 1200.
  EXPECT_TRUE(w[100].wear_injected);
  EXPECT_NEAR(w[100].temperature, kSteadyTemp, 1e-9);
  EXPECT_NEAR(w[101].temperature - kSteadyTemp, 0.1 * 40.0 / 1200.0, 1e-5);
}

TEST(FrictionWear, SpeedLagsTheHealthyRunAfterEachCommandStep) {
  MachineScenario worn;
  worn.wear = WearMode::friction;
  worn.wear_at = 10.0;
  worn.wear_factor = 2.0;

  const auto h = run(MachineScenario{}, 600);
  const auto w = run(worn, 600);

  for (std::size_t k = 0; k < w.size(); ++k) {
    const double t = w[k].t;
    if (t < 20.0 - 1e-9) {
      // Settled on the command: the slower speed loop has nothing to follow yet.
      EXPECT_NEAR(w[k].rpm, h[k].rpm, 1e-9) << "t=" << t;
    } else if (t < 20.05) {
      EXPECT_EQ(w[k].rpm, h[k].rpm);  // the step sample: the state has not moved yet
    } else if (t < 40.0 - 1e-9) {
      EXPECT_GT(w[k].rpm, h[k].rpm) << "falling more slowly, t=" << t;
      EXPECT_NEAR(w[k].rpm, 1200.0 + 300.0 * std::exp(-(t - 20.0) / 4.0), 1e-4) << "t=" << t;
    } else if (t > 40.05) {
      EXPECT_LT(w[k].rpm, h[k].rpm) << "rising more slowly, t=" << t;
    }
    EXPECT_EQ(w[k].speed_command, h[k].speed_command);
  }
}

TEST(MachineNoise, SameSeedGivesTheSameRunAndAnotherSeedAnotherRun) {
  MachineScenario a;
  a.noise_rpm = 3.0;
  a.noise_temp = 0.3;
  a.noise_vib = 0.1;
  MachineScenario b = a;
  b.seed = 2;

  const auto first = run(a, 100);
  const auto again = run(a, 100);
  const auto other = run(b, 100);

  for (std::size_t k = 0; k < first.size(); ++k) expect_same_sample(first[k], again[k]);
  EXPECT_NE(first[5].rpm, other[5].rpm);
  EXPECT_NE(first[5].temperature, other[5].temperature);
  EXPECT_NE(first[5].vibration, other[5].vibration);
}

TEST(MachineNoise, MeasurementsScatterAroundTheModelWithTheGivenStandardDeviations) {
  MachineScenario scenario = constant_speed();
  scenario.noise_rpm = 3.0;
  scenario.noise_temp = 0.3;
  scenario.noise_vib = 0.1;
  constexpr std::size_t kN = 20000;

  const auto samples = run(scenario, kN);

  const double truth[3] = {1500.0, kSteadyTemp, kSteadyVib};
  const double sigma[3] = {3.0, 0.3, 0.1};
  for (int c = 0; c < 3; ++c) {
    double sum = 0.0;
    double sum_sq = 0.0;
    for (const auto& s : samples) {
      const double v = c == 0 ? s.rpm : (c == 1 ? s.temperature : s.vibration);
      sum += v - truth[c];
      sum_sq += (v - truth[c]) * (v - truth[c]);
    }
    const double n = static_cast<double>(kN);
    const double mean = sum / n;
    const double sd = std::sqrt(sum_sq / n - mean * mean);
    // 5 standard errors: sigma / sqrt(n) for the mean, about sigma / sqrt(2 n) for the sd.
    EXPECT_NEAR(mean, 0.0, 5.0 * sigma[c] / std::sqrt(n)) << "channel " << c;
    EXPECT_NEAR(sd, sigma[c], 5.0 * sigma[c] / std::sqrt(2.0 * n)) << "channel " << c;
  }
}

struct BadScenario {
  const char* name;
  std::function<void(MachineScenario&)> spoil;
  const char* message_prefix;
};

std::ostream& operator<<(std::ostream& os, const BadScenario& b) {
  return os << b.name;
}

class MachineSimRefuses : public ::testing::TestWithParam<BadScenario> {};

TEST_P(MachineSimRefuses, BadScenarioFieldWithItsNameAndValue) {
  MachineScenario scenario;
  GetParam().spoil(scenario);

  try {
    MachineSim sut(scenario, 0.0);
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()).rfind(GetParam().message_prefix, 0), 0U) << e.what();
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, MachineSimRefuses,
    ::testing::Values(
        BadScenario{"ZeroDt", [](MachineScenario& s) { s.dt = 0.0; }, "dt: got 0, expected"},
        BadScenario{"NegativeDt", [](MachineScenario& s) { s.dt = -0.1; }, "dt: got -0.1"},
        BadScenario{"NanDt", [](MachineScenario& s) { s.dt = kNan; }, "dt: got nan"},
        BadScenario{"InfiniteCommand", [](MachineScenario& s) { s.speed_command = kInf; },
                    "speed_command: got inf"},
        BadScenario{"NanLoad", [](MachineScenario& s) { s.load = kNan; }, "load: got nan"},
        BadScenario{"NanWearAt", [](MachineScenario& s) { s.wear_at = kNan; }, "wear_at: got"},
        BadScenario{"ZeroWearFactor", [](MachineScenario& s) { s.wear_factor = 0.0; },
                    "wear_factor: got 0"},
        BadScenario{"NegativeNoise", [](MachineScenario& s) { s.noise_temp = -1.0; },
                    "noise_temp: got -1"},
        BadScenario{"InfiniteNoise", [](MachineScenario& s) { s.noise_vib = kInf; },
                    "noise_vib: got inf"},
        BadScenario{"UnorderedSteps",
                    [](MachineScenario& s) {
                      s.speed_steps = {{20.0, 1.0}, {10.0, 2.0}};
                    },
                    "speed_steps time: got 10"},
        BadScenario{"NanStepCommand",
                    [](MachineScenario& s) {
                      s.speed_steps = {{20.0, kNan}};
                    },
                    "speed_steps command: got nan"}),
    [](const ::testing::TestParamInfo<BadScenario>& p) { return std::string(p.param.name); });

TEST(MachineSim, BadNominalParametersThrowModelError) {
  MachineScenario scenario;
  scenario.nominal.tau_mech_s = 0.0;

  EXPECT_THROW(MachineSim(scenario, 0.0), model::ModelError);
}

TEST(MachineSim, BadWornParametersThrowAtConstructionNotMidRun) {
  MachineScenario scenario;
  scenario.wear = WearMode::friction;
  scenario.wear_at = 10.0;
  scenario.wear_factor = 1e8;  // tau_mech 2e8 s against 600 s: more than 1e5 apart

  EXPECT_THROW(MachineSim(scenario, 0.0), model::ModelError);
}

TEST(RecordMachine, WritesOneParsableFramePerSampleMatchingTheSimulation) {
  MachineScenario scenario;
  scenario.wear = WearMode::bearing;
  scenario.wear_at = 3.0;
  scenario.noise_rpm = 1.0;
  MachineRecordingOptions options;
  options.duration = 5.0;
  std::string out;

  const RecordingSummary summary = record_machine(scenario, options, out);

  const auto expected = run(scenario, 50, options.t0);
  EXPECT_EQ(summary.samples, 50U);
  EXPECT_NEAR(summary.wear_time, options.t0 + 3.0, 1e-6);
  std::istringstream lines(out);
  std::string line;
  std::size_t k = 0;
  codec::RecordingParser parser;
  while (std::getline(lines, line)) {
    ASSERT_LT(k, expected.size());
    const auto j = nlohmann::json::parse(line);
    EXPECT_EQ(j.at("topic"), "machine/pump1/frame");
    EXPECT_EQ(j.at("t").get<double>(), expected[k].t);
    const auto& p = j.at("payload");
    EXPECT_EQ(p.at("ts").get<double>(), expected[k].t);
    EXPECT_EQ(p.at("speed_command").get<double>(), expected[k].speed_command);
    EXPECT_EQ(p.at("load").get<double>(), expected[k].load);
    EXPECT_EQ(p.at("rpm").get<double>(), expected[k].rpm);
    EXPECT_EQ(p.at("temperature").get<double>(), expected[k].temperature);
    EXPECT_EQ(p.at("vibration").get<double>(), expected[k].vibration);
    codec::RecordLine rec;
    EXPECT_TRUE(parser.parse(line, rec).ok) << line;
    ++k;
  }
  EXPECT_EQ(k, 50U);
}

TEST(RecordMachine, IsDeterministic) {
  MachineScenario scenario;
  scenario.noise_rpm = 1.0;
  scenario.noise_temp = 0.1;
  scenario.noise_vib = 0.02;
  scenario.wear = WearMode::fouling;
  scenario.wear_at = 30.0;
  MachineRecordingOptions options;
  options.frame_topic = "machine/other/frame";
  std::string first;
  std::string second;

  record_machine(scenario, options, first);
  record_machine(scenario, options, second);

  EXPECT_EQ(first, second);
  EXPECT_NE(first.find("\"machine/other/frame\""), std::string::npos);
}

TEST(RecordMachine, NonPositiveDurationRecordsNothingAndNonFiniteThrows) {
  MachineRecordingOptions options;
  options.duration = -1.0;
  std::string out;

  EXPECT_EQ(record_machine(MachineScenario{}, options, out).samples, 0U);
  EXPECT_TRUE(out.empty());
  options.duration = kInf;
  EXPECT_THROW(record_machine(MachineScenario{}, options, out), std::invalid_argument);
}

}  // namespace
}  // namespace twind::sim
