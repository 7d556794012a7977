#include "twind/core/engine.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "../support/fixtures.hpp"
#include "../support/recording_sink.hpp"
#include "twind/model/linear.hpp"
#include "twind/sim/closed_loop.hpp"

namespace twind::core {
namespace {

using testing::CollectingSink;
using testing::seed_config;

constexpr std::size_t kY = 1;

// Arrange: an engine over the seed plant that has seen y = u = 1 at t = 1.
struct Started {
  Engine sut{seed_config(), 0.0};
  CollectingSink sink;
  Started() {
    sut.on_message("plant/y", "1", 1.0, sink);
    sut.on_message("plant/u", "1", 1.0, sink);
  }
  std::string state_json() {
    std::string s;
    encode_state(sut.twin(0), 1.5, s);
    return s;
  }
};

TEST(Engine, BareNumbersOnSignalTopicsReachTheirSignals) {
  Started f;
  EXPECT_TRUE(f.sut.twin(0).initialised());
  EXPECT_EQ(f.sut.counters().values, 2u);
  EXPECT_EQ(f.sut.counters().rejected_total(), 0u);
}

TEST(Engine, ValueObjectWithTsIsIntegratedInEventTimeNotArrivalTime) {
  Engine sut(seed_config(), 0.0);
  CollectingSink sink;
  sut.on_message("plant/y", R"({"value": 0, "ts": 100.0})", 500.0, sink);
  sut.on_message("plant/u", R"({"value": 1, "ts": 100.0})", 500.0, sink);
  sut.on_message("plant/y", R"({"value": 0.5, "ts": 101.0})", 500.1, sink);
  // x' = -x + u from 0 with u = 1 for one second of event time: 1 - e^-1.
  EXPECT_NEAR(sut.twin(0).signal(kY).predicted, 1.0 - std::exp(-1.0), 1e-12);
  EXPECT_DOUBLE_EQ(sut.twin(0).model_time(), 101.0);
}

TEST(Engine, FrameOnFrameTopicFeedsEverySignalItNames) {
  Engine sut(seed_config(), 0.0);
  CollectingSink sink;
  sut.on_message("plant/frame", R"({"ts": 10, "u": 2, "y": 1})", 10.0, sink);
  EXPECT_TRUE(sut.twin(0).initialised());
  EXPECT_EQ(sut.twin(0).signal(0).value, 2.0);
  EXPECT_EQ(sut.twin(0).signal(kY).value, 1.0);
}

TEST(Engine, FrameOnASignalTopicIsAcceptedToo) {
  Engine sut(seed_config(), 0.0);
  CollectingSink sink;
  sut.on_message("plant/y", R"({"u": 2, "y": 1})", 10.0, sink);
  EXPECT_TRUE(sut.twin(0).initialised());
}

TEST(Engine, FrameAppliesInputsBeforeOutputsWhateverTheKeyOrder) {
  config::Config c = seed_config();
  c.assets[0].model.d = {1, 1, {2.0}};  // y = x + 2u: the prediction depends on this instant's u
  Engine sut(c, 0.0);
  CollectingSink sink;
  sut.on_message("plant/frame", R"({"u": 0, "y": 0})", 1.0, sink);
  sut.on_message("plant/frame", R"({"y": 2, "u": 1})", 1.0, sink);
  EXPECT_NEAR(sut.twin(0).signal(kY).predicted, 2.0, 1e-12);
  EXPECT_NEAR(sut.twin(0).signal(kY).residual, 0.0, 1e-12);
}

TEST(Engine, UnknownFrameMemberIsCountedAndTheRestDelivered) {
  Engine sut(seed_config(), 0.0);
  CollectingSink sink;
  sut.on_message("plant/frame", R"({"u": 2, "y": 1, "w": 3})", 1.0, sink);
  EXPECT_EQ(sut.counters().rejected[static_cast<std::size_t>(Reject::unknown_signal)], 1u);
  EXPECT_EQ(sut.counters().values, 2u);
}

TEST(Engine, TickPublishesOneStatePerAssetWithIncreasingSeq) {
  Started f;
  f.sut.tick(1.5, f.sink);
  f.sut.tick(2.0, f.sink);
  ASSERT_EQ(f.sink.states.size(), 2u);
  EXPECT_EQ(f.sut.twin(0).seq(), 2u);
  EXPECT_NE(f.sink.states[1].json.find(R"("seq":2)"), std::string::npos);
  EXPECT_EQ(f.sut.counters().states, 2u);
}

TEST(Engine, TickRaisesStaleBeforePublishingTheState) {
  Started f;
  f.sut.tick(2.6, f.sink);
  ASSERT_EQ(f.sink.alerts.size(), 1u);
  EXPECT_EQ(f.sink.alerts[0].event.id, AlertId::stale);
  ASSERT_EQ(f.sink.states.size(), 1u);
  EXPECT_EQ(f.sink.states[0].status, Status::stale);
  EXPECT_EQ(f.sut.counters().alerts, 1u);
}

TEST(Engine, StalenessIsJudgedWhenTheDriverLastHadReadAllItsInput) {
  Started f;
  // The same tick as above, from a driver that last had read all its input at 1.0: the silence
  // since is in its own backlog, not the plant's.
  f.sut.tick(2.6, 1.0, f.sink);
  EXPECT_TRUE(f.sink.alerts.empty());
  ASSERT_EQ(f.sink.states.size(), 1u);
  EXPECT_NE(f.sink.states[0].status, Status::stale);
  // Read up to 2.6 with nothing new from the plant: now it is stale.
  f.sut.tick(3.0, 2.6, f.sink);
  ASSERT_EQ(f.sink.alerts.size(), 1u);
  EXPECT_EQ(f.sink.alerts[0].event.id, AlertId::stale);
}

// Replay of stamped telemetry whose ts lags (or leads) its arrival by seconds: the y stream stops
// for 2 s and comes back. The stale alert is raised by a tick and cleared by y's arrival, both on
// the arrival clock, so its cleared ts never comes before its raised ts.
class EngineStaleClock : public ::testing::TestWithParam<double> {};  // ts - arrival, in s

TEST_P(EngineStaleClock, StaleAlertIsRaisedAndClearedOnTheArrivalClock) {
  const double lag = GetParam();
  Engine sut(seed_config(), 100.0);
  CollectingSink sink;
  const auto stamped = [&](double arrival) {
    char buf[64];
    std::snprintf(buf, sizeof buf, R"({"value": 1, "ts": %.17g})", arrival + lag);
    return std::string(buf);
  };
  for (int k = 1; k <= 20; ++k) {  // y and u every 50 ms until 101 s
    const double t = 100.0 + 0.05 * k;
    sut.on_message("plant/y", stamped(t), t, sink);
    sut.on_message("plant/u", stamped(t), t, sink);
  }
  for (int k = 1; k <= 4; ++k) {  // then u alone until 103 s, with ticks
    const double t = 101.0 + 0.5 * k;
    sut.on_message("plant/u", stamped(t), t, sink);
    sut.tick(t, sink);
  }
  sut.on_message("plant/y", stamped(103.2), 103.2, sink);

  ASSERT_EQ(sink.alerts.size(), 2u);
  const AlertEvent& raised = sink.alerts[0].event;
  const AlertEvent& cleared = sink.alerts[1].event;
  EXPECT_EQ(raised.id, AlertId::stale);
  EXPECT_TRUE(raised.raised);
  EXPECT_EQ(raised.ts, 103.0);  // the first tick more than 1.5 s after y's last arrival
  EXPECT_EQ(cleared.id, AlertId::stale);
  EXPECT_FALSE(cleared.raised);
  EXPECT_EQ(cleared.ts, 103.2);
  EXPECT_GE(cleared.ts, raised.ts);
  EXPECT_EQ(sut.twin(0).status(), Status::ok);
  EXPECT_EQ(sut.counters().rejected_total(), 0u);
}

INSTANTIATE_TEST_SUITE_P(TsAgainstArrival, EngineStaleClock, ::testing::Values(-5.0, 5.0),
                         [](const ::testing::TestParamInfo<double>& i) {
                           return std::string(i.param < 0.0 ? "TsLagsBy5s" : "TsLeadsBy5s");
                         });

TEST(EngineReconfigure, ThresholdChangeKeepsTheTwinAndTakesEffectOnTheNextSample) {
  Started f;
  f.sut.tick(1.5, f.sink);
  const std::vector<double> x_before(f.sut.twin(0).state().begin(), f.sut.twin(0).state().end());
  config::Config next = seed_config();
  next.assets[0].signals[1].threshold = 0.5;
  next.assets[0].signals[1].clear_threshold = 0.4;

  const auto changes = f.sut.reconfigure(next, 1.6, f.sink);

  EXPECT_EQ(changes, (std::vector<std::string>{"plant: y.threshold 0.15 -> 0.5",
                                               "plant: y.clear_threshold 0.1 -> 0.4"}));
  EXPECT_TRUE(f.sut.twin(0).initialised());
  EXPECT_EQ(f.sut.twin(0).seq(), 1u);
  EXPECT_EQ(std::vector<double>(f.sut.twin(0).state().begin(), f.sut.twin(0).state().end()),
            x_before);
  // A residual of about 0.3 would have raised under 0.15; under 0.5 it does not.
  f.sut.on_message("plant/y", "1.3", 1.7, f.sink);
  EXPECT_TRUE(f.sink.alerts.empty());
}

TEST(EngineReconfigure, ModelChangeOfTheSameSizeKeepsTheStateAndIsPublished) {
  Started f;
  const std::vector<double> before(f.sut.twin(0).state().begin(), f.sut.twin(0).state().end());
  config::Config next = seed_config();
  next.assets[0].model.id.version = "2";
  next.assets[0].model.a = {1, 1, {-2.0}};

  const auto changes = f.sut.reconfigure(next, 1.6, f.sink);

  ASSERT_EQ(changes.size(), 1u);
  EXPECT_NE(changes[0].find("model first-order-lag v1 -> first-order-lag v2"), std::string::npos);
  EXPECT_TRUE(f.sut.twin(0).initialised());
  EXPECT_EQ(std::vector<double>(f.sut.twin(0).state().begin(), f.sut.twin(0).state().end()),
            before);
  ASSERT_EQ(f.sink.model_changes.size(), 1u);
  const core::ModelChange& c = f.sink.model_changes[0].change;
  EXPECT_EQ(c.before.version, "1");
  EXPECT_EQ(c.after.version, "2");
  EXPECT_EQ(c.cause, ModelCause::reload);
  EXPECT_TRUE(c.state_kept);
  EXPECT_EQ(c.ts, 1.6);
}

TEST(EngineReconfigure, ModelWithMoreStatesStartsFromTheLatestMeasurements) {
  Started f;  // last measured y = 1 with u = 1
  config::Config next = seed_config();
  next.assets[0].model.id.version = "2";
  next.assets[0].model.a = {2, 2, {-1.0, 0.0, 0.0, -3.0}};
  next.assets[0].model.b = {2, 1, {1.0, 0.0}};
  next.assets[0].model.c = {1, 2, {1.0, 1.0}};

  f.sut.reconfigure(next, 1.6, f.sink);

  ASSERT_EQ(f.sink.model_changes.size(), 1u);
  EXPECT_FALSE(f.sink.model_changes[0].change.state_kept);
  EXPECT_TRUE(f.sut.twin(0).initialised());
  ASSERT_EQ(f.sut.twin(0).state().size(), 2u);
  // Least squares through C = [1 1]: the minimum-norm state explaining y = 1 is (0.5, 0.5).
  EXPECT_NEAR(f.sut.twin(0).state()[0], 0.5, 1e-12);
  EXPECT_NEAR(f.sut.twin(0).state()[1], 0.5, 1e-12);
  EXPECT_EQ(f.sut.twin(0).status(), Status::ok);
}

TEST(EngineReconfigure, AddedAndRemovedAssetsAreReportedAndRouted) {
  Started f;
  config::Config next = seed_config();
  next.assets[0].id = "pump2";
  next.assets[0].signals[0].topic = "pump2/u";
  next.assets[0].signals[1].topic = "pump2/y";
  next.assets[0].frame_topics.clear();
  const auto changes = f.sut.reconfigure(next, 2.0, f.sink);
  EXPECT_EQ(changes, (std::vector<std::string>{"pump2: added", "plant: removed"}));
  f.sut.on_message("plant/y", "1", 2.1, f.sink);
  EXPECT_EQ(f.sut.counters().rejected[static_cast<std::size_t>(Reject::unknown_topic)], 1u);
  f.sut.on_message("pump2/y", "1", 2.1, f.sink);
  EXPECT_EQ(f.sut.twin(0).signal(kY).value, 1.0);
}

TEST(EngineReconfigure, RemovingTheThresholdClearsAnActiveDivergenceAlert) {
  Started f;
  f.sut.on_message("plant/y", "2", 1.1, f.sink);  // far from the prediction near 1
  ASSERT_EQ(f.sink.alerts.size(), 1u);
  config::Config next = seed_config();
  next.assets[0].signals[1].threshold.reset();
  next.assets[0].signals[1].clear_threshold.reset();
  f.sut.reconfigure(next, 1.2, f.sink);
  ASSERT_EQ(f.sink.alerts.size(), 2u);
  EXPECT_FALSE(f.sink.alerts[1].event.raised);
  EXPECT_EQ(f.sut.twin(0).status(), Status::ok);
}

TEST(EngineReconfigure, UnbuildableModelThrowsAndChangesNothing) {
  Started f;
  config::Config next = seed_config();
  next.assets[0].model.b = {2, 1, {1.0, 1.0}};  // B has 2 rows for a 1-state A
  EXPECT_THROW(f.sut.reconfigure(next, 2.0, f.sink), model::ModelError);
  f.sut.on_message("plant/y", "1", 2.1, f.sink);
  EXPECT_EQ(f.sut.counters().rejected_total(), 0u);
}

TEST(EngineReconfigure, TickTopicAndPayloadLimitChangesAreReportedAndTakeEffect) {
  Started f;
  config::Config next = seed_config();
  next.tick = 1.0;
  next.topics.state = "plant/twin/state";
  next.max_payload_bytes = 8;

  const auto changes = f.sut.reconfigure(next, 1.6, f.sink);

  EXPECT_EQ(changes, (std::vector<std::string>{"max_payload_bytes 65536 -> 8", "tick 0.5 s -> 1 s",
                                               "topics.state twin/state -> plant/twin/state"}));
  EXPECT_EQ(f.sut.tick_interval(), 1.0);
  EXPECT_EQ(f.sut.twin(0).def().state_topic, "plant/twin/state");
  f.sut.on_message("plant/y", R"({"value": 1})", 1.7, f.sink);
  EXPECT_EQ(f.sut.counters().rejected[static_cast<std::size_t>(Reject::oversize)], 1u);
}

struct BadInput {
  const char* name;
  const char* topic;
  std::string payload;
  Reject reason;
};

class EngineBadInput : public ::testing::TestWithParam<BadInput> {};

TEST_P(EngineBadInput, IsCountedByReasonAndLeavesTheTwinUnchanged) {
  Started f;
  const std::string before = f.state_json();
  const auto values_before = f.sut.counters().values;
  f.sut.on_message(GetParam().topic, GetParam().payload, 1.2, f.sink);
  EXPECT_EQ(f.sut.counters().rejected[static_cast<std::size_t>(GetParam().reason)], 1u);
  EXPECT_EQ(f.sut.counters().rejected_total(), 1u);
  EXPECT_EQ(f.sut.counters().values, values_before);
  ASSERT_EQ(f.sink.rejects.size(), 1u);
  EXPECT_EQ(f.sink.rejects[0].reason, GetParam().reason);
  EXPECT_EQ(f.state_json(), before);
  EXPECT_TRUE(f.sink.alerts.empty());
}

INSTANTIATE_TEST_SUITE_P(
    EveryKind, EngineBadInput,
    ::testing::Values(
        BadInput{"MalformedJson", "plant/y", "{\"value\": 2.97", Reject::malformed},
        BadInput{"Text", "plant/y", "hello", Reject::malformed},
        BadInput{"NanLiteral", "plant/y", "NaN", Reject::malformed},
        BadInput{"Overflow", "plant/y", "1e999", Reject::not_finite},
        BadInput{"AboveMax", "plant/y", "1000.001", Reject::out_of_bounds},
        BadInput{"BelowMin", "plant/u", "-5000", Reject::out_of_bounds},
        BadInput{"Oversize", "plant/y", std::string(64 * 1024 + 1, ' '), Reject::oversize},
        BadInput{"UnknownTopic", "plant/z", "1", Reject::unknown_topic},
        BadInput{"TsBackwards", "plant/y", R"({"value": 1, "ts": 0.5})", Reject::ts_backwards},
        BadInput{"TsNotANumber", "plant/y", R"({"value": 1, "ts": "x"})", Reject::bad_timestamp},
        BadInput{"BareNumberOnFrameTopic", "plant/frame", "1", Reject::malformed},
        BadInput{"FrameWithOnlyUnknownMember", "plant/frame", R"({"w": 1})",
                 Reject::unknown_signal}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

// The seed loop for 5 s, its wear at 3 s (pole -1 -> -2), in frames, the engine ticking every
// 0.5 s.
void run_seed_wear(Engine& sut, CollectingSink& sink) {
  sim::Scenario sc;
  sim::ClosedLoop loop(sc, 0.0);
  double next_tick = 0.5;
  char frame[128];
  while (loop.time() < 5.0) {
    const sim::Sample s = loop.step();
    std::snprintf(frame, sizeof frame, R"({"ts":%.17g,"u":%.17g,"y":%.17g})", s.t, s.u, s.y);
    sut.on_message("plant/frame", frame, s.t, sink);
    if (s.t >= next_tick) {
      sut.tick(next_tick, sink);
      next_tick += 0.5;
    }
  }
}

// Diagnosis is the engine's only per-tick scan of every twin, made only where some entry
// diagnoses: a reload that turns it on must turn the scan on too.
TEST(Engine, DiagnosisTurnedOnByAReloadExplainsTheNextDivergence) {
  config::Config c = seed_config();
  c.assets[0].diagnose.enabled = false;
  Engine sut(c, 0.0);
  CollectingSink sink;
  c.assets[0].diagnose.enabled = true;
  (void)sut.reconfigure(c, 0.0, sink);

  run_seed_wear(sut, sink);

  ASSERT_FALSE(sink.diagnoses.empty());
  ASSERT_TRUE(sink.diagnoses.back().best.has_value());
  EXPECT_EQ(sink.diagnoses.back().best->name, "A[0][0]");
  EXPECT_NEAR(sink.diagnoses.back().best->estimate, -2.0, 0.1);
}

TEST(Engine, DiagnosisWeighsOnlyTheHypothesesTheAssetLists) {
  config::Config c = seed_config();
  c.assets[0].diagnose.enabled = true;
  c.assets[0].diagnose.hypotheses = {"B[0][0]", "output_gain(y)", "output_bias(y)"};
  Engine sut(c, 0.0);
  CollectingSink sink;

  run_seed_wear(sut, sink);

  ASSERT_FALSE(sink.diagnoses.empty());
  for (const auto& d : sink.diagnoses) {
    for (const auto& f : {d.best, d.runner_up}) {
      if (!f) continue;
      EXPECT_TRUE(f->name == "B[0][0]" || f->name == "y") << f->kind << " " << f->name;
    }
  }
}

}  // namespace
}  // namespace twind::core
