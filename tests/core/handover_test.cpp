// Alerts across a hand-over: a twin settles the alerts another replica raised on its asset
// (AssetTwin::take_over), under their ids. The engine's part, keeping other replicas' records
// until it holds the asset (Engine::take_over), is tested with the replica's engine in
// cluster_test.cpp.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "../support/fixtures.hpp"
#include "../support/recording_sink.hpp"
#include "twind/core/cluster.hpp"
#include "twind/core/encode.hpp"
#include "twind/core/engine.hpp"
#include "twind/core/twin.hpp"

namespace twind::core {
namespace {

using testing::CollectingSink;

constexpr std::size_t kU = 0;  // signal indices in the compiled seed asset: inputs first
constexpr std::size_t kY = 1;
constexpr double kRaisedBefore = 100.25;  // the other replica's raise

// The seed asset (y threshold 0.15, clear 0.1, stale after 1.5 s), clearing after 3 samples.
AssetTwin make_twin(double start = 0.0) {
  config::Config c = testing::seed_config();
  c.assets[0].detector.clear_after = 3;
  return AssetTwin(c.assets[0].id, compile_asset(c.assets[0], c.topics), start);
}

// One frame of the seed plant at rest under u = 1 (y = 1 at rest), y given.
void frame(AssetTwin& twin, double t, double y, CollectingSink& sink) {
  ASSERT_FALSE(twin.on_sample(kU, 1.0, t, t, sink).has_value());
  ASSERT_FALSE(twin.on_sample(kY, y, t, t, sink).has_value());
}

// A twin at rest, compared once: from here every frame's y is judged against 1.
AssetTwin started_twin(CollectingSink& sink) {
  AssetTwin twin = make_twin();
  frame(twin, 1.0, 1.0, sink);
  frame(twin, 1.1, 1.0, sink);
  EXPECT_EQ(twin.status(), Status::ok);
  EXPECT_TRUE(sink.alerts.empty());
  return twin;
}

const std::vector<HandedAlert> kHandedDivergence{
    {AlertId::divergence, kY, kRaisedBefore, Detector::threshold}};

TEST(HandOver, AHandedDivergenceIsClearedAfterClearAfterCalmComparisonsUnderItsId) {
  CollectingSink sink;
  AssetTwin twin = started_twin(sink);
  EXPECT_TRUE(twin.take_over(kHandedDivergence, 1.15, sink));
  EXPECT_EQ(twin.status(), Status::alert);  // raised, and not judged here yet

  frame(twin, 1.2, 1.01, sink);
  frame(twin, 1.3, 1.0, sink);
  EXPECT_TRUE(sink.alerts.empty());  // two calm comparisons of the three it takes
  frame(twin, 1.4, 1.02, sink);

  ASSERT_EQ(sink.alerts.size(), 1u);
  const AlertEvent e = sink.alerts[0].event;
  EXPECT_EQ(e.id, AlertId::divergence);
  EXPECT_EQ(e.signal, kY);
  EXPECT_FALSE(e.raised);
  EXPECT_TRUE(e.handed_over);
  EXPECT_EQ(e.since, kRaisedBefore);
  EXPECT_EQ(e.ts, 1.4);
  EXPECT_NEAR(e.value, 0.02, 1e-12);
  EXPECT_EQ(e.threshold, 0.1);
  EXPECT_TRUE(twin.handed_over().empty());
  EXPECT_EQ(twin.status(), Status::ok);
  EXPECT_EQ(twin.active_alerts(), 0u);
}

TEST(HandOver, AComparisonOutsideTheClearThresholdStartsTheCountAgain) {
  CollectingSink sink;
  AssetTwin twin = started_twin(sink);
  twin.take_over(kHandedDivergence, 1.15, sink);
  frame(twin, 1.2, 1.0, sink);
  frame(twin, 1.3, 1.0, sink);
  frame(twin, 1.4, 1.12, sink);  // above clear (0.1), below the threshold (0.15): no raise
  frame(twin, 1.5, 1.0, sink);
  frame(twin, 1.6, 1.0, sink);
  EXPECT_TRUE(sink.alerts.empty());
  frame(twin, 1.7, 1.0, sink);
  ASSERT_EQ(sink.alerts.size(), 1u);
  EXPECT_EQ(sink.alerts[0].event.ts, 1.7);
}

// A twin started from the measurements agrees with them at first, worn machine or not: calm
// comparisons clear a handed alert only once they span the settle time.
TEST(HandOver, AHandedDivergenceIsClearedOnlyOnceTheCalmSpansTheSettleTime) {
  // Frames every 0.25 s (exact in binary): the spans below are exact.
  CollectingSink sink;
  AssetTwin twin = started_twin(sink);
  twin.take_over(kHandedDivergence, 1.15, sink, 2.0);
  for (int k = 0; k < 8; ++k) frame(twin, 1.25 + 0.25 * k, 1.0, sink);  // 1.25 to 3 s
  EXPECT_TRUE(sink.alerts.empty());  // 8 calm comparisons over 1.75 s
  frame(twin, 3.25, 1.05, sink);     // 2 s
  ASSERT_EQ(sink.alerts.size(), 1u);
  EXPECT_EQ(sink.alerts[0].event.ts, 3.25);
  EXPECT_TRUE(sink.alerts[0].event.handed_over);

  // A comparison outside the clear threshold starts the span again.
  CollectingSink again;
  AssetTwin other = started_twin(again);
  other.take_over(kHandedDivergence, 1.15, again, 2.0);
  for (int k = 0; k < 6; ++k) frame(other, 1.25 + 0.25 * k, 1.0, again);  // 1.25 to 2.5 s
  frame(other, 2.75, 1.12, again);  // not calm: the span starts again at 3 s
  for (int k = 0; k < 8; ++k) frame(other, 3.0 + 0.25 * k, 1.0, again);  // 3 to 4.75 s
  EXPECT_TRUE(again.alerts.empty());
  frame(other, 5.0, 1.0, again);
  ASSERT_EQ(again.alerts.size(), 1u);
  EXPECT_EQ(again.alerts[0].event.ts, 5.0);
}

TEST(HandOver, AHandedDivergenceIsConfirmedByTheTwinsOwnRaiseUnderItsId) {
  CollectingSink sink;
  AssetTwin twin = started_twin(sink);
  twin.take_over(kHandedDivergence, 1.15, sink);
  frame(twin, 1.2, 1.3, sink);  // |residual| 0.3 > 0.15

  ASSERT_EQ(sink.alerts.size(), 1u);
  const AlertEvent raised = sink.alerts[0].event;
  EXPECT_TRUE(raised.raised);
  EXPECT_TRUE(raised.handed_over);
  EXPECT_EQ(raised.since, kRaisedBefore);
  EXPECT_EQ(raised.ts, 1.2);
  EXPECT_TRUE(twin.handed_over().empty());
  EXPECT_EQ(twin.active_alerts(), 1u);
  EXPECT_EQ(twin.signal(kY).divergence_since, kRaisedBefore);

  // Its clearing, later, is this twin's own, under the same id.
  for (int k = 0; k < 3; ++k) frame(twin, 1.3 + 0.1 * k, 1.0, sink);
  ASSERT_EQ(sink.alerts.size(), 2u);
  const AlertEvent cleared = sink.alerts[1].event;
  EXPECT_FALSE(cleared.raised);
  EXPECT_FALSE(cleared.handed_over);
  EXPECT_EQ(cleared.since, kRaisedBefore);
  EXPECT_EQ(alert_id("plant", "y", cleared.id, cleared.since),
            alert_id("plant", "y", raised.id, raised.since));
  EXPECT_EQ(twin.active_alerts(), 0u);
}

TEST(HandOver, AHandedStaleIsClearedByASampleOfItsSignal) {
  CollectingSink sink;
  AssetTwin twin = started_twin(sink);
  twin.take_over(std::vector<HandedAlert>{{AlertId::stale, kY, kRaisedBefore}}, 1.15, sink);
  ASSERT_FALSE(twin.on_sample(kU, 1.0, 1.2, 1.2, sink).has_value());
  EXPECT_TRUE(sink.alerts.empty());  // an input is not the signal
  ASSERT_FALSE(twin.on_sample(kY, 1.0, 1.2, 1.2, sink).has_value());

  ASSERT_EQ(sink.alerts.size(), 1u);
  const AlertEvent e = sink.alerts[0].event;
  EXPECT_EQ(e.id, AlertId::stale);
  EXPECT_FALSE(e.raised);
  EXPECT_TRUE(e.handed_over);
  EXPECT_EQ(e.since, kRaisedBefore);
  EXPECT_EQ(e.threshold, 1.5);
}

TEST(HandOver, AHandedStaleIsConfirmedWhenTheSignalIsSilentHereToo) {
  CollectingSink sink;
  AssetTwin twin = started_twin(sink);
  twin.take_over(std::vector<HandedAlert>{{AlertId::stale, kY, kRaisedBefore}}, 1.15, sink);
  twin.check_stale(2.5, sink);
  EXPECT_TRUE(sink.alerts.empty());  // 1.4 s of silence: not stale yet
  twin.check_stale(2.7, sink);

  ASSERT_EQ(sink.alerts.size(), 1u);
  const AlertEvent e = sink.alerts[0].event;
  EXPECT_EQ(e.id, AlertId::stale);
  EXPECT_TRUE(e.raised);
  EXPECT_TRUE(e.handed_over);
  EXPECT_EQ(e.since, kRaisedBefore);
  EXPECT_EQ(twin.status(), Status::stale);
}

TEST(HandOver, AnAlertTheTwinRaisedItselfBeforeTheHandedOneSupersedesIt) {
  CollectingSink sink;
  AssetTwin twin = started_twin(sink);
  frame(twin, 1.2, 1.3, sink);  // its own raise, at 1.2
  ASSERT_EQ(sink.alerts.size(), 1u);

  EXPECT_FALSE(twin.take_over(kHandedDivergence, 1.25, sink));

  ASSERT_EQ(sink.alerts.size(), 2u);
  const AlertEvent e = sink.alerts[1].event;
  EXPECT_FALSE(e.raised);
  EXPECT_TRUE(e.handed_over);
  EXPECT_EQ(e.since, kRaisedBefore);
  EXPECT_EQ(e.value, 0.0);
  EXPECT_EQ(e.threshold, 0.0);
  EXPECT_TRUE(twin.handed_over().empty());
  EXPECT_EQ(twin.active_alerts(), 1u);  // its own stays
  // The record of that very alert (its own, as confirmed) changes nothing.
  const std::vector<HandedAlert> own{{AlertId::divergence, kY, 1.2, Detector::threshold}};
  EXPECT_FALSE(twin.take_over(own, 1.3, sink));
  EXPECT_EQ(sink.alerts.size(), 2u);
}

// The record came late, after the twin raised the same alert itself: the older alert, which
// subscribers saw first, stands, and the twin's alert goes on under its id.
TEST(HandOver, AnOlderHandedAlertTakesOverTheTwinsOwnUnderItsId) {
  CollectingSink sink;
  AssetTwin twin = started_twin(sink);
  frame(twin, 1.2, 1.3, sink);  // its own raise, at 1.2
  const std::vector<HandedAlert> older{{AlertId::divergence, kY, 0.5, Detector::threshold}};

  EXPECT_TRUE(twin.take_over(older, 1.25, sink));

  ASSERT_EQ(sink.alerts.size(), 3u);
  const AlertEvent own_cleared = sink.alerts[1].event;
  EXPECT_FALSE(own_cleared.raised);
  EXPECT_EQ(own_cleared.since, 1.2);
  EXPECT_TRUE(own_cleared.handed_over);
  const AlertEvent confirmed = sink.alerts[2].event;
  EXPECT_TRUE(confirmed.raised);
  EXPECT_TRUE(confirmed.handed_over);
  EXPECT_EQ(confirmed.since, 0.5);
  EXPECT_NEAR(confirmed.value, 0.3, 1e-9);
  EXPECT_EQ(confirmed.threshold, 0.15);
  EXPECT_TRUE(twin.handed_over().empty());
  EXPECT_EQ(twin.active_alerts(), 1u);
  EXPECT_EQ(twin.signal(kY).divergence_since, 0.5);
  // Its clearing is under the handed id.
  for (int k = 0; k < 3; ++k) frame(twin, 1.3 + 0.1 * k, 1.0, sink);
  ASSERT_EQ(sink.alerts.size(), 4u);
  EXPECT_FALSE(sink.alerts[3].event.raised);
  EXPECT_EQ(sink.alerts[3].event.since, 0.5);
  EXPECT_EQ(twin.active_alerts(), 0u);
}

TEST(HandOver, ALaterRecordReplacesTheEarlierAndAnEmptyOneForgetsIt) {
  CollectingSink sink;
  AssetTwin twin = started_twin(sink);
  EXPECT_TRUE(twin.take_over(kHandedDivergence, 1.15, sink));
  EXPECT_FALSE(twin.take_over(kHandedDivergence, 1.16, sink));  // the same again
  EXPECT_TRUE(twin.take_over({}, 1.17, sink));                  // cleared where it was raised
  EXPECT_TRUE(twin.handed_over().empty());
  EXPECT_TRUE(sink.alerts.empty());  // nothing of this twin's to say
  EXPECT_EQ(twin.status(), Status::ok);
}

TEST(HandOver, ClearingEveryAlertClearsTheHandedOnesToo) {
  CollectingSink sink;
  AssetTwin twin = started_twin(sink);
  twin.take_over(kHandedDivergence, 1.15, sink);
  twin.clear_alerts(1.2, sink);
  ASSERT_EQ(sink.alerts.size(), 1u);
  EXPECT_TRUE(sink.alerts[0].event.handed_over);
  EXPECT_FALSE(sink.alerts[0].event.raised);
  EXPECT_TRUE(twin.handed_over().empty());
}

TEST(HandOver, StateAndRecordListHandedAlertsWithTheirIds) {
  CollectingSink sink;
  AssetTwin twin = started_twin(sink);
  twin.take_over(kHandedDivergence, 1.15, sink);
  std::string state;
  encode_state(twin, 1.5, state);
  EXPECT_NE(state.find(R"("alert_id":"plant/y/divergence/100250","detector":"threshold",)"
                       R"("handed_over":true)"),
            std::string::npos)
      << state;
  std::string record;
  encode_active_alerts(twin, 1.5, "r2", 7, record);
  EXPECT_EQ(record.rfind(R"({"asset":"plant","ts":1.5,"member":"r2","run":7,"active_alerts":[)", 0),
            0u)
      << record;
}

TEST(HandOver, AnAlertIdNamesTheAssetSignalConditionAndRaiseInMilliseconds) {
  EXPECT_EQ(alert_id("pump7", "y", AlertId::divergence, 1732200003.06),
            "pump7/y/divergence/1732200003060");
  EXPECT_EQ(alert_id("a", "temperature", AlertId::stale, 0.0), "a/temperature/stale/0");
}

}  // namespace
}  // namespace twind::core
