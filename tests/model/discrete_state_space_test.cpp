// Discrete state space: steps only on its own sample grid, checked against a hand-written loop
// of x <- A x + B u.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <memory>

#include "twind/model/linear.hpp"
#include "twind/model/model.hpp"

namespace twind::model {
namespace {

constexpr double kSampleTime = 0.02;

// A = [[0.9, 0.1], [0, 0.8]], B = [[0], [1]]: stable, with steady state (5u, 5u).
std::shared_ptr<const Model> plant() {
  return make_discrete_state_space({"discrete", "1"}, Matrix{2, 2, {0.9, 0.1, 0.0, 0.8}},
                                   Matrix{2, 1, {0.0, 1.0}}, Matrix{1, 2, {1.0, 0.0}},
                                   Matrix{1, 1, {0.0}}, kSampleTime);
}

// The oracle: k steps of the recurrence, written out by hand.
std::array<double, 2> stepped(std::array<double, 2> x, double u, std::size_t k) {
  for (std::size_t i = 0; i < k; ++i) {
    x = {0.9 * x[0] + 0.1 * x[1], 0.8 * x[1] + u};
  }
  return x;
}

void expect_close(const std::array<double, 2>& got, const std::array<double, 2>& want) {
  for (std::size_t i = 0; i < 2; ++i) {
    EXPECT_NEAR(got[i], want[i], 1e-12 * std::max(1.0, std::abs(want[i]))) << "x[" << i << "]";
  }
}

TEST(DiscreteStateSpace, HalfASampleDoesNothingAndTheSecondHalfSteps) {
  const auto sut = plant();
  const std::array<double, 2> x0{1.0, 2.0};
  const std::array<double, 1> u{0.5};
  std::array<double, 2> x = x0;
  StepMemo memo;

  ASSERT_TRUE(sut->advance(x, u, kSampleTime / 2, memo));
  EXPECT_EQ(x, x0);

  ASSERT_TRUE(sut->advance(x, u, kSampleTime / 2, memo));
  expect_close(x, stepped(x0, 0.5, 1));
}

TEST(DiscreteStateSpace, ThreeAccumulatedSampleTimesCountAsThreeSteps) {
  const auto sut = plant();
  const std::array<double, 2> x0{1.0, 2.0};
  std::array<double, 2> x = x0;
  StepMemo memo;

  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(sut->advance(x, std::array{0.5}, 0.02, memo));
  }

  expect_close(x, stepped(x0, 0.5, 3));
  EXPECT_LT(memo.carry, 1e-9);
}

TEST(DiscreteStateSpace, RemainderIsCarriedToTheNextCall) {
  const auto sut = plant();
  const std::array<double, 2> x0{1.0, 2.0};
  std::array<double, 2> x = x0;
  StepMemo memo;

  ASSERT_TRUE(sut->advance(x, std::array{0.5}, 1.5 * kSampleTime, memo));
  expect_close(x, stepped(x0, 0.5, 1));
  EXPECT_NEAR(memo.carry, 0.5 * kSampleTime, 1e-12);

  ASSERT_TRUE(sut->advance(x, std::array{0.5}, 0.5 * kSampleTime, memo));
  expect_close(x, stepped(x0, 0.5, 2));
}

class DiscreteStepCount : public ::testing::TestWithParam<std::size_t> {};

TEST_P(DiscreteStepCount, OneCallOfKSampleTimesMatchesKSingleSteps) {
  const auto sut = plant();
  const std::size_t k = GetParam();
  const std::array<double, 2> x0{-3.0, 4.0};
  const std::array<double, 1> u{0.7};
  std::array<double, 2> x_once = x0;
  std::array<double, 2> x_steps = x0;
  StepMemo memo_once;
  StepMemo memo_steps;

  ASSERT_TRUE(sut->advance(x_once, u, static_cast<double>(k) * kSampleTime, memo_once));
  for (std::size_t i = 0; i < k; ++i) {
    ASSERT_TRUE(sut->advance(x_steps, u, kSampleTime, memo_steps));
  }

  const auto expected = stepped(x0, 0.7, k);
  expect_close(x_once, expected);
  expect_close(x_steps, expected);
}

// Both sides of the switch from repeated multiplication to powers by squaring.
INSTANTIATE_TEST_SUITE_P(StepCounts, DiscreteStepCount,
                         ::testing::Values(std::size_t{1}, std::size_t{2}, std::size_t{16},
                                           std::size_t{17}, std::size_t{40}, std::size_t{1000}));

TEST(DiscreteStateSpace, AbsurdGapReachesSteadyStateInBoundedTime) {
  const auto sut = plant();
  std::array<double, 2> x{-3.0, 4.0};
  StepMemo memo;

  // 5e10 steps: only powers by squaring make this finish.
  ASSERT_TRUE(sut->advance(x, std::array{0.7}, 1e9, memo));

  // Fixed point of x = A x + B u: x2 = 0.8 x2 + u, x1 = 0.9 x1 + 0.1 x2.
  expect_close(x, {5.0 * 0.7, 5.0 * 0.7});
}

TEST(DiscreteStateSpace, OverflowingStateReturnsFalse) {
  const auto sut =
      make_discrete_state_space({"runaway", "1"}, Matrix{1, 1, {1e200}}, Matrix{1, 1, {0.0}},
                                Matrix{1, 1, {1.0}}, Matrix{1, 1, {0.0}}, 1.0);
  std::array<double, 1> few{1.0};
  std::array<double, 1> many{1.0};
  StepMemo memo_few;
  StepMemo memo_many;

  EXPECT_FALSE(sut->advance(few, std::array{0.0}, 2.0, memo_few));
  EXPECT_FALSE(sut->advance(many, std::array{0.0}, 100.0, memo_many));
}

TEST(DiscreteStateSpace, ZeroIntervalDoesNothing) {
  const auto sut = plant();
  std::array<double, 2> x{1.0, 2.0};
  StepMemo memo;

  EXPECT_TRUE(sut->advance(x, std::array{0.5}, 0.0, memo));
  EXPECT_EQ(x, (std::array<double, 2>{1.0, 2.0}));
  EXPECT_EQ(memo.carry, 0.0);
}

TEST(DiscreteStateSpace, NegativeIntervalReturnsFalse) {
  const auto sut = plant();
  std::array<double, 2> x{1.0, 2.0};
  StepMemo memo;

  EXPECT_FALSE(sut->advance(x, std::array{0.5}, -0.02, memo));
}

TEST(DiscreteStateSpace, OutputAndInitialStateUseCAndD) {
  const auto sut = make_discrete_state_space({"d", "1"}, Matrix{1, 1, {0.5}}, Matrix{1, 1, {1.0}},
                                             Matrix{1, 1, {2.0}}, Matrix{1, 1, {3.0}}, 0.1);
  std::array<double, 1> y{};
  std::array<double, 1> x{};

  sut->output(std::array{4.0}, std::array{1.0}, y);
  sut->initial_state(std::array{11.0}, std::array{1.0}, x);

  EXPECT_DOUBLE_EQ(y[0], 2.0 * 4.0 + 3.0 * 1.0);
  EXPECT_NEAR(x[0], (11.0 - 3.0) / 2.0, 1e-12);
}

}  // namespace
}  // namespace twind::model
