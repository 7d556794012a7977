#include "twind/app/daemon.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "../support/fixtures.hpp"
#include "twind/mqtt/fake.hpp"

namespace twind::app {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

// Arrange: the seed configuration with a fast tick, a daemon on a fake broker, running on its
// own thread until the fixture ends.
struct Running {
  explicit Running(config::Config c = fast_seed(), DaemonOptions o = {},
                   const std::vector<std::string>& denied = {})
      : client(broker.make_client()), sut(c, *client, std::move(o)) {
    for (const std::string& d : denied) broker.deny_publish(d);
    client->start(sut);
    thread = std::thread([this] { sut.run(); });
  }
  ~Running() {
    sut.stop();
    thread.join();
  }
  static config::Config fast_seed() {
    config::Config c = testing::seed_config();
    c.tick = 0.05;
    return c;
  }
  // Waits (bounded) until `pred` holds.
  template <class Pred>
  bool eventually(Pred pred, std::chrono::milliseconds limit = 3000ms) {
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

TEST(Daemon, PublishesRetainedOnlineStatusWhenConnected) {
  Running f;
  const auto status = f.broker.retained("twin/status");
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(json::parse(status->payload)["state"], "online");
  EXPECT_EQ(status->qos, 1);
}

TEST(Daemon, PublishesOneStatePerTickAtQos0WithIncreasingSeq) {
  Running f;
  ASSERT_TRUE(f.eventually([&] { return f.broker.messages_on("twin/state").size() >= 4; }));
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

TEST(Daemon, DivergingMeasurementRaisesAQos1AlertImmediately) {
  Running f;
  f.broker.publish("plant/u", "1");
  f.broker.publish("plant/y", "1");
  f.broker.publish("plant/y", "3");  // the twin predicts about 1
  ASSERT_TRUE(f.eventually([&] { return !f.broker.messages_on("twin/alert").empty(); }));
  const auto alert = f.broker.messages_on("twin/alert").front();
  EXPECT_EQ(alert.qos, 1);
  const json a = json::parse(alert.payload);
  EXPECT_EQ(a["id"], "divergence");
  EXPECT_EQ(a["state"], "raised");
}

TEST(Daemon, MalformedPayloadIsCountedAndTheDaemonCarriesOn) {
  Running f;
  f.broker.publish("plant/y", "{not json");
  f.broker.publish("plant/y", "NaN");
  f.broker.publish("plant/u", "1");
  f.broker.publish("plant/y", "1");
  ASSERT_TRUE(f.eventually([&] {
    const auto s = f.sut.snapshot();
    return s->metrics.find("twind_rejected_total{reason=\"malformed\"} 2") != std::string::npos &&
           !s->states.empty() && s->states[0].second.find("\"status\":\"ok\"") != std::string::npos;
  }));
}

TEST(Daemon, AlertRaisedWhileTheBrokerIsDownIsDeliveredAfterItReturns) {
  Running f;
  f.broker.publish("plant/u", "1");
  f.broker.publish("plant/y", "1");
  f.broker.take_down();
  // No telemetry can arrive: y goes stale after 1.5 s and the alert is raised during the outage.
  ASSERT_TRUE(f.eventually(
      [&] {
        return f.sut.snapshot()->states.size() == 1 &&
               f.sut.snapshot()->states[0].second.find("\"stale\"") != std::string::npos;
      },
      4000ms));
  EXPECT_TRUE(f.broker.messages_on("twin/alert").empty());
  f.broker.bring_up();
  ASSERT_TRUE(f.eventually([&] { return !f.broker.messages_on("twin/alert").empty(); }));
  const json a = json::parse(f.broker.messages_on("twin/alert").front().payload);
  EXPECT_EQ(a["id"], "stale");
  EXPECT_EQ(a["state"], "raised");
  // Back online: the status is online again.
  EXPECT_EQ(json::parse(f.broker.retained("twin/status")->payload)["state"], "online");
}

TEST(Daemon, ReloadWithANewThresholdTakesEffectWithoutReconnecting) {
  Running f;
  f.broker.publish("plant/u", "1");
  f.broker.publish("plant/y", "1");
  config::Config next = Running::fast_seed();
  next.assets[0].signals[1].threshold = 5.0;
  next.assets[0].signals[1].clear_threshold = 4.0;
  f.sut.reload(next);
  ASSERT_TRUE(f.eventually([&] { return f.sut.counters().reloads == 1; }));
  f.broker.publish("plant/y", "3");  // residual about 2: above 0.15, below 5
  std::this_thread::sleep_for(100ms);
  EXPECT_TRUE(f.broker.messages_on("twin/alert").empty());
  EXPECT_EQ(f.client->stats().connects, 1u);
}

TEST(Daemon, ReloadWithAnUnbuildableModelIsRefusedAndTheOldConfigurationKeepsRunning) {
  Running f;
  config::Config next = Running::fast_seed();
  next.assets[0].model.b = {2, 1, {1.0, 1.0}};
  f.sut.reload(next);
  ASSERT_TRUE(f.eventually([&] { return f.sut.counters().reloads_refused == 1; }));
  f.broker.publish("plant/u", "1");
  f.broker.publish("plant/y", "1");
  f.broker.publish("plant/y", "3");
  ASSERT_TRUE(f.eventually([&] { return !f.broker.messages_on("twin/alert").empty(); }));
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
  Running f(Running::fast_seed(), quick_publish_check(), {"twin/state"});

  ASSERT_TRUE(f.eventually([&] { return f.sut.counters().publish_denied_topics == 1; }));
  std::this_thread::sleep_for(300ms);  // the status, also watched, is delivered: still one
  EXPECT_EQ(f.sut.counters().publish_denied_topics, 1U);
  EXPECT_TRUE(f.broker.messages_on("twin/state").empty());
  EXPECT_NE(f.sut.snapshot()->metrics.find("twind_publish_denied_topics 1\n"), std::string::npos);
}

TEST(Daemon, OwnMessagesComingBackAreNeitherTelemetryNorADenial) {
  Running f(Running::fast_seed(), quick_publish_check());
  ASSERT_TRUE(has_filter(*f.client, "twin/status"));
  ASSERT_TRUE(has_filter(*f.client, "twin/state"));
  ASSERT_TRUE(has_filter(*f.client, "twin/alert"));

  ASSERT_TRUE(f.eventually([&] { return f.broker.messages_on("twin/state").size() >= 10; }));

  EXPECT_EQ(f.sut.counters().publish_denied_topics, 0U);
  const std::string metrics = f.sut.snapshot()->metrics;
  EXPECT_NE(metrics.find("reason=\"unknown_topic\"} 0\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("twind_messages_total 0\n"), std::string::npos) << metrics;
}

TEST(Daemon, AlertTopicDeniedIsReportedOnceAnAlertIsPublished) {
  Running f(Running::fast_seed(), quick_publish_check(), {"twin/alert"});
  std::this_thread::sleep_for(400ms);
  EXPECT_EQ(f.sut.counters().publish_denied_topics, 0U);  // nothing published there yet

  f.broker.publish("plant/u", "1");
  f.broker.publish("plant/y", "1");
  f.broker.publish("plant/y", "3");  // raises the divergence alert

  ASSERT_TRUE(f.eventually([&] { return f.sut.counters().publish_denied_topics == 1; }));
}

TEST(Daemon, ADiscoveredFleetWatchesItsFirstAssetsTopics) {
  config::Config c = testing::fleet_config();
  c.tick = 0.05;
  Running f(c, quick_publish_check(), {"twin/+/state"});
  EXPECT_FALSE(has_filter(*f.client, "twin/p1/state"));

  f.broker.publish("plant/p1/frame", R"({"u": 1, "y": 1})");
  f.broker.publish("plant/p2/frame", R"({"u": 1, "y": 1})");

  ASSERT_TRUE(f.eventually([&] { return f.sut.counters().publish_denied_topics == 1; }));
  EXPECT_TRUE(has_filter(*f.client, "twin/p1/state"));
  EXPECT_TRUE(has_filter(*f.client, "twin/p1/alert"));
  EXPECT_FALSE(has_filter(*f.client, "twin/p2/state"));
}

TEST(Daemon, WithoutTheCheckNothingOfItsOwnIsSubscribedOrReported) {
  config::Config c = Running::fast_seed();
  c.broker.check_publish = false;
  Running f(c, quick_publish_check(), {"twin/state"});
  ASSERT_TRUE(f.eventually([&] { return f.sut.counters().ticks >= 10; }));

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

}  // namespace
}  // namespace twind::app
