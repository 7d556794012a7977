// Fleets: twins made by discovery on a template's topics (with its limit), kept apart from one
// another, and commands on twin/{asset}/cmd that swap models and rebaseline them.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "../support/fixtures.hpp"
#include "../support/recording_sink.hpp"
#include "twind/core/engine.hpp"

namespace twind::core {
namespace {

using testing::CollectingSink;
using ::testing::ElementsAre;
using testing::fleet_config;
using ::testing::HasSubstr;

using testing::frame_payload;

std::size_t count(const Engine& e, Reject r) {
  return e.counters().rejected[static_cast<std::size_t>(r)];
}

// The seed plant held at u = 1 from its steady state y = 1; after `wear_at` its pole moves from
// -1 to -2 (dx/dt = -2x + u), so y falls towards 0.5: y = 0.5 + 0.5 exp(-2 (t - wear_at)).
double plant_y(double t, double wear_at) {
  return t <= wear_at ? 1.0 : 0.5 + 0.5 * std::exp(-2.0 * (t - wear_at));
}

// A single seed plant `id` on solo/u and solo/y, outside the fleet's topics.
config::AssetSpec solo_asset(const std::string& id) {
  config::AssetSpec solo = testing::seed_config().assets[0];
  solo.id = id;
  solo.signals[0].topic = "solo/u";
  solo.signals[1].topic = "solo/y";
  solo.frame_topics.clear();
  return solo;
}

TEST(Discovery, FirstValidMessageOnATemplateTopicMakesTheTwin) {
  Engine sut(fleet_config(), 0.0);
  CollectingSink sink;
  ASSERT_EQ(sut.size(), 0u);

  sut.on_message("plant/p1/frame", frame_payload(1.0, 1.0, 1.0), 1.0, sink);

  ASSERT_EQ(sut.size(), 1u);
  EXPECT_EQ(sut.twin(0).id(), "p1");
  EXPECT_TRUE(sut.twin(0).initialised());
  EXPECT_THAT(sink.discovered, ElementsAre("p1"));
  EXPECT_EQ(sut.counters().discovered, 1u);
  EXPECT_EQ(sut.twin(0).topic(sut.twin(0).def().state_topic), "twin/p1/state");
  ASSERT_NE(sut.find("p1"), nullptr);
  EXPECT_EQ(sut.find("p2"), nullptr);
}

TEST(Discovery, SubscribesToTheTemplateTopicsWithAWildcard) {
  const Engine sut(fleet_config(), 0.0);

  EXPECT_THAT(sut.topics(), ElementsAre("plant/+/u", "plant/+/y", "plant/+/frame", "twin/+/cmd"));
}

TEST(Discovery, TemplateWithIdsOnlySubscribesToThemAndIgnoresOthers) {
  config::Config c = fleet_config();
  c.assets[0].discover = false;
  c.assets[0].ids = {"a", "b"};
  Engine sut(c, 0.0);
  CollectingSink sink;

  EXPECT_THAT(sut.topics(), ElementsAre("plant/a/u", "plant/b/u", "plant/a/y", "plant/b/y",
                                        "plant/a/frame", "plant/b/frame", "twin/+/cmd"));
  ASSERT_EQ(sut.size(), 2u);
  sut.on_message("plant/b/y", "1", 1.0, sink);
  sut.on_message("plant/c/y", "1", 1.0, sink);

  EXPECT_EQ(sut.size(), 2u);
  EXPECT_TRUE(sut.twin(1).signal(1).has_value);
  EXPECT_EQ(count(sut, Reject::unknown_topic), 1u);
}

struct BadFirst {
  const char* name;
  const char* topic;
  const char* payload;
  Reject reason;
};

void PrintTo(const BadFirst& b, std::ostream* os) {
  *os << b.name;
}

class BadFirstMessages : public ::testing::TestWithParam<BadFirst> {};

TEST_P(BadFirstMessages, MakeNoTwinAndAreCounted) {
  Engine sut(fleet_config(), 0.0);
  CollectingSink sink;

  sut.on_message(GetParam().topic, GetParam().payload, 1.0, sink);

  EXPECT_EQ(sut.size(), 0u);
  EXPECT_TRUE(sink.discovered.empty());
  EXPECT_EQ(count(sut, GetParam().reason), 1u);
}

const BadFirst kBadFirst[] = {
    {"Malformed", "plant/p1/y", "{oops", Reject::malformed},
    {"NotFinite", "plant/p1/y", "NaN", Reject::malformed},
    {"OutOfBounds", "plant/p1/y", "5000", Reject::out_of_bounds},
    {"FrameWithoutKnownSignals", "plant/p1/frame", R"({"ts": 1, "z": 3})", Reject::unknown_signal},
    {"IdWithASpace", "plant/p 1/y", "1", Reject::bad_asset},
    {"IdOfSixtyFiveCharacters",
     "plant/a1234567890123456789012345678901234567890123456789012345678901234/y", "1",
     Reject::bad_asset},
    {"EmptyId", "plant//y", "1", Reject::unknown_topic},
    {"TwoLevelsForTheId", "plant/a/b/y", "1", Reject::unknown_topic},
};

INSTANTIATE_TEST_SUITE_P(Discovery, BadFirstMessages, ::testing::ValuesIn(kBadFirst),
                         [](const ::testing::TestParamInfo<BadFirst>& i) {
                           return std::string(i.param.name);
                         });

TEST(Discovery, StopsAtTheTemplatesLimitAndKeepsServingTheAssetsItHas) {
  Engine sut(fleet_config(2), 0.0);
  CollectingSink sink;

  sut.on_message("plant/p1/y", "1", 1.0, sink);
  sut.on_message("plant/p2/y", "1", 1.0, sink);
  sut.on_message("plant/p3/y", "1", 1.0, sink);
  sut.on_message("plant/p3/u", "1", 1.1, sink);
  sut.on_message("plant/p1/u", "1", 1.2, sink);

  EXPECT_EQ(sut.size(), 2u);
  EXPECT_EQ(sut.find("p3"), nullptr);
  EXPECT_EQ(count(sut, Reject::asset_limit), 2u);
  EXPECT_TRUE(sut.find("p1")->initialised());
}

TEST(Discovery, IdOfASingleAssetIsNotTakenByATemplate) {
  config::Config c = fleet_config();
  c.assets.push_back(solo_asset("p1"));
  Engine sut(c, 0.0);
  CollectingSink sink;

  sut.on_message("plant/p1/y", "1", 1.0, sink);

  EXPECT_EQ(sut.size(), 1u);
  EXPECT_FALSE(sut.find("p1")->signal(1).has_value);
  EXPECT_EQ(count(sut, Reject::bad_asset), 1u);
}

// One asset's garbage and its diverging plant must not change a byte of another's states.
TEST(Isolation, OneAssetsBadDataAndWearLeaveAnotherAssetsStatesUnchanged) {
  const auto run = [](bool with_trouble) {
    Engine sut(fleet_config(), 0.0);
    CollectingSink sink;
    for (int k = 1; k <= 200; ++k) {
      const double t = 0.02 * k;
      sut.on_message("plant/good/frame", frame_payload(t, 1.0, 1.0), t, sink);
      if (with_trouble) {
        sut.on_message("plant/bad/frame", frame_payload(t, 1.0, plant_y(t, 1.0)), t, sink);
        sut.on_message("plant/bad/y", "{\"value\": 1e999}", t, sink);
        sut.on_message("plant/bad/u", "not a number", t, sink);
        sut.on_message("plant/bad/frame", frame_payload(t - 1.0, 1.0, 1.0), t, sink);  // backwards
        sut.on_message("plant/bad/frame", std::string(70000, '['), t, sink);
      }
      if (k % 25 == 0) sut.tick(t, sink);
    }
    std::vector<std::string> good;
    for (const auto& s : sink.states) {
      if (s.asset == "good") good.push_back(s.json);
    }
    return std::make_pair(good, sink.alerts);
  };

  const auto [calm, calm_alerts] = run(false);
  const auto [troubled, troubled_alerts] = run(true);

  ASSERT_EQ(calm.size(), 8u);
  EXPECT_EQ(troubled, calm);
  EXPECT_TRUE(calm_alerts.empty());
  ASSERT_FALSE(troubled_alerts.empty());
  for (const auto& a : troubled_alerts) EXPECT_EQ(a.asset, "bad");
}

TEST(TickSpread, EachAssetGetsOneStatePerPeriodAtItsOwnStableOffset) {
  config::Config c = fleet_config();
  c.tick_spread = true;
  Engine sut(c, 0.0);
  CollectingSink sink;
  const std::vector<std::string> ids{"p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8"};
  for (const std::string& id : ids) sut.on_message("plant/" + id + "/y", "1", 0.001, sink);
  ASSERT_EQ(sut.slots(), 100u);
  ASSERT_DOUBLE_EQ(sut.tick_interval(), 0.005);

  for (long long k = 1; k <= 300; ++k) sut.tick(static_cast<double>(k) * 0.005, sink);

  std::map<std::string, std::vector<double>> times;
  for (const auto& s : sink.states) times[s.asset].push_back(s.ts);
  std::set<double> offsets;
  for (const std::string& id : ids) {
    ASSERT_EQ(times[id].size(), 3u) << id;  // three periods, one state each
    EXPECT_NEAR(times[id][1] - times[id][0], 0.5, 1e-9) << id;
    EXPECT_NEAR(times[id][2] - times[id][1], 0.5, 1e-9) << id;
    offsets.insert(std::round(std::fmod(times[id][0], 0.5) / 0.005));
  }
  // Spread: eight ids do not all land on one sub-tick (FNV-1a of p1..p8 gives 8 slots of 100).
  EXPECT_GT(offsets.size(), 4u);
}

TEST(TickSpread, WithoutItEveryAssetIsDueOnEveryTick) {
  Engine sut(fleet_config(), 0.0);
  CollectingSink sink;
  for (const char* id : {"a", "b", "c"})
    sut.on_message(std::string("plant/") + id + "/y", "1", 0.1, sink);

  sut.tick(0.5, sink);

  EXPECT_EQ(sut.slots(), 1u);
  EXPECT_EQ(sink.states.size(), 3u);
}

// ---- commands ----------------------------------------------------------------------------

// The fleet template and one single asset beside it.
config::Config fleet_with_solo() {
  config::Config c = fleet_config();
  c.assets.push_back(solo_asset("solo"));
  return c;
}

struct Fleet {
  Engine sut{fleet_with_solo(), 0.0};
  CollectingSink sink;
  // Two plants at their steady state y = u = 1.
  Fleet() {
    for (const char* id : {"p1", "p2"}) {
      sut.on_message(std::string("plant/") + id + "/frame", frame_payload(1.0, 1.0, 1.0), 1.0,
                     sink);
    }
  }
  const CommandReply& command(const std::string& asset, const std::string& payload,
                              double t = 1.5) {
    sut.on_message("twin/" + asset + "/cmd", payload, t, sink);
    return sink.replies.back();
  }
};

TEST(Commands, GetModelRepliesOnTheAssetsReplyTopic) {
  Fleet f;

  const CommandReply& r = f.command("p1", R"({"id": "q1", "command": "get_model"})");

  EXPECT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.topic, "twin/p1/cmd/reply");
  EXPECT_EQ(r.request_id, "q1");
  EXPECT_EQ(r.command, "get_model");
  EXPECT_EQ(r.model, (model::ModelId{"first-order-lag", "1"}));
  EXPECT_EQ(r.status, Status::ok);
  EXPECT_TRUE(f.sink.model_changes.empty());
}

TEST(Commands, SetModelSwapsOneAssetKeepingItsStateAndLeavesTheOthersAlone) {
  Fleet f;
  const std::vector<double> before(f.sut.find("p1")->state().begin(),
                                   f.sut.find("p1")->state().end());

  const CommandReply& r = f.command("p1", R"({"id": "s1", "command": "set_model", "model":
      {"name": "worn-pump", "version": "2", "A": [[-2]], "B": [[1]], "C": [[1]]}})");

  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.model, (model::ModelId{"worn-pump", "2"}));
  ASSERT_TRUE(r.previous);
  EXPECT_EQ(r.previous->name, "first-order-lag");
  EXPECT_EQ(r.state_kept, true);
  EXPECT_EQ(r.assets, 1u);
  const AssetTwin& p1 = *f.sut.find("p1");
  EXPECT_EQ(p1.def().model_id.name, "worn-pump");
  EXPECT_EQ(std::vector<double>(p1.state().begin(), p1.state().end()), before);
  EXPECT_EQ(f.sut.find("p2")->def().model_id.name, "first-order-lag");
  ASSERT_EQ(f.sink.model_changes.size(), 1u);
  EXPECT_EQ(f.sink.model_changes[0].asset, "p1");
  EXPECT_EQ(f.sink.model_changes[0].change.cause, ModelCause::command);
  EXPECT_THAT(f.sink.model_changes[0].json,
              HasSubstr(R"("cause":"command","model":{"name":"worn-pump","version":"2"})"));
  // The worn model now predicts what a worn plant does: y -> 0.5 with time constant 0.5 s.
  f.sut.on_message("plant/p1/frame", frame_payload(1.5, 1.0, 0.5 + 0.5 * std::exp(-1.0)), 1.5,
                   f.sink);
  EXPECT_NEAR(p1.signal(1).residual, 0.0, 1e-9);
}

TEST(Commands, TemplateScopeSwapsEveryAssetAndTheOnesDiscoveredLater) {
  Fleet f;

  const CommandReply& r = f.command("p2", R"({"command": "set_model", "scope": "template",
      "model": {"name": "m", "version": "7", "A": [[-2]], "B": [[1]], "C": [[1]]}})");

  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.assets, 2u);
  EXPECT_EQ(f.sink.model_changes.size(), 2u);
  f.sut.on_message("plant/p3/y", "1", 2.0, f.sink);
  EXPECT_EQ(f.sut.find("p1")->def().model_id.version, "7");
  EXPECT_EQ(f.sut.find("p3")->def().model_id.version, "7");
}

TEST(Commands, ModelWithOtherStatesReinitialisesFromTheMeasurements) {
  Fleet f;

  const CommandReply& r = f.command("p1", R"({"command": "set_model", "model": {"name": "m2",
      "version": 1, "A": [[-1, 0], [0, -3]], "B": [[1], [0]], "C": [[1, 1]]}})");

  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.state_kept, false);
  EXPECT_EQ(f.sut.find("p1")->state().size(), 2u);
  EXPECT_EQ(f.sut.find("p1")->status(), Status::ok);
}

TEST(Commands, RebaselineClearsTheAlertBumpsTheVersionAndAcceptsThePresentState) {
  Fleet f;
  for (int k = 1; k <= 20; ++k) {
    const double t = 1.0 + 0.02 * k;
    f.sut.on_message("plant/p1/frame", frame_payload(t, 1.0, plant_y(t, 1.0)), t, f.sink);
  }
  ASSERT_EQ(f.sink.alerts.size(), 1u);
  ASSERT_EQ(f.sut.find("p1")->status(), Status::alert);

  const CommandReply& r =
      f.command("p1", R"({"id": "after-maintenance", "command": "rebaseline"})", 1.45);

  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.model, (model::ModelId{"first-order-lag", "2"}));
  EXPECT_EQ(r.state_kept, false);
  ASSERT_EQ(f.sink.alerts.size(), 2u);
  EXPECT_FALSE(f.sink.alerts[1].event.raised);
  EXPECT_EQ(f.sink.alerts[1].event.ts, 1.45);
  EXPECT_EQ(f.sut.find("p1")->status(), Status::ok);
  EXPECT_NEAR(f.sut.find("p1")->signal(1).residual, 0.0, 1e-12);
  EXPECT_EQ(f.sink.model_changes.back().change.cause, ModelCause::rebaseline);
  EXPECT_EQ(f.sut.find("p2")->def().model_id.version, "1");
}

TEST(Commands, RebaselineWithAModelTakesIt) {
  Fleet f;

  const CommandReply& r = f.command("p1", R"({"command": "rebaseline", "model": {"name": "new",
      "version": "5", "A": [[-2]], "B": [[2]], "C": [[1]]}})");

  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.model, (model::ModelId{"new", "5"}));
}

struct BadCmd {
  const char* name;
  const char* asset;
  const char* payload;
  const char* error;
};

void PrintTo(const BadCmd& b, std::ostream* os) {
  *os << b.name;
}

class RefusedCommands : public ::testing::TestWithParam<BadCmd> {};

TEST_P(RefusedCommands, AreAnsweredWithTheReasonAndChangeNothing) {
  Fleet f;

  const CommandReply& r = f.command(GetParam().asset, GetParam().payload);

  EXPECT_FALSE(r.ok);
  EXPECT_THAT(r.error, HasSubstr(GetParam().error));
  EXPECT_EQ(r.topic, "twin/" + std::string(GetParam().asset) + "/cmd/reply");
  EXPECT_TRUE(f.sink.model_changes.empty());
  EXPECT_EQ(f.sut.find("p1")->def().model_id.version, "1");
  EXPECT_EQ(f.sut.counters().commands_refused, 1u);
}

const BadCmd kBadCmds[] = {
    {"UnknownAsset", "ghost", R"({"id": "g", "command": "get_model"})", "unknown asset ghost"},
    {"NotJson", "p1", "rebaseline please", "got no JSON object"},
    {"UnknownCommand", "p1", R"({"command": "explode"})", "expected set_model, rebaseline"},
    {"ModelOfTheWrongShape", "p1",
     R"({"command": "set_model", "model": {"name": "m", "version": 1, "A": [[-1]],
        "B": [[1], [1]], "C": [[1]]}})",
     "model.B"},
    {"TemplateScopeOnASingleAsset", "solo", R"({"command": "rebaseline", "scope": "template"})",
     "is a single asset"},
};

INSTANTIATE_TEST_SUITE_P(Commands, RefusedCommands, ::testing::ValuesIn(kBadCmds),
                         [](const ::testing::TestParamInfo<BadCmd>& i) {
                           return std::string(i.param.name);
                         });

TEST(Commands, OversizedCommandIsRefusedUnread) {
  Fleet f;

  const CommandReply& r =
      f.command("p1", R"({"command": "get_model", "id": ")" + std::string(70000, 'x') + "\"}");

  EXPECT_FALSE(r.ok);
  EXPECT_THAT(r.error, HasSubstr("expected at most 65536"));
  EXPECT_TRUE(r.request_id.empty());
}

TEST(Commands, ModelTakenByCommandOutlivesAReloadThatLeavesTheFilesModelAlone) {
  Fleet f;
  f.command("p1", R"({"command": "set_model", "model": {"name": "m", "version": "9",
      "A": [[-2]], "B": [[1]], "C": [[1]]}})");
  config::Config next = fleet_with_solo();
  next.assets[0].signals[1].threshold = 0.3;

  f.sut.reconfigure(next, 2.0, f.sink);

  EXPECT_EQ(f.sut.find("p1")->def().model_id.version, "9");
  EXPECT_EQ(f.sut.find("p1")->def().signals[1].threshold, 0.3);
  EXPECT_EQ(f.sut.find("p2")->def().model_id.version, "1");

  next.assets[0].model.id.version = "10";
  f.sut.reconfigure(next, 2.5, f.sink);

  EXPECT_EQ(f.sut.find("p1")->def().model_id.version, "10");
  EXPECT_EQ(f.sut.find("p2")->def().model_id.version, "10");
  EXPECT_EQ(f.sink.model_changes.back().change.cause, ModelCause::reload);
}

TEST(Commands, DiscoveredAssetsSurviveAReloadOfTheirTemplate) {
  Fleet f;
  config::Config next = fleet_with_solo();
  next.assets[0].signals[1].threshold = 0.3;

  const auto changes = f.sut.reconfigure(next, 2.0, f.sink);

  EXPECT_THAT(changes, ElementsAre("template plant: y.threshold 0.15 -> 0.3"));
  ASSERT_NE(f.sut.find("p1"), nullptr);
  EXPECT_TRUE(f.sut.find("p1")->initialised());
  EXPECT_EQ(f.sut.find("p2")->seq(), 0u);
  EXPECT_EQ(f.sut.size(), 3u);
}

}  // namespace
}  // namespace twind::core
