// Templates for fleets of assets: the bundled config/fleet.yaml, what a template may hold, and
// one table row per refusal (template shape, {asset} placement, topics that could overlap).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <iterator>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "diagnostics.hpp"
#include "twind/config/config.hpp"
#include "twind/config/loader.hpp"

namespace twind::config {
namespace {

using ::testing::ElementsAre;
using namespace testing;  // NOLINT(google-build-using-namespace): the tests' helpers

TEST(FleetConfig, IsTheSeedPlantAsOneDiscoveringTemplate) {
  const LoadResult seed = load_file(std::string(TWIND_SOURCE_DIR) + "/config/twind.yaml");
  ASSERT_TRUE(seed.ok()) << all_of(seed);
  const AssetSpec& plant = seed.config->assets.at(0);

  const LoadResult sut = load_file(std::string(TWIND_SOURCE_DIR) + "/config/fleet.yaml");

  ASSERT_TRUE(sut.ok()) << all_of(sut);
  EXPECT_TRUE(sut.diagnostics.empty()) << all_of(sut);
  const Config& c = *sut.config;
  ASSERT_EQ(c.assets.size(), 1U);
  const AssetSpec& t = c.assets[0];
  EXPECT_TRUE(t.is_template());
  EXPECT_EQ(t.template_name, "plant");
  EXPECT_TRUE(t.id.empty());
  EXPECT_TRUE(t.discover);
  EXPECT_GE(t.max_assets, 10000U);  // the fleet benchmark's largest fleet
  EXPECT_EQ(t.model, plant.model);
  EXPECT_EQ(t.detector, plant.detector);
  ASSERT_EQ(t.signals.size(), plant.signals.size());
  for (std::size_t i = 0; i < t.signals.size(); ++i) {
    SignalSpec s = t.signals[i];
    EXPECT_EQ(s.topic, "plant/{asset}/" + s.name);
    s.topic = plant.signals[i].topic;
    EXPECT_EQ(s, plant.signals[i]) << "everything but the topic is the seed plant's";
  }
  EXPECT_THAT(t.frame_topics, ElementsAre("plant/{asset}/frame"));
  EXPECT_EQ(c.topics.state, "twin/{asset}/state");
  EXPECT_EQ(c.topics.alert, "twin/{asset}/alert");
  EXPECT_EQ(c.topics.command, "twin/{asset}/cmd");
  EXPECT_EQ(c.topics.model, "twin/{asset}/model");
}

TEST(FleetConfig, TemplateWithIdsOnlyTakesTheDefaultLimitAndPerAssetTopics) {
  const LoadResult sut = load(R"(
assets:
  - template: pump
    ids: [p1, p2]
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: "line/{asset}/u"}
      - {name: y, role: output, topic: "line/{asset}/y"}
)");

  ASSERT_TRUE(sut.ok()) << all_of(sut);
  const AssetSpec& t = sut.config->assets.at(0);
  EXPECT_THAT(t.ids, ElementsAre("p1", "p2"));
  EXPECT_FALSE(t.discover);
  EXPECT_EQ(t.max_assets, 1000U);
  // A template stands for several assets: its states need per-asset topics.
  EXPECT_EQ(sut.config->topics.state, "twin/{asset}/state");
  EXPECT_EQ(sut.config->topics.alert, "twin/{asset}/alert");
}

TEST(FleetConfig, SingleAssetTopicsHaveTheirAssetSubstituted) {
  const LoadResult sut = load(R"(
assets:
  - id: pump7
    frames: ["line/{asset}/frame"]
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: "line/{asset}/u"}
      - {name: y, role: output}
)");

  ASSERT_TRUE(sut.ok()) << all_of(sut);
  const AssetSpec& a = sut.config->assets.at(0);
  EXPECT_EQ(a.signals[0].topic, "line/pump7/u");
  EXPECT_THAT(a.frame_topics, ElementsAre("line/pump7/frame"));
}

TEST(FleetConfig, CommandsCanBeTurnedOff) {
  const LoadResult sut = load(R"(
topics: {command: "off"}
assets:
  - id: a
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: a/u}
      - {name: y, role: output, topic: a/y}
)");

  ASSERT_TRUE(sut.ok()) << all_of(sut);
  EXPECT_TRUE(sut.config->topics.command.empty());
}

struct BadFleet {
  const char* name;
  const char* yaml;
  const char* where;
  const char* message;
};

void PrintTo(const BadFleet& c, std::ostream* os) {
  *os << c.name;
}

class BadFleets : public ::testing::TestWithParam<BadFleet> {};

TEST_P(BadFleets, AreRefusedWithOneErrorAtTheOffendingNode) {
  const BadFleet& row = GetParam();

  expect_one_error(load(row.yaml), row.where, row.message);
}

// Column of a signal's topic value in `      - {name: u, role: input, topic: ` is 39.
const BadFleet kBadFleets[] = {
    {"IdAndTemplateTogether", R"(
assets:
  - id: a
    template: t
    ids: [b]
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: "p/{asset}/u"}
      - {name: y, role: output, topic: "p/{asset}/y"}
)",
     "3:5", "assets[0].template: not with id, expected either id (one asset) or template"},
    {"NeitherIdNorTemplate", R"(
assets:
  - model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: p/u}
      - {name: y, role: output, topic: p/y}
)",
     "2:5", "assets[0].id: missing required key (string, or template for a family of assets)"},
    {"TemplateWithoutAssets", R"(
assets:
  - template: t
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: "p/{asset}/u"}
      - {name: y, role: output, topic: "p/{asset}/y"}
)",
     "2:5", "assets[0]: a template without assets, expected ids (a list), discover: true, or both"},
    {"TemplateWithDiscoverFalseAndNoIds", R"(
assets:
  - template: t
    discover: false
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: "p/{asset}/u"}
      - {name: y, role: output, topic: "p/{asset}/y"}
)",
     "2:5", "a template without assets"},
    {"IdsInASingleAsset", R"(
assets:
  - id: a
    ids: [b]
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: a/u}
      - {name: y, role: output, topic: a/y}
)",
     "3:5", "assets[0].ids: not allowed with id, expected it only in a template"},
    {"TemplateTopicWithoutAsset", R"(
assets:
  - template: t
    discover: true
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: p/u}
      - {name: y, role: output, topic: "p/{asset}/y"}
)",
     "6:39", "assets[0].signals[0].topic: got \"p/u\", expected a topic with {asset} once"},
    {"TemplateAssetInsideALevel", R"(
assets:
  - template: t
    discover: true
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: "p/x{asset}/u"}
      - {name: y, role: output, topic: "p/{asset}/y"}
)",
     "6:39", "as a whole level"},
    {"TemplateAssetTwice", R"(
assets:
  - template: t
    discover: true
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: "{asset}/{asset}/u"}
      - {name: y, role: output, topic: "p/{asset}/y"}
)",
     "6:39", "a topic with {asset} once"},
    {"TemplateIdUsedBySingleAsset", R"(
assets:
  - id: p1
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: a/u}
      - {name: y, role: output, topic: a/y}
  - template: t
    ids: [p1]
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: "p/{asset}/u"}
      - {name: y, role: output, topic: "p/{asset}/y"}
)",
     "8:11", "assets[1].ids[0]: got \"p1\", expected an id not already used (by assets[0].id)"},
    {"TemplateNameTwice", R"(
assets:
  - template: t
    ids: [a]
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: "p/{asset}/u"}
      - {name: y, role: output, topic: "p/{asset}/y"}
  - template: t
    ids: [b]
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: "q/{asset}/u"}
      - {name: y, role: output, topic: "q/{asset}/y"}
)",
     "8:15", "assets[1].template: got \"t\", expected a name not already used (by assets[0]"},
    {"SingleAssetTopicMatchedByATemplate", R"(
assets:
  - template: t
    discover: true
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: "p/{asset}/u"}
      - {name: y, role: output, topic: "p/{asset}/y"}
  - id: solo
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: p/solo/u}
      - {name: y, role: output, topic: solo/y}
)",
     "11:39",
     "got \"p/solo/u\", expected a topic not already used (by assets[0].signals[0].topic; "
     "{asset} stands for any id)"},
    {"TwoTemplatesOverlapping", R"(
assets:
  - template: t
    discover: true
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: "p/{asset}/u"}
      - {name: y, role: output, topic: "p/{asset}/y"}
  - template: s
    discover: true
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: "{asset}/x/u"}
      - {name: y, role: output, topic: "s/{asset}/y"}
)",
     "12:39", "got \"{asset}/x/u\", expected a topic not already used (by assets[0].signals[0]"},
    {"TemplateTopicInTwindsStateTopics", R"(
assets:
  - template: t
    discover: true
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: "twin/{asset}/state"}
      - {name: y, role: output, topic: "p/{asset}/y"}
)",
     "6:39", "expected a topic other than twind's own (it is topics.state)"},
    {"SignalOnACommandTopic", R"(
assets:
  - id: a
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: twin/a/cmd}
      - {name: y, role: output, topic: a/y}
)",
     "5:39", "expected a topic other than twind's own (it is topics.command)"},
    {"CommandTopicWithoutAsset", R"(
topics: {command: twin/cmd}
assets:
  - id: a
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: a/u}
      - {name: y, role: output, topic: a/y}
)",
     "1:19", "topics.command: got \"twin/cmd\", expected a topic with {asset} once"},
    {"ModelTopicEqualsStateTopic", R"(
topics: {state: "t/{asset}/s", model: "t/{asset}/s"}
assets:
  - id: a
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: a/u}
      - {name: y, role: output, topic: a/y}
)",
     "1:39", "topics.model: got \"t/{asset}/s\", expected a topic other than topics.state"},
    {"MaxAssetsZero", R"(
assets:
  - template: t
    discover: true
    max_assets: 0
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: "p/{asset}/u"}
      - {name: y, role: output, topic: "p/{asset}/y"}
)",
     "4:17", "assets[0].max_assets: got 0"},
    {"AssetIdLongerThan64", R"(
assets:
  - id: a1234567890123456789012345678901234567890123456789012345678901234
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: a/u}
      - {name: y, role: output, topic: a/y}
)",
     "2:9", "expected an id of 1 to 64 letters"},
};

INSTANTIATE_TEST_SUITE_P(EveryRule, BadFleets, ::testing::ValuesIn(kBadFleets),
                         [](const ::testing::TestParamInfo<BadFleet>& i) {
                           return std::string(i.param.name);
                         });

}  // namespace
}  // namespace twind::config
