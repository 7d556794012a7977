#include "twind/app/replay.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "../support/fixtures.hpp"
#include "twind/sim/recording.hpp"

namespace twind::app {
namespace {

using nlohmann::json;
using testing::seed_config;

constexpr double kT0 = 1732200000.0;

struct Replayed {
  std::string text;
  std::vector<json> lines;
  ReplaySummary summary;
  std::vector<std::string> log;
  std::vector<std::string> alert_lines;

  [[nodiscard]] std::vector<json> on(const std::string& topic) const {
    std::vector<json> out;
    for (const json& l : lines) {
      if (l["topic"] == topic) out.push_back(l);
    }
    return out;
  }
};

Replayed run_replay(const std::string& recording, const config::Config& c = seed_config(),
                    const ReplayOptions& options = {}) {
  Replayed r;
  std::istringstream in(recording);
  std::ostringstream out;
  ReplayHooks hooks;
  hooks.warn = [&](const std::string& m) { r.log.push_back(m); };
  hooks.alert = [&](const std::string& m) { r.alert_lines.push_back(m); };
  r.summary = replay(c, in, out, hooks, options);
  r.text = out.str();
  std::istringstream lines(r.text);
  for (std::string l; std::getline(lines, l);) r.lines.push_back(json::parse(l));
  return r;
}

std::string seed_recording(const sim::RecordingOptions& opt = {}) {
  std::string out;
  sim::record(sim::Scenario{}, opt, out);
  return out;
}

TEST(SeedScenario, RaisesDivergenceWithinATenthOfASecondOfTheWearAndNothingBefore) {
  const Replayed sut = run_replay(seed_recording());
  const auto alerts = sut.on("twin/alert");
  ASSERT_EQ(alerts.size(), 1u);  // raised once and, with the plant still worn, never cleared
  const json& a = alerts[0]["payload"];
  EXPECT_EQ(a["id"], "divergence");
  EXPECT_EQ(a["state"], "raised");
  EXPECT_EQ(a["signal"], "y");
  const double delay = a["ts"].get<double>() - (kT0 + 3.0);
  EXPECT_GT(delay, 0.0);
  EXPECT_LE(delay, 0.1);
  EXPECT_DOUBLE_EQ(alerts[0]["t"].get<double>(), a["ts"].get<double>());
  EXPECT_GT(a["value"].get<double>(), 0.15);
  ASSERT_EQ(sut.alert_lines.size(), 1u);
  EXPECT_EQ(sut.alert_lines[0].rfind("[t=3.0", 0), 0u) << sut.alert_lines[0];
  EXPECT_NE(sut.alert_lines[0].find("ALERT: divergence = 0.1"), std::string::npos);
  EXPECT_NE(sut.alert_lines[0].find(" > 0.15 (plant/y)"), std::string::npos);
}

TEST(SeedScenario, PublishesOneStatePerTickInRecordingTime) {
  const Replayed sut = run_replay(seed_recording());
  const auto states = sut.on("twin/state");
  ASSERT_EQ(states.size(), 16u);  // ticks at t0, t0 + 0.5, ..., t0 + 7.5
  for (std::size_t k = 0; k < states.size(); ++k) {
    const double due = kT0 + 0.5 * static_cast<double>(k);
    EXPECT_DOUBLE_EQ(states[k]["t"].get<double>(), due);
    EXPECT_DOUBLE_EQ(states[k]["payload"]["ts"].get<double>(), due);
    EXPECT_EQ(states[k]["payload"]["seq"], k + 1);
  }
  EXPECT_EQ(states[5]["payload"]["status"], "ok");  // t0 + 2.5, before the wear
  EXPECT_EQ(states.back()["payload"]["status"], "alert");
  EXPECT_EQ(sut.summary.counters.states, 16u);
  EXPECT_EQ(sut.summary.counters.messages, 800u);
  EXPECT_EQ(sut.summary.counters.values, 800u);
}

TEST(SeedScenario, HealthyRunRaisesNoAlertAndKeepsResidualsAtRoundingLevel) {
  sim::Scenario healthy;
  healthy.wear_at = -1.0;
  std::string rec;
  sim::record(healthy, {}, rec);
  const Replayed sut = run_replay(rec);
  EXPECT_TRUE(sut.on("twin/alert").empty());
  for (const json& s : sut.on("twin/state")) {
    if (s["payload"]["status"] == "starting") continue;
    EXPECT_EQ(s["payload"]["status"], "ok");
    EXPECT_LT(std::abs(s["payload"]["signals"]["y"]["residual"].get<double>()), 1e-9);
  }
}

TEST(SeedScenario, FramesGiveTheSameAlertAsSeparateTopics) {
  sim::RecordingOptions frames;
  frames.frame_topic = "plant/frame";
  const Replayed a = run_replay(seed_recording());
  const Replayed b = run_replay(seed_recording(frames));
  ASSERT_EQ(b.on("twin/alert").size(), 1u);
  EXPECT_EQ(a.on("twin/alert")[0]["payload"], b.on("twin/alert")[0]["payload"]);
}

TEST(Replay, SameInputGivesByteIdenticalOutput) {
  const std::string rec = seed_recording();
  EXPECT_EQ(run_replay(rec).text, run_replay(rec).text);
}

TEST(Replay, InvalidLinesAreReportedWithTheirNumberSkippedAndChangeNothingElse) {
  const std::string rec = seed_recording();
  std::string noisy;
  std::istringstream in(rec);
  std::size_t n = 0;
  for (std::string l; std::getline(in, l);) {
    noisy += l + '\n';
    if (++n == 10) noisy += "this is not json\n";
    if (n == 20) noisy += "{\"t\": 1, \"payload\": \"1\"}\n";
  }
  const Replayed clean = run_replay(rec);
  const Replayed sut = run_replay(noisy);
  EXPECT_EQ(sut.summary.bad_lines, 2u);
  ASSERT_GE(sut.log.size(), 2u);
  EXPECT_EQ(sut.log[0].rfind("line 11: ", 0), 0u) << sut.log[0];
  EXPECT_EQ(sut.log[1].rfind("line 22: ", 0), 0u) << sut.log[1];
  EXPECT_NE(sut.log[1].find("topic"), std::string::npos) << sut.log[1];
  EXPECT_EQ(sut.text, clean.text);
}

TEST(Replay, LineGoingBackInTimeIsSkipped) {
  const std::string rec = R"({"t":10,"topic":"plant/y","payload":"1"}
{"t":10,"topic":"plant/u","payload":"1"}
{"t":9,"topic":"plant/y","payload":"5"}
{"t":10.5,"topic":"plant/y","payload":"1"}
)";
  const Replayed sut = run_replay(rec);
  EXPECT_EQ(sut.summary.bad_lines, 1u);
  EXPECT_TRUE(sut.on("twin/alert").empty());
  EXPECT_EQ(sut.summary.counters.values, 3u);
}

TEST(Replay, RejectedPayloadsAreCountedAndLoggedAtMostOncePerSecondPerTopic) {
  std::string rec;
  for (int k = 0; k < 100; ++k) {
    rec += R"({"t":)" + std::to_string(10.0 + 0.01 * k) + R"(,"topic":"plant/y","payload":"NaN"})" +
           "\n";
  }
  const Replayed sut = run_replay(rec);
  EXPECT_EQ(sut.summary.counters.rejected[static_cast<std::size_t>(Reject::malformed)], 100u);
  EXPECT_EQ(sut.log.size(), 1u);
  EXPECT_NE(sut.summary.str().find("100 rejected (malformed 100)"), std::string::npos)
      << sut.summary.str();
}

TEST(Replay, InputWithoutASingleRecordingLineIsReportedWholeNotLineByLine) {
  const Replayed sut = run_replay("\x7f\x45LF\x02\n\n{\"t\": \"soon\"}\nnot json\n");
  EXPECT_EQ(sut.summary.records, 0u);
  EXPECT_EQ(sut.summary.lines, 4u);
  EXPECT_EQ(sut.summary.bad_lines, 3u);
  EXPECT_EQ(sut.summary.first_bad.rfind("line 1: ", 0), 0u) << sut.summary.first_bad;
  EXPECT_TRUE(sut.log.empty()) << sut.log[0];
  EXPECT_TRUE(sut.text.empty());
}

TEST(Replay, BadLinesAheadOfTheFirstRecordingLineAreReportedOnceItComesInOrder) {
  const std::string rec = "garbage\n\nmore garbage\n" + seed_recording();
  const Replayed sut = run_replay(rec);
  EXPECT_EQ(sut.summary.bad_lines, 2u);
  ASSERT_EQ(sut.log.size(), 2u);
  EXPECT_EQ(sut.log[0].rfind("line 1: ", 0), 0u) << sut.log[0];
  EXPECT_EQ(sut.log[1].rfind("line 3: ", 0), 0u) << sut.log[1];
  EXPECT_EQ(sut.summary.first_bad.rfind("line 1: ", 0), 0u) << sut.summary.first_bad;
  EXPECT_EQ(sut.text, run_replay(seed_recording()).text);
}

TEST(Replay, ALongRunOfBadLinesIsReportedAsItGoesEvenBeforeARecordingLine) {
  std::string rec;
  for (int i = 0; i < 150; ++i) rec += "garbage\n";
  const Replayed sut = run_replay(rec);
  EXPECT_EQ(sut.summary.records, 0u);
  EXPECT_EQ(sut.log.size(), 150u);  // the first 100 were held, then every one reported
  EXPECT_EQ(sut.log[0].rfind("line 1: ", 0), 0u) << sut.log[0];
}

TEST(Replay, EmptyInputGivesEmptyOutput) {
  const Replayed sut = run_replay("");
  EXPECT_TRUE(sut.text.empty());
  EXPECT_EQ(sut.summary.lines, 0u);
}

Replayed traced(const std::string& recording, const config::Config& c = seed_config()) {
  ReplayOptions o;
  o.trace = true;
  return run_replay(recording, c, o);
}

TEST(ReplayTrace, TheMessagesStayByteIdenticalWithTraceLinesBetweenThem) {
  const std::string rec = seed_recording();
  const Replayed plain = run_replay(rec);
  const Replayed sut = traced(rec);
  std::string messages;
  std::size_t traces = 0;
  std::istringstream in(sut.text);
  for (std::string l; std::getline(in, l);) {
    if (l.rfind(R"({"trace":{)", 0) == 0) {
      ++traces;
    } else {
      messages += l + '\n';
    }
  }
  EXPECT_EQ(messages, plain.text);
  EXPECT_EQ(traces, 800u);  // one per value the twin accepted
  EXPECT_EQ(sut.summary.counters.values, 800u);
  EXPECT_EQ(traced(rec).text, sut.text);  // deterministic
}

TEST(ReplayTrace, EachOutputSampleCarriesItsComparisonAndTheDecidingOneComesBeforeItsAlert) {
  const Replayed sut = traced(seed_recording());
  std::size_t compared = 0;
  const json* previous = nullptr;
  for (const json& l : sut.lines) {
    if (l.contains("topic") && l["topic"] == "twin/alert") {
      ASSERT_NE(previous, nullptr);
      const json& deciding = (*previous)["trace"];
      EXPECT_EQ(deciding["signal"], "y");
      EXPECT_EQ(deciding["ts"], l["payload"]["ts"]);
      EXPECT_EQ(std::abs(deciding["residual"].get<double>()), l["payload"]["value"]);
    }
    previous = &l;
    if (!l.contains("trace")) continue;
    const json& t = l["trace"];
    EXPECT_EQ(t["asset"], "plant");
    if (t["signal"] == "u") {
      EXPECT_TRUE(t["value"].is_number());
      EXPECT_FALSE(t.contains("measured"));
      continue;
    }
    EXPECT_EQ(t["threshold"], 0.15);
    if (t["predicted"].is_null()) {
      EXPECT_TRUE(t["residual"].is_null());
      EXPECT_EQ(t["judged"], false);
      continue;
    }
    ++compared;
    EXPECT_EQ(t["residual"].get<double>(),
              t["measured"].get<double>() - t["predicted"].get<double>());
  }
  // Bare numbers: the twin starts on the first u, provisionally (the plant moves), again on the
  // next y, and compares every y after.
  EXPECT_EQ(compared, 398u);
}

}  // namespace
}  // namespace twind::app
