// twind fit end to end: recordings written by the plant simulator, the configuration rewritten,
// and twins built from the fitted model judged against twins built from the true one.
#include "twind/app/fit.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "twind/app/replay.hpp"
#include "twind/codec/recording.hpp"
#include "twind/config/loader.hpp"
#include "twind/sim/fleet.hpp"
#include "twind/sim/recording.hpp"

namespace twind::app {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// The seed asset with a wrong model to start from (pole -0.4, gain 1.25), in block style with
// comments, on separate topics or in frames.
std::string guess_config(bool frames, const std::string& extra_y = "") {
  std::string s =
      "# the seed plant, model guessed\n"
      "assets:\n"
      "  - id: plant\n"
      "    model:\n"
      "      name: first-order-lag   # a guess\n"
      "      version: \"1\"\n"
      "      A: [[-0.4]]\n"
      "      B: [[0.5]]\n"
      "      C: [[1]]\n"
      "    signals:\n";
  if (frames) {
    s += "      - {name: u, role: input}\n"
         "      - {name: y, role: output, threshold: 0.15" +
         extra_y +
         "}\n"
         "    frames: [plant/frame]\n";
  } else {
    s += "      - {name: u, role: input, topic: plant/u}\n"
         "      - {name: y, role: output, topic: plant/y, threshold: 0.15" +
         extra_y + "}\n";
  }
  s += "# end of file\n";
  return s;
}

class FitCommand : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("twind-fit-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& text) {
    const fs::path p = dir_ / name;
    std::ofstream(p, std::ios::binary) << text;
    return p.string();
  }

  static std::string recording(double seconds, double wear_at, bool frames, double noise = 0.01,
                               double dt = 0.02) {
    sim::Scenario sc;
    sc.dt = dt;
    sc.wear_at = wear_at;
    sc.noise_std = noise;
    sim::RecordingOptions o;
    o.duration = seconds;
    if (frames) o.frame_topic = "plant/frame";
    std::string out;
    (void)sim::record(sc, o, out);
    return out;
  }

  struct Ran {
    int code = 0;
    std::string yaml;
    std::string report;
  };
  Ran fit(const FitOptions& o) {
    std::ostringstream yaml;
    std::ostringstream report;
    const int code = run_fit(o, yaml, report);
    return {code, yaml.str(), report.str()};
  }

  fs::path dir_;
};

config::Config load(const std::string& text) {
  config::LoadResult r = config::load_string(text, "fitted.yaml");
  std::string why;
  for (const auto& d : r.diagnostics) why += d.str() + "\n";
  EXPECT_TRUE(r.config.has_value()) << why << text;
  return r.config.value_or(config::Config{});
}

TEST_F(FitCommand, RewritesTheModelInPlaceAndKeepsEveryOtherLine) {
  for (const bool frames : {false, true}) {
    SCOPED_TRACE(frames ? "frames" : "separate topics");
    const std::string cfg = write("guess.yaml", guess_config(frames));
    FitOptions o;
    o.config_path = cfg;
    o.input = write("healthy.jsonl", recording(60.0, -1.0, frames));
    const Ran r = fit(o);
    ASSERT_EQ(r.code, 0) << r.report;
    const config::Config c = load(r.yaml);
    ASSERT_EQ(c.assets.size(), 1U);
    const config::ModelSpec& m = c.assets[0].model;
    EXPECT_EQ(m.id.version, "2");
    EXPECT_EQ(m.id.name, "first-order-lag");
    EXPECT_NEAR(m.a(0, 0), -1.0, 0.01);
    EXPECT_NEAR(-m.b(0, 0) / m.a(0, 0), 1.0, 0.01);
    // Detection settings kept; the rest of the file byte for byte; the report as comments.
    ASSERT_TRUE(c.assets[0].signals[1].threshold.has_value());
    EXPECT_EQ(*c.assets[0].signals[1].threshold, 0.15);
    EXPECT_EQ(r.yaml.rfind("# the seed plant, model guessed\nassets:\n  - id: plant\n", 0), 0U);
    EXPECT_NE(r.yaml.find("    # twind fit: plant from plant, model first-order-lag version 2"),
              std::string::npos)
        << r.yaml;
    EXPECT_NE(r.yaml.find("    #   A[0][0] = -1.0"), std::string::npos) << r.yaml;
    EXPECT_NE(r.yaml.find("    signals:\n"), std::string::npos);
    EXPECT_TRUE(r.yaml.ends_with("# end of file\n"));
    EXPECT_NE(r.report.find("time constant"), std::string::npos) << r.report;
  }
}

TEST_F(FitCommand, WritesTheOutputFileAndTwindCheckAcceptsIt) {
  FitOptions o;
  o.config_path = write("guess.yaml", guess_config(false));
  o.input = write("healthy.jsonl", recording(60.0, -1.0, false));
  o.output = (dir_ / "fitted.yaml").string();
  const Ran r = fit(o);
  ASSERT_EQ(r.code, 0) << r.report;
  EXPECT_TRUE(r.yaml.empty());
  EXPECT_TRUE(config::load_file(o.output).ok());
  EXPECT_NE(r.report.find("wrote " + o.output), std::string::npos);
}

TEST_F(FitCommand, AFitOfAFittedFileReplacesItsReport) {
  FitOptions o;
  o.config_path = write("guess.yaml", guess_config(false));
  o.input = write("healthy.jsonl", recording(60.0, -1.0, false));
  const Ran first = fit(o);
  ASSERT_EQ(first.code, 0) << first.report;
  o.config_path = write("fitted.yaml", first.yaml);
  const Ran second = fit(o);
  ASSERT_EQ(second.code, 0) << second.report;
  EXPECT_EQ(load(second.yaml).assets[0].model.id.version, "3");
  std::size_t reports = 0;
  for (std::size_t at = second.yaml.find("# twind fit: "); at != std::string::npos;
       at = second.yaml.find("# twind fit: ", at + 1)) {
    ++reports;
  }
  EXPECT_EQ(reports, 1U) << second.yaml;
  EXPECT_NE(second.yaml.find("version 3 (was 2)"), std::string::npos) << second.yaml;
  EXPECT_EQ(second.yaml.find("version 2 (was 1)"), std::string::npos) << second.yaml;
  EXPECT_EQ(second.yaml.rfind("# the seed plant, model guessed\nassets:\n  - id: plant\n", 0), 0U);
}

TEST_F(FitCommand, AnAssetAbsentFromTheRecordingIsRefusedWithExitTwo) {
  FitOptions o;
  o.config_path = write("guess.yaml", guess_config(false));
  o.input = write("healthy.jsonl", recording(60.0, -1.0, false));
  o.assets = {"pump7"};
  const Ran r = fit(o);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.report.find("asset pump7: no samples in"), std::string::npos) << r.report;
}

TEST_F(FitCommand, ARecordingOfOtherTopicsIsRefusedWithExitTwo) {
  FitOptions o;
  o.config_path = write("guess.yaml", guess_config(true));
  o.input = write("healthy.jsonl", recording(10.0, -1.0, false));  // u and y, no frames
  const Ran r = fit(o);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.report.find("holds no sample of any asset"), std::string::npos) << r.report;
}

TEST_F(FitCommand, DataThatCannotIdentifyTheModelIsRefusedWithExitTwo) {
  std::string rec;
  for (int k = 0; k < 3000; ++k) {
    const double t = 1732200000.0 + 0.02 * k;
    rec += "{\"t\":" + std::to_string(t) + ",\"topic\":\"plant/u\",\"payload\":\"3\"}\n";
    rec += "{\"t\":" + std::to_string(t) + ",\"topic\":\"plant/y\",\"payload\":\"3\"}\n";
  }
  FitOptions o;
  o.config_path = write("guess.yaml", guess_config(false));
  o.input = write("constant.jsonl", rec);
  const Ran r = fit(o);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.report.find("not persistently exciting"), std::string::npos) << r.report;
}

// The file's hypotheses name its model's entries: a fit of a lower order has not all of them,
// and the rewritten file would not load.
TEST_F(FitCommand, AFitOfAnotherOrderThanTheListedHypothesesNeedIsRefusedWithExitTwo) {
  FitOptions o;
  o.config_path =
      write("two.yaml",
            "assets:\n"
            "  - id: plant\n"
            "    model:\n"
            "      name: two-state\n"
            "      version: \"1\"\n"
            "      A: [[-0.4, 0], [0, -3]]\n"
            "      B: [[0.5], [1]]\n"
            "      C: [[1, 0.1]]\n"
            "    signals:\n"
            "      - {name: u, role: input, topic: plant/u}\n"
            "      - {name: y, role: output, topic: plant/y}\n"
            "    diagnose: {enabled: true, hypotheses: [\"A[1][1]\", output_gain(y)]}\n");
  o.input = write("healthy.jsonl", recording(60.0, -1.0, false));
  o.output = (dir_ / "fitted.yaml").string();
  o.order = 1;

  const Ran r = fit(o);

  EXPECT_EQ(r.code, 2) << r.report;
  EXPECT_NE(r.report.find("twind fit: plant: diagnose.hypotheses lists A[1][1], which the fitted "
                          "model has not (it has A[0][0], B[0][0], output_gain(y), "
                          "output_bias(y) or input_gain(u))"),
            std::string::npos)
      << r.report;
  EXPECT_FALSE(fs::exists(o.output));
}

// The alert transitions a replay of `recording` publishes with configuration `c`: which alert,
// on which signal, raised or cleared, on which sample (its event time); not the residual's
// value, which differs with the model.
std::vector<json> alerts(const config::Config& c, const std::string& recording) {
  std::istringstream in(recording);
  std::ostringstream out;
  (void)replay(c, in, out);
  std::vector<json> got;
  std::istringstream lines(out.str());
  for (std::string l; std::getline(lines, l);) {
    json j = json::parse(l);
    if (j["topic"] != "twin/alert") continue;
    const json& p = j["payload"];
    got.push_back({p["id"], p["signal"], p["state"], p["ts"]});
  }
  return got;
}

TEST_F(FitCommand, TheFittedTwinCatchesTheSeedWearOnTheTrueModelsSampleAndIsQuietWhenHealthy) {
  FitOptions o;
  o.config_path = write("guess.yaml", guess_config(false));
  o.input = write("healthy.jsonl", recording(60.0, -1.0, false));
  const Ran r = fit(o);
  ASSERT_EQ(r.code, 0) << r.report;
  const config::Config fitted = load(r.yaml);
  std::string truth = guess_config(false);
  truth.replace(truth.find("[[-0.4]]"), 8, "[[-1]]");
  truth.replace(truth.find("[[0.5]]"), 7, "[[1]]");
  const config::Config true_model = load(truth);

  // Another run of the plant (another noise seed), worn at 3 s.
  sim::Scenario sc;
  sc.noise_std = 0.01;
  sc.seed = 99;
  sim::RecordingOptions ro;
  ro.duration = 20.0;
  std::string worn;
  const sim::RecordingSummary s = sim::record(sc, ro, worn);
  const std::vector<json> expected = alerts(true_model, worn);
  ASSERT_FALSE(expected.empty());
  EXPECT_GE(expected.front()[3].get<double>(), s.wear_time);
  EXPECT_EQ(alerts(fitted, worn), expected);

  // Healthy: ten minutes of another run, nothing.
  EXPECT_TRUE(alerts(fitted, recording(600.0, -1.0, false)).empty());
}

TEST_F(FitCommand, ATemplatePoolsItsRecordedAssetsIntoOneModel) {
  sim::FleetOptions fo;
  fo.assets = 3;
  fo.rate = 10.0;
  fo.t0 = 1732200000.0;
  fo.noise_std = 0.01;
  sim::FleetSim fleet(fo);
  std::string rec;
  std::string frame;
  sim::FleetSample smp;
  while (fleet.next_due() < fo.t0 + 120.0) {
    fleet.pop(smp);
    frame.clear();
    sim::append_fleet_frame(frame, smp);
    codec::append_record_line(rec, smp.ts, "plant/" + fleet.asset_id(smp.asset) + "/frame", frame);
  }
  FitOptions o;
  o.config_path =
      write("fleet.yaml",
            "topics: {state: \"twin/{asset}/state\", alert: \"twin/{asset}/alert\"}\n"
            "assets:\n"
            "  - template: plant\n"
            "    discover: true\n"
            "    model: {name: lag, version: \"7\", A: [[-0.3]], B: [[0.6]], C: [[1]]}\n"
            "    signals:\n"
            "      - {name: u, role: input}\n"
            "      - {name: y, role: output, threshold: 0.15}\n"
            "    frames: [\"plant/{asset}/frame\"]\n");
  o.input = write("fleet.jsonl", rec);
  const Ran r = fit(o);
  ASSERT_EQ(r.code, 0) << r.report;
  const config::Config c = load(r.yaml);
  const config::ModelSpec& m = c.assets[0].model;
  EXPECT_EQ(m.id.version, "8");
  EXPECT_NEAR(m.a(0, 0), -1.0, 0.01);
  EXPECT_NEAR(-m.b(0, 0) / m.a(0, 0), 1.0, 0.01);
  EXPECT_NE(r.report.find("plant from p00000, p00001, p00002"), std::string::npos) << r.report;
  // Only one of them, when asked.
  o.assets = {"p00001"};
  const Ran one = fit(o);
  ASSERT_EQ(one.code, 0) << one.report;
  EXPECT_NE(one.report.find("plant from p00001,"), std::string::npos) << one.report;
}

// --- Calibration -------------------------------------------------------------------------------

struct Fault {
  const char* name;
  sim::Scenario scenario;  // wear at 60 s
};

std::vector<Fault> small_faults() {
  sim::Scenario base;
  base.noise_std = 0.01;
  base.seed = 21;
  base.wear_at = 60.0;
  base.worn = base.nominal;
  std::vector<Fault> out;
  Fault pole{"pole -1 -> -1.03", base};
  pole.scenario.worn.pole = -1.03;
  out.push_back(pole);
  Fault actuator{"actuator gain 0.97", base};
  actuator.scenario.worn.gain = 0.97;
  out.push_back(actuator);
  Fault sensor{"output gain 0.97", base};
  sensor.scenario.sensor_gain = 0.97;
  out.push_back(sensor);
  Fault bias{"sensor bias +0.02", base};
  bias.scenario.sensor_bias = 0.02;
  out.push_back(bias);
  Fault drift{"pole drifting -1 -> -1.03 over 10 minutes", base};
  drift.scenario.worn.pole = -1.03;
  drift.scenario.drift = 600.0;
  out.push_back(drift);
  return out;
}

TEST_F(FitCommand, CalibratedDetectionCatchesFaultsTheFixedThresholdNeverSees) {
  FitOptions o;
  o.config_path = write("guess.yaml", guess_config(false));
  o.input = write("healthy.jsonl", recording(600.0, -1.0, false));
  o.calibrate = true;
  const Ran r = fit(o);
  ASSERT_EQ(r.code, 0) << r.report;
  const config::Config calibrated = load(r.yaml);
  const config::SignalSpec& y = calibrated.assets[0].signals[1];
  ASSERT_EQ(y.detector, config::DetectorKind::cusum);
  ASSERT_TRUE(y.cusum.has_value());
  EXPECT_NEAR(y.cusum->sigma, 0.01, 0.001);
  EXPECT_EQ(y.cusum->k, 0.5);
  // 1 false alarm a year per asset, half each for the threshold and the CUSUM, at 50 Hz.
  EXPECT_GT(y.cusum->h, 15.0);
  EXPECT_LT(y.cusum->h, 30.0);
  EXPECT_LT(*y.threshold, 0.15);
  EXPECT_NE(r.report.find("detection y: threshold"), std::string::npos) << r.report;

  std::string truth = guess_config(false);
  truth.replace(truth.find("[[-0.4]]"), 8, "[[-1]]");
  truth.replace(truth.find("[[0.5]]"), 7, "[[1]]");
  const config::Config fixed = load(truth);

  for (const Fault& f : small_faults()) {
    SCOPED_TRACE(f.name);
    sim::RecordingOptions ro;
    ro.duration = 60.0 + (f.scenario.drift > 0.0 ? f.scenario.drift : 60.0);
    std::string rec;
    const double wear = sim::record(f.scenario, ro, rec).wear_time;
    // The 0.15 threshold of the true model never sees it.
    EXPECT_TRUE(alerts(fixed, rec).empty());
    const std::vector<json> got = alerts(calibrated, rec);
    ASSERT_FALSE(got.empty());
    EXPECT_EQ(got.front()[2], "raised");
    const double delay = got.front()[3].get<double>() - wear;
    RecordProperty(f.name, std::to_string(delay));
    EXPECT_GE(delay, 0.0);  // nothing before the fault
    EXPECT_LT(delay, f.scenario.drift > 0.0 ? 120.0 : 5.0);
  }

  // Healthy: ten minutes of another run raise nothing.
  sim::Scenario healthy;
  healthy.noise_std = 0.01;
  healthy.seed = 77;
  healthy.wear_at = -1.0;
  sim::RecordingOptions ro;
  ro.duration = 600.0;
  std::string rec;
  (void)sim::record(healthy, ro, rec);
  EXPECT_TRUE(alerts(calibrated, rec).empty());
}

}  // namespace
}  // namespace twind::app
