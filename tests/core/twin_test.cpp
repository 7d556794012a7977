#include "twind/core/twin.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "../support/fixtures.hpp"
#include "../support/recording_sink.hpp"
#include "twind/sim/closed_loop.hpp"

namespace twind::core {
namespace {

using testing::CollectingSink;
using testing::seed_config;

constexpr std::size_t kU = 0;  // signal indices in the compiled seed asset: inputs first
constexpr std::size_t kY = 1;

AssetTwin make_seed_twin(double start = 0.0, config::Config c = seed_config()) {
  return AssetTwin(c.assets.at(0).id, compile_asset(c.assets.at(0), c.topics), start);
}

// Feeds one closed-loop sample the way the plant publishes it: y measured, then u answered.
void feed(AssetTwin& sut, const sim::Sample& s, CollectingSink& sink) {
  ASSERT_FALSE(sut.on_sample(kY, s.y, s.t, s.t, sink).has_value());
  ASSERT_FALSE(sut.on_sample(kU, s.u, s.t, s.t, sink).has_value());
}

double max_residual_over_run(const std::vector<double>& times) {
  sim::Scenario sc;
  sc.wear_at = -1.0;
  sc.y0 = 0.5;
  sim::ClosedLoop plant(sc, times.front());
  AssetTwin sut = make_seed_twin(times.front());
  CollectingSink sink;
  double worst = 0.0;
  for (std::size_t k = 1; k < times.size(); ++k) {
    const sim::Sample s = plant.step_to(times[k]);
    sut.on_sample(kY, s.y, s.t, s.t, sink);
    if (sut.initialised()) worst = std::max(worst, std::abs(sut.signal(kY).residual));
    sut.on_sample(kU, s.u, s.t, s.t, sink);
  }
  EXPECT_TRUE(sut.initialised());
  EXPECT_TRUE(sink.alerts.empty());
  return worst;
}

std::vector<double> regular_times(double t0, double dt, double duration) {
  std::vector<double> t;
  const auto n = static_cast<std::size_t>(duration / dt);
  for (std::size_t k = 0; k <= n; ++k) t.push_back(t0 + static_cast<double>(k) * dt);
  return t;
}

class EventTimeInvariance : public ::testing::TestWithParam<double> {};

TEST_P(EventTimeInvariance, HealthyPlantGivesZeroResidualWhateverTheSampleInterval) {
  EXPECT_LT(max_residual_over_run(regular_times(0.0, GetParam(), 20.0)), 1e-9);
}

TEST_P(EventTimeInvariance, HealthyPlantGivesZeroResidualOnUnixTimestamps) {
  EXPECT_LT(max_residual_over_run(regular_times(1732200000.0, GetParam(), 20.0)), 1e-9);
}

INSTANTIATE_TEST_SUITE_P(Intervals, EventTimeInvariance, ::testing::Values(0.01, 0.02, 0.1, 0.5));

TEST(EventTimeInvariance, HealthyPlantGivesZeroResidualWithJitteredTimestamps) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> gap(0.001, 0.3);
  std::vector<double> t{1732200000.0};
  while (t.back() < 1732200020.0) t.push_back(t.back() + gap(rng));
  EXPECT_LT(max_residual_over_run(t), 1e-9);
}

TEST(AssetTwin, StatusIsStartingUntilEveryInputAndOutputHasArrived) {
  AssetTwin sut = make_seed_twin();
  CollectingSink sink;
  EXPECT_EQ(sut.status(), Status::starting);
  sut.on_sample(kY, 1.0, 0.1, 0.1, sink);
  EXPECT_EQ(sut.status(), Status::starting);
  EXPECT_FALSE(sut.signal(kY).has_prediction);
  sut.on_sample(kU, 1.0, 0.1, 0.1, sink);
  EXPECT_EQ(sut.status(), Status::ok);
}

TEST(AssetTwin, StateStartsFromTheMeasurementsSoAMidRunStartRaisesNoAlarm) {
  sim::Scenario sc;
  sc.wear_at = -1.0;
  sim::ClosedLoop plant(sc, 0.0);
  for (int k = 0; k < 250; ++k) plant.step();  // 5 s in: y is near 3, far from the model's 0
  AssetTwin sut = make_seed_twin(plant.time());
  CollectingSink sink;
  for (int k = 0; k < 100; ++k) feed(sut, plant.step(), sink);
  EXPECT_TRUE(sink.alerts.empty());
  EXPECT_NEAR(sut.signal(kY).residual, 0.0, 1e-9);
}

TEST(AssetTwin, WearIsDetectedWithinATenthOfASecondAndNotBefore) {
  sim::Scenario sc;  // the seed scenario: wear at 3 s moves the pole from -1 to -2
  sim::ClosedLoop plant(sc, 0.0);
  AssetTwin sut = make_seed_twin();
  CollectingSink sink;
  double wear = -1.0;
  for (int k = 0; k < 400; ++k) {
    const sim::Sample s = plant.step();
    if (s.wear_injected) wear = s.t;
    feed(sut, s, sink);
  }
  ASSERT_DOUBLE_EQ(wear, 3.0);
  ASSERT_FALSE(sink.alerts.empty());
  const AlertEvent& first = sink.alerts.front().event;
  EXPECT_EQ(first.id, AlertId::divergence);
  EXPECT_TRUE(first.raised);
  EXPECT_GT(first.ts, wear);
  EXPECT_LE(first.ts, wear + 0.1);
  EXPECT_GT(first.value, 0.15);
  EXPECT_EQ(sut.status(), Status::alert);
}

TEST(AssetTwin, OutOfBoundsValueIsRefusedAndLeavesTheTwinUntouched) {
  AssetTwin sut = make_seed_twin();
  CollectingSink sink;
  sut.on_sample(kY, 1.0, 1.0, 1.0, sink);
  sut.on_sample(kU, 1.0, 1.0, 1.0, sink);
  const double before = sut.state()[0];
  EXPECT_EQ(sut.on_sample(kY, 1000.5, 2.0, 2.0, sink), Reject::out_of_bounds);
  EXPECT_EQ(sut.on_sample(kU, -1e9, 2.0, 2.0, sink), Reject::out_of_bounds);
  EXPECT_EQ(sut.state()[0], before);
  EXPECT_EQ(sut.model_time(), 1.0);
  EXPECT_EQ(sut.signal(kY).value, 1.0);
}

TEST(AssetTwin, NonFiniteValueIsRefused) {
  AssetTwin sut = make_seed_twin();
  CollectingSink sink;
  EXPECT_EQ(sut.on_sample(kY, std::nan(""), 1.0, 1.0, sink), Reject::not_finite);
  EXPECT_EQ(sut.on_sample(kY, INFINITY, 1.0, 1.0, sink), Reject::not_finite);
  EXPECT_FALSE(sut.signal(kY).has_value);
}

TEST(AssetTwin, TimestampGoingBackwardsIsRefused) {
  AssetTwin sut = make_seed_twin();
  CollectingSink sink;
  sut.on_sample(kY, 1.0, 5.0, 5.0, sink);
  sut.on_sample(kU, 1.0, 5.0, 5.0, sink);
  EXPECT_EQ(sut.on_sample(kY, 1.0, 4.999, 5.1, sink), Reject::ts_backwards);
  EXPECT_FALSE(sut.on_sample(kY, 1.0, 5.0, 5.1, sink).has_value());  // equal time is fine
  EXPECT_EQ(sut.model_time(), 5.0);
}

TEST(AssetTwin, SilentSignalGoesStaleAfterStaleAfterAndClearsOnArrival) {
  AssetTwin sut = make_seed_twin(10.0);
  CollectingSink sink;
  sut.on_sample(kY, 1.0, 10.0, 10.0, sink);
  sut.on_sample(kU, 1.0, 10.0, 10.0, sink);
  sut.check_stale(11.5, sink);  // exactly stale_after: not yet
  EXPECT_TRUE(sink.alerts.empty());
  sut.check_stale(11.6, sink);
  ASSERT_EQ(sink.alerts.size(), 1u);
  EXPECT_EQ(sink.alerts[0].event.id, AlertId::stale);
  EXPECT_TRUE(sink.alerts[0].event.raised);
  EXPECT_EQ(sink.alerts[0].event.signal, kY);
  EXPECT_EQ(sut.status(), Status::stale);
  sut.check_stale(12.0, sink);  // raised once, not on every check
  EXPECT_EQ(sink.alerts.size(), 1u);
  sut.on_sample(kY, 1.0, 12.1, 12.1, sink);
  ASSERT_EQ(sink.alerts.size(), 2u);
  EXPECT_FALSE(sink.alerts[1].event.raised);
  EXPECT_EQ(sut.status(), Status::ok);
}

// Stale is defined on the arrival clock: raised by a check at arrival time, cleared by the
// arrival of the next sample, whatever event time that sample is stamped with.
class StaleClock : public ::testing::TestWithParam<double> {};  // ts - arrival, in seconds

TEST_P(StaleClock, StaleAlertIsClearedOnTheArrivalClockItWasRaisedOn) {
  const double lag = GetParam();
  AssetTwin sut = make_seed_twin(10.0);
  CollectingSink sink;
  sut.on_sample(kY, 1.0, 10.0 + lag, 10.0, sink);
  sut.on_sample(kU, 1.0, 10.0 + lag, 10.0, sink);
  sut.check_stale(12.0, sink);
  sut.on_sample(kY, 1.0, 12.3 + lag, 12.3, sink);

  ASSERT_EQ(sink.alerts.size(), 2u);
  const AlertEvent& raised = sink.alerts[0].event;
  const AlertEvent& cleared = sink.alerts[1].event;
  EXPECT_EQ(raised.id, AlertId::stale);
  EXPECT_TRUE(raised.raised);
  EXPECT_EQ(raised.ts, 12.0);
  EXPECT_EQ(cleared.id, AlertId::stale);
  EXPECT_FALSE(cleared.raised);
  EXPECT_EQ(cleared.ts, 12.3);
  EXPECT_GE(cleared.ts, raised.ts);
}

INSTANTIATE_TEST_SUITE_P(TsAgainstArrival, StaleClock, ::testing::Values(-5.0, 0.0, 5.0),
                         [](const ::testing::TestParamInfo<double>& i) {
                           return i.param < 0.0   ? std::string("TsLagsBy5s")
                                  : i.param > 0.0 ? std::string("TsLeadsBy5s")
                                                  : std::string("TsIsArrival");
                         });

TEST(AssetTwin, StaleAlertIsNotClearedBeforeItWasRaisedBySampleThatArrivedBeforeTheCheck) {
  // A driver may run a check stamped after a sample it has not handed over yet.
  AssetTwin sut = make_seed_twin(10.0);
  CollectingSink sink;
  sut.on_sample(kY, 1.0, 10.0, 10.0, sink);
  sut.on_sample(kU, 1.0, 10.0, 10.0, sink);
  sut.check_stale(12.0, sink);
  sut.on_sample(kY, 1.0, 11.9, 11.9, sink);

  ASSERT_EQ(sink.alerts.size(), 2u);
  EXPECT_FALSE(sink.alerts[1].event.raised);
  EXPECT_EQ(sink.alerts[1].event.ts, 12.0);
  EXPECT_EQ(sut.status(), Status::ok);
}

// A divergence alert is raised on event time; a reload, rebaseline or shutdown clears it on the
// driver's clock. With ts leading arrival the clear is stamped at the raise, never before it.
TEST(AssetTwin, DivergenceClearedOnTheDriversClockIsNeverStampedBeforeItsRaise) {
  for (const bool by_rebaseline : {false, true}) {
    AssetTwin sut = make_seed_twin(95.0);
    CollectingSink sink;
    // ts leads arrival by 5 s; u = 0 and y = 0 start the twin at rest, then y jumps.
    sut.on_sample(kU, 0.0, 100.0, 95.0, sink);
    sut.on_sample(kY, 0.0, 100.0, 95.0, sink);
    sut.on_sample(kY, 0.5, 100.1, 95.1, sink);
    ASSERT_EQ(sink.alerts.size(), 1u);
    ASSERT_TRUE(sink.alerts[0].event.raised);

    if (by_rebaseline) {
      sut.rebaseline(sut.def_ptr(), 95.2, sink);
    } else {
      sut.clear_alerts(95.2, sink);
    }

    ASSERT_EQ(sink.alerts.size(), 2u) << "rebaseline: " << by_rebaseline;
    EXPECT_EQ(sink.alerts[1].event.id, AlertId::divergence);
    EXPECT_FALSE(sink.alerts[1].event.raised);
    EXPECT_EQ(sink.alerts[1].event.ts, 100.1) << "rebaseline: " << by_rebaseline;
  }
}

// The seed plant at rest with u = y = 1 until t = 1 s, then silent for 3 s during which its
// input steps to 3 (unknown to the twin), then heard again: y(t) = 3 - 2 exp(-(t - 1.1)).
// `check_stale` says whether the twin's ticks ran meanwhile (and so saw y go stale).
std::vector<AlertEvent> outage_alerts(bool check_stale, bool output_first) {
  AssetTwin sut = make_seed_twin(0.0);
  CollectingSink sink;
  for (int k = 0; k <= 10; ++k) {
    const double t = 0.1 * k;
    sut.on_sample(kU, 1.0, t, t, sink);
    sut.on_sample(kY, 1.0, t, t, sink);
  }
  if (check_stale) sut.check_stale(2.7, sink);
  for (int k = 0; k <= 10; ++k) {
    const double t = 4.1 + 0.1 * k;
    const double y = 3.0 - 2.0 * std::exp(-(t - 1.1));
    if (output_first) sut.on_sample(kY, y, t, t, sink);
    sut.on_sample(kU, 3.0, t, t, sink);
    if (!output_first) sut.on_sample(kY, y, t, t, sink);
  }
  EXPECT_TRUE(sut.initialised());
  // Restarted from the measurements, the twin follows the plant exactly again.
  if (check_stale) {
    EXPECT_LT(std::abs(sut.signal(kY).residual), 1e-9);
  }
  std::vector<AlertEvent> out;
  for (const auto& a : sink.alerts) out.push_back(a.event);
  return out;
}

TEST(AssetTwin, AnOutageLongEnoughToMakeAnOutputStaleRestartsTheTwinInsteadOfAFalseAlarm) {
  for (const bool output_first : {false, true}) {
    const std::vector<AlertEvent> alerts = outage_alerts(true, output_first);
    ASSERT_EQ(alerts.size(), 2u) << "output first: " << output_first;
    EXPECT_EQ(alerts[0].id, AlertId::stale);
    EXPECT_TRUE(alerts[0].raised);
    EXPECT_EQ(alerts[1].id, AlertId::stale);
    EXPECT_FALSE(alerts[1].raised);
  }
}

TEST(AssetTwin, WithoutTheStaleOutputTheGapIsIntegratedWithTheInputHeld) {
  // The same data, the gap unnoticed (no tick ran): the held u = 1 predicts y near 1 at t = 4.1.
  const std::vector<AlertEvent> alerts = outage_alerts(false, false);
  ASSERT_FALSE(alerts.empty());
  EXPECT_EQ(alerts[0].id, AlertId::divergence);
  EXPECT_TRUE(alerts[0].raised);
}

TEST(AssetTwin, SignalThatNeverArrivesGoesStaleCountingFromTheStart) {
  AssetTwin sut = make_seed_twin(100.0);
  CollectingSink sink;
  sut.check_stale(101.0, sink);
  EXPECT_TRUE(sink.alerts.empty());
  sut.check_stale(101.6, sink);
  ASSERT_EQ(sink.alerts.size(), 1u);  // only y has stale_after in the seed configuration
  EXPECT_EQ(sink.alerts[0].event.signal, kY);
}

TEST(AssetTwin, DivergenceClearsOnlyBelowTheClearThreshold) {
  AssetTwin sut = make_seed_twin();
  CollectingSink sink;
  // u = 0 and the twin starts at y = 0: the model predicts 0 throughout, so the residual is the
  // measured value itself.
  sut.on_sample(kU, 0.0, 0.0, 0.0, sink);
  sut.on_sample(kY, 0.0, 0.0, 0.0, sink);
  const std::vector<double> ys = {0.2, 0.12, 0.11, 0.05};
  for (std::size_t k = 0; k < ys.size(); ++k) {
    const double t = 0.1 * static_cast<double>(k + 1);
    sut.on_sample(kY, ys[k], t, t, sink);
  }
  ASSERT_EQ(sink.alerts.size(), 2u);
  EXPECT_TRUE(sink.alerts[0].event.raised);
  EXPECT_DOUBLE_EQ(sink.alerts[0].event.ts, 0.1);
  EXPECT_FALSE(sink.alerts[1].event.raised);
  EXPECT_DOUBLE_EQ(sink.alerts[1].event.ts, 0.4);
  EXPECT_DOUBLE_EQ(sink.alerts[1].event.threshold, 0.1);
}

TEST(AssetTwin, DebounceNeedsRaiseAfterConsecutiveSamples) {
  config::Config c = seed_config();
  c.assets[0].detector.raise_after = 3;
  AssetTwin sut = make_seed_twin(0.0, c);
  CollectingSink sink;
  sut.on_sample(kU, 0.0, 0.0, 0.0, sink);
  sut.on_sample(kY, 0.0, 0.0, 0.0, sink);
  const std::vector<double> ys = {0.2, 0.2, 0.0, 0.2, 0.2, 0.2};
  for (std::size_t k = 0; k < ys.size(); ++k) {
    const double t = 0.1 * static_cast<double>(k + 1);
    sut.on_sample(kY, ys[k], t, t, sink);
  }
  ASSERT_EQ(sink.alerts.size(), 1u);
  EXPECT_DOUBLE_EQ(sink.alerts[0].event.ts, 0.6);
}

// Bare numbers (ts = arrival): while the arrival clocks have not learnt their rhythm, a sample
// 200 ms late after a step of the input would move the healthy plant's comparison by 0.55; the
// twin shows that residual but does not judge it, and judges again once the rhythm is learnt.
TEST(AssetTwin, BareNumbersOfUnknownLatenessAreNotJudgedWhileTheModelMoves) {
  AssetTwin sut = make_seed_twin();
  CollectingSink sink;
  // The seed plant 1/(s+1) at rest at 0, its input stepped to 5 at t = 1: y(t) = 5 (1 - e^-(t-1)).
  const auto y_at = [](double t) { return t <= 1.0 ? 0.0 : 5.0 * (1.0 - std::exp(-(t - 1.0))); };
  const auto sample = [&](double t, double arrival) {
    sut.on_sample(kU, t < 1.0 ? 0.0 : 5.0, arrival, arrival, sink);
    sut.on_sample(kY, y_at(t), arrival + 1e-4, arrival + 1e-4, sink);
  };
  sample(0.0, 0.0);
  sample(0.5, 0.5);
  sample(1.0, 1.0);
  sample(1.5, 1.7);  // 200 ms late
  ASSERT_TRUE(sut.initialised());
  EXPECT_GT(std::abs(sut.signal(kY).residual), 0.5);
  EXPECT_FALSE(sut.signal(kY).judged);
  EXPECT_FALSE(sut.divergence().has_value());
  EXPECT_GE(sut.unjudged(), 1u);
  for (int k = 4; k < 12; ++k) sample(0.5 * k, 0.5 * k);
  EXPECT_TRUE(sink.alerts.empty());
  EXPECT_TRUE(sut.signal(kY).judged);
  ASSERT_TRUE(sut.divergence().has_value());
  EXPECT_LT(sut.divergence()->value, 0.01);
}

// The same twin judges from its first comparison where no lateness could matter: a model at
// rest. A sensor that jumps by 0.5 on a plant at rest raises at once.
TEST(AssetTwin, BareNumbersAreJudgedAtOnceWhileTheModelIsAtRest) {
  AssetTwin sut = make_seed_twin();
  CollectingSink sink;
  const auto sample = [&](double t, double y) {
    sut.on_sample(kU, 2.0, t, t, sink);
    sut.on_sample(kY, y, t + 1e-4, t + 1e-4, sink);
  };
  sample(0.0, 2.0);
  sample(0.5, 2.0);
  EXPECT_TRUE(sink.alerts.empty());
  sample(1.0, 2.5);
  ASSERT_EQ(sink.alerts.size(), 1u);
  EXPECT_TRUE(sink.alerts[0].event.raised);
  EXPECT_EQ(sut.unjudged(), 0u);
}

// Once the rhythm is learnt, a sample later than half a period may start a new rhythm: its
// comparison, and those until the new rhythm is learnt, are not judged while the model moves. A
// wear that lasts is then raised as soon as the twin judges again.
TEST(AssetTwin, WearHiddenByALateSampleIsRaisedOnceTheRhythmIsLearntAgain) {
  AssetTwin sut = make_seed_twin();
  CollectingSink sink;
  // The plant's input alternates between 0 and 5 every 2 s; its pole moves from -1 to -2 at
  // t = 6. Sampled at 2 Hz, bare; the sample of t = 6.5 arrives 400 ms late.
  double y = 0.0;
  double t_plant = 0.0;
  const auto u_at = [](double t) { return static_cast<int>(t / 2.0) % 2 == 0 ? 0.0 : 5.0; };
  double late_residual = 0.0;
  for (int k = 0; k < 30; ++k) {
    const double t = 0.5 * static_cast<double>(k);
    // Exact zero-order hold of the plant from t_plant to t with the input held.
    const double pole = t_plant >= 6.0 ? 2.0 : 1.0;
    const double u = u_at(t_plant);
    y = u / pole + (y - u / pole) * std::exp(-pole * (t - t_plant));
    t_plant = t;
    const double arrival = k == 13 ? t + 0.4 : t;
    sut.on_sample(kU, u_at(t), arrival, arrival, sink);
    sut.on_sample(kY, y, arrival + 1e-4, arrival + 1e-4, sink);
    if (k == 13) late_residual = sut.signal(kY).residual;
    if (k < 13) {
      EXPECT_TRUE(sink.alerts.empty()) << t;
    }
  }
  EXPECT_GT(std::abs(late_residual), 0.15);  // worn, and late: not judged
  // Unjudged: the step at t = 2 (the rhythm is learnt at t = 2.5), and t = 6.5 to 9.0: the late
  // sample starts a run, the 0.1 s interval after it ends that one, and the run from t = 7.5 is
  // learnt on its fourth interval, at t = 9.5, where the wear is raised.
  EXPECT_EQ(sut.unjudged(), 7u);
  ASSERT_FALSE(sink.alerts.empty());
  EXPECT_TRUE(sink.alerts[0].event.raised);
  EXPECT_DOUBLE_EQ(sink.alerts[0].event.ts, 9.5 + 1e-4);
}

}  // namespace
}  // namespace twind::core
