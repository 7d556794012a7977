// The CUSUM divergence detector through a twin: what it sees that the threshold does not, what
// its alert says, and when its evidence is forgotten.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>
#include <string>

#include "../support/fixtures.hpp"
#include "../support/recording_sink.hpp"
#include "twind/core/encode.hpp"
#include "twind/core/twin.hpp"

namespace twind::core {
namespace {

using nlohmann::json;
using testing::CollectingSink;

constexpr std::size_t kU = 0;  // signal indices in the compiled seed asset: inputs first
constexpr std::size_t kY = 1;

// The seed asset (threshold 0.15 on y), with a CUSUM on y when `with_cusum`: sigma 0.01, k 0.5,
// h 20.
config::Config cusum_config(bool with_cusum = true) {
  config::Config c = testing::seed_config();
  config::SignalSpec& y = c.assets[0].signals[1];
  if (with_cusum) {
    y.detector = config::DetectorKind::cusum;
    y.cusum = config::CusumSpec{0.01, 0.5, 20.0};
  }
  return c;
}

AssetTwin make_twin(const config::Config& c) {
  return AssetTwin(c.assets.at(0).id, compile_asset(c.assets.at(0), c.topics), 0.0);
}

// The seed plant at rest (u = 1, so y = 1) measured every 0.1 s with N(0, 0.01) noise plus
// `bias` from `bias_from` on, stamped by the plant and arriving 5 ms later, for `seconds`.
void run_at_rest(AssetTwin& sut, CollectingSink& sink, double bias, double bias_from,
                 double seconds, unsigned seed = 7, double t0 = 1.0) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> noise(0.0, 0.01);
  const int n = static_cast<int>(seconds * 10.0);
  for (int k = 0; k < n; ++k) {
    const double t = t0 + 0.1 * k;
    const double y = 1.0 + noise(rng) + (t >= bias_from ? bias : 0.0);
    ASSERT_FALSE(sut.on_sample(kY, y, t, t + 0.005, sink).has_value());
    ASSERT_FALSE(sut.on_sample(kU, 1.0, t, t + 0.005, sink).has_value());
  }
}

TEST(CusumTwin, ABiasOfTwoSigmaIsCaughtByTheCusum) {
  AssetTwin sut = make_twin(cusum_config());
  CollectingSink sink;
  run_at_rest(sut, sink, 0.02, 11.0, 60.0);
  ASSERT_FALSE(sink.alerts.empty());
  const AlertEvent& e = sink.alerts.front().event;
  EXPECT_EQ(e.id, AlertId::divergence);
  EXPECT_TRUE(e.raised);
  EXPECT_EQ(e.detector, Detector::cusum);
  EXPECT_GT(e.value, 20.0);
  EXPECT_EQ(e.threshold, 20.0);
  EXPECT_GT(e.ts, 11.0);              // not before the fault
  EXPECT_LT(e.ts, 16.0);              // about 14 samples of 0.1 s once the bias shows
  EXPECT_EQ(sink.alerts.size(), 1u);  // raised once, held while the bias lasts
  EXPECT_EQ(sut.status(), Status::alert);
}

TEST(CusumTwin, TheSameBiasIsNeverSeenByTheThresholdAlone) {
  AssetTwin sut = make_twin(cusum_config(false));
  CollectingSink sink;
  run_at_rest(sut, sink, 0.02, 11.0, 60.0);
  EXPECT_TRUE(sink.alerts.empty());
  EXPECT_EQ(sut.status(), Status::ok);
}

TEST(CusumTwin, NoiseAloneRaisesNothing) {
  AssetTwin sut = make_twin(cusum_config());
  CollectingSink sink;
  run_at_rest(sut, sink, 0.0, 0.0, 600.0);
  EXPECT_TRUE(sink.alerts.empty());
}

TEST(CusumTwin, TheAlertClearsOnceTheFaultEndsAndTheStatisticIsBackAtZero) {
  AssetTwin sut = make_twin(cusum_config());
  CollectingSink sink;
  run_at_rest(sut, sink, 0.02, 11.0, 60.0);
  ASSERT_EQ(sink.alerts.size(), 1u);
  run_at_rest(sut, sink, 0.0, 0.0, 30.0, 8, 61.0);  // healthy again
  ASSERT_EQ(sink.alerts.size(), 2u);
  const AlertEvent& e = sink.alerts[1].event;
  EXPECT_FALSE(e.raised);
  EXPECT_EQ(e.detector, Detector::cusum);
  EXPECT_EQ(e.value, 0.0);
  // The statistic was capped at 2h = 40 and falls by about k = 0.5 a sample: about 80 samples.
  EXPECT_GT(e.ts, 61.0 + 2.0);
  EXPECT_LT(e.ts, 61.0 + 16.0);
  EXPECT_LT(sut.detector(kY).cusum(), 20.0);  // noise alone since
}

TEST(CusumTwin, TheAlertPayloadNamesTheDetector) {
  AssetTwin sut = make_twin(cusum_config());
  CollectingSink sink;
  run_at_rest(sut, sink, 0.02, 11.0, 30.0);
  ASSERT_FALSE(sink.alerts.empty());
  std::string out;
  encode_alert(sut, sink.alerts.front().event, out);
  const json j = json::parse(out);
  EXPECT_EQ(j["id"], "divergence");
  EXPECT_EQ(j["detector"], "cusum");
  EXPECT_EQ(j["threshold"], 20.0);
  EXPECT_GT(j["value"].get<double>(), 20.0);
  const std::string message = j["message"];
  EXPECT_EQ(message.rfind("cusum ", 0), 0u) << message;
  EXPECT_NE(message.find(" > 20 on y"), std::string::npos) << message;
}

TEST(CusumTwin, AStepAboveTheThresholdIsStillRaisedByTheThreshold) {
  AssetTwin sut = make_twin(cusum_config());
  CollectingSink sink;
  run_at_rest(sut, sink, 0.0, 0.0, 5.0);
  ASSERT_FALSE(sut.on_sample(kY, 1.5, 6.0, 6.005, sink).has_value());
  ASSERT_EQ(sink.alerts.size(), 1u);
  EXPECT_EQ(sink.alerts[0].event.detector, Detector::threshold);
  std::string out;
  encode_alert(sut, sink.alerts[0].event, out);
  const json j = json::parse(out);
  EXPECT_EQ(j["detector"], "threshold");
  EXPECT_EQ(j["threshold"], 0.15);
  EXPECT_EQ(j["message"].get<std::string>().rfind("divergence ", 0), 0u);
}

TEST(CusumTwin, StateReportsTheStatistics) {
  AssetTwin sut = make_twin(cusum_config());
  CollectingSink sink;
  run_at_rest(sut, sink, 0.02, 11.0, 12.0);
  std::string out;
  encode_state(sut, 13.0, out);
  const json j = json::parse(out);
  const json& c = j["signals"]["y"]["cusum"];
  EXPECT_EQ(c["pos"], sut.detector(kY).cusum_pos());
  EXPECT_EQ(c["neg"], sut.detector(kY).cusum_neg());
  EXPECT_EQ(c["h"], 20.0);
  EXPECT_GT(c["pos"].get<double>(), 0.0);  // the bias has started to show
  EXPECT_FALSE(j["signals"]["u"].contains("cusum"));
}

TEST(CusumTwin, StateWithoutCusumHasNoStatistics) {
  AssetTwin sut = make_twin(cusum_config(false));
  CollectingSink sink;
  run_at_rest(sut, sink, 0.0, 0.0, 2.0);
  std::string out;
  encode_state(sut, 3.0, out);
  EXPECT_FALSE(json::parse(out)["signals"]["y"].contains("cusum"));
}

TEST(CusumTwin, AnOutageForgetsTheEvidence) {
  AssetTwin sut = make_twin(cusum_config());
  CollectingSink sink;
  run_at_rest(sut, sink, 0.02, 6.0, 6.0);  // 10 samples of bias: S+ near 15, below h
  ASSERT_GT(sut.detector(kY).cusum(), 5.0);
  ASSERT_TRUE(sink.alerts.empty());
  sut.check_stale(10.0, sink);  // y silent past stale_after
  ASSERT_EQ(sink.alerts.size(), 1u);
  ASSERT_FALSE(sut.on_sample(kY, 1.0, 10.0, 10.005, sink).has_value());  // back: restarts
  EXPECT_EQ(sut.detector(kY).cusum(), 0.0);
}

TEST(CusumTwin, RebaselineClearsTheAlertAndForgetsTheEvidence) {
  AssetTwin sut = make_twin(cusum_config());
  CollectingSink sink;
  run_at_rest(sut, sink, 0.02, 11.0, 30.0);
  ASSERT_EQ(sink.alerts.size(), 1u);
  sut.rebaseline(sut.def_ptr(), 31.0, sink);
  ASSERT_EQ(sink.alerts.size(), 2u);
  EXPECT_FALSE(sink.alerts[1].event.raised);
  EXPECT_EQ(sink.alerts[1].event.detector, Detector::cusum);
  EXPECT_EQ(sut.detector(kY).cusum(), 0.0);
}

TEST(CusumTwin, AReloadThatRemovesTheCusumClearsItsAlertWhereNoThresholdIsLeft) {
  config::Config c = cusum_config();
  c.assets[0].signals[1].threshold.reset();
  c.assets[0].signals[1].clear_threshold.reset();
  AssetTwin sut = make_twin(c);
  CollectingSink sink;
  run_at_rest(sut, sink, 0.02, 11.0, 30.0);
  ASSERT_EQ(sink.alerts.size(), 1u);
  EXPECT_EQ(sink.alerts[0].event.detector, Detector::cusum);

  c.assets[0].signals[1].detector = config::DetectorKind::threshold;
  c.assets[0].signals[1].cusum.reset();
  sut.rebind(compile_asset(c.assets[0], c.topics), 31.0, sink);

  ASSERT_EQ(sink.alerts.size(), 2u);
  EXPECT_FALSE(sink.alerts[1].event.raised);
  EXPECT_EQ(sut.detector(kY).cusum(), 0.0);
  EXPECT_EQ(sut.status(), Status::ok);
}

TEST(CusumTwin, AReloadThatKeepsTheCusumKeepsItsEvidence) {
  AssetTwin sut = make_twin(cusum_config());
  CollectingSink sink;
  run_at_rest(sut, sink, 0.02, 6.0, 6.0);  // 10 samples of bias: S+ near 15, below h
  ASSERT_TRUE(sink.alerts.empty());
  const double before = sut.detector(kY).cusum();
  ASSERT_GT(before, 5.0);
  const config::Config c = cusum_config();
  sut.rebind(compile_asset(c.assets[0], c.topics), 7.0, sink);
  EXPECT_EQ(sut.detector(kY).cusum(), before);
}

}  // namespace
}  // namespace twind::core
