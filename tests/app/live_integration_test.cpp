// The live daemon against a real broker: Debian's mosquitto on a free loopback port, twind and
// twin-sim as child processes, observed by an independent subscriber. Label: integration.
#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "support/mosquitto.hpp"
#include "support/process.hpp"
#include "support/subscriber.hpp"

namespace twind::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

const std::string kTwind = std::string(TWIND_BINARY_DIR) + "/twind";
const std::string kSim = std::string(TWIND_BINARY_DIR) + "/twin-sim";
const std::string kSeed = std::string(TWIND_SOURCE_DIR) + "/config/twind.yaml";

std::string read_file(const std::string& path) {
  std::ifstream f(path);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

// The seed configuration with its y threshold (and clear threshold) replaced.
std::string seed_with_threshold(double threshold) {
  std::string text = read_file(kSeed);
  text = std::regex_replace(text, std::regex("threshold: 0\\.15"),
                            "threshold: " + std::to_string(threshold));
  return std::regex_replace(text, std::regex("clear_threshold: 0\\.1\\b"),
                            "clear_threshold: " + std::to_string(threshold * 0.5));
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

std::vector<json> parsed(const Subscriber& sub, const std::string& topic) {
  std::vector<json> out;
  for (const std::string& p : sub.payloads(topic)) out.push_back(json::parse(p));
  return out;
}

// Arrange: a broker, an observer on twin/#, and twind on the broker with the given config file.
struct Live {
  explicit Live(const std::string& config = kSeed)
      : sub(broker.uri(), {"twin/#"}),
        twind({kTwind, "run", "-c", config, "--broker", broker.uri(), "--http", "off"},
              {.env = {}, .dir = dir.path(), .name = "twind"}) {
    EXPECT_TRUE(twind.wait_for_line("connected to the broker", 10s, true)) << twind.stderr_text();
  }
  Mosquitto broker;
  TempDir dir;
  Subscriber sub;
  Process twind;
};

TEST(LiveDaemon, PublishesAStateOnEveryTickAndARetainedOnlineStatus) {
  Live f;
  ASSERT_TRUE(f.sub.wait_for_count("twin/state", 4, 5s)) << f.twind.stderr_text();
  const auto states = parsed(f.sub, "twin/state");
  for (std::size_t i = 1; i < states.size(); ++i) {
    EXPECT_EQ(states[i]["seq"], states[i - 1]["seq"].get<int>() + 1);
    EXPECT_NEAR(states[i]["ts"].get<double>() - states[i - 1]["ts"].get<double>(), 0.5, 1e-6);
  }
  EXPECT_EQ(states[0]["status"], "starting");
  ASSERT_TRUE(f.sub.wait_for_count("twin/status", 1, 2s));
  EXPECT_EQ(json::parse(f.sub.payloads("twin/status").back())["state"], "online");
}

TEST(LiveDaemon, WearInjectedByTwinSimRaisesTheAlertWithinHalfASecondAndNoneBefore) {
  Live f;
  Process sim({kSim, "--broker", f.broker.uri(), "--duration", "3.5", "--wear-at", "2"},
              {.env = {}, .dir = f.dir.path(), .name = "twin-sim"});
  const auto wear_line = sim.wait_for_line("wear injected", 10s);
  ASSERT_TRUE(wear_line) << sim.stdout_text();
  std::smatch m;
  ASSERT_TRUE(std::regex_search(*wear_line, m, std::regex("unix time ([0-9.]+)")));
  const double wear = std::stod(m[1]);
  ASSERT_TRUE(f.sub.wait_for_count("twin/alert", 1, 5s)) << f.twind.stderr_text();
  ASSERT_TRUE(sim.wait_exit(10s));

  const auto alerts = parsed(f.sub, "twin/alert");
  EXPECT_EQ(alerts[0]["id"], "divergence");
  EXPECT_EQ(alerts[0]["state"], "raised");
  const double delay = alerts[0]["ts"].get<double>() - wear;
  EXPECT_GT(delay, 0.0);
  EXPECT_LE(delay, 0.5);
  // Before the wear the twin tracked the plant: every state with data was ok.
  for (const json& s : parsed(f.sub, "twin/state")) {
    if (s["ts"].get<double>() < wear) {
      EXPECT_NE(s["status"], "alert") << s.dump();
    }
  }
}

TEST(LiveDaemon, BrokerKilledAndRestartedTheDaemonReconnectsAndDeliversTheOutagesAlert) {
  Live f;
  f.sub.publish("plant/u", "1");
  f.sub.publish("plant/y", "1");
  ASSERT_TRUE(f.sub.wait_for(
      [](const auto& ms) {
        for (const Received& r : ms) {
          if (r.topic == "twin/state" && r.payload.find("\"status\":\"ok\"") != std::string::npos) {
            return true;
          }
        }
        return false;
      },
      5s));

  f.broker.kill9();
  // With the broker gone no telemetry arrives: y goes stale 1.5 s later and the stale alert is
  // raised while twind cannot publish it.
  ASSERT_TRUE(f.twind.wait_for_line("ALERT: stale", 5s, true)) << f.twind.stderr_text();
  f.broker.restart();
  Subscriber after(f.broker.uri(), {"twin/#"});  // joins before twind's backoff brings it back

  ASSERT_TRUE(after.wait_for_count("twin/alert", 1, 15s)) << f.twind.stderr_text();
  const json alert = json::parse(after.payloads("twin/alert").front());
  EXPECT_EQ(alert["id"], "stale");
  EXPECT_EQ(alert["state"], "raised");
  EXPECT_TRUE(after.wait_for_count("twin/state", 2, 5s));  // publishing resumed
  EXPECT_TRUE(after.wait_for(
      [](const auto& ms) {
        for (const Received& r : ms) {
          if (r.topic == "twin/status" && r.payload.find("online") != std::string::npos)
            return true;
        }
        return false;
      },
      5s));
}

TEST(LiveDaemon, AFailureToReconnectAfterAConnectionIsReportedAgainInFull) {
  Mosquitto broker({.port = 0,
                    .persistence = false,
                    .allow_anonymous = true,
                    .prelude = {},
                    .extra_config = {},
                    .start = false});
  TempDir dir;
  Process twind({kTwind, "run", "-c", kSeed, "--broker", broker.uri(), "--http", "off"},
                {.env = {}, .dir = dir.path(), .name = "twind"});
  ASSERT_TRUE(twind.wait_for_line("cannot reach the broker", 10s, true)) << twind.stderr_text();
  broker.start();
  ASSERT_TRUE(twind.wait_for_line("connected to the broker", 15s, true)) << twind.stderr_text();

  broker.kill9();
  // The same cause as before the connection, within the minute: a new failure all the same.
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  auto reports = [&] {
    const std::string log = twind.stderr_text();
    std::size_t n = 0;
    for (auto at = log.find("error cannot reach the broker"); at != std::string::npos;
         at = log.find("error cannot reach the broker", at + 1)) {
      ++n;
    }
    return n;
  };
  while (reports() < 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(reports(), 2U) << twind.stderr_text();
  EXPECT_EQ(twind.stderr_text().find("still cannot reach"), std::string::npos)
      << twind.stderr_text();
}

TEST(LiveDaemon, KilledWithSigkillTheBrokerPublishesTheOfflineWill) {
  Live f;
  ASSERT_TRUE(f.sub.wait_for_count("twin/status", 1, 5s));
  f.twind.signal(SIGKILL);
  // Mosquitto notices the dead connection (socket closed) and publishes the will.
  ASSERT_TRUE(f.sub.wait_for_count("twin/status", 2, 10s));
  EXPECT_EQ(json::parse(f.sub.payloads("twin/status").back())["state"], "offline");
}

TEST(LiveDaemon, SigtermExitsZeroWithinTwoSecondsAfterPublishingOffline) {
  Live f;
  ASSERT_TRUE(f.sub.wait_for_count("twin/status", 1, 5s));
  const auto start = std::chrono::steady_clock::now();
  f.twind.signal(SIGTERM);
  const auto status = f.twind.wait_exit(3s);
  ASSERT_TRUE(status.has_value());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  EXPECT_TRUE(status->exited);
  EXPECT_EQ(status->code, 0);
  ASSERT_TRUE(f.sub.wait_for_count("twin/status", 2, 2s));
  EXPECT_EQ(json::parse(f.sub.payloads("twin/status").back())["state"], "offline");
}

TEST(LiveDaemon, SighupAppliesANewThresholdWithoutReconnectingAndRefusesAnInvalidFile) {
  TempDir cfg;
  const std::string path = cfg.path() + "/twind.yaml";
  write_file(path, seed_with_threshold(0.15));
  Live f(path);
  f.sub.publish("plant/u", "1");
  f.sub.publish("plant/y", "1");

  write_file(path, seed_with_threshold(5.0));
  f.twind.signal(SIGHUP);
  ASSERT_TRUE(f.twind.wait_for_line("reload: plant: y.threshold 0.15 -> 5", 5s, true))
      << f.twind.stderr_text();
  f.sub.publish("plant/y", "3");  // residual about 2: above 0.15, below 5
  std::this_thread::sleep_for(500ms);
  EXPECT_TRUE(f.sub.payloads("twin/alert").empty());

  write_file(path, "tick: 500\n");  // invalid: refused, the running configuration stays
  f.twind.signal(SIGHUP);
  ASSERT_TRUE(f.twind.wait_for_line("reload refused", 5s, true)) << f.twind.stderr_text();
  f.sub.publish("plant/y", "9");  // residual about 8 > 5
  ASSERT_TRUE(f.sub.wait_for_count("twin/alert", 1, 5s)) << f.twind.stderr_text();

  const std::string log = f.twind.stderr_text();
  std::size_t connects = 0;
  for (auto p = log.find("connected to the broker"); p != std::string::npos;
       p = log.find("connected to the broker", p + 1)) {
    ++connects;
  }
  EXPECT_EQ(connects, 1u) << log;
}

}  // namespace
}  // namespace twind::testing
