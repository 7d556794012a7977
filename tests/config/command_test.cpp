// Commands on twin/{asset}/cmd: what parses, what is refused and how the refusal reads.
#include "twind/config/command.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

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
    // yaml-cpp 0.7 loops forever, allocating, on a ',' outside a flow collection (issue #1040).
    {"TrailingComma", R"({"command": "get_model"} ,)", "1:26: not valid JSON here"},
    {"YamlFlowStyle", R"({command: get_model})", "1:2: not valid JSON here"},
    {"NoCommand", R"({"id": "a"})", "command: missing required key"},
    {"UnknownCommand", R"({"command": "reboot"})",
     "1:13: command: got \"reboot\", expected set_model, rebaseline or get_model"},
    {"UnknownKey", R"({"command": "get_model", "modle": {}})",
     "modle: unknown key, expected one of: id, command, scope, model (did you mean model?)"},
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
