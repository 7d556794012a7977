// Models that pass every key's own rule but that the model layer cannot build: each is refused
// where it is written, for single assets and templates, never at a made-up position when the twin
// is built. command_test.cpp holds the same models sent by command.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <vector>

#include "diagnostics.hpp"
#include "twind/config/loader.hpp"

namespace twind::config {
namespace {

using namespace testing;  // NOLINT(google-build-using-namespace): the tests' helpers

struct UnbuildableModel {
  const char* name;
  const char* yaml;
  const char* line;  // the single error, exactly as `twind check` prints it
};

void PrintTo(const UnbuildableModel& c, std::ostream* os) {
  *os << c.name;
}

class UnbuildableModels : public ::testing::TestWithParam<UnbuildableModel> {};

TEST_P(UnbuildableModels, AreRefusedWithOneErrorWhereTheModelIsWritten) {
  const UnbuildableModel& row = GetParam();

  const LoadResult sut = load(row.yaml);

  EXPECT_FALSE(sut.ok());
  const std::vector<Diagnostic> errors = errors_of(sut);
  ASSERT_EQ(errors.size(), 1U) << all_of(sut);
  EXPECT_EQ(errors[0].str(), row.line);
}

// The model divides num and den by den[0] to realise them: a leading coefficient too small for
// the others makes the realisation's numbers overflow.
const UnbuildableModel kUnbuildableModels[] = {
    {"TransferFunctionWithATinyLeadingCoefficient", R"(
assets:
  - id: plant
    model:
      name: m
      version: 1
      kind: transfer_function
      num: [1]
      den: [1e-300, 1e300]
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
)",
     "t.yaml:8:13: assets[0].model.den[0]: got 1e-300, expected a leading coefficient that "
     "divides every coefficient to a finite number (den[1] / den[0] = 1e300 / 1e-300)"},
    {"TransferFunctionWithASubnormalLeadingCoefficient", R"(
assets:
  - id: plant
    model:
      name: m
      version: 1
      kind: transfer_function
      num: [1]
      den: [1e-320, 1]
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
)",
     "t.yaml:8:13: assets[0].model.den[0]: got 1e-320, expected a leading coefficient that "
     "divides every coefficient to a finite number (den[1] / den[0] = 1 / 1e-320)"},
    {"TemplateTransferFunctionWhoseNumeratorOverflows", R"(
assets:
  - template: pumps
    ids: [p1]
    model:
      name: m
      version: 1
      kind: transfer_function
      num: [1e300]
      den: [1e-10, 1]
    signals:
      - {name: u, role: input, topic: "plant/{asset}/u"}
      - {name: y, role: output, topic: "plant/{asset}/y"}
)",
     "t.yaml:9:13: assets[0].model.den[0]: got 1e-10, expected a leading coefficient that "
     "divides every coefficient to a finite number (num[0] / den[0] = 1e300 / 1e-10)"},
    // Each quotient is finite, but the realisation's output row num[0] * den[1] / den[0]^2 is not.
    {"TransferFunctionWhoseRealisationOverflows", R"(
assets:
  - id: plant
    model:
      name: m
      version: 1
      kind: transfer_function
      num: [1e200, 0]
      den: [1, 1e200]
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
)",
     "t.yaml:4:7: assets[0].model: cannot be built (its state-space realisation): C row 1, "
     "column 1 is -inf, expected a finite number"},
    {"TemplateTransferFunctionWhoseRealisationOverflows", R"(
assets:
  - template: pumps
    discover: true
    model: {name: m, version: 1, kind: transfer_function, num: [1e200, 0], den: [1, 1e200]}
    signals:
      - {name: u, role: input, topic: "plant/{asset}/u"}
      - {name: y, role: output, topic: "plant/{asset}/y"}
)",
     "t.yaml:4:12: assets[0].model: cannot be built (its state-space realisation): C row 1, "
     "column 1 is -inf, expected a finite number"},
    // The rotating machine's own rule, 1 ms against r_th * c_th = 600 s, in a template too.
    {"TemplateMachineWithTimeConstantsTooFarApart", R"(
assets:
  - template: pumps
    ids: [p1]
    model:
      name: m
      version: 1
      kind: rotating_machine
      parameters: {tau_mech: 1ms}
    frames: ["plant/{asset}/frame"]
    signals:
      - {name: cmd, role: input}
      - {name: load, role: input}
      - {name: rpm, role: output}
      - {name: temp, role: output}
      - {name: vib, role: output}
)",
     "t.yaml:8:19: assets[0].model.parameters: tau_mech: got 0.001, expected within a factor "
     "1e5 of the thermal time constant r_th * c_th = 600 s"},
};

INSTANTIATE_TEST_SUITE_P(EveryKind, UnbuildableModels, ::testing::ValuesIn(kUnbuildableModels),
                         [](const ::testing::TestParamInfo<UnbuildableModel>& row) {
                           return std::string(row.param.name);
                         });

}  // namespace
}  // namespace twind::config
