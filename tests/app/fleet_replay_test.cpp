// A fleet end to end through replay: config/fleet.yaml's template over a recording of twin-sim's
// fleet generator, where one asset wears and the others must stay silent.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "twind/app/replay.hpp"
#include "twind/codec/recording.hpp"
#include "twind/config/loader.hpp"
#include "twind/sim/fleet.hpp"

namespace twind::app {
namespace {

using nlohmann::json;
constexpr double kT0 = 1732200000.0;

struct FleetRun {
  std::map<std::string, std::vector<json>> states;  // by topic
  std::vector<json> alerts;
  std::string output;
  ReplaySummary summary;
};

// `assets` plants at 2 Hz for `duration` seconds; the first `wearing` wear at `wear_at`.
FleetRun replay_fleet(std::size_t assets, std::size_t wearing, double wear_at, double duration,
                      double noise = 0.0) {
  const config::LoadResult cfg =
      config::load_file(std::string(TWIND_SOURCE_DIR) + "/config/fleet.yaml");
  EXPECT_TRUE(cfg.ok());
  sim::FleetOptions opt;
  opt.assets = assets;
  opt.rate = 2.0;
  opt.t0 = kT0;
  opt.wear_at = wear_at;
  opt.wear_assets = wearing;
  opt.noise_std = noise;
  sim::FleetSim fleet(opt);
  std::string rec;
  std::string payload;
  sim::FleetSample s;
  while (fleet.next_due() < kT0 + duration) {
    fleet.pop(s);
    payload.clear();
    sim::append_fleet_frame(payload, s);
    codec::append_record_line(rec, s.ts, "plant/" + fleet.asset_id(s.asset) + "/frame", payload);
  }
  std::istringstream in(rec);
  std::ostringstream out;
  FleetRun r;
  r.summary = replay(*cfg.config, in, out);
  r.output = out.str();
  std::istringstream lines(r.output);
  for (std::string l; std::getline(lines, l);) {
    const json line = json::parse(l);
    const std::string topic = line["topic"];
    const json p = line["payload"].is_string() ? json::parse(line["payload"].get<std::string>())
                                               : line["payload"];
    if (topic.ends_with("/alert")) r.alerts.push_back(p);
    if (topic.ends_with("/state")) r.states[topic].push_back(p);
  }
  return r;
}

TEST(FleetReplay, OneWearingAssetAlertsWithinASampleAndTheOtherFortyNineStaySilent) {
  const FleetRun r = replay_fleet(50, 1, 10.0, 20.0);

  EXPECT_EQ(r.summary.counters.rejected_total(), 0u) << r.summary.str();
  EXPECT_EQ(r.states.size(), 50u);
  ASSERT_EQ(r.alerts.size(), 1u) << r.output.substr(0, 2000);
  const json& a = r.alerts[0];
  EXPECT_EQ(a["asset"], "p00000");
  EXPECT_EQ(a["state"], "raised");
  EXPECT_EQ(a["signal"], "y");
  // Its first sample after the wear (asset 0 samples at whole half-seconds) decides it.
  EXPECT_GT(a["ts"].get<double>(), kT0 + 10.0);
  EXPECT_LE(a["ts"].get<double>(), kT0 + 10.5 + 1e-6);
  for (const auto& [topic, states] : r.states) {
    if (topic == "twin/p00000/state") continue;
    for (const json& s : states) {
      EXPECT_NE(s["status"], "alert") << topic;
      EXPECT_LT(std::abs(s["divergence"].is_null() ? 0.0 : s["divergence"].get<double>()), 1e-9)
          << topic;
    }
  }
}

TEST(FleetReplay, NoisyHealthyFleetRaisesNothing) {
  const FleetRun r = replay_fleet(50, 0, -1.0, 30.0, 0.02);

  EXPECT_TRUE(r.alerts.empty()) << r.alerts.size() << " alerts, first: " << r.alerts[0].dump();
  EXPECT_EQ(r.states.size(), 50u);
}

TEST(FleetReplay, SameRecordingGivesByteIdenticalOutput) {
  EXPECT_EQ(replay_fleet(20, 2, 5.0, 10.0).output, replay_fleet(20, 2, 5.0, 10.0).output);
}

}  // namespace
}  // namespace twind::app
