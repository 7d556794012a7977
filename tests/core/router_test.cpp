// Routing alone: which twin and signal each topic feeds, templates' patterns, the command topic
// and the topic filters, on fleets made from configurations (no twin is stepped).
#include "twind/core/router.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "../support/fixtures.hpp"

namespace twind::core {
namespace {

using ::testing::ElementsAre;
using testing::fleet_config;
using testing::seed_config;

constexpr std::uint32_t kU = 0;  // signal indices in the compiled seed asset: inputs first
constexpr std::uint32_t kY = 1;

Fleet fleet_of(const config::Config& c) {
  return Fleet(build_entries(c), 0.0);
}

// A single seed plant `id` on `prefix`/u, `prefix`/y and `prefix`/frame.
config::AssetSpec single(const std::string& id, const std::string& prefix) {
  config::AssetSpec a = seed_config().assets[0];
  a.id = id;
  a.signals[0].topic = prefix + "/u";
  a.signals[1].topic = prefix + "/y";
  a.frame_topics = {prefix + "/frame"};
  return a;
}
config::AssetSpec single(const std::string& id) {
  return single(id, id);
}

std::vector<std::pair<std::uint32_t, std::uint32_t>> routes_of(const Router& sut,
                                                               std::string_view topic) {
  std::vector<std::pair<std::uint32_t, std::uint32_t>> out;
  for (const Route& r : sut.routes(topic)) out.emplace_back(r.asset, r.signal);
  return out;
}

TEST(Router, SingleAssetTopicsReachTheirTwinAndSignalByName) {
  config::Config c = seed_config();
  c.assets = {single("a"), single("b")};
  // Listed output first: the definition still puts inputs first, the topic must follow the name.
  std::swap(c.assets[1].signals[0], c.assets[1].signals[1]);
  const Fleet fleet = fleet_of(c);

  const Router sut(fleet, "");

  EXPECT_THAT(routes_of(sut, "a/u"), ElementsAre(std::pair{0U, kU}));
  const auto y_of_b = static_cast<std::uint32_t>(fleet.twin(1).def().find_signal("y"));
  EXPECT_THAT(routes_of(sut, "b/y"), ElementsAre(std::pair{1U, y_of_b}));
  EXPECT_THAT(routes_of(sut, "b/frame"), ElementsAre(std::pair{1U, Route::kFrame}));
  EXPECT_TRUE(sut.routes("c/u").empty());
  EXPECT_TRUE(sut.routes("a/u/").empty());
  EXPECT_EQ(sut.match("c/u").kind, TopicMatch::Kind::unknown);
}

TEST(Router, TemplateTopicGivesTheEntrySignalAndId) {
  const Router sut(fleet_of(fleet_config()), "twin/{asset}/cmd");

  const TopicMatch y = sut.match("plant/p7/y");
  const TopicMatch frame = sut.match("plant/p7/frame");

  ASSERT_EQ(y.kind, TopicMatch::Kind::pattern);
  EXPECT_EQ(y.id, "p7");
  EXPECT_EQ(y.pattern->entry, 0u);
  EXPECT_EQ(y.pattern->signal, kY);
  ASSERT_EQ(frame.kind, TopicMatch::Kind::pattern);
  EXPECT_EQ(frame.pattern->signal, Route::kFrame);
}

TEST(Router, TemplateIdIsExactlyOneNonEmptyLevel) {
  const Router sut(fleet_of(fleet_config()), "");

  for (const char* topic : {"plant//y", "plant/a/b/y", "plant/y", "plant/p1/y/extra", "x/p1/y"}) {
    const TopicMatch m = sut.match(topic);
    EXPECT_EQ(m.kind, TopicMatch::Kind::unknown) << topic;
    EXPECT_TRUE(m.id.empty()) << topic;
  }
}

TEST(Router, CommandTopicGivesTheAssetItIsSentTo) {
  const Router sut(fleet_of(seed_config()), "twin/{asset}/cmd");

  const TopicMatch m = sut.match("twin/ghost/cmd");

  EXPECT_EQ(m.kind, TopicMatch::Kind::command);
  EXPECT_EQ(m.id, "ghost");
  EXPECT_EQ(sut.match("twin/ghost/cmd/reply").kind, TopicMatch::Kind::unknown);
}

TEST(Router, WithoutACommandTopicNoCommandIsTakenOrSubscribed) {
  const Router sut(fleet_of(seed_config()), "");

  EXPECT_EQ(sut.match("twin/plant/cmd").kind, TopicMatch::Kind::unknown);
  EXPECT_THAT(sut.topics(), ElementsAre("plant/u", "plant/y", "plant/frame"));
}

TEST(Router, ASingleAssetsTopicIsFoundBeforeATemplatesPatternIsTried) {
  config::Config c = fleet_config();
  // The validator refuses such overlaps in a file; the order still decides where a message goes.
  c.assets.push_back(single("p1", "plant/p1"));
  const Router sut(fleet_of(c), "");

  EXPECT_THAT(routes_of(sut, "plant/p1/y"), ElementsAre(std::pair{0U, kY}));
  EXPECT_TRUE(sut.routes("plant/p2/y").empty());
  EXPECT_EQ(sut.match("plant/p2/y").kind, TopicMatch::Kind::pattern);
}

TEST(Router, TopicFiltersListSingleAssetsThenTemplatesThenTheCommandTopic) {
  config::Config c = fleet_config();
  c.assets.push_back(single("solo"));
  config::AssetSpec listed = fleet_config().assets[0];
  listed.template_name = "listed";
  listed.discover = false;
  listed.ids = {"a", "b"};
  listed.signals[0].topic = "other/{asset}/u";
  listed.signals[1].topic = "other/{asset}/y";
  listed.frame_topics.clear();
  c.assets.push_back(listed);

  const Router sut(fleet_of(c), "twin/{asset}/cmd");

  EXPECT_THAT(sut.topics(), ElementsAre("solo/u", "solo/y", "solo/frame", "plant/+/u", "plant/+/y",
                                        "plant/+/frame", "other/a/u", "other/b/u", "other/a/y",
                                        "other/b/y", "twin/+/cmd"));
  const TopicMatch m = sut.match("other/b/y");
  ASSERT_EQ(m.kind, TopicMatch::Kind::pattern);
  EXPECT_EQ(m.pattern->entry, 2u);
}

TEST(Pattern, SplitsAroundTheAssetLevelAndPutsAnyLevelBack) {
  const Pattern sut = Pattern::of("site/{asset}/telemetry", 3, kY);

  EXPECT_EQ(sut.prefix, "site/");
  EXPECT_EQ(sut.suffix, "/telemetry");
  EXPECT_EQ(sut.with("+"), "site/+/telemetry");
  std::string_view id;
  std::uint32_t partition = 0;
  EXPECT_TRUE(sut.match("site/m-1/telemetry", id, partition));
  EXPECT_EQ(id, "m-1");
  EXPECT_EQ(partition, Pattern::kNoPartition);
}

// A cluster's inbound topic, as the broker's mapping delivers it: the partition level is a
// number, and the subscription names one partition.
TEST(Pattern, APartitionedTopicTakesTheNumberBeforeTheAsset) {
  const Pattern sut = Pattern::of("twin_in/{partition}/plant/{asset}/frame", 0, Route::kFrame);
  EXPECT_TRUE(sut.partitioned);
  EXPECT_EQ(sut.with("+", "7"), "twin_in/7/plant/+/frame");
  std::string_view id;
  std::uint32_t partition = 0;
  ASSERT_TRUE(sut.match("twin_in/12/plant/a1/frame", id, partition));
  EXPECT_EQ(id, "a1");
  EXPECT_EQ(partition, 12u);
  for (const char* other :
       {"twin_in/x/plant/a1/frame", "twin_in//plant/a1/frame", "twin_in/1/plant//frame",
        "twin_in/1/plant/a/b/frame", "twin_in/1/other/a1/frame", "twin_in/plant/a1/frame"}) {
    EXPECT_FALSE(sut.match(other, id, partition)) << other;
  }
}

// ---- discovery: whether a first message is worth a twin -----------------------------------

struct FirstMessage {
  const char* name;
  std::uint32_t signal;
  const char* payload;
  bool worth;
};

void PrintTo(const FirstMessage& m, std::ostream* os) {
  *os << m.name;
}

class WorthATwin : public ::testing::TestWithParam<FirstMessage> {};

TEST_P(WorthATwin, OnlyWhenTheTwinWouldTakeAValue) {
  const std::shared_ptr<const AssetDef> def = build_entries(fleet_config())[0].def;
  codec::PayloadDecoder decoder;
  codec::Payload payload;
  ASSERT_TRUE(decoder.decode(GetParam().payload, payload).ok);

  EXPECT_EQ(worth_a_twin(*def, GetParam().signal, payload), GetParam().worth);
}

const FirstMessage kFirstMessages[] = {
    {"ValueWithinBounds", kY, "1", true},
    {"ValueObjectWithinBounds", kU, R"({"value": -1000})", true},
    {"ValueAboveMax", kY, "1000.5", false},
    {"BareValueOnAFrameTopic", Route::kFrame, "1", false},
    {"FrameWithOneKnownSignal", Route::kFrame, R"({"ts": 1, "z": 3, "y": 2})", true},
    {"FrameWithOnlyUnknownSignals", Route::kFrame, R"({"ts": 1, "z": 3})", false},
    {"FrameWithItsKnownSignalOutOfBounds", Route::kFrame, R"({"z": 3, "u": -5000})", false},
};

INSTANTIATE_TEST_SUITE_P(Discovery, WorthATwin, ::testing::ValuesIn(kFirstMessages),
                         [](const ::testing::TestParamInfo<FirstMessage>& i) {
                           return std::string(i.param.name);
                         });

}  // namespace
}  // namespace twind::core
