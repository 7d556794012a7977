// The rotating-machine schema: the bundled config/machine.yaml, every parameter reaching its
// field, and one table row per refusal (signal counts, parameter rules, forbidden keys).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <iterator>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "diagnostics.hpp"
#include "twind/config/config.hpp"
#include "twind/config/loader.hpp"
#include "twind/model/rotating_machine.hpp"

namespace twind::config {
namespace {

using ::testing::HasSubstr;
using namespace testing;  // NOLINT(google-build-using-namespace): the tests' helpers

SignalSpec signal(std::string name, Role role, std::string topic, double min, double max) {
  SignalSpec s;
  s.name = std::move(name);
  s.role = role;
  s.topic = std::move(topic);
  s.min = min;
  s.max = max;
  return s;
}

// Lines 1-6 are fixed, `model_tail` starts at line 7 (indented as a model key), then come the
// frames line and `signals:`; with the default signals and a one-line tail, the signal list
// starts at 10:7.
constexpr std::string_view kTwoInThreeOut = R"(      - {name: cmd, role: input}
      - {name: load, role: input}
      - {name: rpm, role: output}
      - {name: temp, role: output}
      - {name: vib, role: output}
)";

std::string machine_config(std::string_view kind, std::string_view model_tail,
                           std::string_view signals = kTwoInThreeOut) {
  return "assets:\n  - id: pump1\n    model:\n      name: m\n      version: 1\n      kind: " +
         std::string(kind) + "\n" + std::string(model_tail) +
         "    frames: [p/frame]\n    signals:\n" + std::string(signals);
}

// ---- accepted configurations -----------------------------------------------------------------

TEST(MachineConfig, BundledFileLoadsWithoutFindingsAndEqualsThePumpOfTheTask) {
  const std::string path = std::string(TWIND_SOURCE_DIR) + "/config/machine.yaml";
  Config expected;
  expected.source = path;
  expected.tick = 0.5;
  expected.broker.uri = "tcp://127.0.0.1:1883";
  AssetSpec pump;
  pump.id = "pump1";
  pump.model.id = model::ModelId{"pump-motor", "1"};
  pump.model.kind = ModelKind::rotating_machine;
  // The file spells out the schema's example values, written here from the task, not the file.
  pump.model.machine =
      model::RotatingMachineParams{2.0, 1500.0, 100.0, 300.0, 0.1, 6000.0, 25.0, 0.3, 0.8};
  SignalSpec rpm = signal("rpm", Role::output, "", 0.0, 4000.0);
  rpm.threshold = 60.0;
  rpm.clear_threshold = 40.0;
  rpm.stale_after = 3.0;
  SignalSpec temperature = signal("temperature", Role::output, "", -40.0, 200.0);
  temperature.threshold = 4.0;
  temperature.clear_threshold = 3.0;
  SignalSpec vibration = signal("vibration", Role::output, "", 0.0, 50.0);
  vibration.threshold = 0.5;
  vibration.clear_threshold = 0.35;
  pump.signals = {signal("speed_command", Role::input, "machine/pump1/speed_command", 0.0, 4000.0),
                  signal("load", Role::input, "machine/pump1/load", 0.0, 1.5), rpm, temperature,
                  vibration};
  pump.frame_topics = {"machine/pump1/frame"};
  expected.assets = {pump};

  const LoadResult sut = load_file(path);

  EXPECT_TRUE(sut.diagnostics.empty()) << all_of(sut);
  ASSERT_TRUE(sut.ok());
  EXPECT_EQ(*sut.config, expected);
}

TEST(MachineConfig, EveryParameterLandsInItsOwnField) {
  // Values unlike the defaults and unlike each other, so a swap or a skipped key shows.
  const LoadResult sut = load_string(machine_config("rotating_machine", R"(      parameters:
        tau_mech: 1500ms
        rpm_rated: 3000
        p_idle: 11
        k_speed: 222
        r_th: 0.25
        c_th: 4000
        t_ambient: -10.5
        v_base: 0.125
        k_imb: 1.75
)"),
                                     "t.yaml");

  ASSERT_TRUE(sut.ok()) << all_of(sut);
  const ModelSpec& m = sut.config->assets[0].model;
  EXPECT_EQ(m.kind, ModelKind::rotating_machine);
  EXPECT_EQ(m.machine, (model::RotatingMachineParams{1.5, 3000.0, 11.0, 222.0, 0.25, 4000.0, -10.5,
                                                     0.125, 1.75}));
}

TEST(MachineConfig, OmittedParametersTakeTheModelDefaults) {
  const LoadResult sut = load_string(machine_config("rotating_machine", ""), "t.yaml");

  ASSERT_TRUE(sut.ok()) << all_of(sut);
  EXPECT_EQ(sut.config->assets[0].model.machine, model::RotatingMachineParams{});
}

TEST(MachineConfig, PartialParametersKeepTheDefaultsOfTheOthers) {
  const LoadResult sut =
      load_string(machine_config("rotating_machine", "      parameters: {k_imb: 2}\n"), "t.yaml");

  ASSERT_TRUE(sut.ok()) << all_of(sut);
  model::RotatingMachineParams expected;
  expected.k_imb_mm_s = 2.0;
  EXPECT_EQ(sut.config->assets[0].model.machine, expected);
}

TEST(MachineConfig, ZeroLossesAndVibrationCoefficientsAreAccepted) {
  const LoadResult sut = load_string(
      machine_config("rotating_machine",
                     "      parameters: {p_idle: 0, k_speed: 0, v_base: 0, k_imb: 0}\n"),
      "t.yaml");

  EXPECT_TRUE(sut.ok()) << all_of(sut);
}

// ---- one row per refusal ---------------------------------------------------------------------

struct BadMachine {
  const char* name;
  const char* kind;
  const char* model_tail;
  const char* signals;  // nullptr: two inputs and three outputs
  const char* where;    // line:col of the single error
  const char* message;  // a substring of its message
};

void PrintTo(const BadMachine& c, std::ostream* os) {
  *os << c.name;
}

class BadMachineConfigs : public ::testing::TestWithParam<BadMachine> {};

TEST_P(BadMachineConfigs, AreRefusedWithOneErrorAtTheOffendingNode) {
  const BadMachine& row = GetParam();
  const std::string yaml = row.signals == nullptr
                               ? machine_config(row.kind, row.model_tail)
                               : machine_config(row.kind, row.model_tail, row.signals);

  const LoadResult sut = load_string(yaml, "t.yaml");

  EXPECT_FALSE(sut.ok());
  const std::vector<Diagnostic> errors = errors_of(sut);
  ASSERT_EQ(errors.size(), 1U) << yaml << all_of(sut);
  EXPECT_EQ(std::to_string(errors[0].line) + ":" + std::to_string(errors[0].column), row.where)
      << yaml << all_of(sut);
  EXPECT_THAT(errors[0].message, HasSubstr(row.message));
}

constexpr const char* kMachine = "rotating_machine";
// `      parameters: {` puts the brace at column 19 and the first key at 20.
const BadMachine kBadMachines[] = {
    // ---- signal counts (the list starts at 9:7 without a model tail)
    {"TwoOutputs", kMachine, "",
     R"(      - {name: cmd, role: input}
      - {name: load, role: input}
      - {name: rpm, role: output}
      - {name: temp, role: output}
)",
     "9:7",
     "assets[0].signals: got 2 inputs and 2 outputs, expected exactly 2 inputs (speed command in "
     "rpm, load fraction) and 3 outputs (rpm, temperature in degC, vibration in mm/s)"},
    {"OneInput", kMachine, "",
     R"(      - {name: cmd, role: input}
      - {name: rpm, role: output}
      - {name: temp, role: output}
      - {name: vib, role: output}
)",
     "9:7", "got 1 input and 3 outputs, expected exactly 2 inputs"},
    {"FourOutputs", kMachine, "",
     R"(      - {name: cmd, role: input}
      - {name: load, role: input}
      - {name: rpm, role: output}
      - {name: temp, role: output}
      - {name: vib, role: output}
      - {name: current, role: output}
)",
     "9:7", "got 2 inputs and 4 outputs, expected exactly 2 inputs"},
    {"ThreeInputs", kMachine, "",
     R"(      - {name: cmd, role: input}
      - {name: load, role: input}
      - {name: extra, role: input}
      - {name: rpm, role: output}
      - {name: temp, role: output}
      - {name: vib, role: output}
)",
     "9:7", "got 3 inputs and 3 outputs, expected exactly 2 inputs"},
    // ---- parameters, each refused at its value
    {"TauMechZero", kMachine, "      parameters: {tau_mech: 0s}\n", nullptr, "7:30",
     "assets[0].model.parameters.tau_mech: got \"0s\", expected a duration > 0"},
    {"TauMechWithoutUnit", kMachine, "      parameters: {tau_mech: 2}\n", nullptr, "7:30",
     "parameters.tau_mech: got \"2\", expected a duration with a unit"},
    {"RpmRatedZero", kMachine, "      parameters: {rpm_rated: 0}\n", nullptr, "7:31",
     "assets[0].model.parameters.rpm_rated: got 0, expected a number > 0 (rpm)"},
    {"PIdleNegative", kMachine, "      parameters: {p_idle: -1}\n", nullptr, "7:28",
     "parameters.p_idle: got -1, expected a number >= 0 (W)"},
    {"KSpeedQuoted", kMachine, "      parameters: {k_speed: \"300\"}\n", nullptr, "7:29",
     "parameters.k_speed: got \"300\", expected a number (without quotes)"},
    {"RThZero", kMachine, "      parameters: {r_th: 0}\n", nullptr, "7:26",
     "parameters.r_th: got 0, expected a number > 0 (K/W)"},
    {"CThNegative", kMachine, "      parameters: {c_th: -5}\n", nullptr, "7:26",
     "parameters.c_th: got -5, expected a number > 0 (J/K)"},
    {"TAmbientBelowAbsoluteZero", kMachine, "      parameters: {t_ambient: -300}\n", nullptr,
     "7:31", "parameters.t_ambient: got -300, expected a number > -273.15"},
    {"VBaseNaN", kMachine, "      parameters: {v_base: .nan}\n", nullptr, "7:28",
     "parameters.v_base: got .nan, expected a finite number"},
    {"KImbNegative", kMachine, "      parameters: {k_imb: -0.1}\n", nullptr, "7:27",
     "parameters.k_imb: got -0.1, expected a number >= 0 (mm/s per (1000 rpm)^2)"},
    {"ParametersAList", kMachine, "      parameters: [2s]\n", nullptr, "7:19",
     "assets[0].model.parameters: got a list, expected a mapping"},
    {"UnknownParameter", kMachine, "      parameters: {tau_mec: 2s}\n", nullptr, "7:20",
     "assets[0].model.parameters.tau_mec: unknown key, expected one of: tau_mech, rpm_rated, "
     "p_idle, k_speed, r_th, c_th, t_ambient, v_base, k_imb (did you mean tau_mech?)"},
    {"ParameterWithUnitInItsName", kMachine, "      parameters: {tau_mech_s: 2s}\n", nullptr,
     "7:20", "parameters.tau_mech_s: unknown key"},
    // ---- the model layer's rule, at the parameters node: 1 ms against r_th * c_th = 600 s
    {"TimeConstantsTooFarApartInFlowStyle", kMachine, "      parameters: {tau_mech: 1ms}\n",
     nullptr, "7:19",
     "assets[0].model.parameters: tau_mech: got 0.001, expected within a factor 1e5 of the "
     "thermal time constant r_th * c_th = 600 s"},
    // 2 s against 1000 K/W * 1000 J/K = 1e6 s; a block mapping is marked at its first key.
    {"TimeConstantsTooFarApartInBlockStyle", kMachine,
     "      parameters:\n        r_th: 1000\n        c_th: 1000\n", nullptr, "8:9",
     "assets[0].model.parameters: tau_mech: got 2, expected within a factor 1e5"},
    // ---- keys of the other kinds, at the key
    {"MatrixA", kMachine, "      A: [[-1]]\n", nullptr, "7:7",
     "assets[0].model.A: not allowed in a rotating_machine model"},
    {"MatrixD", kMachine, "      D: [[0]]\n", nullptr, "7:7",
     "assets[0].model.D: not allowed in a rotating_machine model"},
    {"Numerator", kMachine, "      num: [1]\n", nullptr, "7:7",
     "assets[0].model.num: not allowed in a rotating_machine model"},
    {"Denominator", kMachine, "      den: [1, 1]\n", nullptr, "7:7",
     "assets[0].model.den: not allowed in a rotating_machine model"},
    {"Domain", kMachine, "      domain: continuous\n", nullptr, "7:7",
     "assets[0].model.domain: not allowed in a rotating_machine model"},
    {"SampleTime", kMachine, "      dt: 10ms\n", nullptr, "7:7",
     "assets[0].model.dt: not allowed in a rotating_machine model"},
    // ---- parameters in the other kinds
    {"ParametersInAStateSpaceModel", "state_space",
     "      A: [[-1]]\n      B: [[1]]\n      C: [[1]]\n      parameters: {k_imb: 1}\n",
     "      - {name: u, role: input}\n      - {name: y, role: output}\n", "10:7",
     "assets[0].model.parameters: not allowed in a state_space model, expected parameters only "
     "with kind: rotating_machine"},
    {"ParametersInATransferFunction", "transfer_function",
     "      num: [1]\n      den: [1, 1]\n      parameters: {k_imb: 1}\n",
     "      - {name: u, role: input}\n      - {name: y, role: output}\n", "9:7",
     "assets[0].model.parameters: not allowed in a transfer_function model"},
};

INSTANTIATE_TEST_SUITE_P(Rows, BadMachineConfigs, ::testing::ValuesIn(kBadMachines),
                         [](const ::testing::TestParamInfo<BadMachine>& row) {
                           return std::string(row.param.name);
                         });

}  // namespace
}  // namespace twind::config
