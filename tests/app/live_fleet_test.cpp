// A fleet live against a real broker (Debian's mosquitto on a free loopback port): twind with
// config/fleet.yaml discovers the assets that publish, and a model swapped by command under
// traffic leaves every other asset's state stream whole. Label: integration.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support/mosquitto.hpp"
#include "support/paths.hpp"
#include "support/process.hpp"
#include "support/subscriber.hpp"

namespace twind::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

double wall_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Healthy seed plants at their steady state y = u = 1, each publishing a frame every 50 ms.
class Traffic {
 public:
  Traffic(Subscriber& peer, std::vector<std::string> assets)
      : peer_(peer), assets_(std::move(assets)), thread_([this] { run(); }) {}
  ~Traffic() { stop(); }
  void stop() {
    running_ = false;
    if (thread_.joinable()) thread_.join();
  }

 private:
  void run() {
    while (running_) {
      for (const std::string& a : assets_) {
        char frame[96];
        std::snprintf(frame, sizeof frame, R"({"ts": %.6f, "u": 1, "y": 1})", wall_now());
        peer_.publish("plant/" + a + "/frame", frame, 0);
      }
      std::this_thread::sleep_for(50ms);
    }
  }
  Subscriber& peer_;
  std::vector<std::string> assets_;
  std::atomic<bool> running_{true};
  std::thread thread_;
};

TEST(LiveFleet, ModelSwappedByCommandUnderTrafficLeavesTheOtherAssetsStreamsWhole) {
  Mosquitto broker;
  TempDir dir;
  Subscriber peer(broker.uri(), {"twin/#"});
  Process twind({kTwind, "run", "-c", kFleet, "--broker", broker.uri(), "--http", "off"},
                {.env = {}, .dir = dir.path(), .name = "twind"});
  ASSERT_TRUE(twind.wait_for_line("connected to the broker", 10s, true)) << twind.stderr_text();
  const std::vector<std::string> assets{"a1", "a2", "a3", "a4", "a5"};
  Traffic traffic(peer, assets);
  // Every asset discovered and past its start (status ok on its own state topic).
  ASSERT_TRUE(peer.wait_for(
      [&](const std::vector<Received>& all) {
        std::set<std::string> ok;
        for (const Received& m : all) {
          if (m.topic.ends_with("/state") &&
              m.payload.find("\"status\":\"ok\"") != std::string::npos) {
            ok.insert(m.topic);
          }
        }
        return ok.size() == assets.size();
      },
      5s))
      << twind.stderr_text();

  peer.publish("twin/a1/cmd", R"({"id": "swap-1", "command": "set_model", "model":
      {"name": "first-order-lag", "version": "2", "A": [[-1]], "B": [[1]], "C": [[1]]}})");
  // An id that tries to start a log line of its own.
  peer.publish("twin/ghost/cmd", R"({"id": "who\n[error] forged", "command": "get_model"})");
  ASSERT_TRUE(peer.wait_for_count("twin/a1/cmd/reply", 1, 5s)) << twind.stderr_text();
  ASSERT_TRUE(peer.wait_for_count("twin/ghost/cmd/reply", 1, 5s)) << twind.stderr_text();
  // Traffic goes on after the swap: every asset publishes three more states (the swapped one under
  // its new model) before the streams are checked.
  std::map<std::string, std::size_t> at_reply;
  for (const std::string& a : assets) at_reply[a] = peer.payloads("twin/" + a + "/state").size();
  ASSERT_TRUE(peer.wait_for(
      [&](const std::vector<Received>& all) {
        std::map<std::string, std::size_t> states;
        for (const Received& m : all) ++states[m.topic];
        for (const std::string& a : assets) {
          if (states["twin/" + a + "/state"] < at_reply[a] + 3) return false;
        }
        return true;
      },
      10s))
      << twind.stderr_text();
  traffic.stop();

  const json reply = json::parse(peer.payloads("twin/a1/cmd/reply").at(0));
  EXPECT_EQ(reply["ok"], true) << reply.dump();
  EXPECT_EQ(reply["id"], "swap-1");
  EXPECT_EQ(reply["model"]["version"], "2");
  EXPECT_EQ(reply["state"], "kept");
  const json ghost = json::parse(peer.payloads("twin/ghost/cmd/reply").at(0));
  EXPECT_EQ(ghost["ok"], false);
  EXPECT_EQ(ghost["error"], "unknown asset ghost");
  EXPECT_EQ(ghost["id"], "who\n[error] forged");
  ASSERT_EQ(peer.payloads("twin/a1/model").size(), 1u);
  EXPECT_EQ(json::parse(peer.payloads("twin/a1/model")[0])["cause"], "command");

  for (const std::string& a : assets) {
    const std::vector<std::string> states = peer.payloads("twin/" + a + "/state");
    ASSERT_GE(states.size(), 4u) << a;
    bool swapped = false;
    for (std::size_t i = 0; i < states.size(); ++i) {
      const json s = json::parse(states[i]);
      // No state lost or repeated: the seq of each asset's stream goes up by one.
      EXPECT_EQ(s["seq"], i + 1) << a << " " << states[i];
      if (i > 0) {
        EXPECT_NE(s["status"], "starting") << a << " " << states[i];
      }
      EXPECT_NE(s["status"], "alert") << a << " " << states[i];
      const std::string version = s["model"]["version"];
      if (a != "a1") {
        EXPECT_EQ(version, "1") << a;
      }
      if (swapped) {
        EXPECT_EQ(version, "2") << "a swap is never undone";
      }
      swapped = swapped || version == "2";
    }
    EXPECT_EQ(swapped, a == "a1") << a;
  }
  EXPECT_TRUE(peer.payloads("twin/a2/model").empty());
  const std::string log = twind.stderr_text();
  EXPECT_EQ(log.find("lost the broker"), std::string::npos) << log;
  EXPECT_EQ(log.find("\n[error] forged"), std::string::npos) << log;
  EXPECT_NE(log.find("who?[error] forged"), std::string::npos) << log;
  EXPECT_NE(log.find("a1: model first-order-lag v1 -> first-order-lag v2 (command, state kept)"),
            std::string::npos)
      << log;
}

}  // namespace
}  // namespace twind::testing
