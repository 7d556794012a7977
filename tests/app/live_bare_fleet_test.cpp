// Bare numbers live: twin-sim --fleet --bare publishes u on plant/<id>/u then y on plant/<id>/y
// with no ts, so that twind places every value at its arrival, against a real broker (Debian's
// mosquitto on a free loopback port), twind and twin-sim as child processes, observed by an
// independent subscriber. Label: integration.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
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

TEST(TwinSimBareFleet, PublishesEachSampleAsUThenYBareNumbersOnTheAssetsOwnTopics) {
  Mosquitto broker;
  TempDir dir;
  Subscriber peer(broker.uri(), {"plant/#"});
  // Three plants at 2 Hz for 1.4 s, spread over the period: each samples three times.
  Process sim({kSim, "--broker", broker.uri(), "--fleet", "3", "--bare", "--duration", "1.4"},
              {.env = {}, .dir = dir.path(), .name = "twin-sim"});
  const auto exit = sim.wait_exit(20s);
  ASSERT_TRUE(exit.has_value());
  EXPECT_TRUE(exit->exited && exit->code == 0) << sim.stderr_text();
  EXPECT_NE(sim.stderr_text().find("samples=9 published=18 refused=0 lost=0"), std::string::npos)
      << sim.stderr_text();
  ASSERT_TRUE(peer.wait_for([](const std::vector<Received>& all) { return all.size() >= 18; }, 5s));

  std::map<std::string, std::vector<Received>> by_asset;
  for (const Received& m : peer.messages()) by_asset[asset_of(m.topic)].push_back(m);
  ASSERT_EQ(by_asset.size(), 3u);
  for (const std::string id : {"p00000", "p00001", "p00002"}) {
    const std::vector<Received>& mine = by_asset[id];
    ASSERT_EQ(mine.size(), 6u) << id;
    for (std::size_t i = 0; i < mine.size(); ++i) {
      EXPECT_EQ(mine[i].topic, "plant/" + id + (i % 2 == 0 ? "/u" : "/y")) << id << " " << i;
      // A bare JSON number: no object, no ts.
      const json value = json::parse(mine[i].payload);
      EXPECT_TRUE(value.is_number()) << mine[i].topic << " " << mine[i].payload;
    }
    // The plant starts at the steady state of its first input: y = u.
    EXPECT_EQ(json::parse(mine[0].payload), json::parse(mine[1].payload)) << id;
  }
}

// twind joins a running fleet of healthy plants 2.3 s into it, just after every plant's input has
// stepped (at 2 s), so that each twin starts while its plant moves, from values stamped on
// arrival: twind's subscription may fall between the u and the y of a sample, and the first
// samples come in twind's start-up burst. No twin may raise a divergence, and every plant must
// have been twinned: states for all of them, with a divergence figure.
// A pause of twind itself (SIGSTOP, then SIGCONT): what the broker delivers meanwhile waits in
// the socket, and twind stamps it on arrival when it runs again, late by up to the pause.
struct Stall {
  std::chrono::milliseconds after_connected;
  std::chrono::milliseconds length;
};

// `duration`: twin-sim's run, long enough for every twin to judge at least 8 samples after the
// stalls (each stall may leave up to 6 unjudged while the plants move).
void healthy_bare_fleet_raises_no_divergence(const std::vector<Stall>& stalls, int duration) {
  constexpr int kAssets = 300;
  Mosquitto broker;
  TempDir dir;
  Subscriber peer(broker.uri(), {"twin/+/state", "twin/+/alert"});
  Process sim({kSim, "--broker", broker.uri(), "--fleet", std::to_string(kAssets), "--bare",
               "--wear-assets", "0", "--duration", std::to_string(duration), "--client-id",
               "twin-sim-bare"},
              {.env = {}, .dir = dir.path(), .name = "twin-sim"});
  ASSERT_TRUE(sim.wait_for_line("fleet of " + std::to_string(kAssets) + " plants", 10s))
      << sim.stderr_text();
  std::this_thread::sleep_for(2300ms);
  Process twind({kTwind, "run", "-c", kFleet, "--broker", broker.uri(), "--http", "off"},
                {.env = {}, .dir = dir.path(), .name = "twind"});
  ASSERT_TRUE(twind.wait_for_line("connected to the broker", 10s, true)) << twind.stderr_text();
  const auto connected = std::chrono::steady_clock::now();
  for (const Stall& stall : stalls) {
    std::this_thread::sleep_until(connected + stall.after_connected);
    twind.signal(SIGSTOP);
    std::this_thread::sleep_for(stall.length);
    twind.signal(SIGCONT);
  }
  const auto exit = sim.wait_exit(20s);
  ASSERT_TRUE(exit.has_value());
  EXPECT_TRUE(exit->exited && exit->code == 0) << sim.stderr_text();
  // The last samples' states go out within a tick; stop before the silence turns y stale (1.5 s).
  std::this_thread::sleep_for(700ms);
  twind.terminate();

  std::vector<std::string> not_stale;  // divergence or model_diverged transitions
  std::map<std::string, std::vector<json>> states;
  for (const Received& m : peer.messages()) {
    const json p = json::parse(m.payload);
    if (m.topic.ends_with("/alert") && p["id"] != "stale") not_stale.push_back(m.payload);
    if (m.topic.ends_with("/state")) states[asset_of(m.topic)].push_back(p);
  }
  EXPECT_TRUE(not_stale.empty()) << not_stale.size() << " alerts, the first: " << not_stale.front();

  // Every plant twinned: at least 8 states with a divergence figure (about 17 expected), each
  // below the threshold.
  EXPECT_EQ(states.size(), static_cast<std::size_t>(kAssets));
  std::size_t moving_at_start = 0;
  double worst = 0.0;
  std::string worst_state;
  for (const auto& [id, mine] : states) {
    std::size_t judged = 0;
    bool first = true;
    for (const json& s : mine) {
      const json& y = s["signals"]["y"];
      if (first && !y["measured"].is_null() && !s["signals"]["u"]["value"].is_null()) {
        first = false;
        const double gap = y["measured"].get<double>() - s["signals"]["u"]["value"].get<double>();
        if (std::abs(gap) > 0.05) ++moving_at_start;
      }
      if (s["divergence"].is_null()) continue;
      ++judged;
      if (s["divergence"].get<double>() > worst) {
        worst = s["divergence"].get<double>();
        worst_state = s.dump();
      }
    }
    EXPECT_GE(judged, 8u) << id;
  }
  EXPECT_LT(worst, 0.15) << worst_state;
  // The join exercised starts in motion: most plants were away from their steady state.
  EXPECT_GT(moving_at_start, static_cast<std::size_t>(kAssets / 2));
  ::testing::Test::RecordProperty("worst_divergence", std::to_string(worst));
}

TEST(LiveBareFleet, HealthyPlantsJoinedMidRunRaiseNoDivergence) {
  healthy_bare_fleet_raises_no_divergence({}, 11);
}

// twind paused for 300 ms while its twins learn their signals' rhythm, and for 400 ms (longer
// than half the plants' period) once they have: the samples of each pause come late and at once.
TEST(LiveBareFleet, HealthyPlantsRaiseNoDivergenceWhenTwindItselfStalls) {
  healthy_bare_fleet_raises_no_divergence({{1000ms, 300ms}, {5000ms, 400ms}}, 15);
}

}  // namespace
}  // namespace twind::testing
