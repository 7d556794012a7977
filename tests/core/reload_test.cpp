// Reload plans alone: what a reload would do to each running twin, and the lines it reports,
// computed from a fleet and the next configuration without stepping or changing any twin.
#include "twind/core/reload.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "../support/fixtures.hpp"

namespace twind::core {
namespace {

using ::testing::ElementsAre;
using testing::fleet_config;
using ::testing::IsEmpty;
using testing::seed_config;

// A running engine's fleet and settings, as the configuration `c` makes them, with `discovered`
// twins added to its first entry (a template) as discovery would.
struct Running {
  Fleet fleet;
  EngineSettings settings;
  explicit Running(const config::Config& c, const std::vector<std::string>& discovered = {})
      : fleet(build_entries(c), 0.0), settings(EngineSettings::of(c)) {
    for (const std::string& id : discovered) {
      fleet.add(AssetTwin(id, fleet.entry(0).def, 0.0), 0);
      ++fleet.entry(0).discovered;
    }
  }
  [[nodiscard]] ReloadPlan plan(const config::Config& next) const {
    const std::vector<Entry> entries = build_entries(next);
    return plan_reload(fleet, settings, entries, EngineSettings::of(next));
  }
};

struct CountingAlerts final : AlertSink {
  void on_alert(const AssetTwin& /*twin*/, const AlertEvent& /*event*/) override { ++alerts; }
  std::size_t alerts = 0;
};

// A planned twin as text, for whole-plan comparisons: `id <- from: fate` (from: - when new).
std::vector<std::string> twins_of(const ReloadPlan& plan) {
  std::vector<std::string> out;
  for (const PlannedTwin& p : plan.twins) {
    out.push_back(p.id + " <- " + (p.from ? std::to_string(*p.from) : "-") + ": " +
                  std::string(to_string(p.fate)) + " (entry " + std::to_string(p.entry) + ")");
  }
  return out;
}

TEST(ReloadPlan, UnchangedConfigurationRebindsEveryTwinAndReportsNothing) {
  const Running running(seed_config());

  const ReloadPlan sut = running.plan(seed_config());

  EXPECT_THAT(twins_of(sut), ElementsAre("plant <- 0: rebind (entry 0)"));
  EXPECT_THAT(sut.dropped, IsEmpty());
  EXPECT_THAT(sut.changes, IsEmpty());
}

TEST(ReloadPlan, ChangedSettingsRebindAndAreNamedOneByOne) {
  const Running running(seed_config());
  config::Config next = seed_config();
  next.assets[0].signals[1].threshold = 0.2;
  next.assets[0].signals[1].stale_after.reset();
  next.assets[0].signals[0].max = 500;
  next.assets[0].detector.raise_after = 3;

  const ReloadPlan sut = running.plan(next);

  EXPECT_THAT(twins_of(sut), ElementsAre("plant <- 0: rebind (entry 0)"));
  EXPECT_THAT(sut.changes,
              ElementsAre("plant: u.max 1000 -> 500", "plant: y.threshold 0.15 -> 0.2",
                          "plant: y.stale_after 1.5 -> none", "plant: detector settings changed"));
}

TEST(ReloadPlan, TurningDiagnosisOffRebindsAndIsNamed) {
  const Running running(seed_config());
  config::Config next = seed_config();
  next.assets[0].diagnose.enabled = false;

  const ReloadPlan sut = running.plan(next);

  EXPECT_THAT(twins_of(sut), ElementsAre("plant <- 0: rebind (entry 0)"));
  EXPECT_THAT(sut.changes, ElementsAre("plant: diagnose.enabled true -> false"));
}

TEST(ReloadPlan, ListingTheHypothesesRebindsAndIsNamed) {
  config::Config first = seed_config();
  first.assets[0].diagnose.enabled = true;
  const Running running(first);
  config::Config next = first;
  next.assets[0].diagnose.hypotheses = {"A[0][0]", "output_gain(y)"};

  const ReloadPlan sut = running.plan(next);

  EXPECT_THAT(twins_of(sut), ElementsAre("plant <- 0: rebind (entry 0)"));
  EXPECT_THAT(sut.changes,
              ElementsAre("plant: diagnose.hypotheses default -> [A[0][0], output_gain(y)]"));
}

TEST(ReloadPlan, ChangedModelIsSwappedAndReportedBeforeTheSettings) {
  const Running running(seed_config());
  config::Config next = seed_config();
  next.assets[0].model.id.version = "2";
  next.assets[0].model.a = {1, 1, {-2.0}};
  next.assets[0].signals[1].clear_threshold = 0.05;

  const ReloadPlan sut = running.plan(next);

  EXPECT_THAT(twins_of(sut), ElementsAre("plant <- 0: swap_model (entry 0)"));
  EXPECT_THAT(sut.changes, ElementsAre("plant: model first-order-lag v1 -> first-order-lag v2",
                                       "plant: y.clear_threshold 0.1 -> 0.05"));
}

TEST(ReloadPlan, NewSignalsRestartTheTwin) {
  const Running running(seed_config());
  config::Config next = seed_config();
  next.assets[0].signals[1].name = "flow";

  const ReloadPlan sut = running.plan(next);

  EXPECT_THAT(twins_of(sut), ElementsAre("plant <- 0: restart (entry 0)"));
  EXPECT_THAT(sut.dropped, IsEmpty());
  EXPECT_THAT(sut.changes,
              ElementsAre("plant: new signals; its twins start again from the measurements"));
}

TEST(ReloadPlan, RenamedAssetStartsAndTheOldOneIsDropped) {
  const Running running(seed_config());
  config::Config next = seed_config();
  next.assets[0].id = "pump2";

  const ReloadPlan sut = running.plan(next);

  EXPECT_THAT(twins_of(sut), ElementsAre("pump2 <- -: start (entry 0)"));
  EXPECT_THAT(sut.dropped, ElementsAre(0u));
  EXPECT_THAT(sut.changes, ElementsAre("pump2: added", "plant: removed"));
}

TEST(ReloadPlan, ModelTakenByCommandIsKeptUnlessTheFilesModelChanges) {
  Running running(seed_config());
  const AssetDef& def = *running.fleet.entry(0).def;
  CountingAlerts none;
  running.fleet.twin(0).swap_model(with_model(def, def.model, {"by-command", "9"}), 1.0, none);
  config::Config next = seed_config();
  next.assets[0].signals[1].threshold = 0.3;

  EXPECT_THAT(twins_of(running.plan(next)), ElementsAre("plant <- 0: rebind_own_model (entry 0)"));
  next.assets[0].model.id.version = "2";
  EXPECT_THAT(twins_of(running.plan(next)), ElementsAre("plant <- 0: swap_model (entry 0)"));
  EXPECT_EQ(none.alerts, 0u);
}

TEST(ReloadPlan, DiscoveredTwinsAreKeptWithinTheTemplatesNewLimit) {
  const Running running(fleet_config(), {"p1", "p2", "p3"});
  const config::Config next = fleet_config(2);

  const ReloadPlan sut = running.plan(next);

  EXPECT_THAT(twins_of(sut), ElementsAre("p1 <- 0: rebind (entry 0)", "p2 <- 1: rebind (entry 0)"));
  EXPECT_THAT(sut.discovered, ElementsAre(2u));
  EXPECT_THAT(sut.dropped, ElementsAre(2u));
  EXPECT_THAT(sut.changes, ElementsAre("template plant: max_assets 1000 -> 2",
                                       "template plant: 1 asset(s) removed"));
}

TEST(ReloadPlan, TemplateThatStopsDiscoveringKeepsOnlyItsListedIds) {
  const Running running(fleet_config(), {"p1", "p2", "p3"});
  config::Config next = fleet_config();
  next.assets[0].discover = false;
  next.assets[0].ids = {"p2", "p9"};

  const ReloadPlan sut = running.plan(next);

  EXPECT_THAT(twins_of(sut), ElementsAre("p2 <- 1: rebind (entry 0)", "p9 <- -: start (entry 0)"));
  EXPECT_THAT(sut.discovered, ElementsAre(0u));
  EXPECT_THAT(sut.dropped, ElementsAre(0u, 2u));
  EXPECT_THAT(sut.changes,
              ElementsAre("template plant: ids changed", "template plant: discover true -> false",
                          "template plant: 2 asset(s) removed"));
}

TEST(ReloadPlan, IdThatMovesToAnotherEntryStartsAgainWithoutARemovedLine) {
  const Running running(fleet_config(), {"p1", "p2"});
  config::Config next = fleet_config();
  config::AssetSpec p1 = seed_config().assets[0];
  p1.id = "p1";
  p1.signals[0].topic = "solo/u";
  p1.signals[1].topic = "solo/y";
  p1.frame_topics.clear();
  next.assets.push_back(p1);

  const ReloadPlan sut = running.plan(next);

  EXPECT_THAT(twins_of(sut), ElementsAre("p1 <- -: start (entry 1)", "p2 <- 1: rebind (entry 0)"));
  EXPECT_THAT(sut.dropped, ElementsAre(0u));
  EXPECT_THAT(sut.discovered, ElementsAre(1u, 0u));
  EXPECT_THAT(sut.changes, ElementsAre("p1: added"));
}

TEST(ReloadPlan, EngineWideSettingsAreReportedAfterTheEntries) {
  const Running running(seed_config());
  config::Config next = seed_config();
  next.assets[0].signals[1].threshold = 0.2;
  next.tick = 1.0;
  next.tick_spread = true;
  next.max_payload_bytes = 1024;
  next.topics.state = "twin/{asset}/state";
  next.topics.command.clear();

  const ReloadPlan sut = running.plan(next);

  EXPECT_THAT(sut.changes,
              ElementsAre("plant: y.threshold 0.15 -> 0.2", "max_payload_bytes 65536 -> 1024",
                          "tick 0.5 s -> 1 s", "tick_spread false -> true",
                          "topics.state twin/state -> twin/{asset}/state",
                          "topics.command twin/{asset}/cmd -> none"));
}

}  // namespace
}  // namespace twind::core
