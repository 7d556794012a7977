// The twin's trace (AlertSink::on_trace): every sample it accepts, an output's with the
// comparison it made, before the alerts that sample decides; nothing for a sink that does not
// trace.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "../support/fixtures.hpp"
#include "twind/core/twin.hpp"
#include "twind/sim/closed_loop.hpp"

namespace twind::core {
namespace {

using testing::seed_config;

constexpr std::size_t kU = 0;  // signal indices in the compiled seed asset: inputs first
constexpr std::size_t kY = 1;

class TracingAlerts final : public AlertSink {
 public:
  explicit TracingAlerts(bool on) { set_traces(on); }
  void on_alert(const AssetTwin& twin, const AlertEvent& e) override {
    (void)twin;
    events.emplace_back("alert");
    alerts.push_back(e);
  }
  void on_trace(const AssetTwin& twin, const TraceSample& s) override {
    (void)twin;
    events.emplace_back("trace");
    traces.push_back(s);
  }
  std::vector<std::string> events;
  std::vector<AlertEvent> alerts;
  std::vector<TraceSample> traces;
};

AssetTwin make_seed_twin(double start) {
  const config::Config c = seed_config();
  return AssetTwin(c.assets.at(0).id, compile_asset(c.assets.at(0), c.topics), start);
}

struct Fed {
  std::size_t accepted = 0;
  std::vector<double> times;            // of the samples accepted, in order
  std::vector<double> predicted_after;  // the twin's prediction of y after each compared y
};

// The seed scenario, 8 s at 50 Hz, wear at 3 s, each sample stamped with its own time (as a
// frame would be): y then u, as the plant publishes them, and one sample of each kind the twin
// refuses.
Fed feed_seed(TracingAlerts& sink) {
  constexpr double kT0 = 1732200000.0;
  sim::ClosedLoop plant(sim::Scenario{}, kT0);
  AssetTwin twin = make_seed_twin(kT0);
  Fed fed;
  for (int k = 1; k <= 400; ++k) {
    const sim::Sample s = plant.step_to(kT0 + 0.02 * k);
    const double arrival = s.t + 0.001;
    if (!twin.on_sample(kY, s.y, s.t, arrival, sink)) {
      ++fed.accepted;
      fed.times.push_back(s.t);
    }
    if (twin.initialised()) fed.predicted_after.push_back(twin.signal(kY).predicted);
    if (!twin.on_sample(kU, s.u, s.t, arrival, sink)) {
      ++fed.accepted;
      fed.times.push_back(s.t);
    }
    if (k == 100) {
      EXPECT_TRUE(twin.on_sample(kY, 5000.0, s.t, arrival, sink));     // out of bounds
      EXPECT_TRUE(twin.on_sample(kU, 1.0, s.t - 1.0, arrival, sink));  // backwards
    }
  }
  return fed;
}

TEST(TwinTrace, EverySampleTheTwinAcceptsIsTracedAndNoneItRefuses) {
  TracingAlerts sink(true);
  const Fed fed = feed_seed(sink);
  EXPECT_EQ(fed.accepted, 800u);
  EXPECT_NEAR(fed.times.back() - fed.times.front(), 7.98, 1e-6);
  ASSERT_EQ(sink.traces.size(), 800u);
  for (std::size_t i = 0; i < sink.traces.size(); ++i) {
    const TraceSample& t = sink.traces[i];
    EXPECT_EQ(t.signal, i % 2 == 0 ? kY : kU) << i;  // y then u, as fed
    EXPECT_EQ(t.ts, fed.times.at(i)) << i;
    EXPECT_TRUE(std::isfinite(t.value));
    if (t.signal == kU) {
      EXPECT_FALSE(t.compared);
    }
  }
}

TEST(TwinTrace, AnOutputCarriesTheComparisonTheTwinMadeWithIt) {
  TracingAlerts sink(true);
  const Fed fed = feed_seed(sink);
  std::size_t compared = 0;
  for (const TraceSample& t : sink.traces) {
    if (t.signal != kY) continue;
    if (!t.compared) {
      EXPECT_EQ(t.predicted, 0.0);
      EXPECT_FALSE(t.judged);
      continue;
    }
    EXPECT_EQ(t.residual, t.value - t.predicted);
    EXPECT_TRUE(t.judged);
    ++compared;
  }
  // The first y comes before any u: the twin starts on the first u and compares every y after.
  EXPECT_FALSE(sink.traces.front().compared);
  EXPECT_EQ(compared, 399u);
  // The prediction traced is the one the twin shows after the sample.
  std::size_t k = 0;
  for (const TraceSample& t : sink.traces) {
    if (t.signal == kY && t.compared) {
      ASSERT_LT(k, fed.predicted_after.size());
      EXPECT_EQ(t.predicted, fed.predicted_after[k]);
      ++k;
    }
  }
}

TEST(TwinTrace, TheSampleThatRaisesAnAlertIsTracedJustBeforeIt) {
  TracingAlerts sink(true);
  feed_seed(sink);
  ASSERT_EQ(sink.alerts.size(), 1u);
  std::size_t alert_at = 0;
  while (sink.events[alert_at] != "alert") ++alert_at;
  ASSERT_GT(alert_at, 0u);
  EXPECT_EQ(sink.events[alert_at - 1], "trace");
  const TraceSample& deciding = sink.traces[alert_at - 1];  // every event before it is a trace
  EXPECT_EQ(deciding.signal, kY);
  EXPECT_TRUE(deciding.compared);
  EXPECT_EQ(deciding.ts, sink.alerts[0].ts);
  EXPECT_EQ(std::abs(deciding.residual), sink.alerts[0].value);
  EXPECT_GT(std::abs(deciding.residual), 0.15);
}

TEST(TwinTrace, ASinkThatDoesNotTraceIsNeverCalledAndSeesTheSameAlerts) {
  TracingAlerts off(false);
  TracingAlerts on(true);
  feed_seed(off);
  feed_seed(on);
  EXPECT_TRUE(off.traces.empty());
  ASSERT_EQ(off.alerts.size(), on.alerts.size());
  for (std::size_t i = 0; i < off.alerts.size(); ++i) {
    EXPECT_EQ(off.alerts[i].ts, on.alerts[i].ts);
    EXPECT_EQ(off.alerts[i].value, on.alerts[i].value);
  }
}

}  // namespace
}  // namespace twind::core
