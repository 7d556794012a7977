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
  explicit Running(config::Config c = fast_seed()) : client(broker.make_client()), sut(c, *client) {
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

TEST(Daemon, StatusPayloadNamesStateVersionAndTime) {
  const json j = json::parse(Daemon::status_payload("offline", 12.5));
  EXPECT_EQ(j["state"], "offline");
  EXPECT_FALSE(j["version"].get<std::string>().empty());
  EXPECT_EQ(j["ts"], 12.5);
}

}  // namespace
}  // namespace twind::app
