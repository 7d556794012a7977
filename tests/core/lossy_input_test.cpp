// Input lost on the way: what the engine does while its driver says samples may be missing
// (Engine::set_input_lossy; AssetTwin, "Lost input"), and the input delay it measures from the
// plants' stamps (Engine::take_input_delay).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "../support/fixtures.hpp"
#include "../support/recording_sink.hpp"
#include "twind/core/engine.hpp"

namespace twind::core {
namespace {

using testing::CollectingSink;
using testing::seed_config;

std::string frame(double ts, double u, double y) {
  char buf[128];
  std::snprintf(buf, sizeof buf, R"({"ts": %.17g, "u": %.17g, "y": %.17g})", ts, u, y);
  return buf;
}

// The seed plant dx/dt = -x + u, y = x (the twin's own model, exactly), sampled every 0.1 s and
// stamped, each frame arriving `transit` s after its stamp. The input steps from 0 to 5 at
// t = 1.0; `pole` is the plant's pole from t = `wear_at` on (-1: healthy).
struct Plant {
  double x = 0.0;
  double t = 0.0;
  double pole = -1.0;
  double wear_at = 1e9;
  double u(double at) const { return at >= 1.0 - 1e-9 ? 5.0 : 0.0; }
  // Advances to `to` with the input of the sample at t held, and returns the frame at `to`.
  std::string step(double to) {
    const double p = to > wear_at ? pole : -1.0;
    const double e = std::exp(p * (to - t));
    x = x * e + u(t) * (e - 1.0) / p;
    t = to;
    return frame(t, u(t), x);
  }
};

int divergences(const CollectingSink& sink) {
  int n = 0;
  for (const auto& a : sink.alerts) n += a.event.id == AlertId::divergence && a.event.raised;
  return n;
}

// Frames every 0.1 s until 0.8, then none until 2.0 (lost: the step of u at 1.0 among them),
// then every 0.1 s again. Returns the engine's sink.
CollectingSink run_with_gap(Engine& sut, bool lossy) {
  CollectingSink sink;
  Plant plant;
  for (int k = 1; k <= 30; ++k) {
    const double t = 0.1 * k;
    const std::string f = plant.step(t);
    if (t > 0.85 && t < 1.95) continue;  // lost on the way
    sut.set_input_lossy(lossy);
    sut.on_message("plant/frame", f, t + 0.01, sink);
  }
  return sink;
}

TEST(LossyInput, AcrossAGapOfLostSamplesTheTwinRestartsInsteadOfRaisingADivergence) {
  // Not told that input may be lost: the prediction made with u held at 0 through the gap is
  // compared with a plant that followed the step, a divergence of about 3.
  Engine told_nothing(seed_config(), 0.0);
  EXPECT_EQ(divergences(run_with_gap(told_nothing, false)), 1);
  EXPECT_EQ(told_nothing.counters().reanchored, 0u);

  Engine lossy(seed_config(), 0.0);
  const CollectingSink sink = run_with_gap(lossy, true);
  EXPECT_EQ(divergences(sink), 0);
  // At the gap, and at the second frame, whose gap had no usual length to be judged against.
  EXPECT_EQ(lossy.counters().reanchored, 2u);
  // Restarted from the measurement at 2.0, the twin goes on comparing, and predicts the plant.
  ASSERT_TRUE(lossy.twin(0).divergence().has_value());
  EXPECT_LT(lossy.twin(0).divergence()->value, 1e-6);
}

TEST(LossyInput, ConsecutiveSamplesAreStillComparedSoARealFaultIsSeen) {
  Engine sut(seed_config(), 0.0);
  sut.set_input_lossy(true);
  CollectingSink sink;
  Plant plant;
  plant.pole = -2.0;
  plant.wear_at = 3.0;
  for (int k = 1; k <= 50; ++k) {
    const double t = 0.1 * k;
    sut.on_message("plant/frame", plant.step(t), t + 0.01, sink);
    if (t < 3.05) {
      EXPECT_EQ(divergences(sink), 0) << t;
    }
  }
  EXPECT_EQ(divergences(sink), 1);
  // Only the second frame restarted the twin (the usual interval was not known yet).
  EXPECT_EQ(sut.counters().reanchored, 1u);
}

TEST(LossyInput, NoStaleAlertIsRaisedWhileInputMayBeLostAndTheSilenceIsJudgedAfter) {
  Engine sut(seed_config(), 0.0);
  CollectingSink sink;
  sut.on_message("plant/y", "1", 1.0, sink);
  sut.on_message("plant/u", "1", 1.0, sink);
  sut.set_input_lossy(true);
  sut.tick(3.0, sink);  // 2 s of silence: past stale_after (1.5 s), but maybe lost
  sut.on_message("plant/u", "1", 3.2, sink);  // a message to the asset checks its signals too
  EXPECT_TRUE(sink.alerts.empty());
  sut.set_input_lossy(false);
  sut.tick(3.5, sink);
  ASSERT_EQ(sink.alerts.size(), 1u);
  EXPECT_EQ(sink.alerts[0].event.id, AlertId::stale);
}

TEST(LossyInput, ASampleDelayedPastTwoTicksIsShedOnlyWhileInputIsLossy) {
  Engine sut(seed_config(), 0.0);
  CollectingSink sink;
  // The plant's clock runs 5 s behind twind's: a transit of 5 s is its usual, no delay.
  sut.on_message("plant/frame", frame(1.0, 1.0, 1.0), 6.0, sink);
  sut.on_message("plant/frame", frame(1.1, 1.0, 1.0), 6.1, sink);
  EXPECT_NEAR(sut.take_input_delay(), 0.0, 1e-9);
  // Then frames that have queued for 1.5 s (three ticks): shed while lossy, taken otherwise.
  sut.set_input_lossy(true);
  sut.on_message("plant/frame", frame(1.2, 1.0, 1.0), 7.7, sink);
  EXPECT_EQ(sut.counters().shed, 2u);  // u and y
  EXPECT_EQ(sut.twin(0).signal(1).event_time, 1.1);
  EXPECT_NEAR(sut.take_input_delay(), 1.5, 1e-3);
  sut.set_input_lossy(false);
  sut.on_message("plant/frame", frame(1.3, 1.0, 1.0), 7.8, sink);
  EXPECT_EQ(sut.counters().shed, 2u);
  EXPECT_EQ(sut.twin(0).signal(1).event_time, 1.3);
  // Arrival stamps (bare numbers) carry no delay to measure, and are never shed.
  sut.set_input_lossy(true);
  sut.take_input_delay();
  sut.on_message("plant/y", "1", 9.0, sink);
  EXPECT_EQ(sut.counters().shed, 2u);
  EXPECT_TRUE(std::isnan(sut.take_input_delay()));
}

// A shed sample was heard: its plant is not silent. Shed for 3 s (twind behind), then no longer
// lossy: no stale alert for the time its samples were shed; a real silence after that still is.
TEST(LossyInput, ASampleShedStillShowsItsPlantIsNotSilent) {
  Engine sut(seed_config(), 0.0);
  CollectingSink sink;
  sut.on_message("plant/frame", frame(1.0, 1.0, 1.0), 1.01, sink);
  sut.on_message("plant/frame", frame(1.1, 1.0, 1.0), 1.11, sink);
  sut.set_input_lossy(true);
  for (int k = 0; k < 30; ++k) {  // each 1.5 s late: shed
    const double ts = 1.2 + 0.1 * k;
    sut.on_message("plant/frame", frame(ts, 1.0, 1.0), ts + 1.5, sink);
  }
  ASSERT_EQ(sut.counters().shed, 60u);
  sut.set_input_lossy(false);
  sut.tick(5.7, sink);  // 4.6 s after the last sample taken, 0.1 s after the last one shed
  EXPECT_TRUE(sink.alerts.empty());
  sut.tick(7.2, sink);  // 1.6 s of real silence, past stale_after (1.5 s)
  ASSERT_EQ(sink.alerts.size(), 1u);
  EXPECT_EQ(sink.alerts[0].event.id, AlertId::stale);
}

TEST(LossyInput, TheInputDelayIsTheMedianOfTheLatestSamplesBeyondEachPlantsClockOffset) {
  Engine sut(testing::fleet_config(), 0.0);
  CollectingSink sink;
  EXPECT_TRUE(std::isnan(sut.take_input_delay()));
  // Two plants, one clock 3 s ahead of twind's, one 2 s behind: no delay at first.
  for (int k = 0; k < 10; ++k) {
    const double t = 10.0 + 0.1 * k;
    sut.on_message("plant/a/frame", frame(t + 3.0, 1.0, 1.0), t, sink);
    sut.on_message("plant/b/frame", frame(t - 2.0, 1.0, 1.0), t, sink);
  }
  EXPECT_NEAR(sut.take_input_delay(), 0.0, 1e-3);
  // Then both queue for 4 s, but for one sample of b that comes through at once (its clock
  // jumped): the median is still the queue's.
  for (int k = 0; k < 10; ++k) {
    const double t = 20.0 + 0.1 * k;
    sut.on_message("plant/a/frame", frame(t - 4.0 + 3.0, 1.0, 1.0), t, sink);
    sut.on_message("plant/b/frame", frame(t - (k == 5 ? 0.0 : 4.0) - 2.0, 1.0, 1.0), t, sink);
  }
  EXPECT_NEAR(sut.take_input_delay(), 4.0, 0.05);
  // Taken: nothing since.
  EXPECT_TRUE(std::isnan(sut.take_input_delay()));
}

// A delay that stands still is not a queue: twind sheds a backlog of its own, which then drains,
// so a plant's samples that keep coming 20 s late (its clock set slow, a gateway that holds them)
// are first shed as too old, then, within two windows of the plant's time, taken for its clock's
// offset and used again. Meanwhile the plant is not silent: once the input is no longer lossy,
// no stale alert is raised for the samples that were shed.
TEST(LossyInput, ADelayThatStandsForTwoWindowsIsTakenForTheClocksOffsetNotForAQueue) {
  Engine sut(seed_config(), 0.0);
  CollectingSink sink;
  Plant plant;
  double taken_back = -1.0;  // the plant time from which the delay reads small again
  bool lossy = false;
  for (int k = 1; k <= 400; ++k) {
    const double t = 0.1 * k;
    const double transit = t <= 5.0 + 1e-9 ? 0.01 : 20.01;
    sut.set_input_lossy(lossy);
    sut.on_message("plant/frame", plant.step(t), t + transit, sink);
    const double delay = sut.take_input_delay();
    lossy = delay > 0.5;  // as the daemon has it: behind while its input is late
    if (t <= 5.0 + 1e-9) {
      ASSERT_LT(delay, 0.05) << t;
    } else if (taken_back < 0.0 && delay < 0.05) {
      taken_back = t;
    } else if (taken_back < 0.0) {
      ASSERT_NEAR(delay, 20.0, 0.1) << t;  // until then, it may be a queue: shed
    } else {
      ASSERT_LT(delay, 0.05) << t;  // and once taken in, for good
    }
  }
  ASSERT_GT(taken_back, 5.0);
  EXPECT_LE(taken_back, 5.0 + 2.0 * AssetTwin::kTransitWindow + 0.1);
  // Shed until then (u and y of each frame but the first late one), taken since: the twin holds
  // the latest frame.
  EXPECT_NEAR(static_cast<double>(sut.counters().shed), 2.0 * (taken_back - 5.1) / 0.1, 2.0);
  EXPECT_DOUBLE_EQ(sut.twin(0).signal(1).event_time, 40.0);
  sut.tick(40.0 + 20.01, sink);
  // The one silence was real: nothing arrived for 20 s, then the first late frame (stale raised
  // and cleared by it). None for the frames shed: not stale when the shedding stopped.
  ASSERT_EQ(sink.alerts.size(), 2u);
  for (const auto& a : sink.alerts) {
    EXPECT_EQ(a.event.id, AlertId::stale);
    EXPECT_NEAR(a.event.ts, 5.1 + 20.01, 1e-9);
  }
}

// A queue that keeps growing (twind slower than its input) is never taken for an offset: the delay
// measured stays at least what the queue grew by over a window.
TEST(LossyInput, AQueueThatKeepsGrowingIsNeverTakenForAnOffset) {
  Engine sut(seed_config(), 0.0);
  CollectingSink sink;
  Plant plant;
  for (int k = 1; k <= 600; ++k) {
    const double t = 0.1 * k;
    // From t = 5, each frame waits 0.2 s longer for each second of plant time.
    const double transit = 0.01 + std::max(0.0, 0.2 * (t - 5.0));
    sut.on_message("plant/frame", plant.step(t), t + transit, sink);
    const double delay = sut.take_input_delay();
    if (t >= 5.0 + AssetTwin::kTransitWindow) {
      ASSERT_GE(delay, 0.2 * AssetTwin::kTransitWindow * (1.0 - 1e-6) - 0.01) << t;
    }
  }
}

// Thinned states (Engine::set_state_stride): each twin's state goes out on one period in
// `stride`, the twins taking turns so that every tick carries its share; the rest are counted.
TEST(StateStride, EachTwinPublishesOnePeriodInStrideAndEveryTickCarriesAShare) {
  constexpr double kT0 = 1732200000.0;
  Engine sut(testing::fleet_config(), kT0);
  CollectingSink sink;
  for (int a = 0; a < 8; ++a) {
    sut.on_message("plant/a" + std::to_string(a) + "/frame", R"({"u": 1, "y": 1})", kT0, sink);
  }
  ASSERT_EQ(sut.size(), 8U);
  sut.set_state_stride(4);
  std::map<std::string, int> per_twin;
  for (int k = 1; k <= 8; ++k) {
    const std::size_t before = sink.states.size();
    sut.tick(kT0 + k * sut.tick_interval(), sink);
    EXPECT_EQ(sink.states.size() - before, 2U) << "tick " << k;
  }
  for (const auto& s : sink.states) ++per_twin[s.asset];
  EXPECT_EQ(per_twin.size(), 8U);
  for (const auto& [id, n] : per_twin) EXPECT_EQ(n, 2) << id;
  EXPECT_EQ(sut.counters().states_thinned, 48U);
  EXPECT_EQ(sut.counters().states, 16U);

  sut.set_state_stride(1);
  const std::size_t before = sink.states.size();
  sut.tick(kT0 + 9 * sut.tick_interval(), sink);
  EXPECT_EQ(sink.states.size() - before, 8U);
}

// A live driver whose loop was held up (a CPU quota, a stall) reads, all at once, what came while
// it read nothing. Each message's stale check, like a tick's, judges silence no later than the
// last time the driver had read everything (Engine::set_heard_until): the stretch it did not
// watch is not the plant's silence. A driver that keeps up moves that time with its reads, and
// the same silence is stale.
TEST(HeardUntil, AMessagesStaleCheckJudgesSilenceNoLaterThanTheDriverHadReadEverything) {
  constexpr double kT0 = 1732200000.0;
  for (const bool kept_up : {false, true}) {
    Engine sut(testing::seed_config(), kT0);
    CollectingSink sink;
    sut.set_heard_until(kT0);
    sut.on_message("plant/u", "1", kT0, sink);
    sut.on_message("plant/y", "1", kT0, sink);
    // 2.1 s later (y's stale_after is 1.5 s) a u arrives; y's next is still on its way.
    sut.set_heard_until(kT0 + (kept_up ? 2.1 : 0.5));
    sut.on_message("plant/u", "1", kT0 + 2.1, sink);
    if (kept_up) {
      ASSERT_EQ(sink.alerts.size(), 1U);
      EXPECT_EQ(sink.alerts[0].event.id, AlertId::stale);
      EXPECT_TRUE(sink.alerts[0].event.raised);
    } else {
      EXPECT_TRUE(sink.alerts.empty());
    }
  }
}

}  // namespace
}  // namespace twind::core
