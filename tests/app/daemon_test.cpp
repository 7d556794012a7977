#include "twind/app/daemon.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <thread>

#include "../support/fixtures.hpp"
#include "twind/app/cluster_link.hpp"
#include "twind/app/run.hpp"
#include "twind/config/loader.hpp"
#include "twind/mqtt/fake.hpp"
#include "twind/mqtt/topic.hpp"

namespace twind::app {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr double kT0 = 1732200000.0;

config::Config seed_ticking(double tick) {
  config::Config c = testing::seed_config();
  c.tick = tick;
  return c;
}

config::Config fast_seed() {
  return seed_ticking(0.05);
}

// Arrange: a daemon on a fake broker (which delivers synchronously, on the thread that causes a
// delivery), driven on the test's thread by a clock of the test's: the client's callbacks post to
// the inbox, poll() takes the events and the ticks due. Exact and fast: no sleeps, no threads.
struct Driven {
  explicit Driven(const config::Config& c = fast_seed(), DaemonOptions o = {},
                  const std::vector<std::string>& denied = {})
      : client(broker.make_client()), sut(c, *client, with_clock(std::move(o))) {
    for (const std::string& d : denied) broker.deny_publish(d);
    client->start(sut);
  }
  DaemonOptions with_clock(DaemonOptions o) {
    o.clock = [this] { return now; };
    return o;
  }
  bool poll() { return sut.poll(now); }
  // The clock moves `seconds` on in steps of kStep, the engine polled at every step, as the real
  // loop wakes for each tick.
  void advance(double seconds) {
    const double start = now;
    const auto steps = static_cast<int>(std::lround(seconds / kStep));
    for (int i = 1; i <= steps; ++i) {
      now = start + kStep * i;
      poll();
    }
  }
  // Advances step by step until `pred` holds, at most `limit` seconds; the engine is polled at
  // least once.
  template <class Pred>
  bool advance_until(Pred pred, double limit = 3.0) {
    const double start = now;
    for (int i = 1; kStep * i <= limit + 1e-9; ++i) {
      now = start + kStep * i;
      poll();
      if (pred()) return true;
    }
    return false;
  }

  static constexpr double kStep = 0.01;
  double now = kT0 + 0.001;  // before sut: its constructor reads the clock
  mqtt::FakeBroker broker;
  std::unique_ptr<mqtt::FakeClient> client;
  Daemon sut;
};

TEST(Daemon, PublishesRetainedOnlineStatusWhenConnected) {
  Driven f;
  f.poll();
  const auto status = f.broker.retained("twin/status");
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(json::parse(status->payload)["state"], "online");
  EXPECT_EQ(status->qos, 1);
}

TEST(Daemon, TheClientsCallbacksOnlyQueueTheEngineThreadActsOnThem) {
  Driven f;  // connected: the client has called on_connected
  EXPECT_FALSE(f.broker.retained("twin/status").has_value());
  f.poll();
  EXPECT_TRUE(f.broker.retained("twin/status").has_value());

  f.broker.publish("plant/u", "1");
  f.broker.publish("plant/y", "1");
  f.broker.publish("plant/y", "3");  // on_message has run three times
  EXPECT_TRUE(f.broker.messages_on("twin/alert").empty());
  f.poll();
  EXPECT_EQ(f.broker.messages_on("twin/alert").size(), 1u);
}

TEST(Daemon, PublishesOneStatePerTickAtQos0WithIncreasingSeq) {
  Driven f;
  ASSERT_TRUE(f.advance_until([&] { return f.broker.messages_on("twin/state").size() >= 4; }));
  const auto states = f.broker.messages_on("twin/state");
  for (std::size_t i = 0; i < 4; ++i) {
    const json s = json::parse(states[i].payload);
    EXPECT_EQ(s["seq"], i + 1);
    EXPECT_EQ(states[i].qos, 0);
    EXPECT_FALSE(states[i].retained);
    if (i > 0) {
      // Ticks fall on the grid of the period (to the resolution of a double at Unix time).
      EXPECT_NEAR(s["ts"].get<double>() - json::parse(states[i - 1].payload)["ts"].get<double>(),
                  0.05, 1e-6);
    }
  }
}

TEST(Daemon, ALoopAWholePeriodLateSkipsTheMissedTicksAndCountsThem) {
  Driven f;
  f.advance(0.1);  // ticks at +0.05 and +0.1
  ASSERT_EQ(f.sut.counters().ticks, 2u);
  f.now += 1.0;  // a stall: 20 ticks due at once
  f.poll();
  EXPECT_EQ(f.sut.counters().ticks, 3u);
  EXPECT_EQ(f.sut.counters().ticks_skipped, 19u);
  const auto states = f.broker.messages_on("twin/state");
  ASSERT_EQ(states.size(), 3u);
  EXPECT_NEAR(json::parse(states[2].payload)["ts"].get<double>(), kT0 + 1.1, 1e-6);
}

TEST(Daemon, DivergingMeasurementRaisesAQos1AlertImmediately) {
  Driven f;
  f.broker.publish("plant/u", "1");
  f.broker.publish("plant/y", "1");
  f.broker.publish("plant/y", "3");  // the twin predicts about 1
  f.poll();                          // no tick needed
  ASSERT_FALSE(f.broker.messages_on("twin/alert").empty());
  const auto alert = f.broker.messages_on("twin/alert").front();
  EXPECT_EQ(alert.qos, 1);
  const json a = json::parse(alert.payload);
  EXPECT_EQ(a["id"], "divergence");
  EXPECT_EQ(a["state"], "raised");
}

TEST(Daemon, MalformedPayloadIsCountedAndTheDaemonCarriesOn) {
  Driven f;
  f.broker.publish("plant/y", "{not json");
  f.broker.publish("plant/y", "NaN");
  f.broker.publish("plant/u", "1");
  f.broker.publish("plant/y", "1");
  ASSERT_TRUE(f.advance_until([&] {
    const auto s = f.sut.snapshot();
    return s->metrics.find("twind_rejected_total{reason=\"malformed\"} 2") != std::string::npos &&
           !s->states.empty() && s->states[0].second.find("\"status\":\"ok\"") != std::string::npos;
  }));
}

TEST(Daemon, AlertRaisedWhileTheBrokerIsDownIsDeliveredAfterItReturns) {
  Driven f;
  f.broker.publish("plant/u", "1");
  f.broker.publish("plant/y", "1");
  f.poll();
  f.broker.take_down();
  // No telemetry can arrive: y goes stale after 1.5 s and the alert is raised during the outage.
  ASSERT_TRUE(f.advance_until(
      [&] {
        return f.sut.snapshot()->states.size() == 1 &&
               f.sut.snapshot()->states[0].second.find("\"stale\"") != std::string::npos;
      },
      4.0));
  EXPECT_TRUE(f.broker.messages_on("twin/alert").empty());
  f.broker.bring_up();
  ASSERT_TRUE(f.advance_until([&] { return !f.broker.messages_on("twin/alert").empty(); }));
  const json a = json::parse(f.broker.messages_on("twin/alert").front().payload);
  EXPECT_EQ(a["id"], "stale");
  EXPECT_EQ(a["state"], "raised");
  // Back online: the status is online again.
  EXPECT_EQ(json::parse(f.broker.retained("twin/status")->payload)["state"], "online");
}

TEST(Daemon, ABacklogOfItsOwnIsReportedAsItsLagAndNeverRaisesStale) {
  Driven f;
  f.broker.publish("plant/u", "1");
  f.broker.publish("plant/y", "1");
  f.poll();
  // For 3 s (twice the signal's stale_after) the plant sends a sample every 3 ms while the
  // engine is busy: 2,000 messages wait in the inbox, each stamped on arrival. Then the engine
  // handles 10 events per wake-up.
  for (int i = 0; i < 1000; ++i) {
    f.now += 0.003;
    f.broker.publish("plant/u", "1");
    f.broker.publish("plant/y", "1");
  }
  for (int i = 0; i < 5; ++i) f.sut.poll(f.now, 10);

  EXPECT_GE(f.sut.counters().lag_seconds, 2.9);
  EXPECT_EQ(f.sut.counters().behind_periods, 1U);
  EXPECT_EQ(json::parse(f.broker.retained("twin/status")->payload)["state"], "behind");
  // The plant was not silent: its samples are in twind's own backlog.
  EXPECT_TRUE(f.broker.messages_on("twin/alert").empty());

  // Caught up, with a sample that arrived just now: online again, still no stale alert.
  f.broker.publish("plant/y", "1");
  f.advance(0.1);  // the lag is measured at ticks
  EXPECT_LT(f.sut.counters().lag_seconds, 0.05);
  EXPECT_EQ(json::parse(f.broker.retained("twin/status")->payload)["state"], "online");
  EXPECT_TRUE(f.broker.messages_on("twin/alert").empty());
}

// A backlog at the broker (or in the socket) is invisible to the inbox; the plants' own stamps
// show it. Frames that took 3 s to come through make twind behind: said, and no alert for the
// samples the broker dropped meanwhile (a 2 s silence), nor for a gap across which u changed.
TEST(Daemon, ABacklogAtTheBrokerShowsInTheInputsStampsAndIsTwindsLagNotThePlants) {
  Driven f;
  const auto frame = [&](double age, double u, double y) {
    char buf[128];
    std::snprintf(buf, sizeof buf, R"({"ts": %.17g, "u": %.17g, "y": %.17g})", f.now - age, u, y);
    f.broker.publish("plant/frame", buf);
  };
  for (int i = 0; i < 20; ++i) {  // fresh: 10 ms from stamp to arrival
    frame(0.01, 1.0, 1.0);
    f.advance(0.1);
  }
  EXPECT_EQ(json::parse(f.broker.retained("twin/status")->payload)["state"], "online");
  // Then each frame arrives 3 s after its stamp, and after 2 s of lost ones u has changed: a
  // prediction across the gap would miss by 0.9.
  frame(3.0, 1.0, 1.0);
  f.advance(0.05);  // the lag is measured at ticks
  EXPECT_GE(f.sut.counters().lag_seconds, 2.9);
  EXPECT_EQ(json::parse(f.broker.retained("twin/status")->payload)["state"], "behind");
  f.advance(2.0);
  frame(3.0, 2.0, 1.9);  // older than two ticks while behind: shed
  f.advance(0.05);
  EXPECT_NE(f.sut.snapshot()->metrics.find("\ntwind_shed_total 2\n"), std::string::npos);
  EXPECT_TRUE(f.broker.messages_on("twin/alert").empty());
  // Caught up: fresh frames again, online, and still no alert.
  for (int i = 0; i < 5; ++i) {
    frame(0.01, 2.0, 1.9);
    f.advance(0.1);
  }
  EXPECT_LT(f.sut.counters().lag_seconds, 0.1);
  EXPECT_EQ(json::parse(f.broker.retained("twin/status")->payload)["state"], "online");
  EXPECT_TRUE(f.broker.messages_on("twin/alert").empty());
}

// Behind by 2 to 3 s (40 to 60 ticks of 50 ms), the asset's state goes out on one tick in eight;
// its seq stays contiguous (fewer states, none lost). Caught up, on every tick again.
TEST(Daemon, WhileBehindItThinsItsStatesAndPublishesOnEveryTickOnceCaughtUp) {
  Driven f;
  const auto frame = [&](double age) {
    char buf[128];
    std::snprintf(buf, sizeof buf, R"({"ts": %.17g, "u": 1, "y": 1})", f.now - age);
    f.broker.publish("plant/frame", buf);
  };
  const auto states = [&] { return f.broker.messages_on("twin/state").size(); };
  for (int i = 0; i < 10; ++i) {
    frame(0.01);
    f.advance(0.1);
  }
  frame(3.0);
  f.advance(0.05);
  ASSERT_EQ(json::parse(f.broker.retained("twin/status")->payload)["state"], "behind");
  const std::size_t before = states();
  f.advance(1.0);  // 20 ticks
  const std::size_t while_behind = states() - before;
  EXPECT_GE(while_behind, 2U);
  EXPECT_LE(while_behind, 3U);
  const std::string& metrics = f.sut.snapshot()->metrics;
  const std::size_t at = metrics.find("\ntwind_states_thinned_total ");
  ASSERT_NE(at, std::string::npos);
  EXPECT_GE(std::stoul(metrics.substr(at + 28)), 17U);

  for (int i = 0; i < 5; ++i) {
    frame(0.01);
    f.advance(0.1);
  }
  ASSERT_EQ(json::parse(f.broker.retained("twin/status")->payload)["state"], "online");
  const std::size_t caught_up = states();
  f.advance(0.5);
  EXPECT_EQ(states() - caught_up, 10U);
  std::uint64_t seq = 0;
  for (const auto& m : f.broker.messages_on("twin/state")) {
    const auto next = json::parse(m.payload)["seq"].get<std::uint64_t>();
    EXPECT_EQ(next, seq + 1);
    seq = next;
  }
}

TEST(Daemon, WithoutABacklogASilentPlantIsStaleAtTheWallClock) {
  Driven f;
  f.broker.publish("plant/u", "1");
  f.broker.publish("plant/y", "1");
  f.poll();
  f.now += 3.0;
  f.poll();
  ASSERT_EQ(f.broker.messages_on("twin/alert").size(), 1U);
  EXPECT_EQ(json::parse(f.broker.messages_on("twin/alert").front().payload)["id"], "stale");
  EXPECT_EQ(json::parse(f.broker.retained("twin/status")->payload)["state"], "online");
}

TEST(Daemon, ReloadWithANewThresholdTakesEffectWithoutReconnecting) {
  Driven f;
  f.broker.publish("plant/u", "1");
  f.broker.publish("plant/y", "1");
  config::Config next = fast_seed();
  next.assets[0].signals[1].threshold = 5.0;
  next.assets[0].signals[1].clear_threshold = 4.0;
  f.sut.reload(next);
  ASSERT_TRUE(f.advance_until([&] { return f.sut.counters().reloads == 1; }));
  f.broker.publish("plant/y", "3");  // residual about 2: above 0.15, below 5
  f.advance(0.1);
  EXPECT_TRUE(f.broker.messages_on("twin/alert").empty());
  EXPECT_EQ(f.client->stats().connects, 1u);
}

TEST(Daemon, ReloadWithAnUnbuildableModelIsRefusedAndTheOldConfigurationKeepsRunning) {
  Driven f;
  config::Config next = fast_seed();
  next.assets[0].model.b = {2, 1, {1.0, 1.0}};
  f.sut.reload(next);
  ASSERT_TRUE(f.advance_until([&] { return f.sut.counters().reloads_refused == 1; }));
  f.broker.publish("plant/u", "1");
  f.broker.publish("plant/y", "1");
  f.broker.publish("plant/y", "3");
  ASSERT_TRUE(f.advance_until([&] { return !f.broker.messages_on("twin/alert").empty(); }));
}

// Replica r1 of three partitions, its member resolved, a 50 ms tick.
config::Config replica_r1() {
  config::LoadResult r = config::load_string(R"(
tick: 50ms
cluster: {partitions: 3, member: r1}
assets:
  - template: plant
    discover: true
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input}
      - {name: y, role: output}
    frames:
      - twin_in/{partition}/plant/{asset}/frame
)",
                                             "replica.yaml");
  EXPECT_TRUE(r.ok());
  config::Config c = *r.config;
  EXPECT_EQ(resolve_member(c, ""), "");
  return c;
}

// A replica's ownership, status topic and subscriptions stand on its cluster section: a reload
// that changes it is refused, and the replica goes on reading the others' announcements.
TEST(Daemon, AReloadThatChangesTheClusterSectionIsRefused) {
  const config::Config replica = replica_r1();
  Driven f(replica);
  f.advance(0.1);
  ASSERT_TRUE(f.broker.retained("twin/members/r1"));
  config::Config alone = replica;
  alone.cluster.reset();
  f.sut.reload(alone);
  ASSERT_TRUE(f.advance_until([&] { return f.sut.counters().reloads_refused == 1; }));
  EXPECT_EQ(f.sut.counters().reloads, 0u);
  // Still a replica: another member taking partitions is read as one, and r1 lets go of those
  // that are r2's (with two members, one or two of the three) and says so.
  const std::size_t before = f.broker.messages_on("twin/members/r1").size();
  f.broker.publish(
      "twin/members/r2",
      R"({"state":"online","member":"r2","seq":1,"run":7,"holds":[],"taking":[0,1,2]})", 1, true);
  ASSERT_TRUE(
      f.advance_until([&] { return f.broker.messages_on("twin/members/r1").size() > before; }));
}

TEST(Daemon, AReloadToAnotherTickRestartsTheGridAtTheNewPeriod) {
  Driven f;
  f.advance(0.1);
  f.sut.reload(seed_ticking(0.2));
  f.broker.clear_messages();
  f.advance(0.8);
  const auto states = f.broker.messages_on("twin/state");
  ASSERT_EQ(states.size(), 4u);
  for (const auto& s : states) {
    const double ts = json::parse(s.payload)["ts"].get<double>();
    EXPECT_NEAR(std::remainder(ts, 0.2), 0.0, 1e-6) << ts;
  }
}

TEST(Daemon, HealthzJudgesTheEngineLoopByTheTickInForceAfterAReload) {
  Driven f;
  f.advance(0.1);
  f.sut.reload(seed_ticking(2.0));
  f.poll();
  const auto snap = f.sut.snapshot();
  EXPECT_EQ(snap->tick, 2.0);
  // 1.5 s without a tick: overdue at the old 0.05 s tick (3 ticks + 1 s), not at the new 2 s.
  const HttpSnapshot h = http_view(snap, snap->ts + 1.5);
  EXPECT_TRUE(h.healthy) << h.health_detail;
  const HttpSnapshot stuck = http_view(snap, snap->ts + 7.5);
  EXPECT_FALSE(stuck.healthy);
  EXPECT_NE(stuck.health_detail.find("has not ticked"), std::string::npos) << stuck.health_detail;
}

TEST(Daemon, HealthzIsUnhealthyWhileDisconnected) {
  Driven f;
  f.advance(0.1);
  f.broker.take_down();
  f.advance(0.05);
  const HttpSnapshot h = http_view(f.sut.snapshot(), f.now);
  EXPECT_FALSE(h.healthy);
  EXPECT_EQ(h.health_detail, "not connected to the broker");
}

TEST(Daemon, NothingIsDoneAfterAStop) {
  Driven f;
  f.poll();
  f.sut.stop();
  f.broker.publish("plant/u", "1");
  EXPECT_FALSE(f.poll());
  f.now += 1.0;
  EXPECT_FALSE(f.poll());
  EXPECT_EQ(f.sut.counters().ticks, 0u);
}

DaemonOptions quick_publish_check() {
  DaemonOptions o;
  o.publish_check_timeout = 0.2;
  return o;
}

bool has_filter(const mqtt::FakeClient& c, const std::string& f) {
  for (const auto& [filter, qos] : c.filters()) {
    if (filter == f) return true;
  }
  return false;
}

TEST(Daemon, PublicationsTheBrokerAcknowledgesButDropsAreReportedPerTopic) {
  Driven f(fast_seed(), quick_publish_check(), {"twin/state"});

  ASSERT_TRUE(f.advance_until([&] { return f.sut.counters().publish_denied_topics == 1; }));
  f.advance(0.3);  // the status, also watched, is delivered: still one
  EXPECT_EQ(f.sut.counters().publish_denied_topics, 1U);
  EXPECT_TRUE(f.broker.messages_on("twin/state").empty());
  EXPECT_NE(f.sut.snapshot()->metrics.find("twind_publish_denied_topics 1\n"), std::string::npos);
}

TEST(Daemon, OwnMessagesComingBackAreNeitherTelemetryNorADenial) {
  Driven f(fast_seed(), quick_publish_check());
  ASSERT_TRUE(has_filter(*f.client, "twin/status"));
  ASSERT_TRUE(has_filter(*f.client, "twin/state"));
  ASSERT_TRUE(has_filter(*f.client, "twin/alert"));

  ASSERT_TRUE(f.advance_until([&] { return f.broker.messages_on("twin/state").size() >= 10; }));

  EXPECT_EQ(f.sut.counters().publish_denied_topics, 0U);
  const std::string metrics = f.sut.snapshot()->metrics;
  EXPECT_NE(metrics.find("reason=\"unknown_topic\"} 0\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("twind_messages_total 0\n"), std::string::npos) << metrics;
}

TEST(Daemon, AlertTopicDeniedIsReportedOnceAnAlertIsPublished) {
  Driven f(fast_seed(), quick_publish_check(), {"twin/alert"});
  f.advance(0.4);
  EXPECT_EQ(f.sut.counters().publish_denied_topics, 0U);  // nothing published there yet

  f.broker.publish("plant/u", "1");
  f.broker.publish("plant/y", "1");
  f.broker.publish("plant/y", "3");  // raises the divergence alert

  ASSERT_TRUE(f.advance_until([&] { return f.sut.counters().publish_denied_topics == 1; }));
}

// A broker that acknowledged and dropped twind's publications for a while (an ACL, or a clustered
// broker electing leaders) and then delivers again: the alerts of that gap are published once
// more, and those before it are not. Diagnosis is off: it is computed on a thread of its own, so
// whether its message falls in the gap would depend on the machine's timing.
TEST(Daemon, TheAlertsOfAGapInDeliveryArePublishedOnceMoreWhenDeliveryResumes) {
  config::Config c = fast_seed();
  for (auto& a : c.assets) a.diagnose.enabled = false;
  Driven f(c, quick_publish_check());
  ASSERT_TRUE(f.advance_until([&] { return f.broker.messages_on("twin/state").size() >= 3; }));
  f.broker.publish("plant/u", "1");
  f.broker.publish("plant/y", "1");
  f.broker.publish("plant/y", "3");  // raised, delivered
  ASSERT_TRUE(f.advance_until([&] { return f.broker.messages_on("twin/alert").size() == 1; }));
  f.advance(0.2);

  f.broker.deny_publish("twin/#");
  f.broker.publish("plant/y", "1");  // cleared, dropped
  f.broker.publish("plant/y", "3");  // raised again, dropped
  ASSERT_TRUE(f.advance_until([&] { return f.sut.counters().publish_denied_topics >= 1; }));
  EXPECT_EQ(f.broker.messages_on("twin/alert").size(), 1U);

  f.broker.allow_publish();
  ASSERT_TRUE(f.advance_until([&] { return f.sut.counters().publish_denied_topics == 0; }));
  f.advance(0.2);
  std::vector<std::string> divergence;  // (the plant, silent since, raises `stale` too)
  for (const auto& m : f.broker.messages_on("twin/alert")) {
    if (m.payload.find(R"("id":"divergence")") != std::string::npos)
      divergence.push_back(m.payload);
  }
  ASSERT_EQ(divergence.size(), 3U);  // the first, then the two of the gap, once each
  EXPECT_NE(divergence[1].find(R"("state":"cleared")"), std::string::npos) << divergence[1];
  EXPECT_NE(divergence[2].find(R"("state":"raised")"), std::string::npos) << divergence[2];
  EXPECT_NE(f.sut.snapshot()->metrics.find("twind_publish_republished_total 2\n"),
            std::string::npos);
}

TEST(Daemon, ADiscoveredFleetWatchesItsFirstAssetsTopics) {
  config::Config c = testing::fleet_config();
  c.tick = 0.05;
  Driven f(c, quick_publish_check(), {"twin/+/state"});
  EXPECT_FALSE(has_filter(*f.client, "twin/p1/state"));

  f.broker.publish("plant/p1/frame", R"({"u": 1, "y": 1})");
  f.broker.publish("plant/p2/frame", R"({"u": 1, "y": 1})");

  ASSERT_TRUE(f.advance_until([&] { return f.sut.counters().publish_denied_topics == 1; }));
  EXPECT_TRUE(has_filter(*f.client, "twin/p1/state"));
  EXPECT_TRUE(has_filter(*f.client, "twin/p1/alert"));
  EXPECT_FALSE(has_filter(*f.client, "twin/p2/state"));
}

// The publication check of a replica watches an asset it holds: when it lets the watched asset
// go (another replica takes its partition), it watches one it kept, whose states go on.
TEST(Daemon, AReplicaLettingTheWatchedAssetGoWatchesOneItKeeps) {
  const config::Config replica = replica_r1();
  Driven f(replica, quick_publish_check());
  const auto holds = [&](int n) {
    return f.sut.snapshot()->metrics.find("twind_cluster_partitions_held " + std::to_string(n) +
                                          "\n") != std::string::npos;
  };
  ASSERT_TRUE(f.advance_until([&] { return holds(3); }));
  // a2 first (partition 0), then one asset of every partition.
  for (const char* id : {"a2", "a1", "a3", "a6"}) {  // partitions 0, 1, 2, 1
    const std::string p = std::to_string(core::partition_of(id, 3));
    f.broker.publish("twin_in/" + p + "/plant/" + id + "/frame", R"({"u": 1, "y": 1})");
  }
  f.advance(0.2);
  ASSERT_TRUE(has_filter(*f.client, "twin/a2/state"));
  // r2 takes its share: with r1 and r2, partition 0 (a2's) is r2's.
  f.broker.publish(
      "twin/members/r2",
      R"({"state":"online","member":"r2","seq":1,"run":7,"holds":[],"taking":[0,1,2]})", 1, true);
  ASSERT_TRUE(f.advance_until([&] { return holds(1) || holds(2); }));
  f.advance(0.2);
  const auto held = [&](const std::string& id) {
    for (const auto& [asset, state] : f.sut.snapshot()->states) {
      if (asset == id) return true;
    }
    return false;
  };
  ASSERT_FALSE(held("a2"));
  EXPECT_FALSE(has_filter(*f.client, "twin/a2/state"));
  EXPECT_FALSE(has_filter(*f.client, "twin/a2/alert"));
  std::string watched;
  for (const char* id : {"a1", "a3", "a6"}) {
    if (has_filter(*f.client, std::string("twin/") + id + "/state")) watched = id;
  }
  ASSERT_FALSE(watched.empty());
  EXPECT_TRUE(held(watched));
  EXPECT_TRUE(has_filter(*f.client, "twin/" + watched + "/alert"));
  f.advance(1.0);  // its states come back: nothing reported
  EXPECT_EQ(f.sut.counters().publish_denied_topics, 0U);
}

// Replica r1 holding every partition, with `n` assets a0 .. whose twins have started.
struct ReplicaWithFleet {
  explicit ReplicaWithFleet(int n, const config::Config& c = without_diagnoses()) : f(c) {
    const bool held = f.advance_until([&] {
      return f.sut.snapshot()->metrics.find("twind_cluster_partitions_held 3\n") !=
             std::string::npos;
    });
    EXPECT_TRUE(held);
    for (int i = 0; i < n; ++i) ids.push_back("a" + std::to_string(i));
    frames(R"({"u": 1, "y": 1})");
    f.advance(0.1);
  }
  static config::Config without_diagnoses() {
    config::Config c = replica_r1();
    for (auto& a : c.assets) {
      a.diagnose.enabled = false;  // no QoS 1 diagnoses at odd times
      for (auto& s : a.signals) {
        if (s.name == "y") s.threshold = 0.5;
      }
    }
    return c;
  }
  void frames(const std::string& payload) {
    for (const std::string& id : ids) {
      const std::string p = std::to_string(core::partition_of(id, 3));
      f.broker.publish("twin_in/" + p + "/plant/" + id + "/frame", payload);
    }
  }
  [[nodiscard]] std::size_t records() const {
    return f.broker.messages_on("twin/active_alerts/#").size();
  }
  Driven f;
  std::vector<std::string> ids;
};

// nats-server stores each retained message before it reads on from the connection: a replica's
// alert records go out one at a time, each once no QoS 1 message of its own awaits
// acknowledgement, and each alert right behind its asset's record.
TEST(Daemon, AReplicasRecordsGoOutOneAtATimeAndEachAlertBehindItsRecord) {
  ReplicaWithFleet r(40);
  r.f.broker.hold_acks();
  r.frames(R"({"u": 1, "y": 3})");  // 40 divergences raised
  r.f.advance(0.1);
  const auto alerts = [&] { return r.f.broker.messages_on("twin/+/alert").size(); };
  EXPECT_EQ(r.records(), 1U);  // the first record and its alert await acknowledgement
  EXPECT_EQ(alerts(), 1U);
  EXPECT_EQ(r.f.sut.counters().records_waiting, 39U);
  EXPECT_NE(r.f.sut.snapshot()->metrics.find("twind_cluster_records_waiting 39\n"),
            std::string::npos);

  for (const std::size_t sent : {2U, 3U}) {
    r.f.broker.release_acks();
    r.f.advance(0.1);
    EXPECT_EQ(r.records(), sent);
    EXPECT_EQ(alerts(), sent);
  }
  r.f.broker.release_acks(true);  // acknowledged at once from now on: one record per poll
  EXPECT_TRUE(r.f.advance_until([&] { return r.records() == 40U; }));
  EXPECT_EQ(alerts(), 40U);
  EXPECT_EQ(r.f.sut.counters().records_waiting, 0U);
  // Each asset's record, then its alert.
  const std::vector<mqtt::FakeMessage> sent = r.f.broker.messages();
  for (const std::string& id : r.ids) {
    const auto at = [&](std::string_view filter) {
      return std::find_if(sent.begin(), sent.end(),
                          [&](const auto& m) { return mqtt::topic_matches(filter, m.topic); }) -
             sent.begin();
    };
    const std::string p = std::to_string(core::partition_of(id, 3));
    const auto record = at("twin/active_alerts/" + p + "/" + id);
    ASSERT_LT(record, static_cast<std::ptrdiff_t>(sent.size())) << id;
    EXPECT_EQ(at("twin/" + id + "/alert"), record + 1) << id;
    const mqtt::FakeMessage& m = sent[static_cast<std::size_t>(record)];
    EXPECT_TRUE(m.retained);
    EXPECT_NE(m.payload.find(R"("id":"divergence")"), std::string::npos);
  }
}

// nats-server gives up storing a message after 4 s and acknowledges it all the same: a record
// and its alert acknowledged 2 s or more after they went out are sent once more; acknowledged
// sooner, once.
TEST(Daemon, AReplicaSendsARecordAndItsAlertOnceMoreWhenTheBrokerAcknowledgesThemLate) {
  for (const double held : {0.5, 2.5}) {
    SCOPED_TRACE(held);
    ReplicaWithFleet r(1);
    const auto alerts = [&] { return r.f.broker.messages_on("twin/+/alert").size(); };
    r.f.broker.hold_acks();
    r.frames(R"({"u": 1, "y": 3})");  // a0's divergence raised: its record, then the alert
    r.f.advance(0.1);
    ASSERT_EQ(r.records(), 1U);
    ASSERT_EQ(alerts(), 1U);
    r.f.advance(held - 0.1);
    EXPECT_EQ(r.records(), 1U);  // nothing more while they await acknowledgement
    r.f.broker.release_acks(true);
    r.f.advance(0.5);
    const std::size_t times = held >= 2.0 ? 2U : 1U;
    EXPECT_EQ(r.records(), times);
    EXPECT_EQ(alerts(), times);
    EXPECT_EQ(r.f.sut.counters().records_resent, times == 2U ? 2U : 0U);
    const std::vector<mqtt::FakeMessage> sent = r.f.broker.messages();
    std::vector<std::string> order;
    for (const auto& m : sent) {
      if (m.topic.starts_with("twin/active_alerts/")) order.push_back("record");
      if (m.topic == "twin/a0/alert") {
        order.push_back("alert");
        EXPECT_NE(m.payload.find(R"("state":"raised")"), std::string::npos);
      }
    }
    const std::vector<std::string> once{"record", "alert"};
    std::vector<std::string> expected = once;
    if (times == 2U) expected.insert(expected.end(), once.begin(), once.end());
    EXPECT_EQ(order, expected);
  }
}

// A replica cut off from the broker hears nothing through no fault of the plants, and lets its
// twins go when it reconnects: it raises no `stale` meanwhile, where a twind alone would.
TEST(Daemon, AReplicaCutOffFromTheBrokerRaisesNoStaleOnItsTwins) {
  config::Config c = ReplicaWithFleet::without_diagnoses();
  for (auto& a : c.assets) {
    for (auto& s : a.signals) {
      if (s.name == "y") s.stale_after = 1.0;
    }
  }
  ReplicaWithFleet r(3, c);  // a0 .. a2, twins started 0.1 s ago
  Driven& f = r.f;
  f.advance(0.4);
  const double cut_at = f.now;
  f.broker.take_down();
  f.advance(3.0);  // three times stale_after
  ASSERT_GE(f.now - cut_at, 3.0 - 1e-9);
  f.broker.bring_up();
  f.advance(0.2);
  const std::uint64_t raised = f.sut.snapshot()->alerts;
  EXPECT_EQ(raised, 0U);
  for (const auto& m : f.broker.messages_on("twin/+/alert")) ADD_FAILURE() << m.payload;
}

// A replica that reconnects lets every twin go and says the records of those with alerts once
// more: its announcement goes out first, so that the others hear of it without waiting for them.
TEST(Daemon, AReconnectingReplicaAnnouncesItselfBeforeTheRecordsOfTheTwinsItLetsGo) {
  ReplicaWithFleet r(40);
  r.frames(R"({"u": 1, "y": 3})");
  ASSERT_TRUE(r.f.advance_until([&] { return r.records() == 40U; }));
  r.f.broker.take_down();
  r.f.advance(0.1);
  r.f.broker.clear_messages();
  r.f.broker.bring_up();
  ASSERT_TRUE(r.f.advance_until([&] { return r.records() == 40U; }));
  const std::vector<mqtt::FakeMessage> sent = r.f.broker.messages();
  const auto first = [&](std::string_view filter) {
    return std::find_if(sent.begin(), sent.end(),
                        [&](const auto& m) { return mqtt::topic_matches(filter, m.topic); }) -
           sent.begin();
  };
  EXPECT_LT(first("twin/members/r1"), first("twin/active_alerts/#"));
}

TEST(Daemon, WithoutTheCheckNothingOfItsOwnIsSubscribedOrReported) {
  config::Config c = fast_seed();
  c.broker.check_publish = false;
  Driven f(c, quick_publish_check(), {"twin/state"});
  ASSERT_TRUE(f.advance_until([&] { return f.sut.counters().ticks >= 10; }));

  EXPECT_EQ(f.sut.counters().publish_denied_topics, 0U);
  EXPECT_FALSE(has_filter(*f.client, "twin/status"));
  EXPECT_FALSE(has_filter(*f.client, "twin/state"));
}

TEST(Daemon, StatusPayloadNamesStateVersionAndTime) {
  const json j = json::parse(Daemon::status_payload("offline", 12.5));
  EXPECT_EQ(j["state"], "offline");
  EXPECT_FALSE(j["version"].get<std::string>().empty());
  EXPECT_EQ(j["ts"], 12.5);
}

// run(), the real loop: the daemon on its own thread and the wall clock, until the fixture ends.
struct Running {
  explicit Running(const config::Config& c = fast_seed())
      : client(broker.make_client()), sut(c, *client) {
    client->start(sut);
    thread = std::thread([this] { sut.run(); });
  }
  ~Running() {
    sut.stop();
    thread.join();
  }
  // Waits (bounded) until `pred` holds.
  template <class Pred>
  static bool eventually(Pred pred, std::chrono::milliseconds limit = 3000ms) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
      if (pred()) return true;
      std::this_thread::sleep_for(5ms);
    }
    return pred();
  }

  mqtt::FakeBroker broker;
  std::unique_ptr<mqtt::FakeClient> client;
  Daemon sut;
  std::thread thread;
};

TEST(DaemonRun, TicksOnTheWallClockAndAnswersTelemetryUntilStopped) {
  Running f;
  ASSERT_TRUE(Running::eventually([&] { return f.broker.messages_on("twin/state").size() >= 4; }));
  f.broker.publish("plant/u", "1");
  f.broker.publish("plant/y", "1");
  f.broker.publish("plant/y", "3");
  ASSERT_TRUE(Running::eventually([&] { return !f.broker.messages_on("twin/alert").empty(); }));
  ASSERT_TRUE(Running::eventually([&] { return f.sut.snapshot()->messages == 3; }));
  EXPECT_EQ(json::parse(f.broker.retained("twin/status")->payload)["state"], "online");
}

// Reconnections (on the thread that brings the broker up) while reloads change the topics (on
// the engine thread): the threads share nothing but the inbox and the snapshot, which the
// ThreadSanitizer build checks.
TEST(DaemonRun, ReconnectionsDuringReloadsShareNoStateWithTheEngineThread) {
  Running f;
  for (int i = 0; i < 40; ++i) {
    config::Config next = fast_seed();
    next.topics.status = i % 2 == 0 ? "twin/status2" : "twin/status";
    next.assets[0].signals[0].topic = i % 2 == 0 ? "plant/u2" : "plant/u";
    f.sut.reload(next);
    f.broker.take_down();
    f.broker.bring_up();
  }
  ASSERT_TRUE(Running::eventually([&] { return f.sut.snapshot()->counters.reloads == 40; }));
  EXPECT_EQ(f.client->stats().connects, 41u);
}

}  // namespace
}  // namespace twind::app
