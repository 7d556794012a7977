// Continuous state space: exact zero-order hold against closed forms, the interval cache,
// least-squares initial states and the output map.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <thread>
#include <vector>

#include "twind/model/linear.hpp"
#include "twind/model/model.hpp"

namespace twind::model {
namespace {

constexpr double kTol = 1e-12;

// x' = -x + u, y = x.
std::shared_ptr<const Model> first_order_lag() {
  return make_continuous_state_space({"lag", "1"}, Matrix{1, 1, {-1.0}}, Matrix{1, 1, {1.0}},
                                     Matrix{1, 1, {1.0}}, Matrix{1, 1, {0.0}});
}

// x1' = x2, x2' = -w^2 x1 + u, y = x1.
std::shared_ptr<const Model> oscillator(double w) {
  return make_continuous_state_space({"oscillator", "1"}, Matrix{2, 2, {0.0, 1.0, -w * w, 0.0}},
                                     Matrix{2, 1, {0.0, 1.0}}, Matrix{1, 2, {1.0, 0.0}},
                                     Matrix{1, 1, {0.0}});
}

// Closed form of the oscillator under a constant input: it swings about x1 = u / w^2.
std::array<double, 2> oscillator_after(double w, std::array<double, 2> x, double u, double t) {
  const double offset = x[0] - u / (w * w);
  return {u / (w * w) + offset * std::cos(w * t) + x[1] / w * std::sin(w * t),
          -w * offset * std::sin(w * t) + x[1] * std::cos(w * t)};
}

class FirstOrderLagInterval : public ::testing::TestWithParam<double> {};

TEST_P(FirstOrderLagInterval, FirstOrderLagMatchesClosedFormForAnyInterval) {
  const auto sut = first_order_lag();
  const double dt = GetParam();
  const double x0 = 2.0;
  const double u = 3.0;
  std::array<double, 1> x{x0};
  StepMemo memo;

  const bool ok = sut->advance(x, std::array{u}, dt, memo);

  ASSERT_TRUE(ok);
  // -expm1(-dt) is 1 - e^{-dt} without cancellation for tiny dt.
  EXPECT_NEAR(x[0], std::exp(-dt) * x0 - std::expm1(-dt) * u, kTol);
}

INSTANTIATE_TEST_SUITE_P(Intervals, FirstOrderLagInterval,
                         ::testing::Values(1e-6, 0.001, 0.02, 0.5, 1.0, 3.7, 25.0));

TEST(ContinuousStateSpace, UndampedOscillatorMatchesCosineSineClosedForm) {
  const double w = 2.0;
  const auto sut = oscillator(w);
  for (const double dt : {0.01, 0.3, 1.7, 3.7}) {
    const std::array<double, 2> x0{0.7, -1.3};
    const double u = 1.5;
    std::array<double, 2> x = x0;
    StepMemo memo;

    ASSERT_TRUE(sut->advance(x, std::array{u}, dt, memo));

    const auto expected = oscillator_after(w, x0, u, dt);
    EXPECT_NEAR(x[0], expected[0], kTol) << "dt " << dt;
    EXPECT_NEAR(x[1], expected[1], kTol) << "dt " << dt;
  }
}

TEST(ContinuousStateSpace, PureIntegratorAccumulatesInputTimesInterval) {
  // A singular A: the augmented exponential needs no inverse of A.
  const auto sut =
      make_continuous_state_space({"integrator", "1"}, Matrix{1, 1, {0.0}}, Matrix{1, 1, {2.0}},
                                  Matrix{1, 1, {1.0}}, Matrix{1, 1, {0.0}});
  std::array<double, 1> x{1.0};
  StepMemo memo;

  ASSERT_TRUE(sut->advance(x, std::array{0.25}, 0.8, memo));

  EXPECT_NEAR(x[0], 1.0 + 2.0 * 0.25 * 0.8, kTol);
}

TEST(ContinuousStateSpace, RepeatedIntervalGivesBitIdenticalResultToFreshModel) {
  const auto sut = oscillator(3.0);
  const std::array<double, 1> u{0.4};
  std::array<double, 2> x{1.0, 0.5};
  StepMemo memo;
  ASSERT_TRUE(sut->advance(x, u, 0.02, memo));
  std::array<double, 2> fresh_x = x;

  ASSERT_TRUE(sut->advance(x, u, 0.02, memo));  // served from the memo's hint
  StepMemo fresh_memo;
  ASSERT_TRUE(oscillator(3.0)->advance(fresh_x, u, 0.02, fresh_memo));

  EXPECT_EQ(memo.dt_key, 20'000'000);
  EXPECT_NE(memo.hint, nullptr);
  EXPECT_EQ(x, fresh_x);
}

// Past the cache's bound an interval advances by the powers of two of its key: exact to
// rounding, and the same sequence of intervals gives the same states bit for bit (replays).
TEST(ContinuousStateSpace, MoreDistinctIntervalsThanTheCacheHoldsStayExact) {
  const double w = 1.5;
  const auto sut = oscillator(w);
  const auto again = oscillator(w);
  const std::array<double, 1> u{-0.8};
  std::array<double, 2> x{0.3, 0.9};
  std::array<double, 2> x_again = x;
  StepMemo memo;
  StepMemo memo_again;
  for (int i = 0; i < 300; ++i) {
    // Jittered intervals, all distinct to the nanosecond, a few repeated from before.
    const double dt = 0.001 + 1e-6 * (i % 250) + 3.7e-8 * i;
    const std::array<double, 2> before = x;
    std::array<double, 2> fresh_x = x;
    StepMemo fresh_memo;

    ASSERT_TRUE(sut->advance(x, u, dt, memo));
    ASSERT_TRUE(again->advance(x_again, u, dt, memo_again));
    ASSERT_TRUE(oscillator(w)->advance(fresh_x, u, dt, fresh_memo));

    EXPECT_EQ(x, x_again) << "step " << i;
    EXPECT_NEAR(x[0], fresh_x[0], 1e-14) << "step " << i;
    EXPECT_NEAR(x[1], fresh_x[1], 1e-14) << "step " << i;
    // The key is the interval in whole nanoseconds, the time the model actually advanced by.
    const double quantised = static_cast<double>(std::llround(dt * 1e9)) / 1e9;
    const auto expected = oscillator_after(w, before, u[0], quantised);
    EXPECT_NEAR(x[0], expected[0], kTol) << "step " << i;
    EXPECT_NEAR(x[1], expected[1], kTol) << "step " << i;
  }
}

TEST(ContinuousStateSpace, SplittingAnIntervalGivesTheSameState) {
  const auto sut = oscillator(2.5);
  const std::array<double, 1> u{1.1};
  for (const auto& [whole, first] :
       std::vector<std::array<double, 2>>{{0.8, 0.4}, {1.0, 0.3}, {3.7, 1.25}, {0.02, 0.005}}) {
    std::array<double, 2> x_whole{-0.4, 0.6};
    std::array<double, 2> x_split = x_whole;
    StepMemo memo_whole;
    StepMemo memo_split;

    ASSERT_TRUE(sut->advance(x_whole, u, whole, memo_whole));
    ASSERT_TRUE(sut->advance(x_split, u, first, memo_split));
    ASSERT_TRUE(sut->advance(x_split, u, whole - first, memo_split));

    EXPECT_NEAR(x_split[0], x_whole[0], kTol) << whole << " = " << first << " + rest";
    EXPECT_NEAR(x_split[1], x_whole[1], kTol) << whole << " = " << first << " + rest";
  }
}

TEST(ContinuousStateSpace, ZeroIntervalLeavesStateAndMemoUntouched) {
  const auto sut = oscillator(2.0);
  std::array<double, 2> x{0.25, -0.5};
  StepMemo memo;

  const bool ok = sut->advance(x, std::array{7.0}, 0.0, memo);

  EXPECT_TRUE(ok);
  EXPECT_EQ(x, (std::array<double, 2>{0.25, -0.5}));
  EXPECT_EQ(memo.dt_key, -1);
  EXPECT_EQ(memo.hint, nullptr);
}

TEST(ContinuousStateSpace, IntervalsAreQuantisedToWholeNanoseconds) {
  const auto sut = first_order_lag();
  std::array<double, 1> exact{1.0};
  std::array<double, 1> jittered{1.0};
  StepMemo memo_exact;
  StepMemo memo_jittered;

  ASSERT_TRUE(sut->advance(exact, std::array{0.0}, 0.02, memo_exact));
  ASSERT_TRUE(sut->advance(jittered, std::array{0.0}, 0.02 + 3e-10, memo_jittered));

  EXPECT_EQ(exact, jittered);
}

class InvalidInterval : public ::testing::TestWithParam<double> {};

TEST_P(InvalidInterval, InvalidIntervalReturnsFalse) {
  const auto sut = first_order_lag();
  std::array<double, 1> x{1.0};
  StepMemo memo;

  EXPECT_FALSE(sut->advance(x, std::array{0.0}, GetParam(), memo));
}

INSTANTIATE_TEST_SUITE_P(NegativeNanInfiniteOrAbsurd, InvalidInterval,
                         ::testing::Values(-0.01, -1e-12, std::numeric_limits<double>::quiet_NaN(),
                                           std::numeric_limits<double>::infinity(), 1e12));

TEST(ContinuousStateSpace, OverflowingStateReturnsFalse) {
  const auto sut =
      make_continuous_state_space({"runaway", "1"}, Matrix{1, 1, {1000.0}}, Matrix{1, 1, {1.0}},
                                  Matrix{1, 1, {1.0}}, Matrix{1, 1, {0.0}});
  std::array<double, 1> x{1.0};
  StepMemo memo;

  EXPECT_FALSE(sut->advance(x, std::array{0.0}, 10.0, memo));
}

TEST(ContinuousStateSpace, ReportsItsIdAndDimensions) {
  const auto sut = make_continuous_state_space(
      {"pump", "3"}, Matrix{2, 2, {-1.0, 0.0, 0.0, -2.0}}, Matrix{2, 3, {1, 0, 0, 0, 1, 0}},
      Matrix{1, 2, {1.0, 1.0}}, Matrix{1, 3, {0.0, 0.0, 0.0}});

  EXPECT_EQ(sut->id(), (ModelId{"pump", "3"}));
  EXPECT_EQ(sut->states(), 2U);
  EXPECT_EQ(sut->inputs(), 3U);
  EXPECT_EQ(sut->outputs(), 1U);
}

TEST(ContinuousStateSpace, OutputIsCxPlusDu) {
  const auto sut = make_continuous_state_space(
      {"m", "1"}, Matrix{2, 2, {-1.0, 0.0, 0.0, -1.0}}, Matrix{2, 1, {1.0, 1.0}},
      Matrix{2, 2, {1.0, 2.0, 0.0, -1.0}}, Matrix{2, 1, {3.0, 0.5}});
  std::array<double, 2> y{};

  sut->output(std::array{4.0, 5.0}, std::array{6.0}, y);

  EXPECT_DOUBLE_EQ(y[0], 1.0 * 4.0 + 2.0 * 5.0 + 3.0 * 6.0);
  EXPECT_DOUBLE_EQ(y[1], -5.0 + 0.5 * 6.0);
}

TEST(ContinuousStateSpace, InitialStateThroughSquareOutputMapRecoversState) {
  const Matrix c{2, 2, {2.0, 1.0, 1.0, 3.0}};
  const Matrix d{2, 1, {1.0, -2.0}};
  const auto sut = make_continuous_state_space({"m", "1"}, Matrix{2, 2, {-1.0, 0.0, 0.0, -1.0}},
                                               Matrix{2, 1, {1.0, 1.0}}, c, d);
  const std::array<double, 2> x_true{1.0, -2.0};
  const std::array<double, 1> u{0.5};
  const std::array<double, 2> y{2.0 * 1.0 + 1.0 * -2.0 + 1.0 * 0.5, 1.0 * 1.0 + 3.0 * -2.0 - 1.0};
  std::array<double, 2> x{};

  sut->initial_state(y, u, x);

  EXPECT_NEAR(x[0], x_true[0], kTol);
  EXPECT_NEAR(x[1], x_true[1], kTol);
}

TEST(ContinuousStateSpace, InitialStateThroughWideOutputMapIsMinimumNorm) {
  // 3 x1 + 4 x2 = 10: the minimum-norm point is C^T (C C^T)^-1 y = (3, 4) * 10 / 25.
  const auto sut = make_continuous_state_space({"m", "1"}, Matrix{2, 2, {-1.0, 0.0, 0.0, -1.0}},
                                               Matrix{2, 1, {1.0, 1.0}}, Matrix{1, 2, {3.0, 4.0}},
                                               Matrix{1, 1, {0.0}});
  std::array<double, 2> x{};

  sut->initial_state(std::array{10.0}, std::array{0.0}, x);

  EXPECT_NEAR(x[0], 1.2, kTol);
  EXPECT_NEAR(x[1], 1.6, kTol);
}

TEST(ContinuousStateSpace, InitialStateThroughTallOutputMapIsLeastSquares) {
  // c = (1, 2, 2), y = (1, 2, 3): x = c.y / c.c = 11 / 9.
  const auto sut =
      make_continuous_state_space({"m", "1"}, Matrix{1, 1, {-1.0}}, Matrix{1, 1, {1.0}},
                                  Matrix{3, 1, {1.0, 2.0, 2.0}}, Matrix{3, 1, {0.0, 0.0, 0.0}});
  std::array<double, 1> x{};

  sut->initial_state(std::array{1.0, 2.0, 3.0}, std::array{0.0}, x);

  EXPECT_NEAR(x[0], 11.0 / 9.0, kTol);
}

TEST(ContinuousStateSpace, ConcurrentTwinsSharingTheModelEachMatchClosedForm) {
  const double w = 2.0;
  const auto sut = oscillator(w);
  std::array<int, 2> failures{};
  auto run = [&](std::size_t thread) {
    for (int i = 0; i < 200; ++i) {
      // Both threads hit the same keys, in different orders, to race on cache insertion.
      const int slot = thread == 0 ? i : 199 - i;
      const double dt = 0.001 * (slot % 90 + 1);
      const std::array<double, 2> x0{1.0, 0.0};
      std::array<double, 2> x = x0;
      StepMemo memo;
      const bool ok = sut->advance(x, std::array{0.5}, dt, memo);
      const auto expected = oscillator_after(w, x0, 0.5, dt);
      if (!ok || std::abs(x[0] - expected[0]) > kTol || std::abs(x[1] - expected[1]) > kTol) {
        ++failures[thread];
      }
    }
  };

  std::thread other(run, std::size_t{1});
  run(0);
  other.join();

  EXPECT_EQ(failures, (std::array<int, 2>{0, 0}));
}

TEST(MaxRealEigenvalue, StableMatrixGivesSlowestPole) {
  // Companion of s^2 + 3 s + 2 = (s + 1)(s + 2).
  EXPECT_NEAR(max_real_eigenvalue(Matrix{2, 2, {0.0, 1.0, -2.0, -3.0}}), -1.0, kTol);
}

TEST(MaxRealEigenvalue, ComplexPairGivesItsRealPart) {
  // [[a, -b], [b, a]] has eigenvalues a +- ib.
  EXPECT_NEAR(max_real_eigenvalue(Matrix{2, 2, {0.5, -5.0, 5.0, 0.5}}), 0.5, kTol);
  EXPECT_NEAR(max_real_eigenvalue(Matrix{2, 2, {0.0, 1.0, -4.0, 0.0}}), 0.0, kTol);
}

TEST(MaxRealEigenvalue, NoStatesGivesMinusInfinity) {
  EXPECT_EQ(max_real_eigenvalue(Matrix{}), -std::numeric_limits<double>::infinity());
}

TEST(MaxRealEigenvalue, NonSquareMatrixThrows) {
  EXPECT_THROW((void)max_real_eigenvalue(Matrix{1, 2, {1.0, 2.0}}), ModelError);
}

}  // namespace
}  // namespace twind::model
