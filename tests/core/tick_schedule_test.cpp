#include "twind/core/tick_schedule.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace twind::core {
namespace {

using Clock = TickSchedule::Clock;
using Bound = TickSchedule::Bound;

constexpr double kT0 = 1732200000.0;  // on the grid of every interval below

std::vector<double> times(const TickSchedule& s, const TickSchedule::Due& d) {
  std::vector<double> out;
  for (std::int64_t k = d.first; k < d.end; ++k) out.push_back(s.time(k));
  return out;
}

TEST(TickSchedule, OnTheWallClockTheFirstTickIsTheFirstGridPointAfterTheStart) {
  TickSchedule on_grid(0.5, 1, kT0, Clock::wall);
  EXPECT_DOUBLE_EQ(on_grid.next(), kT0 + 0.5);
  TickSchedule off_grid(0.5, 1, kT0 + 0.2, Clock::wall);
  EXPECT_DOUBLE_EQ(off_grid.next(), kT0 + 0.5);
}

TEST(TickSchedule, InRecordingTimeTheFirstTickIsAtOrAfterTheStart) {
  TickSchedule on_grid(0.5, 1, kT0, Clock::recording);
  EXPECT_DOUBLE_EQ(on_grid.next(), kT0);
  TickSchedule off_grid(0.5, 1, kT0 + 0.2, Clock::recording);
  EXPECT_DOUBLE_EQ(off_grid.next(), kT0 + 0.5);
}

TEST(TickSchedule, NothingIsDueBeforeTheNextTick) {
  TickSchedule s(0.5, 1, kT0, Clock::wall);
  EXPECT_TRUE(s.take(kT0 + 0.49).empty());
  EXPECT_TRUE(s.take(kT0).empty());
  EXPECT_DOUBLE_EQ(s.next(), kT0 + 0.5);
}

TEST(TickSchedule, ATickAtExactlyTheClocksTimeIsDueThroughButNotBefore) {
  TickSchedule s(0.5, 1, kT0, Clock::recording);
  EXPECT_EQ(times(s, s.take(kT0 + 1.0, Bound::before)), (std::vector<double>{kT0, kT0 + 0.5}));
  EXPECT_EQ(times(s, s.take(kT0 + 1.0, Bound::through)), (std::vector<double>{kT0 + 1.0}));
  EXPECT_TRUE(s.take(kT0 + 1.0, Bound::through).empty());  // taken once
}

TEST(TickSchedule, EachTickIsTakenOnceAndInOrder) {
  TickSchedule s(0.5, 1, kT0, Clock::wall);
  const auto a = s.take(kT0 + 0.5);
  const auto b = s.take(kT0 + 0.7);
  const auto c = s.take(kT0 + 1.0);
  EXPECT_EQ(times(s, a), (std::vector<double>{kT0 + 0.5}));
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(times(s, c), (std::vector<double>{kT0 + 1.0}));
  EXPECT_EQ(a.skipped + b.skipped + c.skipped, 0u);
}

TEST(TickSchedule, AWallClockLoopLessThanAPeriodBehindTakesEveryTick) {
  TickSchedule s(0.005, 100, kT0, Clock::wall);  // tick 0.5 s spread over 100 sub-ticks
  const auto d = s.take(kT0 + 0.5);              // 100 sub-ticks due: one period
  EXPECT_EQ(d.size(), 100u);
  EXPECT_EQ(d.skipped, 0u);
}

TEST(TickSchedule, AWallClockLoopAWholePeriodBehindTakesTheLatestPeriodAndCountsTheRest) {
  TickSchedule s(0.5, 1, kT0, Clock::wall);
  const auto d = s.take(kT0 + 2.0);  // ticks at +0.5, +1, +1.5, +2 due
  EXPECT_EQ(times(s, d), (std::vector<double>{kT0 + 2.0}));
  EXPECT_EQ(d.skipped, 3u);

  TickSchedule spread(0.005, 100, kT0, Clock::wall);
  const auto e = spread.take(kT0 + 0.75);  // 150 sub-ticks due
  EXPECT_EQ(e.size(), 100u);
  EXPECT_EQ(e.skipped, 50u);
  EXPECT_DOUBLE_EQ(spread.time(e.end - 1), kT0 + 0.75);
}

TEST(TickSchedule, RecordingTimeNeverSkipsAcrossAGap) {
  TickSchedule s(0.5, 1, kT0, Clock::recording);
  const auto d = s.take(kT0 + 60.0, Bound::before);
  EXPECT_EQ(d.size(), 120u);
  EXPECT_EQ(d.skipped, 0u);
}

TEST(TickSchedule, AtUnixTimeMagnitudesEveryTickIsDueExactlyWhenItsTimeHasCome) {
  TickSchedule s(0.1, 1, kT0, Clock::wall);
  std::int64_t expected_first = s.take(kT0).first;
  for (int i = 1; i <= 100000; ++i) {
    const double now = kT0 + 0.1 * i + 0.05;  // between two grid points
    const auto d = s.take(now);
    ASSERT_EQ(d.first, expected_first) << i;  // none lost, none taken twice
    ASSERT_EQ(d.size(), 1u) << i;
    for (std::int64_t k = d.first; k < d.end; ++k) ASSERT_LE(s.time(k), now) << i;
    ASSERT_GT(s.time(d.end), now) << i;  // every due one taken
    expected_first = d.end;
  }
}

TEST(TickSchedule, ANewIntervalRestartsTheGridAndTheSameOneKeepsIt) {
  TickSchedule s(0.5, 1, kT0, Clock::wall);
  (void)s.take(kT0 + 0.5);
  s.reschedule(0.5, 1, kT0 + 0.7);
  EXPECT_DOUBLE_EQ(s.next(), kT0 + 1.0);
  s.reschedule(2.0, 1, kT0 + 0.7);
  EXPECT_DOUBLE_EQ(s.next(), kT0 + 2.0);
  EXPECT_EQ(s.interval(), 2.0);
  EXPECT_TRUE(s.take(kT0 + 1.9).empty());
  EXPECT_EQ(s.take(kT0 + 2.0).size(), 1u);
}

TEST(TickSchedule, ANewPeriodBoundsTheNextSkip) {
  TickSchedule s(0.5, 1, kT0, Clock::wall);
  s.reschedule(0.5, 4, kT0);
  EXPECT_EQ(s.period(), 4u);
  const auto d = s.take(kT0 + 3.0);  // six due, four taken
  EXPECT_EQ(d.size(), 4u);
  EXPECT_EQ(d.skipped, 2u);
}

TEST(TickSchedule, AClockGoingBackwardsMakesNothingDue) {
  TickSchedule s(0.5, 1, kT0, Clock::wall);
  (void)s.take(kT0 + 1.0);
  EXPECT_TRUE(s.take(kT0).empty());
  EXPECT_DOUBLE_EQ(s.next(), kT0 + 1.5);
}

}  // namespace
}  // namespace twind::core
