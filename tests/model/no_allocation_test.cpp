// The per-sample path (advance with a repeated interval, output) must not touch the heap. This
// binary counts calls of glibc's malloc family (tests/support/malloc_count.hpp).
#include <gtest/gtest.h>

#include <array>
#include <memory>

#include "../support/malloc_count.hpp"
#include "twind/model/linear.hpp"
#include "twind/model/model.hpp"

namespace twind::model {
namespace {

using testing::allocations_during;

// x'' = -4 x - 0.1 x' + u, y = x: two states, one input.
std::shared_ptr<const Model> damped_oscillator() {
  return make_continuous_state_space({"oscillator", "1"}, Matrix{2, 2, {0.0, 1.0, -4.0, -0.1}},
                                     Matrix{2, 1, {0.0, 1.0}}, Matrix{1, 2, {1.0, 0.0}},
                                     Matrix{1, 1, {0.0}});
}

class NoAllocation : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::kMallocReplaced) {
      GTEST_SKIP() << "allocation counting needs glibc's malloc, not a sanitizer's";
    }
  }
};

TEST_F(NoAllocation, CountingSeesAnAllocation) {
  // Guards the other tests against a counter that silently sees nothing.
  std::unique_ptr<std::array<int, 4>> kept;  // outlives the lambda, so the call cannot be elided

  const long count = allocations_during([&] { kept = std::make_unique<std::array<int, 4>>(); });

  EXPECT_GE(count, 1);
}

TEST_F(NoAllocation, ContinuousAdvanceWithRepeatedIntervalDoesNotAllocate) {
  const auto sut = damped_oscillator();
  std::array<double, 2> x{1.0, 0.0};
  const std::array<double, 1> u{0.5};
  std::array<double, 1> y{};
  StepMemo memo;
  ASSERT_TRUE(sut->advance(x, u, 0.02, memo));  // fills the cache

  const long count = allocations_during([&] {
    for (int i = 0; i < 1000; ++i) {
      (void)sut->advance(x, u, 0.02, memo);
      sut->output(x, u, y);
    }
  });

  EXPECT_EQ(count, 0);
}

// Jittered intervals, every one new to the nanosecond: once the cache is full and the powers of
// two the keys use are made, advancing neither allocates nor grows anything.
TEST_F(NoAllocation, ContinuousAdvanceWithEveryIntervalNewDoesNotAllocate) {
  const auto sut = damped_oscillator();
  std::array<double, 2> x{1.0, 0.0};
  const std::array<double, 1> u{0.5};
  StepMemo memo;
  // 0.5 s and up to 1 ms of jitter, in whole nanoseconds below 2^30.
  const auto interval = [](int i) { return 0.5 + 1e-9 * ((i * 104729) % 1000000); };
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(sut->advance(x, u, interval(i), memo));
  // Every bit a key below 2^30 ns can hold, so that the counted run makes no power.
  ASSERT_TRUE(sut->advance(x, u, 1e-9 * ((1 << 30) - 1), memo));

  const long count = allocations_during([&] {
    for (int i = 100; i < 1100; ++i) (void)sut->advance(x, u, interval(i), memo);
  });

  EXPECT_EQ(count, 0);
}

TEST_F(NoAllocation, DiscreteAdvanceOfAFewStepsDoesNotAllocate) {
  const auto sut =
      make_discrete_state_space({"discrete", "1"}, Matrix{1, 1, {0.9}}, Matrix{1, 1, {1.0}},
                                Matrix{1, 1, {1.0}}, Matrix{1, 1, {0.0}}, 0.01);
  std::array<double, 1> x{1.0};
  const std::array<double, 1> u{0.5};
  StepMemo memo;
  ASSERT_TRUE(sut->advance(x, u, 0.03, memo));

  const long count = allocations_during([&] {
    for (int i = 0; i < 1000; ++i) {
      (void)sut->advance(x, u, 0.025, memo);
    }
  });

  EXPECT_EQ(count, 0);
}

}  // namespace
}  // namespace twind::model
