// The engine's diagnosis as jobs: cut after a tick, computed anywhere, taken back; at most
// kDiagnosesInFlight out and one per twin; a result for an alert that has gone is dropped; and
// `rebaseline` with `identified` adopts the model the diagnosis identified.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "../support/fixtures.hpp"
#include "../support/recording_sink.hpp"
#include "twind/core/engine.hpp"
#include "twind/sim/closed_loop.hpp"

namespace twind::core {
namespace {

using testing::CollectingSink;
using testing::seed_config;

// Feeds the seed plant (its wear at 3 s, pole -1 -> -2) as frames to `sut` up to `until`,
// ticking every 0.5 s; `after_tick` runs after each tick.
template <typename F>
void feed(Engine& sut, Sink& sink, sim::ClosedLoop& loop, double until, double& next_tick,
          F after_tick) {
  char frame[128];
  while (loop.time() < until) {
    const sim::Sample s = loop.step();
    std::snprintf(frame, sizeof frame, R"({"ts":%.17g,"u":%.17g,"y":%.17g})", s.t, s.u, s.y);
    sut.on_message("plant/frame", frame, s.t, sink);
    if (s.t >= next_tick) {
      sut.tick(next_tick, sink);
      after_tick(next_tick);
      next_tick += 0.5;
    }
  }
}

// Three plants wearing alike: more twins in alert than jobs may be out.
config::Config three_plants() {
  config::Config c = seed_config();
  config::AssetSpec a = c.assets[0];
  c.assets.clear();
  c.topics.state = "twin/{asset}/state";
  c.topics.alert = "twin/{asset}/alert";
  c.topics.diagnosis = "twin/{asset}/diagnosis";
  for (const char* id : {"p1", "p2", "p3"}) {
    a.id = id;
    for (auto& s : a.signals) s.topic = std::string(id) + "/" + s.name;
    c.assets.push_back(a);
  }
  return c;
}

TEST(DiagnosisJobs, DeferredJobsAreBoundedOnePerTwinAndTheirResultsPublished) {
  Engine sut(three_plants(), 0.0);
  sut.set_diagnosis_deferred(true);
  CollectingSink sink;
  sim::Scenario sc;
  sim::ClosedLoop loop(sc, 0.0);
  std::vector<DiagnosisJob> held;  // computed late, as a busy diagnosis thread would
  std::size_t most_out = 0;
  double next_tick = 0.5;
  char msg[64];
  while (loop.time() < 5.0) {
    const sim::Sample s = loop.step();
    for (const char* id : {"p1", "p2", "p3"}) {
      std::snprintf(msg, sizeof msg, R"({"ts":%.17g,"value":%.17g})", s.t, s.u);
      sut.on_message(std::string(id) + "/u", msg, s.t, sink);
      std::snprintf(msg, sizeof msg, R"({"ts":%.17g,"value":%.17g})", s.t, s.y);
      sut.on_message(std::string(id) + "/y", msg, s.t, sink);
    }
    if (s.t < next_tick) continue;
    sut.tick(next_tick, sink);
    next_tick += 0.5;
    sut.take_diagnosis_jobs(held);
    most_out = std::max(most_out, sut.diagnoses_in_flight());
    EXPECT_LE(held.size(), Engine::kDiagnosesInFlight);
    // One job per twin at a time.
    for (std::size_t i = 0; i < held.size(); ++i) {
      for (std::size_t j = i + 1; j < held.size(); ++j) {
        EXPECT_NE(held[i].asset.id, held[j].asset.id);
      }
    }
    // Each tick answers the jobs of the tick before.
    if (!held.empty() && sink.diagnoses.size() < 6) {
      for (const DiagnosisJob& j : held) sut.on_diagnosis(run_diagnosis(j), sink);
      held.clear();
    }
  }

  EXPECT_EQ(most_out, Engine::kDiagnosesInFlight);
  // Every plant was diagnosed, and as the pole.
  for (const char* id : {"p1", "p2", "p3"}) {
    bool seen = false;
    for (std::size_t i = 0; i < sink.diagnoses.size(); ++i) {
      seen = seen || (sink.diagnosed[i] == id && sink.diagnoses[i].best->name == "A[0][0]");
    }
    EXPECT_TRUE(seen) << id;
  }
  EXPECT_EQ(sut.counters().diagnoses, sink.diagnoses.size());
}

TEST(DiagnosisJobs, AResultForAnAlertThatClearedIsDropped) {
  Engine sut(seed_config(), 0.0);
  sut.set_diagnosis_deferred(true);
  CollectingSink sink;
  sim::Scenario sc;
  sim::ClosedLoop loop(sc, 0.0);
  double next_tick = 0.5;
  std::vector<DiagnosisJob> jobs;
  feed(sut, sink, loop, 4.0, next_tick, [&](double) { sut.take_diagnosis_jobs(jobs); });
  ASSERT_FALSE(jobs.empty());
  ASSERT_EQ(sut.diagnoses_in_flight(), 1U);

  // The operator accepts the plant as it is: the alert clears before the result comes back.
  sut.on_message("twin/plant/cmd", R"({"command": "rebaseline"})", loop.time(), sink);
  ASSERT_TRUE(sink.replies.back().ok);
  sut.on_diagnosis(run_diagnosis(jobs.front()), sink);

  EXPECT_TRUE(sink.diagnoses.empty());
  EXPECT_EQ(sut.diagnoses_in_flight(), 0U);
}

TEST(DiagnosisJobs, RebaselineIdentifiedAdoptsTheDiagnosedModelAsTheNextVersion) {
  Engine sut(seed_config(), 0.0);
  CollectingSink sink;
  sim::Scenario sc;
  sim::ClosedLoop loop(sc, 0.0);
  double next_tick = 0.5;
  feed(sut, sink, loop, 5.0, next_tick, [](double) {});
  ASSERT_FALSE(sink.diagnoses.empty());
  ASSERT_EQ(sink.diagnoses.back().best->name, "A[0][0]");
  const double estimate = sink.diagnoses.back().best->estimate;

  sut.on_message("twin/plant/cmd", R"({"id": "r1", "command": "rebaseline", "identified": true})",
                 loop.time(), sink);

  const CommandReply& reply = sink.replies.back();
  ASSERT_TRUE(reply.ok) << reply.error;
  ASSERT_TRUE(reply.adopted.has_value());
  EXPECT_EQ(reply.adopted->kind, "parameter");
  EXPECT_EQ(reply.adopted->name, "A[0][0]");
  EXPECT_EQ(reply.adopted->estimate, estimate);
  EXPECT_EQ(reply.model.version, "2");
  ASSERT_TRUE(reply.previous.has_value());
  EXPECT_EQ(reply.previous->version, "1");
  const AssetTwin& twin = *sut.find("plant");
  EXPECT_EQ(twin.def().model_spec.a.data.at(0), estimate);
  EXPECT_EQ(twin.def().model_id.version, "2");
  std::string json;
  encode_reply(reply, json);
  EXPECT_NE(json.find(R"("identified":{"kind":"parameter","name":"A[0][0]","estimate":)"),
            std::string::npos)
      << json;

  // The worn plant, twinned by the adopted model from here on: no divergence.
  const std::size_t alerts = sink.alerts.size();
  feed(sut, sink, loop, 15.0, next_tick, [](double) {});
  for (std::size_t i = alerts; i < sink.alerts.size(); ++i) {
    EXPECT_FALSE(sink.alerts[i].event.raised) << "raised at " << sink.alerts[i].event.ts;
  }
  EXPECT_EQ(twin.status(), Status::ok);
}

TEST(DiagnosisJobs, RebaselineIdentifiedWithoutADiagnosisIsRefused) {
  Engine sut(seed_config(), 0.0);
  CollectingSink sink;

  sut.on_message("twin/plant/cmd", R"({"command": "rebaseline", "identified": true})", 1.0, sink);

  ASSERT_FALSE(sink.replies.back().ok);
  EXPECT_NE(sink.replies.back().error.find("identified: no model identified for plant"),
            std::string::npos)
      << sink.replies.back().error;
  EXPECT_EQ(sut.find("plant")->def().model_id.version, "1");
}

// The seed plant with noise, its pole going from -1 to -2 over `drift` seconds from 3 s on (at
// once for 0), to `until`; the twin's window looked at after each tick by `look`.
template <typename F>
void wear(Engine& sut, CollectingSink& sink, double drift, double until, F look) {
  sim::Scenario sc;
  sc.noise_std = 0.01;
  sc.seed = 3;
  sc.worn.pole = -2.0;
  sc.drift = drift;
  sim::ClosedLoop loop(sc, 0.0);
  double next_tick = 0.5;
  feed(sut, sink, loop, until, next_tick, [&](double) { look(sut.twin(0)); });
}

TEST(DiagnosisWindow, AChangeStillMovingLetsGoOfWhatCameBeforeItsLatestEstimate) {
  Engine sut(seed_config(), 0.0);  // one job per tick, computed at once
  CollectingSink sink;
  std::size_t most = 0;
  bool onset_let_go = false;
  wear(sut, sink, 20.0, 60.0, [&](const AssetTwin& t) {
    most = std::max(most, t.recent().size());
    onset_let_go = onset_let_go || (t.diagnosing() && !t.recent().empty() &&
                                    t.recent().front().t > t.diagnosis_alert());
  });
  ASSERT_FALSE(sink.diagnoses.empty());
  const AssetTwin& t = sut.twin(0);
  ASSERT_TRUE(t.diagnosing());
  EXPECT_TRUE(onset_let_go);
  EXPECT_TRUE(t.diagnosis_following().after_onset);
  // The drift stopped at 23 s; the window then grew full (2048 samples, 20.48 s of pairs at
  // 50 Hz) and went on letting go of its oldest quarter, never holding more.
  EXPECT_LE(most, AssetTwin::kHeld);
  EXPECT_GT(t.recent().front().t, 60.0 - 20.48);
  EXPECT_FALSE(sink.diagnoses.back().drifting);
  // The onset stays the one found while the window held it.
  EXPECT_GT(sink.diagnoses.back().best->onset, 3.0);
  EXPECT_LT(sink.diagnoses.back().best->onset, 8.0);
}

TEST(DiagnosisWindow, AChangeThatHasStoppedKeepsItsOnsetAndAFullWindowStands) {
  Engine sut(seed_config(), 0.0);
  CollectingSink sink;
  std::size_t most = 0;
  wear(sut, sink, 0.0, 30.0, [&](const AssetTwin& t) { most = std::max(most, t.recent().size()); });
  ASSERT_FALSE(sink.diagnoses.empty());
  const AssetTwin& t = sut.twin(0);
  ASSERT_TRUE(t.diagnosing());
  EXPECT_FALSE(t.diagnosis_following().after_onset);
  EXPECT_EQ(t.recent().size(), AssetTwin::kHeld);
  EXPECT_EQ(most, AssetTwin::kHeld);
  EXPECT_LT(t.recent().front().t, t.diagnosis_alert());  // the samples before the alert are kept
  for (const DiagnosisReport& d : sink.diagnoses) EXPECT_FALSE(d.drifting);
}

}  // namespace
}  // namespace twind::core
