// Diagnosis through replay: a divergence alert is followed by twin/diagnosis naming the change
// that explains it, refined while the alert lasts; healthy data and a disabled asset say nothing.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "twind/app/replay.hpp"
#include "twind/config/loader.hpp"
#include "twind/sim/recording.hpp"

namespace twind::app {
namespace {

using nlohmann::json;

config::Config seed(bool diagnose) {
  const std::string text =
      std::string(
          "assets:\n"
          "  - id: plant\n"
          "    model: {name: lag, version: \"1\", A: [[-1]], B: [[1]], C: [[1]]}\n"
          "    signals:\n"
          "      - {name: u, role: input, topic: plant/u}\n"
          "      - {name: y, role: output, topic: plant/y, threshold: 0.15}\n") +
      (diagnose ? "" : "    diagnose: {enabled: false}\n");  // on by default
  config::LoadResult r = config::load_string(text, "seed.yaml");
  EXPECT_TRUE(r.config.has_value());
  return r.config.value_or(config::Config{});
}

struct Replayed {
  std::string text;
  std::vector<json> alerts;
  std::vector<json> diagnoses;
  std::vector<json> states;
  std::vector<std::string> info;
};

Replayed run(const config::Config& c, const sim::Scenario& sc, double seconds) {
  sim::RecordingOptions o;
  o.duration = seconds;
  std::string rec;
  (void)sim::record(sc, o, rec);
  std::istringstream in(rec);
  std::ostringstream out;
  Replayed r;
  ReplayHooks hooks;
  hooks.info = [&](const std::string& m) { r.info.push_back(m); };
  (void)replay(c, in, out, hooks);
  r.text = out.str();
  std::istringstream lines(r.text);
  for (std::string l; std::getline(lines, l);) {
    json j = json::parse(l);
    if (j["topic"] == "twin/alert") r.alerts.push_back(j["payload"]);
    if (j["topic"] == "twin/diagnosis") r.diagnoses.push_back(j["payload"]);
    if (j["topic"] == "twin/state") r.states.push_back(j["payload"]);
  }
  return r;
}

sim::Scenario noisy() {
  sim::Scenario sc;
  sc.noise_std = 0.01;
  sc.seed = 3;
  sc.worn = sc.nominal;  // each test says what wears
  return sc;
}

TEST(DiagnosisReplay, TheSeedWearIsPutDownToThePoleWithinTwoSecondsOfTheAlert) {
  sim::Scenario sc = noisy();
  sc.worn.pole = -2.0;
  const Replayed r = run(seed(true), sc, 5.5);
  ASSERT_FALSE(r.alerts.empty());
  const double alert_ts = r.alerts.front()["ts"].get<double>();
  ASSERT_FALSE(r.diagnoses.empty());
  const json& first = r.diagnoses.front();
  EXPECT_EQ(first["asset"], "plant");
  EXPECT_EQ(first["alert_ts"].get<double>(), alert_ts);
  EXPECT_GT(first["samples"].get<int>(), 10);
  // Every diagnosis published within 2 s of the alert names the pole; the last of them is
  // within 5 % of -2.
  const json* within = nullptr;
  for (const json& d : r.diagnoses) {
    if (d["ts"].get<double>() > alert_ts + 2.0) break;
    EXPECT_EQ(d["best"]["kind"], "parameter");
    EXPECT_EQ(d["best"]["name"], "A[0][0]");
    EXPECT_EQ(d["best"]["nominal"].get<double>(), -1.0);
    within = &d;
  }
  ASSERT_NE(within, nullptr);
  EXPECT_NEAR((*within)["best"]["estimate"].get<double>(), -2.0, 0.1);
  const auto ci = (*within)["best"]["ci95"];
  EXPECT_LT(ci[0].get<double>(), (*within)["best"]["estimate"].get<double>());
  EXPECT_GT(ci[1].get<double>(), (*within)["best"]["estimate"].get<double>());
  EXPECT_TRUE((*within)["explained"].get<bool>());
  EXPECT_GT((*within)["margin"].get<double>(), 1.0);
  // The pole in physical terms: from -1 (time constant 1 s) to about -2 (0.5 s), unit DC gain
  // before, about one half after (the pole moved, B did not).
  const json& ph = (*within)["physical"];
  ASSERT_EQ(ph["before"]["poles"].size(), 1U) << ph;
  EXPECT_EQ(ph["before"]["poles"][0]["re"].get<double>(), -1.0);
  EXPECT_EQ(ph["before"]["poles"][0]["im"].get<double>(), 0.0);
  EXPECT_EQ(ph["before"]["time_constants"][0].get<double>(), 1.0);
  EXPECT_EQ(ph["before"]["dc_gains"][0]["input"], "u");
  EXPECT_EQ(ph["before"]["dc_gains"][0]["output"], "y");
  EXPECT_EQ(ph["before"]["dc_gains"][0]["gain"].get<double>(), 1.0);
  EXPECT_NEAR(ph["after"]["poles"][0]["re"].get<double>(), -2.0, 0.1);
  EXPECT_NEAR(ph["after"]["time_constants"][0].get<double>(), 0.5, 0.03);
  EXPECT_NEAR(ph["after"]["dc_gains"][0]["gain"].get<double>(), 0.5, 0.03);
  // One log line per diagnosis.
  std::size_t lines = 0;
  for (const std::string& l : r.info)
    lines += l.find("diagnosis plant: A[0][0] -1.00 -> -") != std::string::npos &&
             l.find("(time constant 1.00 s -> 0.") != std::string::npos;
  EXPECT_EQ(lines, r.diagnoses.size());
  // Each state while the alert lasts carries the latest diagnosis published before it (a tick's
  // diagnosis goes out after its states).
  std::size_t with = 0;
  for (const json& st : r.states) {
    if (!st.contains("diagnosis")) continue;
    ++with;
    const json* latest = nullptr;
    for (const json& d : r.diagnoses) {
      if (d["ts"].get<double>() < st["ts"].get<double>()) latest = &d;
    }
    ASSERT_NE(latest, nullptr);
    EXPECT_EQ(st["diagnosis"]["name"], (*latest)["best"]["name"]);
    EXPECT_EQ(st["diagnosis"]["kind"], (*latest)["best"]["kind"]);
    EXPECT_EQ(st["diagnosis"]["estimate"], (*latest)["best"]["estimate"]);
    EXPECT_EQ(st["diagnosis"]["explained"], (*latest)["explained"]);
  }
  EXPECT_EQ(with, 3U);  // 4, 4.5 and 5 s: the first diagnosis came after the state of 3.5 s
  // The same bytes, run to run.
  EXPECT_EQ(run(seed(true), sc, 5.5).text, r.text);
}

TEST(DiagnosisReplay, ASensorGainAndASensorBiasLandOnTheirOwnHypotheses) {
  sim::Scenario gain = noisy();
  gain.sensor_gain = 0.7;
  const Replayed g = run(seed(true), gain, 5.5);
  ASSERT_FALSE(g.diagnoses.empty());
  EXPECT_EQ(g.diagnoses.back()["best"]["kind"], "output_gain");
  EXPECT_NEAR(g.diagnoses.back()["best"]["estimate"].get<double>(), 0.7, 0.035);

  sim::Scenario bias = noisy();
  bias.sensor_bias = 0.3;
  const Replayed b = run(seed(true), bias, 5.5);
  ASSERT_FALSE(b.diagnoses.empty());
  EXPECT_EQ(b.diagnoses.back()["best"]["kind"], "output_bias");
  EXPECT_NEAR(b.diagnoses.back()["best"]["estimate"].get<double>(), 0.3, 0.015);
}

TEST(DiagnosisReplay, HealthyDataAndADisabledAssetSayNothing) {
  EXPECT_TRUE(run(seed(true), noisy(), 60.0).diagnoses.empty());
  sim::Scenario sc = noisy();
  sc.worn.pole = -2.0;
  const Replayed off = run(seed(false), sc, 5.5);
  EXPECT_FALSE(off.alerts.empty());
  EXPECT_TRUE(off.diagnoses.empty());
  for (const json& st : off.states) EXPECT_FALSE(st.contains("diagnosis"));
  EXPECT_EQ(off.text.find("diagnosis"), std::string::npos);
}

// Sampling from 10 to 500 ms (the loop's period and the samples' alike): the pole, within 5 %.
class DiagnosisSampling : public ::testing::TestWithParam<double> {};
INSTANTIATE_TEST_SUITE_P(Periods, DiagnosisSampling, ::testing::Values(0.01, 0.05, 0.2, 0.5),
                         [](const auto& p) {
                           return std::to_string(static_cast<int>(p.param * 1000)) + "ms";
                         });

TEST_P(DiagnosisSampling, TheSeedWearIsThePoleWithinFivePerCent) {
  sim::Scenario sc = noisy();
  sc.dt = GetParam();
  sc.worn.pole = -2.0;
  const Replayed r = run(seed(true), sc, 15.0);
  ASSERT_FALSE(r.diagnoses.empty());
  const json& last = r.diagnoses.back();
  EXPECT_EQ(last["best"]["name"], "A[0][0]") << last.dump();
  EXPECT_NEAR(last["best"]["estimate"].get<double>(), -2.0, 0.1) << last.dump();
}

// What a diagnosis says the plant's DC gain is now: physical.after's, or a sensor's gain.
double dc_gain_of(const json& d) {
  if (d.contains("physical") && d["physical"].contains("after")) {
    return d["physical"]["after"]["dc_gains"][0]["gain"].get<double>();
  }
  EXPECT_EQ(d["best"]["kind"], "output_gain") << d.dump();
  return d["best"]["estimate"].get<double>();
}

struct Drift {
  double period;    // sampling, s
  double duration;  // of the drift, s
  double replay;    // s
  double lag;       // the most the diagnosis may lag the plant, s
};

// A pole drifting from -1 to -2 from 3 s on, under the loop's constant setpoint: the plant sits
// near its steady state, where a change of the pole and one of the gain look alike (the margin
// says so, near 1), so the plant is judged by its DC gain, 1/(1 + (t - 3)/duration). Each
// diagnosis of the drift stands on the latest samples: the time at which the plant had the DC
// gain it reports lags its tick by at most `lag`; once the drift has stopped, the diagnosis
// settles on the final plant and says it no longer moves.
class DriftFollowed : public ::testing::TestWithParam<Drift> {};
INSTANTIATE_TEST_SUITE_P(Rates, DriftFollowed,
                         ::testing::Values(Drift{0.02, 30.0, 60.0, 2.0},
                                           Drift{0.5, 300.0, 500.0, 20.0}),
                         [](const auto& p) {
                           return std::to_string(static_cast<int>(p.param.period * 1000)) +
                                  "msOver" + std::to_string(static_cast<int>(p.param.duration)) +
                                  "s";
                         });

TEST_P(DriftFollowed, TheDiagnosisLagsThePlantByAFewSamplesAndSettlesWhenItStops) {
  const Drift p = GetParam();
  sim::Scenario sc = noisy();
  sc.dt = p.period;
  sc.worn.pole = -2.0;
  sc.drift = p.duration;
  const Replayed r = run(seed(true), sc, p.replay);
  ASSERT_FALSE(r.alerts.empty());
  const double t0 = 1732200000.0;
  const double alert = r.alerts.front()["ts"].get<double>() - t0;
  const double stop = 3.0 + p.duration;
  std::size_t during = 0;
  std::size_t drifting = 0;
  double worst = 0.0;
  for (const json& d : r.diagnoses) {
    const double t = d["ts"].get<double>() - t0;
    if (t > stop) continue;
    ++during;
    drifting += d["drifting"].get<bool>() ? 1U : 0U;
    // When the plant had this DC gain.
    const double when = 3.0 + p.duration * (1.0 / dc_gain_of(d) - 1.0);
    worst = std::max(worst, t - when);
    EXPECT_LE(t - when, p.lag) << "at " << t << ": " << d.dump();
    EXPECT_GE(t - when, -p.lag / 4.0) << "at " << t << ": " << d.dump();
  }
  std::printf("alert at %.2f s; %zu diagnoses during the drift, %zu drifting; worst lag %.2f s\n",
              alert, during, drifting, worst);
  // Updates keep coming while it drifts, at least one per lag.
  EXPECT_GE(double(during), (stop - alert) / p.lag);
  EXPECT_GT(drifting, 0U);
  ASSERT_FALSE(r.diagnoses.empty());
  const json& last = r.diagnoses.back();
  EXPECT_GT(last["ts"].get<double>() - t0, stop);
  EXPECT_FALSE(last["drifting"].get<bool>()) << last.dump();
  EXPECT_NEAR(dc_gain_of(last), 0.5, 0.005) << last.dump();
}

}  // namespace
}  // namespace twind::app
