// twind's clock (StepFreeClock): the system clock's steps are not time passing.
#include "twind/app/clock.hpp"

#include <gtest/gtest.h>

namespace twind::app {
namespace {

// A system clock and a steady clock of the test's: time passes when it moves both, the system
// clock steps when it moves that one alone.
struct Clocks {
  double system = 1732200000.0;
  double steady = 1000.0;
  void pass(double seconds) {
    system += seconds;
    steady += seconds;
  }
  StepFreeClock make() {
    return StepFreeClock([this] { return system; }, [this] { return steady; });
  }
};

TEST(StepFreeClock, ReadsTheSystemClockWhileItDoesNotStep) {
  Clocks c;
  StepFreeClock sut = c.make();
  EXPECT_DOUBLE_EQ(sut.now(), c.system);
  c.pass(3600.0);
  EXPECT_NEAR(sut.now(), c.system, 1e-6);
  EXPECT_EQ(sut.stats().steps, 0u);
}

// Stepped forward by 20 s, then read every 0.5 s: twind's clock moves by 0.5 s and 0.5 ms each
// time, never 20 s at once, is counted as one step, and reaches the system clock after 20,000 s.
TEST(StepFreeClock, AForwardStepIsTakenInAtTheSlewRateNotAtOnce) {
  Clocks c;
  StepFreeClock sut = c.make();
  double last = sut.now();
  c.system += 20.0;
  double behind = 0.0;
  for (int i = 0; i < 2 * 20100; ++i) {
    c.pass(0.5);
    const double t = sut.now();
    ASSERT_GE(t - last, 0.5 - 1e-6) << i;
    ASSERT_LE(t - last, 0.5 * (1.0 + StepFreeClock::kSlewRate) + 1e-6) << i;
    last = t;
    if (i == 2 * 100) behind = c.system - t;  // after 100 s
  }
  EXPECT_NEAR(behind, 20.0 - 100.5 * StepFreeClock::kSlewRate, 1e-4);  // Unix seconds: 2e-7 apart
  EXPECT_NEAR(last, c.system, 1e-5);
  EXPECT_EQ(sut.stats().steps, 1u);
  EXPECT_NEAR(sut.stats().offset, 0.0, 1e-5);
}

// Stepped back by 20 s: twind's clock never runs backwards, and runs slower by the slew rate
// until it meets the system clock.
TEST(StepFreeClock, ABackwardStepNeverTakesTheClockBackwards) {
  Clocks c;
  StepFreeClock sut = c.make();
  double last = sut.now();
  c.system -= 20.0;
  c.pass(1.0);
  double t = sut.now();
  EXPECT_NEAR(t - last, 1.0 - StepFreeClock::kSlewRate, 1e-6);
  EXPECT_NEAR(sut.stats().offset, -20.0 + StepFreeClock::kSlewRate, 1e-6);
  EXPECT_EQ(sut.stats().steps, 1u);
  // Read at once again: no time has passed, none is taken in.
  EXPECT_DOUBLE_EQ(sut.now(), t);
  last = t;
  c.pass(20000.0);
  t = sut.now();
  EXPECT_NEAR(t, c.system, 1e-5);
  EXPECT_GT(t, last);
}

// Differences the clocks' readings make between them are not steps, and neither is the rest of a
// step being taken in.
TEST(StepFreeClock, OnlyAJumpOfTheDifferenceIsAStep) {
  Clocks c;
  StepFreeClock sut = c.make();
  for (int i = 0; i < 1000; ++i) {
    c.pass(0.01);
    c.system += (i % 2 == 0 ? 1 : -1) * 0.2 * StepFreeClock::kStepThreshold;
    sut.now();
  }
  EXPECT_EQ(sut.stats().steps, 0u);
  c.system += 2.0;
  sut.now();
  c.system -= 1.0;
  c.pass(1.0);
  sut.now();
  EXPECT_EQ(sut.stats().steps, 2u);
}

}  // namespace
}  // namespace twind::app
