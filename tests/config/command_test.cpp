// Commands on twin/{asset}/cmd: what parses, what is refused and how the refusal reads.
#include "twind/config/command.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <vector>

namespace twind::config {
namespace {

using ::testing::HasSubstr;

// The seed plant's signals: one input, one output.
std::vector<SignalSpec> seed_signals() {
  SignalSpec u;
  u.name = "u";
  u.role = Role::input;
  SignalSpec y;
  y.name = "y";
  y.role = Role::output;
  return {u, y};
}

TEST(Command, SetModelCarriesTheCheckedModelAndEchoesTheId) {
  const auto signals = seed_signals();

  const CommandParse sut = parse_command(
      R"({"id": "req-7", "command": "set_model", "model": {"name": "worn", "version": "2",
          "A": [[-2]], "B": [[1]], "C": [[1]]}})",
      &signals);

  ASSERT_TRUE(sut.command) << sut.error;
  EXPECT_EQ(sut.command->kind, CommandKind::set_model);
  EXPECT_EQ(sut.command->request_id, "req-7");
  EXPECT_FALSE(sut.command->template_scope);
  ASSERT_TRUE(sut.command->model);
  EXPECT_EQ(sut.command->model->id.name, "worn");
  EXPECT_EQ(sut.command->model->id.version, "2");
  EXPECT_EQ(sut.command->model->a.data, std::vector<double>{-2.0});
  EXPECT_EQ(sut.command->model->d.data, std::vector<double>{0.0});  // the file's default
}

TEST(Command, CompactJsonWithoutSpacesParses) {
  const auto signals = seed_signals();

  const CommandParse sut =
      parse_command(R"({"id":42,"command":"rebaseline","scope":"template"})", &signals);

  ASSERT_TRUE(sut.command) << sut.error;
  EXPECT_EQ(sut.command->kind, CommandKind::rebaseline);
  EXPECT_EQ(sut.command->request_id, "42");
  EXPECT_TRUE(sut.command->template_scope);
  EXPECT_FALSE(sut.command->model);
}

TEST(Command, UnknownAssetNeedsOnlyTheEnvelope) {
  const CommandParse sut = parse_command(
      R"({"id": "x", "command": "set_model", "model": {"name": "m", "version": 1, "A": [[1, 2]]}})",
      nullptr);

  ASSERT_TRUE(sut.command) << sut.error;
  EXPECT_EQ(sut.request_id, "x");
}

struct BadCommand {
  const char* name;
  const char* payload;
  const char* message;  // a substring of the error
};

void PrintTo(const BadCommand& c, std::ostream* os) {
  *os << c.name;
}

class BadCommands : public ::testing::TestWithParam<BadCommand> {};

TEST_P(BadCommands, AreRefusedWithTheReasonAndWhereItIs) {
  const auto signals = seed_signals();

  const CommandParse sut = parse_command(GetParam().payload, &signals);

  EXPECT_FALSE(sut.command);
  EXPECT_THAT(sut.error, HasSubstr(GetParam().message));
}

const BadCommand kBadCommands[] = {
    {"Empty", "", "got no JSON object"},
    {"BareNumber", "3", "got no JSON object"},
    {"List", R"(["rebaseline"])", "got no JSON object"},
    {"Unclosed", R"({"command": "rebaseline")", "not valid JSON"},
    // yaml-cpp 0.7 loops forever, allocating, on a ',' outside a flow collection (yaml-cpp issue
    // #1040).
    {"TrailingComma", R"({"command": "get_model"} ,)", "1:26: not valid JSON here"},
    {"YamlFlowStyle", R"({command: get_model})", "1:2: not valid JSON here"},
    {"NoCommand", R"({"id": "a"})", "command: missing required key"},
    {"UnknownCommand", R"({"command": "reboot"})",
     "1:13: command: got \"reboot\", expected set_model, rebaseline or get_model"},
    {"UnknownKey", R"({"command": "get_model", "modle": {}})",
     "modle: unknown key, expected one of: id, command, scope, model, identified (did you mean "
     "model?)"},
    {"DuplicateKey", R"({"command": "get_model", "command": "rebaseline"})", "duplicate key"},
    {"BadScope", R"({"command": "rebaseline", "scope": "plant"})",
     "scope: got \"plant\", expected asset or template"},
    {"SetModelWithoutModel", R"({"command": "set_model"})", "model: missing required key"},
    {"GetModelWithModel", R"({"command": "get_model", "model": {"name": "m"}})",
     "model: not allowed with get_model"},
    {"ModelOfTheWrongShape", R"({"command": "set_model", "model": {"name": "m", "version": 1,
      "A": [[-1]], "B": [[1, 1]], "C": [[1]]}})",
     "2:25: model.B: got 2 columns, expected 1 (the number of input signals: u)"},
    {"ModelWithNaN", R"({"command": "set_model", "model": {"name": "m", "version": 1,
      "A": [[.nan]], "B": [[1]], "C": [[1]]}})",
     "not valid JSON here"},
    {"ModelWithHugeNumber", R"({"command": "set_model", "model": {"name": "m", "version": 1,
      "A": [[-1e999]], "B": [[1]], "C": [[1]]}})",
     "model.A"},
    {"ModelWithoutVersion", R"({"command": "set_model", "model": {"name": "m", "A": [[-1]],
      "B": [[1]], "C": [[1]]}})",
     "model.version: missing required key"},
    {"NestedTooDeep",
     R"({"command": "set_model", "model": [[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]})",
     "brackets nested at most 16 deep"},
    {"IdTooLong",
     R"({"id": "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789", "command": "get_model"})",
     "id: got"},
};

INSTANTIATE_TEST_SUITE_P(EveryRule, BadCommands, ::testing::ValuesIn(kBadCommands),
                         [](const ::testing::TestParamInfo<BadCommand>& i) {
                           return std::string(i.param.name);
                         });

// ---- models the model layer cannot build (model_build_test.cpp has them in a file), refused at
// their place in the payload

struct UnbuildableCommand {
  const char* name;
  const char* payload;
  const char* error;  // exactly
};

void PrintTo(const UnbuildableCommand& c, std::ostream* os) {
  *os << c.name;
}

class UnbuildableCommands : public ::testing::TestWithParam<UnbuildableCommand> {};

TEST_P(UnbuildableCommands, AreRefusedAtTheirPlaceInThePayload) {
  const auto signals = seed_signals();

  const CommandParse sut = parse_command(GetParam().payload, &signals);

  EXPECT_FALSE(sut.command);
  EXPECT_EQ(sut.error, GetParam().error);
}

const UnbuildableCommand kUnbuildableCommands[] = {
    {"TransferFunctionWithATinyLeadingCoefficient",
     R"({"command": "set_model", "model": {"name": "m", "version": 1,
  "kind": "transfer_function", "num": [1], "den": [1e-300, 1e300]}})",
     "2:52: model.den[0]: got 1e-300, expected a leading coefficient that divides every "
     "coefficient to a finite number (den[1] / den[0] = 1e300 / 1e-300)"},
    {"TransferFunctionWhoseRealisationOverflows",
     R"({"command": "rebaseline", "model": {"name": "m", "version": 1,
  "kind": "transfer_function", "num": [1e200, 0], "den": [1, 1e200]}})",
     "1:36: model: cannot be built (its state-space realisation): C row 1, column 1 is -inf, "
     "expected a finite number"},
};

INSTANTIATE_TEST_SUITE_P(EveryKind, UnbuildableCommands, ::testing::ValuesIn(kUnbuildableCommands),
                         [](const ::testing::TestParamInfo<UnbuildableCommand>& row) {
                           return std::string(row.param.name);
                         });

TEST(Command, RefusedCommandStillEchoesItsIdAndKind) {
  const auto signals = seed_signals();

  const CommandParse sut = parse_command(
      R"({"id": "r1", "command": "set_model", "model": {"name": "m", "version": 1}})", &signals);

  EXPECT_FALSE(sut.command);
  EXPECT_EQ(sut.request_id, "r1");
  EXPECT_EQ(sut.kind, "set_model");
  EXPECT_THAT(sut.error, HasSubstr("model.A: missing required key"));
}

}  // namespace
}  // namespace twind::config
