// ArrivalClock: late arrivals of a periodic source are placed back on its rhythm; arrivals that
// keep none are left where they arrived.
#include "twind/core/arrival_clock.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

namespace twind::core {
namespace {

constexpr double kT0 = 1732200000.0;

struct Errors {
  // After the first 20 samples, the largest change of (stamp - the sample's time) from one
  // sample to the next, and over four samples: what moves a twin's prediction. A steady
  // offset moves nothing (the twin is then a time-shifted copy of the plant).
  double step = 0.0;
  double step4 = 0.0;
  double offset = 0.0;    // the largest |stamp - the sample's time|
  std::size_t moved = 0;  // stamps that differ from their arrival
};

// `n` samples every `period` seconds (of the sender's clock), each delayed by `delay(k)` >= 0.
template <typename Delay>
Errors run(ArrivalClock& clock, std::size_t n, double period, Delay delay) {
  Errors e;
  std::vector<double> errors;
  double previous = -1.0;
  for (std::size_t k = 0; k < n; ++k) {
    const double t = kT0 + period * static_cast<double>(k);
    const double arrival = t + delay(k);
    const double s = clock.stamp(arrival);
    EXPECT_LE(s, arrival);
    EXPECT_GT(s, previous) << k;
    previous = s;
    if (s != arrival) ++e.moved;
    errors.push_back(s - t);
  }
  for (std::size_t k = 20; k < errors.size(); ++k) {
    e.step = std::max(e.step, std::abs(errors[k] - errors[k - 1]));
    e.step4 = std::max(e.step4, std::abs(errors[k] - errors[k - 4]));
    e.offset = std::max(e.offset, std::abs(errors[k]));
  }
  return e;
}

// The same for arrival stamps, as a twin without the clock would see them.
template <typename Delay>
Errors on_arrival(std::size_t n, Delay delay) {
  Errors e;
  for (std::size_t k = 21; k < n; ++k) {
    const double d = delay(k);
    e.step = std::max(e.step, std::abs(d - delay(k - 1)));
    e.step4 = std::max(e.step4, std::abs(d - delay(k - 4)));
    e.offset = std::max(e.offset, d);
  }
  return e;
}

TEST(ArrivalClock, OnTimeArrivalsAreStampedOnArrival) {
  ArrivalClock clock;
  const Errors e = run(clock, 200, 0.5, [](std::size_t) { return 0.0003; });
  EXPECT_EQ(e.moved, 0u);
  EXPECT_TRUE(clock.regular());
  EXPECT_NEAR(clock.period(), 0.5, 1e-9);
}

// A sender on a loaded machine: each sample up to 60 ms late, uniformly. Placed on the rhythm,
// the stamps move by a third of what the arrivals do from one sample to the next.
TEST(ArrivalClock, JitteredArrivalsMoveAThirdAsMuchFromSampleToSample) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> jitter(0.0, 0.06);
  std::vector<double> delays(3000);
  for (double& d : delays) d = jitter(rng);
  const auto delay = [&](std::size_t k) { return delays[k]; };
  ArrivalClock clock;
  const Errors e = run(clock, delays.size(), 0.5, delay);
  const Errors raw = on_arrival(delays.size(), delay);
  EXPECT_GT(raw.step, 0.055);
  EXPECT_LT(e.step, raw.step / 3.0);
  EXPECT_LT(e.step4, raw.step4 / 3.0);
  EXPECT_LT(e.offset, 0.03);
  EXPECT_NEAR(clock.period(), 0.5, 0.001);
}

// The sender's clock runs 0.1 % slow against twind's, or 0.1 % fast: the rhythm follows it.
TEST(ArrivalClock, FollowsASenderWhoseClockRunsSlowOrFast) {
  for (const double period : {0.5005, 0.4995}) {
    std::mt19937_64 rng(11);
    std::uniform_real_distribution<double> jitter(0.0, 0.06);
    std::vector<double> delays(5000);
    for (double& d : delays) d = jitter(rng);
    ArrivalClock clock;
    const Errors e = run(clock, delays.size(), period, [&](std::size_t k) { return delays[k]; });
    EXPECT_LT(e.step, 0.025) << period;
    EXPECT_LT(e.offset, 0.03) << period;
    EXPECT_NEAR(clock.period(), period, 0.001) << period;
  }
}

// A start-up burst: the first sample 120 ms late, the rest on time. It teaches the period
// nothing, and the stamps that follow are their samples' times.
TEST(ArrivalClock, ALateFirstSampleTeachesThePeriodNothing) {
  ArrivalClock clock;
  const Errors e = run(clock, 100, 0.5, [](std::size_t k) { return k == 0 ? 0.12 : 0.0003; });
  EXPECT_LT(e.offset, 0.001);
  EXPECT_NEAR(clock.period(), 0.5, 1e-9);
}

// Every sample late by a steady 40 ms (a long queue), then on time again: the early ones are
// stamped on arrival at once.
TEST(ArrivalClock, AnEarlyArrivalIsStampedOnArrival) {
  ArrivalClock clock;
  run(clock, 50, 0.5, [](std::size_t) { return 0.04; });
  const double arrival = kT0 + 0.5 * 50 + 0.001;
  EXPECT_EQ(clock.stamp(arrival), arrival);
}

// A source that publishes on change keeps no rhythm: every stamp is its arrival.
TEST(ArrivalClock, ArrivalsWithoutARhythmAreStampedOnArrival) {
  std::mt19937_64 rng(3);
  std::exponential_distribution<double> gap(2.0);  // a mean of 0.5 s between changes
  ArrivalClock clock;
  double t = kT0;
  std::size_t moved = 0;
  for (int k = 0; k < 1000; ++k) {
    t += gap(rng);
    if (clock.stamp(t) != t) ++moved;
  }
  // A run of five intervals within a quarter period of each other is rare but possible; a
  // late one among them is then placed on the run's rhythm.
  EXPECT_LT(moved, 10u);
}

// A sample later than half a period breaks the rhythm: it is stamped on arrival, and the clock
// learns the rhythm again before it moves a stamp.
TEST(ArrivalClock, ASampleLaterThanHalfAPeriodIsStampedOnArrivalAndTheRhythmIsLearntAgain) {
  ArrivalClock clock;
  run(clock, 50, 0.5, [](std::size_t) { return 0.0; });
  ASSERT_TRUE(clock.regular());
  const double outage = kT0 + 0.5 * 50 + 0.3;
  EXPECT_EQ(clock.stamp(outage), outage);
  EXPECT_FALSE(clock.regular());
  // The first interval after it (0.2 s short of the outage's) breaks the rhythm once more; the
  // next kSettle keep the new one.
  const int settled = 53 + static_cast<int>(ArrivalClock::kSettle);
  for (int k = 51; k < settled; ++k) {
    const double late = kT0 + 0.5 * k + 0.02;
    EXPECT_EQ(clock.stamp(late), late) << k;
  }
  EXPECT_TRUE(clock.regular());
  const double late = kT0 + 0.5 * settled + 0.06;
  EXPECT_LT(clock.stamp(late), late);
}

// A burst: messages queued during a stall delivered back to back.
TEST(ArrivalClock, ABurstIsStampedOnArrival) {
  ArrivalClock clock;
  run(clock, 50, 0.5, [](std::size_t) { return 0.0; });
  const double at = kT0 + 0.5 * 53;
  for (int i = 0; i < 4; ++i) {
    const double a = at + 1e-6 * i;
    EXPECT_EQ(clock.stamp(a), a) << i;
  }
}

}  // namespace
}  // namespace twind::core
