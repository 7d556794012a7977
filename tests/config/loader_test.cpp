// Loading and validating configurations: the seed file, one table row per refusal rule, and the
// behaviour around them (all errors at once, warnings, unreadable files).
#include "twind/config/loader.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "diagnostics.hpp"
#include "twind/config/config.hpp"

namespace twind::config {
namespace {

using namespace testing;  // NOLINT(google-build-using-namespace): the tests' helpers

using ::testing::HasSubstr;
using ::testing::StartsWith;

model::Matrix matrix(std::size_t rows, std::size_t cols, std::vector<double> data) {
  return model::Matrix{rows, cols, std::move(data)};
}

// ---- the seed configuration ------------------------------------------------------------------

TEST(SeedConfig, LoadsWithoutFindingsAndEqualsThePlantOfTheContract) {
  const std::string path = std::string(TWIND_SOURCE_DIR) + "/config/twind.yaml";
  Config expected;
  expected.source = path;
  expected.tick = 0.5;
  expected.max_payload_bytes = 65536;
  expected.broker.uri = "tcp://127.0.0.1:1883";
  expected.broker.client_id = "twind";
  expected.broker.keepalive = 30.0;
  expected.broker.clean_session = true;
  expected.topics = TopicsSpec{"twin/state", "twin/alert", "twin/status"};
  AssetSpec plant;
  plant.id = "plant";
  plant.model.id = model::ModelId{"first-order-lag", "1"};
  plant.model.kind = ModelKind::state_space;
  plant.model.domain = Domain::continuous;
  plant.model.a = matrix(1, 1, {-1.0});
  plant.model.b = matrix(1, 1, {1.0});
  plant.model.c = matrix(1, 1, {1.0});
  plant.model.d = matrix(1, 1, {0.0});
  SignalSpec u;
  u.name = "u";
  u.role = Role::input;
  u.topic = "plant/u";
  u.min = -1000.0;
  u.max = 1000.0;
  SignalSpec y;
  y.name = "y";
  y.role = Role::output;
  y.topic = "plant/y";
  y.min = -1000.0;
  y.max = 1000.0;
  y.threshold = 0.15;
  y.clear_threshold = 0.1;
  y.stale_after = 1.5;
  plant.signals = {u, y};
  plant.frame_topics = {"plant/frame"};
  plant.detector = DetectorSpec{1, 1, Severity::critical, Severity::warning};
  expected.assets = {plant};

  const LoadResult sut = load_file(path);

  EXPECT_TRUE(sut.diagnostics.empty()) << all_of(sut);
  ASSERT_TRUE(sut.ok());
  EXPECT_EQ(*sut.config, expected);
}

// ---- one row per refusal ---------------------------------------------------------------------

struct BadConfig {
  const char* name;
  const char* yaml;
  const char* where;    // line:col of the single error
  const char* message;  // a substring of its message
};

void PrintTo(const BadConfig& c, std::ostream* os) {
  *os << c.name;
}

class BadConfigs : public ::testing::TestWithParam<BadConfig> {};

TEST_P(BadConfigs, AreRefusedWithOneErrorAtTheOffendingNode) {
  const BadConfig& row = GetParam();

  const LoadResult sut = load(row.yaml);

  expect_one_error(sut, row.where, row.message);
  EXPECT_EQ(sut.diagnostics.at(0).file, "t.yaml");
}

// The model block every row starts from, when the row is not about the model.
// Columns in the signal lines: `{` 9, name's value 16, role's value 25, topic's value 39.
const BadConfig kBadConfigs[] = {
    // ---- the document
    {"EmptyDocument", "", "1:1", "expected a mapping at the top level"},
    {"OnlyComments", "# nothing here\n", "1:1", "expected a mapping at the top level"},
    // yaml-cpp 0.7 loops forever, allocating, on these (issue #1040; found by scripts/fuzz.sh).
    {"CommaAloneOnALine", " ,", "1:2", "got a ',' outside [ ] or { }, expected a value"},
    {"CommaStartingAValue", "tick: ,5s\n", "1:7", "got a ',' outside [ ] or { }"},
    {"CommaAfterAFlowList", "assets: [] ,\n", "1:12", "got a ',' outside [ ] or { }"},
    {"CommaAfterAnAnchor", "&asstnt,", "1:8", "got a ',' outside [ ] or { }"},
    {"CommaAfterATag", "tick: !t,\n", "1:9", "got a ',' outside [ ] or { }"},
    {"ControlCharacterBeforeAComma", "\x01,", "1:1",
     "got control character 1, expected text (YAML)"},
    {"CommaAfterABraceInPlainText", "tick: 1s or {\"v\n ,\n", "2:2",
     "got a ',' outside [ ] or { }"},
    {"TopLevelList", R"(
- tick: 1s
)",
     "1:1", "got a list, expected a mapping at the top level"},
    {"SyntaxError", R"(
tick: a: b
)",
     "1:8", "YAML syntax error: illegal map value"},
    {"TwoDocuments", R"(
assets:
  - id: plant
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
---
tick: 2s
)",
     "8:1", "got 2 YAML documents, expected one"},
    {"UnknownTopLevelKey", R"(
tikc: 500ms
assets:
  - id: plant
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
)",
     "1:1",
     "tikc: unknown key, expected one of: tick, tick_spread, max_payload_bytes, broker, cluster, "
     "topics, "
     "assets (did "
     "you mean tick?)"},
    {"DuplicateKey", R"(
tick: 1s
assets:
  - id: plant
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
tick: 2s
)",
     "8:1", "tick: duplicate key, expected each key once (first given at line 1)"},
    {"AssetsMissing", R"(
tick: 1s
)",
     "1:1", "assets: missing required key (list of mappings)"},
    // ---- top-level scalars
    {"TickWithoutUnit", R"(
tick: 500
assets:
  - id: plant
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
)",
     "1:7", "tick: got \"500\", expected a duration with a unit, like 500ms or 1.5s"},
    {"TickWithoutValue", R"(
tick:
assets:
  - id: plant
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
)",
     "1:1", "tick: got nothing, expected a duration"},
    {"MaxPayloadBelowMinimum", R"(
max_payload_bytes: 8
assets:
  - id: plant
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
)",
     "1:20", "max_payload_bytes: got 8, expected an integer from 16 to 16777216"},
    {"MaxPayloadNotAnInteger", R"(
max_payload_bytes: 1.5e3
assets:
  - id: plant
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
)",
     "1:20", "got 1.5e3, expected an integer"},
    // ---- broker
    {"BrokerIsAList", R"(
broker: [tcp://127.0.0.1:1883]
assets:
  - id: plant
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
)",
     "1:9", "broker: got a list, expected a mapping"},
    {"BrokerUriWithUnknownScheme", R"(
broker:
  uri: http://127.0.0.1:1883
assets:
  - id: plant
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
)",
     "2:8",
     "broker.uri: got \"http://127.0.0.1:1883\", expected a URI with the scheme tcp://, ssl://"},
    {"BrokerUriEmptyList", R"(
broker:
  uri: []
assets:
  - id: plant
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
)",
     "2:8", "broker.uri: got an empty list, expected a broker URI, or a list of at least one"},
    {"BrokerUriListWithABadElement", R"(
broker:
  uri:
    - tcp://10.0.0.1:1883
    - tcp://10.0.0.2:99999
assets:
  - id: plant
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
)",
     "4:7", "broker.uri[1]: got \"tcp://10.0.0.2:99999\", expected a port from 1 to 65535"},
    {"BrokerUriListMixingTlsAndPlaintext", R"(
broker:
  uri: [ssl://10.0.0.1:8883, tcp://10.0.0.2:1883]
assets:
  - id: plant
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
)",
     "2:30", "broker.uri[1]: got \"tcp://10.0.0.2:1883\", expected an ssl://, mqtts:// or wss://"},
    {"BrokerUriWithBadPort", R"(
broker:
  uri: tcp://localhost:99999
assets:
  - id: plant
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
)",
     "2:8", "expected a port from 1 to 65535"},
    {"BrokerUriWithoutScheme", R"(
broker:
  uri: localhost:1883
assets:
  - id: plant
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
)",
     "2:8", "expected a URI like tcp://127.0.0.1:1883"},
    {"EmptyClientId", R"(
broker:
  client_id: ""
assets:
  - id: plant
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
)",
     "2:14", "broker.client_id: got \"\", expected a non-empty string"},
    {"KeepaliveBelowOneSecond", R"(
broker:
  keepalive: 500ms
assets:
  - id: plant
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
)",
     "2:14", "broker.keepalive: got \"500ms\", expected whole seconds from 1s to 65535s"},
    {"CleanSessionNotABoolean", R"(
broker:
  clean_session: maybe
assets:
  - id: plant
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
)",
     "2:18", "broker.clean_session: got \"maybe\", expected true or false"},
    {"PasswordFileAndPasswordEnv", R"(
broker:
  username: twind
  password_file: /etc/twind/password
  password_env: TWIND_PASSWORD
assets:
  - id: plant
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
)",
     "4:17", "broker.password_env: got \"TWIND_PASSWORD\", expected no password_env when"},
    {"PasswordWithoutUsername", R"(
broker:
  password_env: TWIND_PASSWORD
assets:
  - id: plant
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
)",
     "2:17", "expected a username as well"},
    {"PasswordEnvNotAVariableName", R"(
broker:
  username: twind
  password_env: TWIND-PASSWORD
assets:
  - id: plant
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
)",
     "3:17", "expected an environment variable name"},
    {"TlsWithoutCaFile", R"(
broker:
  uri: ssl://127.0.0.1:8883
  tls: {cert_file: c.pem, key_file: k.pem}
assets:
  - id: plant
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
)",
     "3:8", "broker.tls.ca_file: missing required key"},
    {"TlsCertificateWithoutKey", R"(
broker:
  uri: mqtts://127.0.0.1:8883
  tls:
    ca_file: ca.pem
    cert_file: c.pem
assets:
  - id: plant
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
)",
     "5:5", "broker.tls.cert_file: got cert_file without key_file, expected both or neither"},
    {"TlsWithAPlaintextUri", R"(
broker:
  uri: tcp://127.0.0.1:1883
  tls: {ca_file: ca.pem}
assets:
  - id: plant
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
)",
     "2:8",
     "broker.uri: got tcp://127.0.0.1:1883 with tls, expected an ssl://, mqtts:// or wss://"},
    {"TlsWithTheDefaultPlaintextUri", R"(
broker:
  tls: {ca_file: ca.pem}
assets:
  - id: plant
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
)",
     "2:3", "broker.tls: got tls with the default uri tcp://127.0.0.1:1883, expected an ssl://"},
    // ---- topics
    {"StateTopicWithWildcard", R"(
topics:
  state: twin/#
assets:
  - id: plant
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
)",
     "2:10", "topics.state: got \"twin/#\", expected a topic without the MQTT wildcards + and #"},
    {"AlertTopicWithoutAssetWithTwoAssets", R"(
topics:
  state: twin/{asset}/state
  alert: twin/alert
assets:
  - id: a
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: a/u}
      - {name: y, role: output, topic: a/y}
  - id: b
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: b/u}
      - {name: y, role: output, topic: b/y}
)",
     "3:10",
     "topics.alert: got \"twin/alert\", expected a topic with {asset} once, as a whole level and "
     "its only placeholder, like twin/{asset}/alert, since there are 2 assets"},
    {"StatusTopicWithAssetPlaceholder", R"(
topics:
  status: twin/{asset}/status
assets:
  - id: plant
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
)",
     "2:11", "expected a fixed topic without {asset}"},
    {"AlertTopicEqualsStateTopic", R"(
topics:
  state: twin/out
  alert: twin/out
assets:
  - id: plant
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
)",
     "3:10", "topics.alert: got \"twin/out\", expected a topic other than topics.state"},
    // ---- assets
    {"AssetsEmpty", R"(
assets: []
)",
     "1:9", "assets: got an empty list, expected at least one asset"},
    {"AssetIdWithSpace", R"(
assets:
  - id: "plant 1"
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
)",
     "2:9", "assets[0].id: got \"plant 1\", expected an id of 1 to 64 letters, digits, _, . and -"},
    {"AssetIdUsedTwice", R"(
topics: {state: "twin/{asset}/state", alert: "twin/{asset}/alert"}
assets:
  - id: plant
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: a/u}
      - {name: y, role: output, topic: a/y}
  - id: plant
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: b/u}
      - {name: y, role: output, topic: b/y}
)",
     "8:9", "assets[1].id: got \"plant\", expected an id not already used (by assets[0].id)"},
    {"AssetWithoutModel", R"(
assets:
  - id: plant
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
)",
     "2:5", "assets[0].model: missing required key (mapping)"},
    // ---- model
    {"UnknownModelKey", R"(
assets:
  - id: plant
    model:
      name: m
      version: 1
      frobnicate: 1
      A: [[-1]]
      B: [[1]]
      C: [[1]]
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
)",
     "6:7",
     "assets[0].model.frobnicate: unknown key, expected one of: name, version, kind, domain, dt, "
     "A, B, C, D, num, den, parameters"},
    {"ModelWithoutName", R"(
assets:
  - id: plant
    model:
      version: 1
      A: [[-1]]
      B: [[1]]
      C: [[1]]
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
)",
     "4:7", "assets[0].model.name: missing required key (string)"},
    {"VersionIsAList", R"(
assets:
  - id: plant
    model:
      name: m
      version: [1, 2]
      A: [[-1]]
      B: [[1]]
      C: [[1]]
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
)",
     "5:16", "assets[0].model.version: got a list, expected a version"},
    {"UnknownKind", R"(
assets:
  - id: plant
    model:
      name: m
      version: 1
      kind: neural_network
      A: [[-1]]
      B: [[1]]
      C: [[1]]
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
)",
     "6:13",
     "assets[0].model.kind: got \"neural_network\", expected state_space, transfer_function or "
     "rotating_machine"},
    {"DiscreteWithoutDt", R"(
assets:
  - id: plant
    model:
      name: m
      version: 1
      domain: discrete
      A: [[0.5]]
      B: [[1]]
      C: [[1]]
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
)",
     "4:7", "assets[0].model.dt: missing, expected the sample time of the discrete model"},
    {"ContinuousWithDt", R"(
assets:
  - id: plant
    model:
      name: m
      version: 1
      dt: 20ms
      A: [[-1]]
      B: [[1]]
      C: [[1]]
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
)",
     "6:7", "assets[0].model.dt: not allowed in a continuous model"},
    {"DtNotPositive", R"(
assets:
  - id: plant
    model:
      name: m
      version: 1
      domain: discrete
      dt: 0ms
      A: [[0.5]]
      B: [[1]]
      C: [[1]]
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
)",
     "7:11", "assets[0].model.dt: got \"0ms\", expected a duration > 0"},
    {"AMissing", R"(
assets:
  - id: plant
    model:
      name: m
      version: 1
      B: [[1]]
      C: [[1]]
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
)",
     "4:7", "assets[0].model.A: missing required key (matrix, for a state_space model)"},
    {"ANotSquare", R"(
assets:
  - id: plant
    model:
      name: m
      version: 1
      A: [[-1, 0]]
      B: [[1]]
      C: [[1, 0]]
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
)",
     "6:10", "assets[0].model.A: got a 1 x 2 matrix, expected a square matrix"},
    {"AEmpty", R"(
assets:
  - id: plant
    model:
      name: m
      version: 1
      A: []
      B: []
      C: [[]]
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
)",
     "6:10", "assets[0].model.A: got an empty matrix, expected at least one state"},
    {"ARowsOfDifferentLengths", R"(
assets:
  - id: plant
    model:
      name: m
      version: 1
      A: [[-1, 0], [0]]
      B: [[1], [0]]
      C: [[1, 0]]
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
)",
     "6:20", "assets[0].model.A[1]: got 1 number, expected 2 (as many as row 0)"},
    {"AEntryNotANumber", R"(
assets:
  - id: plant
    model:
      name: m
      version: 1
      A: [[minus_one]]
      B: [[1]]
      C: [[1]]
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
)",
     "6:12", "assets[0].model.A[0][0]: got \"minus_one\", expected a number"},
    {"AEntryInfinite", R"(
assets:
  - id: plant
    model:
      name: m
      version: 1
      A: [[-.inf]]
      B: [[1]]
      C: [[1]]
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
)",
     "6:12", "assets[0].model.A[0][0]: got -.inf, expected a finite number"},
    {"AWrittenAsOneFlatList", R"(
assets:
  - id: plant
    model:
      name: m
      version: 1
      A: [-1]
      B: [[1]]
      C: [[1]]
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
)",
     "6:10", "assets[0].model.A: got a list of numbers, expected a matrix"},
    {"BRowsDifferFromStates", R"(
assets:
  - id: plant
    model:
      name: m
      version: 1
      A: [[-1]]
      B: [[1], [1]]
      C: [[1]]
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
)",
     "7:10", "assets[0].model.B: got 2 rows, expected 1 (the number of states, rows of A)"},
    {"BColumnsDifferFromInputs", R"(
assets:
  - id: plant
    model:
      name: m
      version: 1
      A: [[-1]]
      B: [[1, 1]]
      C: [[1]]
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
)",
     "7:10", "assets[0].model.B: got 2 columns, expected 1 (the number of input signals: u)"},
    {"CRowsDifferFromOutputs", R"(
assets:
  - id: plant
    model:
      name: m
      version: 1
      A: [[-1]]
      B: [[1]]
      C: [[1], [2]]
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
)",
     "8:10", "assets[0].model.C: got 2 rows, expected 1 (the number of output signals: y)"},
    {"CColumnsDifferFromStates", R"(
assets:
  - id: plant
    model:
      name: m
      version: 1
      A: [[-1]]
      B: [[1]]
      C: [[1, 2]]
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
)",
     "8:10", "assets[0].model.C: got 2 columns, expected 1 (the number of states, columns of A)"},
    {"DColumnsDifferFromInputs", R"(
assets:
  - id: plant
    model:
      name: m
      version: 1
      A: [[-1]]
      B: [[1]]
      C: [[1]]
      D: [[0, 0]]
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
)",
     "9:10", "assets[0].model.D: got 2 columns, expected 1 (the number of input signals: u)"},
    {"StateSpaceWithNumerator", R"(
assets:
  - id: plant
    model:
      name: m
      version: 1
      A: [[-1]]
      B: [[1]]
      C: [[1]]
      num: [1]
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
)",
     "9:7", "assets[0].model.num: not allowed in a state_space model"},
    // ---- transfer functions
    {"TransferFunctionWithA", R"(
assets:
  - id: plant
    model:
      name: m
      version: 1
      kind: transfer_function
      num: [1]
      den: [1, 1]
      A: [[-1]]
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
)",
     "9:7", "assets[0].model.A: not allowed in a transfer_function model"},
    {"TransferFunctionWithoutDen", R"(
assets:
  - id: plant
    model:
      name: m
      version: 1
      kind: transfer_function
      num: [1]
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
)",
     "4:7", "assets[0].model.den: missing required key"},
    {"TransferFunctionDenStartsWithZero", R"(
assets:
  - id: plant
    model:
      name: m
      version: 1
      kind: transfer_function
      num: [1]
      den: [0, 1, 1]
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
)",
     "8:13", "assets[0].model.den[0]: got 0, expected a non-zero leading coefficient"},
    {"TransferFunctionDenOfOrderZero", R"(
assets:
  - id: plant
    model:
      name: m
      version: 1
      kind: transfer_function
      num: [1]
      den: [2]
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
)",
     "8:12", "assets[0].model.den: got 1 coefficient, expected at least 2"},
    {"TransferFunctionNotProper", R"(
assets:
  - id: plant
    model:
      name: m
      version: 1
      kind: transfer_function
      num: [1, 2, 3]
      den: [1, 1]
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
)",
     "7:12",
     "assets[0].model.num: got 3 coefficients, expected at most 2 (as many as den: the transfer "
     "function must be proper)"},
    {"TransferFunctionNumeratorNotANumber", R"(
assets:
  - id: plant
    model:
      name: m
      version: 1
      kind: transfer_function
      num: [k]
      den: [1, 1]
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
)",
     "7:13", "assets[0].model.num[0]: got \"k\", expected a number"},
    {"TransferFunctionWithTwoInputs", R"(
assets:
  - id: plant
    model:
      name: m
      version: 1
      kind: transfer_function
      num: [1]
      den: [1, 1]
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: w, role: input, topic: plant/w}
      - {name: y, role: output, topic: plant/y}
)",
     "10:7",
     "assets[0].signals: got 2 inputs and 1 output, expected exactly 1 input and 1 output for a "
     "transfer_function model"},
    {"TransferFunctionDiscrete", R"(
assets:
  - id: plant
    model:
      name: m
      version: 1
      kind: transfer_function
      domain: discrete
      num: [1]
      den: [1, 1]
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
)",
     "7:15", "assets[0].model.domain: got \"discrete\", expected continuous"},
    // ---- signals
    {"SignalsEmpty", R"(
assets:
  - id: plant
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals: []
)",
     "4:14", "assets[0].signals: got an empty list, expected at least one input and one output"},
    {"NoOutputSignal", R"(
assets:
  - id: plant
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: plant/u}
)",
     "5:7",
     "assets[0].signals: got 1 input and 0 outputs, expected at least one input and one output"},
    {"SignalNameStartsWithDigit", R"(
assets:
  - id: plant
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: 1u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
)",
     "5:16", "assets[0].signals[0].name: got \"1u\", expected a name of letters, digits and _"},
    {"SignalNamedTs", R"(
assets:
  - id: plant
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: ts, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
)",
     "5:16", "assets[0].signals[0].name: got \"ts\", expected a name other than ts and value"},
    {"SignalNameUsedTwice", R"(
assets:
  - id: plant
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1], [1]]}
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
      - {name: y, role: output, topic: plant/y2}
)",
     "7:16",
     "assets[0].signals[2].name: got \"y\", expected a name not already used in this asset (by "
     "assets[0].signals[1].name)"},
    {"UnknownRole", R"(
assets:
  - id: plant
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: setpoint, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
)",
     "5:25", "assets[0].signals[0].role: got \"setpoint\", expected input or output"},
    {"UnknownSignalKey", R"(
assets:
  - id: plant
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y, treshold: 0.1}
)",
     "6:49", "assets[0].signals[1].treshold: unknown key, expected one of: name, role, topic"},
    {"SignalTopicWithWildcard", R"(
assets:
  - id: plant
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: plant/+}
      - {name: y, role: output, topic: plant/y}
)",
     "5:39", "assets[0].signals[0].topic: got \"plant/+\", expected a topic without the MQTT"},
    {"SignalTopicUsedTwice", R"(
assets:
  - id: plant
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: plant/x}
      - {name: y, role: output, topic: plant/x}
)",
     "6:40",
     "assets[0].signals[1].topic: got \"plant/x\", expected a topic not already used (by "
     "assets[0].signals[0].topic)"},
    {"SignalTopicUsedAsFrameTopic", R"(
assets:
  - id: plant
    frames: [plant/y]
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
)",
     "7:40", "got \"plant/y\", expected a topic not already used (by assets[0].frames[0])"},
    {"SignalTopicIsAnOutboundTopic", R"(
assets:
  - id: plant
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: twin/state}
      - {name: y, role: output, topic: plant/y}
)",
     "5:39", "expected a topic other than twind's own (it is topics.state)"},
    {"SignalWithoutTopicOrFrames", R"(
assets:
  - id: plant
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input}
      - {name: y, role: output, topic: plant/y}
)",
     "5:9", "assets[0].signals[0].topic: missing, expected a topic since the asset has no frames"},
    {"MinNotBelowMax", R"(
assets:
  - id: plant
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: plant/u, min: 10, max: 5}
      - {name: y, role: output, topic: plant/y}
)",
     "5:62", "assets[0].signals[0].max: got 5, expected a number > min (10)"},
    {"BoundQuoted", R"(
assets:
  - id: plant
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: plant/u, min: "-5"}
      - {name: y, role: output, topic: plant/y}
)",
     "5:53", "assets[0].signals[0].min: got \"-5\", expected a number (without quotes)"},
    {"ThresholdOnInput", R"(
assets:
  - id: plant
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: plant/u, threshold: 0.1}
      - {name: y, role: output, topic: plant/y}
)",
     "5:48", "assets[0].signals[0].threshold: got 0.1, expected no threshold on an input"},
    {"ThresholdNotPositive", R"(
assets:
  - id: plant
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y, threshold: 0}
)",
     "6:60", "assets[0].signals[1].threshold: got 0, expected a number > 0"},
    {"ClearThresholdAboveThreshold", R"(
assets:
  - id: plant
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - name: u
        role: input
        topic: plant/u
      - name: y
        role: output
        topic: plant/y
        threshold: 0.15
        clear_threshold: 0.2
)",
     "12:26",
     "assets[0].signals[1].clear_threshold: got 0.2, expected a number <= threshold (0.15)"},
    {"ClearThresholdWithoutThreshold", R"(
assets:
  - id: plant
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - name: u
        role: input
        topic: plant/u
      - name: y
        role: output
        topic: plant/y
        clear_threshold: 0.1
)",
     "11:9",
     "assets[0].signals[1].clear_threshold: got 0.1 without a threshold, expected a threshold as "
     "well"},
    {"StaleAfterBareNumber", R"(
assets:
  - id: plant
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - name: u
        role: input
        topic: plant/u
      - name: y
        role: output
        topic: plant/y
        stale_after: 1.5
)",
     "11:22", "assets[0].signals[1].stale_after: got \"1.5\", expected a duration with a unit"},
    {"SignalIsAString", R"(
assets:
  - id: plant
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: plant/u}
      - y
)",
     "6:9", "assets[0].signals[1]: got \"y\", expected a mapping (a signal"},
    // ---- frames and detector
    {"FramesNotAList", R"(
assets:
  - id: plant
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
    frames: plant/frame
)",
     "7:13",
     "assets[0].frames: got \"plant/frame\", expected a list of topics, like [plant/frame]"},
    {"FrameTopicUsedByTwoAssets", R"(
topics: {state: "twin/{asset}/state", alert: "twin/{asset}/alert"}
assets:
  - id: a
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: a/u}
      - {name: y, role: output, topic: a/y}
    frames: [frames]
  - id: b
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: b/u}
      - {name: y, role: output, topic: b/y}
    frames: [frames]
)",
     "14:14",
     "assets[1].frames[0]: got \"frames\", expected a topic not already used (by "
     "assets[0].frames[0])"},
    {"RaiseAfterZero", R"(
assets:
  - id: plant
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
    detector:
      raise_after: 0
)",
     "8:20", "assets[0].detector.raise_after: got 0, expected an integer from 1 to 1000000"},
    {"UnknownSeverity", R"(
assets:
  - id: plant
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
    detector:
      stale_severity: fatal
)",
     "8:23",
     "assets[0].detector.stale_severity: got \"fatal\", expected info, warning or critical"},
    // ---- YAML: in a flow collection a [ after text starts a list, which YAML refuses there
    {"TextWithBracketsInAFlowList", R"(
assets:
  - id: plant
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
    diagnose:
      hypotheses: [A[0][0]]
)",
     "8:21",
     "YAML syntax error: end of sequence flow not found; a [ after an item of a list needs a comma "
     "before it, or quotes around the text it belongs to, like \"A[0][0]\""},
    {"TextWithBracketsInAFlowMapping", R"(
assets:
  - id: plant
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
    diagnose: {hypotheses: A[0][0]}
)",
     "7:29",
     "YAML syntax error: end of map flow not found; a [ after a value needs quotes around the "
     "text it belongs to, like \"A[0][0]\""},
    {"MatrixRowsWithoutAComma", R"(
assets:
  - id: plant
    model: {name: m, version: 1, A: [[-1, 0] [0, -2]], B: [[1], [1]], C: [[1, 1]]}
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
)",
     "3:46",
     "YAML syntax error: end of sequence flow not found; a [ after an item of a list needs "
     "a comma before it"},
    // ---- diagnose.hypotheses: names of the model's entries and of the signals
    // Columns in `      hypotheses: [...]`: the list 19, its first name 20.
    {"HypothesisOutsideTheMatrix", R"(
assets:
  - id: plant
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
    diagnose:
      hypotheses: [output_gain(y), "A[3][0]"]
)",
     "8:36",
     "assets[0].diagnose.hypotheses[1]: got \"A[3][0]\", expected A[0][0], B[0][0], "
     "output_gain(y), output_bias(y) or input_gain(u)"},
    {"HypothesisOfTheOtherKindOfModel", R"(
assets:
  - id: plant
    model: {name: m, version: 1, A: [[-1, 0], [0, -2]], B: [[1], [1]], C: [[1, 1]]}
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
    diagnose:
      hypotheses: ["num[0]"]
)",
     "8:20",
     "assets[0].diagnose.hypotheses[0]: got \"num[0]\", expected A[i][j] with i, j < 2, B[i][0] "
     "with i < 2, output_gain(y), output_bias(y) or input_gain(u)"},
    {"HypothesisWithALeadingZero", R"(
assets:
  - id: plant
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
    diagnose:
      hypotheses: ["A[00][0]"]
)",
     "8:20", "assets[0].diagnose.hypotheses[0]: got \"A[00][0]\", expected A[0][0], B[0][0]"},
    {"HypothesisOutputGainOfAnInput", R"(
assets:
  - id: plant
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
    diagnose:
      hypotheses: [output_gain(u)]
)",
     "8:20",
     "assets[0].diagnose.hypotheses[0]: got \"output_gain(u)\", expected A[0][0], B[0][0], "
     "output_gain(y), output_bias(y) or input_gain(u)"},
    {"HypothesisOfAnUnknownSignal", R"(
assets:
  - id: plant
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
    diagnose:
      hypotheses: [input_gain(w)]
)",
     "8:20", "assets[0].diagnose.hypotheses[0]: got \"input_gain(w)\", expected A[0][0]"},
    {"HypothesisDenZero", R"(
assets:
  - id: plant
    model: {name: m, version: 1, kind: transfer_function, num: [1, 2], den: [1, 2, 3]}
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
    diagnose:
      hypotheses: ["num[1]", "den[0]"]
)",
     "8:30",
     "assets[0].diagnose.hypotheses[1]: got \"den[0]\", expected num[k] with k < 2, den[k] with "
     "1 <= k < 3, output_gain(y), output_bias(y) or input_gain(u)"},
    {"HypothesisBeyondTheNumerator", R"(
assets:
  - id: plant
    model: {name: m, version: 1, kind: transfer_function, num: [1], den: [1, 1]}
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
    diagnose:
      hypotheses: ["num[1]"]
)",
     "8:20",
     "assets[0].diagnose.hypotheses[0]: got \"num[1]\", expected num[0], den[1], output_gain(y), "
     "output_bias(y) or input_gain(u)"},
    {"HypothesisRpmRated", R"(
assets:
  - id: pump
    model: {name: m, version: 1, kind: rotating_machine}
    frames: [p/frame]
    signals:
      - {name: cmd, role: input}
      - {name: load, role: input}
      - {name: rpm, role: output}
      - {name: temp, role: output}
      - {name: vib, role: output}
    diagnose:
      hypotheses: [k_imb, rpm_rated]
)",
     "12:27",
     "assets[0].diagnose.hypotheses[1]: got \"rpm_rated\", expected tau_mech, p_idle, k_speed, "
     "r_th, c_th, t_ambient, v_base, k_imb, output_gain(rpm|temp|vib), "
     "output_bias(rpm|temp|vib) or input_gain(cmd|load) (rpm_rated is a reference, not a "
     "property that wears)"},
    {"HypothesisListedTwice", R"(
assets:
  - id: plant
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
    diagnose:
      hypotheses:
        - A[0][0]
        - output_bias(y)
        - A[0][0]
)",
     "11:11",
     "assets[0].diagnose.hypotheses[2]: got \"A[0][0]\", expected a name not already listed (by "
     "assets[0].diagnose.hypotheses[0])"},
    {"HypothesesEmpty", R"(
assets:
  - id: plant
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
    diagnose:
      hypotheses: []
)",
     "8:19",
     "assets[0].diagnose.hypotheses: got an empty list, expected at least one name (omit the key "
     "for the default set)"},
    {"HypothesesNotAList", R"(
assets:
  - id: plant
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
    diagnose:
      hypotheses: A[0][0]
)",
     "8:19",
     "assets[0].diagnose.hypotheses: got \"A[0][0]\", expected a list of hypothesis names, like "
     "[\"A[0][0]\", output_gain(y)]"},
    {"HypothesisNotAString", R"(
assets:
  - id: plant
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
    diagnose:
      hypotheses: [{A: 0}]
)",
     "8:20", "assets[0].diagnose.hypotheses[0]: got a mapping, expected a string"},
    // A flow list takes `[0]` for a list.
    {"HypothesisIsAList", R"(
assets:
  - id: plant
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
    diagnose:
      hypotheses: [output_gain(y), [0]]
)",
     "8:36",
     "assets[0].diagnose.hypotheses[1]: got a list, expected a name (quote a name with brackets "
     "in a flow list: \"A[0][0]\")"},
    {"HypothesisOfATemplate", R"(
assets:
  - template: pumps
    ids: [p1]
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: "{asset}/u"}
      - {name: y, role: output, topic: "{asset}/y"}
    diagnose:
      hypotheses: ["B[0][1]"]
)",
     "9:20",
     "assets[0].diagnose.hypotheses[0]: got \"B[0][1]\", expected A[0][0], B[0][0], "
     "output_gain(y), output_bias(y) or input_gain(u)"},
    // A refused model is not blamed again through the names of its entries.
    {"HypothesesOfARefusedModel", R"(
assets:
  - id: plant
    model: {name: m, version: 1, A: [[-1, 0]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
    diagnose:
      hypotheses: ["A[1][1]", output_gain(y)]
)",
     "3:37", "assets[0].model.A: got a 1 x 2 matrix, expected a square matrix"},
    {"HypothesesOfSignalsWithARefusedRole", R"(
assets:
  - id: plant
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: sensor, topic: plant/y}
    diagnose:
      hypotheses: [output_gain(y)]
)",
     "6:25", "assets[0].signals[1].role: got \"sensor\", expected input or output"},
};

INSTANTIATE_TEST_SUITE_P(EveryRule, BadConfigs, ::testing::ValuesIn(kBadConfigs),
                         [](const ::testing::TestParamInfo<BadConfig>& row) {
                           return std::string(row.param.name);
                         });

// Loading a model costs cubic time in its states: a line of a few kilobytes must not hold twind
// for minutes (a denominator of 600 coefficients took over two minutes under the fuzzer).
std::string with_model(const std::string& model_lines) {
  return "assets:\n  - id: plant\n    model:\n      name: m\n      version: 1\n" + model_lines +
         "    signals:\n      - {name: u, role: input, topic: plant/u}\n"
         "      - {name: y, role: output, topic: plant/y}\n";
}

std::string ones(std::size_t n) {
  std::string s = "[1";
  for (std::size_t i = 1; i < n; ++i) s += ", 1";
  return s + "]";
}

TEST(ModelSize, ATransferFunctionOfOrder64IsTakenAndOrder65Refused) {
  const auto tf = [](std::size_t den) {
    return with_model("      kind: transfer_function\n      num: [1]\n      den: " + ones(den) +
                      "\n");
  };

  EXPECT_TRUE(load(tf(65)).ok());
  expect_one_error(load(tf(66)), "8:12",
                   "assets[0].model.den: got a denominator of order 65, expected at most 64");
}

TEST(ModelSize, AStateSpaceOf64StatesIsTakenAnd65Refused) {
  const auto ss = [](std::size_t n) {
    std::string a = "[";
    std::string b = "[";
    std::string c = "[[";
    for (std::size_t i = 0; i < n; ++i) {
      a += std::string(i ? ", " : "") + "[";
      for (std::size_t j = 0; j < n; ++j) a += std::string(j ? ", " : "") + (i == j ? "-1" : "0");
      a += "]";
      b += std::string(i ? ", " : "") + "[1]";
      c += std::string(i ? ", " : "") + "1";
    }
    return with_model("      A: " + a + "]\n      B: " + b + "]\n      C: " + c + "]]\n");
  };

  EXPECT_TRUE(load(ss(64)).ok());
  expect_one_error(load(ss(65)), "6:10", "assets[0].model.A: got 65 states, expected at most 64");
}

// ---- behaviour around the rules --------------------------------------------------------------

TEST(Loader, ReportsEveryErrorInDocumentOrder) {
  const LoadResult sut = load(R"(
tick: 500
assets:
  - id: plant
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: plant/u, max: x}
      - {name: y, role: output, topic: plant/y, threshold: -1}
broker: {keepalive: 0s}
)");

  EXPECT_FALSE(sut.ok());
  const std::vector<Diagnostic> errors = errors_of(sut);
  ASSERT_EQ(errors.size(), 4U) << all_of(sut);
  EXPECT_EQ(where(errors[0]), "1:7");
  EXPECT_THAT(errors[0].message, StartsWith("tick:"));
  EXPECT_EQ(where(errors[1]), "6:53");
  EXPECT_THAT(errors[1].message, StartsWith("assets[0].signals[0].max:"));
  EXPECT_EQ(where(errors[2]), "7:60");
  EXPECT_THAT(errors[2].message, StartsWith("assets[0].signals[1].threshold:"));
  EXPECT_EQ(where(errors[3]), "8:21");
  EXPECT_THAT(errors[3].message, StartsWith("broker.keepalive:"));
}

TEST(Loader, BadAMatrixIsNotBlamedAgainOnBAndC) {
  const LoadResult sut = load(R"(
assets:
  - id: plant
    model:
      name: m
      version: 1
      A: [[-1, 0], [0]]
      B: [[1], [2], [3]]
      C: [[1, 2, 3]]
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
)");

  const std::vector<Diagnostic> errors = errors_of(sut);
  ASSERT_EQ(errors.size(), 1U) << all_of(sut);
  EXPECT_THAT(errors[0].message, StartsWith("assets[0].model.A[1]:"));
}

TEST(Loader, UnreadableRoleIsNotBlamedAgainOnTheMatrixShapes) {
  const LoadResult sut = load(R"(
assets:
  - id: plant
    model: {name: m, version: 1, A: [[-1]], B: [[1, 2]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: v, role: inptu, topic: plant/v}
      - {name: y, role: output, topic: plant/y}
)");

  const std::vector<Diagnostic> errors = errors_of(sut);
  ASSERT_EQ(errors.size(), 1U) << all_of(sut);
  EXPECT_THAT(errors[0].message, StartsWith("assets[0].signals[1].role:"));
}

TEST(Loader, KeepsInputsFirstThenOutputsEachInFileOrder) {
  const LoadResult sut = load(R"(
assets:
  - id: plant
    model:
      name: m
      version: 1
      A: [[-1]]
      B: [[1, 2]]
      C: [[1], [2]]
    signals:
      - {name: y1, role: output, topic: p/y1}
      - {name: u1, role: input, topic: p/u1}
      - {name: y2, role: output, topic: p/y2}
      - {name: u2, role: input, topic: p/u2}
)");

  ASSERT_TRUE(sut.ok()) << all_of(sut);
  std::vector<std::string> names;
  for (const SignalSpec& s : sut.config->assets[0].signals) names.push_back(s.name);
  EXPECT_EQ(names, (std::vector<std::string>{"u1", "u2", "y1", "y2"}));
}

TEST(Loader, OmittedKeysTakeTheDocumentedDefaults) {
  const LoadResult sut = load(R"(
assets:
  - id: plant
    model:
      name: m
      version: 1
      A: [[-1, 0], [0, -2]]
      B: [[1], [1]]
      C: [[1, 0], [0, 1]]
    signals:
      - {name: u, role: input, topic: p/u}
      - {name: y1, role: output, topic: p/y1, threshold: 0.3}
      - {name: y2, role: output, topic: p/y2}
)");

  ASSERT_TRUE(sut.ok()) << all_of(sut);
  const Config& c = *sut.config;
  EXPECT_EQ(c.tick, 0.5);
  EXPECT_EQ(c.max_payload_bytes, 65536U);
  EXPECT_EQ(c.broker, BrokerSpec{});
  EXPECT_EQ(c.topics, (TopicsSpec{"twin/state", "twin/alert", "twin/status"}));
  const AssetSpec& a = c.assets[0];
  EXPECT_EQ(a.model.kind, ModelKind::state_space);
  EXPECT_EQ(a.model.domain, Domain::continuous);
  EXPECT_EQ(a.model.d, matrix(2, 1, {0.0, 0.0}));  // p x m zeros
  EXPECT_EQ(a.signals[1].clear_threshold, 0.3);    // = threshold
  EXPECT_FALSE(a.signals[2].threshold.has_value());
  EXPECT_FALSE(a.signals[2].clear_threshold.has_value());
  EXPECT_FALSE(a.signals[2].stale_after.has_value());
  EXPECT_EQ(a.signals[0].min, SignalSpec{}.min);
  EXPECT_EQ(a.signals[0].max, SignalSpec{}.max);
  EXPECT_EQ(a.detector, DetectorSpec{});
  EXPECT_TRUE(a.frame_topics.empty());
}

TEST(Loader, SeveralAssetsWithoutTopicsPublishPerAssetTemplates) {
  const LoadResult sut = load(R"(
assets:
  - id: a
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: a/u}
      - {name: y, role: output, topic: a/y}
  - id: b
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: b/u}
      - {name: y, role: output, topic: b/y}
)");

  ASSERT_TRUE(sut.ok()) << all_of(sut);
  EXPECT_EQ(sut.config->topics.state, "twin/{asset}/state");
  EXPECT_EQ(sut.config->topics.alert, "twin/{asset}/alert");
  EXPECT_EQ(sut.config->topics.status, "twin/status");
}

TEST(Loader, CommaInsidePlainTextOrQuotesIsText) {
  const LoadResult sut = load(R"(
assets:
  - id: plant  # a comment, with a comma
    model: {name: "lag, first order", version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: plant/u}
      - name: y
        role: output
        topic: plant/y, line 2
)");

  ASSERT_TRUE(sut.ok()) << all_of(sut);
  EXPECT_EQ(sut.config->assets[0].model.id.name, "lag, first order");
  EXPECT_EQ(sut.config->assets[0].signals[1].topic, "plant/y, line 2");
}

TEST(Loader, ModelVersionIsKeptAsWritten) {
  const auto version_of = [](std::string_view written) {
    const LoadResult r = load(R"(
assets:
  - id: plant
    model: {name: m, version: )" +
                              std::string(written) +
                              R"(, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
)");
    return r.ok() ? r.config->assets[0].model.id.version : "refused: " + all_of(r);
  };

  EXPECT_EQ(version_of("3"), "3");
  EXPECT_EQ(version_of("\"3\""), "3");
  EXPECT_EQ(version_of("3.10"), "3.10");
  EXPECT_EQ(version_of("2024-11-21a"), "2024-11-21a");
}

TEST(Loader, TransferFunctionIsKeptAsCoefficients) {
  const LoadResult sut = load(R"(
assets:
  - id: plant
    model:
      name: tf
      version: 2
      kind: transfer_function
      num: [2]
      den: [1, 3, 2]
    frames: [plant/frame]
    signals:
      - {name: u, role: input}
      - {name: y, role: output}
)");

  ASSERT_TRUE(sut.ok()) << all_of(sut);
  const ModelSpec& m = sut.config->assets[0].model;
  EXPECT_EQ(m.kind, ModelKind::transfer_function);
  EXPECT_EQ(m.num, std::vector<double>{2.0});
  EXPECT_EQ(m.den, (std::vector<double>{1.0, 3.0, 2.0}));
  EXPECT_TRUE(m.a.data.empty());
  EXPECT_TRUE(sut.config->assets[0].signals[0].topic.empty());  // arrives in frames only
  EXPECT_TRUE(warnings_of(sut).empty()) << all_of(sut);         // poles -1 and -2
}

TEST(Loader, DiscreteModelKeepsItsSampleTime) {
  const LoadResult sut = load(R"(
assets:
  - id: plant
    model:
      name: m
      version: 1
      domain: discrete
      dt: 20ms
      A: [[0.5]]
      B: [[1]]
      C: [[1]]
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
)");

  ASSERT_TRUE(sut.ok()) << all_of(sut);
  EXPECT_EQ(sut.config->assets[0].model.domain, Domain::discrete);
  EXPECT_EQ(sut.config->assets[0].model.dt, 0.02);
  // A discrete pole at 0.5 is stable (|0.5| < 1) although its real part is positive: the
  // continuous rule (real part > 0) must not be applied to it.
  EXPECT_TRUE(warnings_of(sut).empty()) << all_of(sut);
}

// Zero entries too (that coupling may appear), in the file's order, in a block list unquoted and
// in a flow list quoted; a template takes them as a single asset does.
TEST(Loader, DiagnoseHypothesesAreKeptAsListed) {
  const LoadResult sut = load(R"(
assets:
  - id: plant
    model: {name: m, version: 1, A: [[-1, 0], [0.5, -2]], B: [[1], [0]], C: [[0, 1]]}
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
    diagnose:
      enabled: true
      hypotheses:
        - A[1][0]
        - B[1][0]
        - output_bias(y)
        - input_gain(u)
  - template: pumps
    ids: [p1]
    model: {name: m, version: 1, kind: transfer_function, num: [1], den: [1, 3, 2]}
    signals:
      - {name: u, role: input, topic: "pumps/{asset}/u"}
      - {name: y, role: output, topic: "pumps/{asset}/y"}
    diagnose: {hypotheses: ["den[2]", "num[0]", output_gain(y)]}
  - id: other
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: other/u}
      - {name: y, role: output, topic: other/y}
    diagnose: {enabled: true}
)");

  ASSERT_TRUE(sut.ok()) << all_of(sut);
  EXPECT_TRUE(sut.diagnostics.empty()) << all_of(sut);
  ASSERT_EQ(sut.config->assets.size(), 3U);
  DiagnoseSpec plant;
  plant.enabled = true;
  plant.hypotheses = {"A[1][0]", "B[1][0]", "output_bias(y)", "input_gain(u)"};
  EXPECT_EQ(sut.config->assets[0].diagnose, plant);
  DiagnoseSpec pumps;
  pumps.hypotheses = {"den[2]", "num[0]", "output_gain(y)"};
  EXPECT_EQ(sut.config->assets[1].diagnose, pumps);
  EXPECT_TRUE(sut.config->assets[2].diagnose.hypotheses.empty());  // the default set
  EXPECT_NE(sut.config->assets[0].diagnose, sut.config->assets[2].diagnose);
}

TEST(Loader, FullBrokerSectionIsRead) {
  const LoadResult sut = load(R"(
broker:
  uri: mqtts://broker.plant.example:8883
  client_id: twind-line-3
  keepalive: 1min
  clean_session: false
  check_publish: false
  client: threaded
  username: twind
  password_file: /etc/twind/password
  tls:
    ca_file: /etc/twind/ca.pem
    cert_file: /etc/twind/client.pem
    key_file: /etc/twind/client.key
assets:
  - id: plant
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
)");

  ASSERT_TRUE(sut.ok()) << all_of(sut);
  const BrokerSpec& b = sut.config->broker;
  EXPECT_EQ(b.uri, "mqtts://broker.plant.example:8883");
  EXPECT_EQ(b.client_id, "twind-line-3");
  EXPECT_EQ(b.keepalive, 60.0);
  EXPECT_FALSE(b.clean_session);
  EXPECT_FALSE(b.check_publish);
  EXPECT_EQ(b.client, BrokerSpec::Client::threaded);
  EXPECT_EQ(b.username, "twind");
  EXPECT_EQ(b.password_file, "/etc/twind/password");
  EXPECT_TRUE(b.password_env.empty());
  EXPECT_EQ(b.tls,
            (TlsSpec{"/etc/twind/ca.pem", "/etc/twind/client.pem", "/etc/twind/client.key"}));
}

TEST(Loader, BrokerUriListNamesTheClusterNodesInOrder) {
  const LoadResult r = load(R"(
broker:
  uri: [tcp://10.0.0.1:1883, tcp://10.0.0.2:1883, tcp://10.0.0.3:1883]
assets:
  - id: plant
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
)");
  ASSERT_TRUE(r.config) << all_of(r);
  EXPECT_EQ(r.config->broker.uri, "tcp://10.0.0.1:1883");
  EXPECT_EQ(r.config->broker.failover_uris,
            (std::vector<std::string>{"tcp://10.0.0.2:1883", "tcp://10.0.0.3:1883"}));

  const LoadResult one = load(R"(
broker:
  uri: [tcp://10.0.0.1:1883]
assets:
  - id: plant
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
)");
  ASSERT_TRUE(one.config) << all_of(one);
  EXPECT_EQ(one.config->broker.uri, "tcp://10.0.0.1:1883");
  EXPECT_TRUE(one.config->broker.failover_uris.empty());
}

TEST(Loader, BrokerClientIsDrivenByDefaultAndAnUnknownOneIsRefusedAtItsPlace) {
  constexpr std::string_view kAsset = R"(
assets:
  - id: plant
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
)";
  const LoadResult plain = load(std::string(kAsset));
  ASSERT_TRUE(plain.ok()) << all_of(plain);
  EXPECT_EQ(plain.config->broker.client, BrokerSpec::Client::driven);

  const LoadResult sut = load("broker:\n  client: fast\n" + std::string(kAsset));
  const std::vector<Diagnostic> errors = errors_of(sut);
  ASSERT_EQ(errors.size(), 1U) << all_of(sut);
  EXPECT_EQ(errors[0].line, 2);
  EXPECT_EQ(errors[0].column, 11);
  EXPECT_THAT(errors[0].message,
              StartsWith("broker.client: got \"fast\", expected threaded, driven or native"));

  const LoadResult native = load("broker:\n  client: native\n" + std::string(kAsset));
  ASSERT_TRUE(native.ok()) << all_of(native);
  EXPECT_EQ(native.config->broker.client, BrokerSpec::Client::native);
}

// ---- warnings --------------------------------------------------------------------------------

constexpr std::string_view kUnstable = R"(
assets:
  - id: plant
    model:
      name: m
      version: 1
      A: [[0.5]]
      B: [[1]]
      C: [[1]]
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
)";

TEST(Warnings, UnstableContinuousModelWarnsAndStillLoads) {
  const LoadResult sut = load(kUnstable);

  ASSERT_TRUE(sut.ok()) << all_of(sut);
  ASSERT_EQ(sut.diagnostics.size(), 1U);
  const Diagnostic& w = sut.diagnostics[0];
  EXPECT_FALSE(w.is_error);
  EXPECT_EQ(where(w), "6:10");
  EXPECT_EQ(w.message,
            "assets[0].model.A: unstable pole (max real part 0.5 > 0); the twin will drift from "
            "any plant");
}

TEST(Warnings, UnstableTransferFunctionWarnsAtItsDenominator) {
  // (s - 1)(s + 2) = s^2 + s - 2: poles +1 and -2.
  const LoadResult sut = load(R"(
assets:
  - id: plant
    model: {name: m, version: 1, kind: transfer_function, num: [1], den: [1, 1, -2]}
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
)");

  ASSERT_TRUE(sut.ok()) << all_of(sut);
  const std::vector<Diagnostic> warnings = warnings_of(sut);
  ASSERT_EQ(warnings.size(), 1U) << all_of(sut);
  EXPECT_EQ(where(warnings[0]), "3:74");
  EXPECT_THAT(warnings[0].message, StartsWith("assets[0].model.den: unstable pole (max real part"));
}

TEST(Warnings, IntegratorAndStablePolesDoNotWarn) {
  // A double integrator (poles 0, 0) is marginally stable, which is not worth a warning.
  const LoadResult sut = load(R"(
assets:
  - id: plant
    model: {name: m, version: 1, A: [[0, 1], [0, 0]], B: [[0], [1]], C: [[1, 0]]}
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
  - id: lag
    model: {name: m, version: 1, A: [[-1, 5], [-5, -1]], B: [[0], [1]], C: [[1, 0]]}
    signals:
      - {name: u, role: input, topic: lag/u}
      - {name: y, role: output, topic: lag/y}
)");

  ASSERT_TRUE(sut.ok()) << all_of(sut);
  EXPECT_TRUE(sut.diagnostics.empty()) << all_of(sut);
}

TEST(Warnings, DoNotHideErrorsAndAreSortedAmongThem) {
  std::string text(kUnstable);
  text += "tick: 5\n";

  const LoadResult sut = load(text);

  EXPECT_FALSE(sut.ok());
  ASSERT_EQ(sut.diagnostics.size(), 2U) << all_of(sut);
  EXPECT_FALSE(sut.diagnostics[0].is_error);  // line 6
  EXPECT_TRUE(sut.diagnostics[1].is_error);   // line 12
}

// ---- printing and files ----------------------------------------------------------------------

TEST(Diagnostic, PrintsFileLineColumnAndMarksWarnings) {
  const Diagnostic error{"plant.yaml", 3, 7, "tick: got \"5\", expected x", true};
  const Diagnostic warning{"plant.yaml", 12, 1, "assets[0].model.A: unstable pole", false};

  EXPECT_EQ(error.str(), "plant.yaml:3:7: tick: got \"5\", expected x");
  EXPECT_EQ(warning.str(), "plant.yaml:12:1: warning: assets[0].model.A: unstable pole");
}

TEST(LoadFile, MissingFileIsOneDiagnosticAtTheStart) {
  const std::string path = std::string(TWIND_BINARY_DIR) + "/no-such-dir/twind.yaml";

  const LoadResult sut = load_file(path);

  EXPECT_FALSE(sut.ok());
  ASSERT_EQ(sut.diagnostics.size(), 1U);
  EXPECT_EQ(sut.diagnostics[0].str(), path + ":1:1: cannot read file: No such file or directory");
}

TEST(LoadFile, DirectoryIsUnreadable) {
  const std::string path = std::string(TWIND_SOURCE_DIR) + "/config";

  const LoadResult sut = load_file(path);

  ASSERT_EQ(sut.diagnostics.size(), 1U);
  EXPECT_EQ(sut.diagnostics[0].str(), path + ":1:1: cannot read file: Is a directory");
}

TEST(LoadFile, ErrorsNameTheFileAndTheConfigNamesItsSource) {
  const std::string dir = std::string(TWIND_BINARY_DIR) + "/tests/config";
  std::filesystem::create_directories(dir);
  const std::string bad = dir + "/bad.yaml";
  {
    std::FILE* f = std::fopen(bad.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs("tick: 5\n", f);
    std::fclose(f);
  }

  const LoadResult refused = load_file(bad);
  const LoadResult seed = load_file(std::string(TWIND_SOURCE_DIR) + "/config/twind.yaml");

  ASSERT_EQ(refused.diagnostics.size(), 2U);  // the bad tick, and the missing assets
  EXPECT_EQ(refused.diagnostics[0].str(),
            bad + ":1:1: assets: missing required key (list of mappings)");
  EXPECT_THAT(refused.diagnostics[1].str(), StartsWith(bad + ":1:7: tick: got \"5\""));
  ASSERT_TRUE(seed.ok());
  EXPECT_EQ(seed.config->source, std::string(TWIND_SOURCE_DIR) + "/config/twind.yaml");
}

}  // namespace
}  // namespace twind::config
