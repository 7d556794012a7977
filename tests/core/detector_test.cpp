#include "twind/core/detector.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <optional>
#include <random>
#include <vector>

namespace twind::core {
namespace {

using S = DivergenceDetector::Settings;

constexpr auto N = Transition::none;
constexpr auto R = Transition::raised;
constexpr auto C = Transition::cleared;

// A threshold alone: raise above `raise`, clear below `clear`.
S threshold(double raise, double clear, int raise_after = 1, int clear_after = 1) {
  S s;
  s.has_threshold = true;
  s.raise = raise;
  s.clear = clear;
  s.raise_after = raise_after;
  s.clear_after = clear_after;
  return s;
}

// A CUSUM alone, in units of sigma.
S cusum(double sigma, double k, double h, int clear_after = 1) {
  S s;
  s.has_cusum = true;
  s.sigma = sigma;
  s.k = k;
  s.h = h;
  s.clear_after = clear_after;
  return s;
}

std::vector<Transition> feed(DivergenceDetector& sut, const S& s, const std::vector<double>& xs) {
  std::vector<Transition> out;
  for (double x : xs) out.push_back(sut.update(x, s).transition);
  return out;
}

// ---- the threshold part: hysteresis and debounce ---------------------------------------------

TEST(ThresholdDetector, ValueAboveThresholdRaisesOnThatSample) {
  DivergenceDetector sut;
  EXPECT_EQ(feed(sut, threshold(0.15, 0.1), {0.0, 0.14, 0.16}), (std::vector{N, N, R}));
  EXPECT_TRUE(sut.active());
}

TEST(ThresholdDetector, NegativeResidualCountsByItsMagnitude) {
  DivergenceDetector sut;
  const auto d = sut.update(-0.16, threshold(0.15, 0.1));
  EXPECT_EQ(d.transition, R);
  EXPECT_EQ(d.by, Detector::threshold);
  EXPECT_DOUBLE_EQ(d.value, 0.16);
  EXPECT_DOUBLE_EQ(d.threshold, 0.15);
}

TEST(ThresholdDetector, ValueEqualToThresholdDoesNotRaise) {
  DivergenceDetector sut;
  EXPECT_EQ(feed(sut, threshold(0.15, 0.1), {0.15, 0.15}), (std::vector{N, N}));
  EXPECT_FALSE(sut.active());
}

TEST(ThresholdDetector, ValueBetweenClearAndRaiseKeepsAlertRaised) {
  DivergenceDetector sut;
  EXPECT_EQ(feed(sut, threshold(0.15, 0.1), {0.2, 0.14, 0.11, 0.12, 0.09}),
            (std::vector{R, N, N, N, C}));
  EXPECT_FALSE(sut.active());
}

TEST(ThresholdDetector, RaiseAfterNeedsConsecutiveSamplesAbove) {
  DivergenceDetector sut;
  // Two above, one below breaks the run, then three above.
  EXPECT_EQ(feed(sut, threshold(1.0, 0.5, 3, 1), {2, 2, 0.7, 2, 2, 2}),
            (std::vector{N, N, N, N, N, R}));
}

TEST(ThresholdDetector, ClearAfterNeedsConsecutiveSamplesBelow) {
  DivergenceDetector sut;
  EXPECT_EQ(feed(sut, threshold(1.0, 0.5, 1, 2), {2, 0.1, 0.7, 0.1, 0.1}),
            (std::vector{R, N, N, N, C}));
}

TEST(ThresholdDetector, NoiseAroundThresholdWithoutHysteresisChattersButWithHysteresisDoesNot) {
  const std::vector<double> noisy = {0.16, 0.14, 0.16, 0.14, 0.16, 0.14};
  DivergenceDetector without;
  const auto a = feed(without, threshold(0.15, 0.15), noisy);
  EXPECT_EQ(std::count(a.begin(), a.end(), C), 3);
  DivergenceDetector with;
  const auto b = feed(with, threshold(0.15, 0.1), noisy);
  EXPECT_EQ(std::count(b.begin(), b.end(), C), 0);
}

TEST(ThresholdDetector, ResetForgetsActiveStateAndRun) {
  DivergenceDetector sut;
  const S s = threshold(1.0, 0.5, 2, 1);
  sut.update(2, s);
  sut.reset();
  EXPECT_EQ(sut.update(2, s).transition, N);  // the run restarted
  EXPECT_EQ(sut.update(2, s).transition, R);
}

// ---- the CUSUM part --------------------------------------------------------------------------

TEST(CusumDetector, AccumulatesResidualsInUnitsOfSigmaLessKAndRaisesAboveH) {
  DivergenceDetector sut;
  const S s = cusum(0.1, 0.5, 2.0);
  // z = 1 each: S+ = 0.5, 1, 1.5, 2 (not above h), 2.5.
  EXPECT_EQ(feed(sut, s, {0.1, 0.1, 0.1, 0.1}), (std::vector{N, N, N, N}));
  EXPECT_DOUBLE_EQ(sut.cusum_pos(), 2.0);
  EXPECT_DOUBLE_EQ(sut.cusum_neg(), 0.0);
  const auto d = sut.update(0.1, s);
  EXPECT_EQ(d.transition, R);
  EXPECT_EQ(d.by, Detector::cusum);
  EXPECT_DOUBLE_EQ(d.value, 2.5);
  EXPECT_DOUBLE_EQ(d.threshold, 2.0);
}

TEST(CusumDetector, NegativeShiftRaisesThroughSMinus) {
  DivergenceDetector sut;
  const S s = cusum(0.1, 0.5, 2.0);
  EXPECT_EQ(feed(sut, s, {-0.1, -0.1, -0.1, -0.1, -0.1}), (std::vector{N, N, N, N, R}));
  EXPECT_DOUBLE_EQ(sut.cusum_pos(), 0.0);
  EXPECT_DOUBLE_EQ(sut.cusum_neg(), 2.5);
}

TEST(CusumDetector, ResidualWithinTheAllowanceNeverAccumulates) {
  DivergenceDetector sut;
  const S s = cusum(1.0, 0.5, 2.0);
  for (int i = 0; i < 10000; ++i) ASSERT_EQ(sut.update(i % 2 == 0 ? 0.5 : -0.5, s).transition, N);
  EXPECT_EQ(sut.cusum(), 0.0);
}

// Samples after the start of a bias of `delta` sigma in N(0, 1) noise until the CUSUM raises, or
// nothing within `limit` samples. The first `before` samples are noise alone.
std::optional<int> samples_to_detect(unsigned seed, double delta, int before, int limit) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> noise(0.0, 1.0);
  DivergenceDetector sut;
  const S s = cusum(1.0, 0.5, 20.0);
  for (int i = 0; i < before; ++i) {
    if (sut.update(noise(rng), s).transition != N) return -1;  // a false alarm
  }
  for (int i = 1; i <= limit; ++i) {
    if (sut.update(delta + noise(rng), s).transition == R) return i;
  }
  return std::nullopt;
}

TEST(CusumDetector, BiasOfTwoSigmaIsDetectedAfterAboutHOverDeltaMinusKSamples) {
  // h / (delta - k) = 20 / 1.5 = 13.3 samples on average; noise spreads it by a few.
  for (unsigned seed = 1; seed <= 20; ++seed) {
    const auto n = samples_to_detect(seed, 2.0, 1000, 1000);
    ASSERT_TRUE(n.has_value()) << "seed " << seed;
    EXPECT_GE(*n, 7) << "seed " << seed;
    EXPECT_LE(*n, 27) << "seed " << seed;
  }
}

TEST(CusumDetector, NegativeBiasOfTwoSigmaIsDetectedAsFast) {
  for (unsigned seed = 1; seed <= 20; ++seed) {
    const auto n = samples_to_detect(seed, -2.0, 1000, 1000);
    ASSERT_TRUE(n.has_value()) << "seed " << seed;
    EXPECT_GE(*n, 7) << "seed " << seed;
    EXPECT_LE(*n, 27) << "seed " << seed;
  }
}

// Raises on N(0, 1) noise alone within `samples`, with k = 0.5 and the given h.
bool raises_on_noise(double h, int samples) {
  std::mt19937_64 rng(42);
  std::normal_distribution<double> noise(0.0, 1.0);
  DivergenceDetector sut;
  const S s = cusum(1.0, 0.5, h);
  for (int i = 0; i < samples; ++i) {
    if (sut.update(noise(rng), s).transition == R) return true;
  }
  return false;
}

TEST(CusumDetector, PureNoiseRaisesNothingInTwoHundredThousandSamplesWithH20) {
  EXPECT_FALSE(raises_on_noise(20.0, 200000));
}

TEST(CusumDetector, PureNoiseDoesRaiseWithASmallH) {
  // The same noise against h = 4 (about one false alarm in a few hundred samples): the test
  // above would see an alarm if there were one.
  EXPECT_TRUE(raises_on_noise(4.0, 200000));
}

TEST(CusumDetector, StatisticIsCappedAtTwoH) {
  DivergenceDetector sut;
  const S s = cusum(0.01, 0.5, 20.0);
  const auto d = sut.update(1e6, s);  // 1e8 sigma
  EXPECT_EQ(d.transition, R);
  EXPECT_DOUBLE_EQ(d.value, 40.0);
  for (int i = 0; i < 1000; ++i) sut.update(0.05, s);  // 5 sigma, long after
  EXPECT_DOUBLE_EQ(sut.cusum_pos(), 40.0);
  EXPECT_DOUBLE_EQ(sut.cusum_neg(), 0.0);
}

TEST(CusumDetector, AfterACappedFaultAResidualOfZeroClearsAfterExactlyTwoHOverK) {
  DivergenceDetector sut;
  const S s = cusum(1.0, 0.5, 20.0);
  ASSERT_EQ(sut.update(1e9, s).transition, R);
  // S+ falls by k = 0.5 a sample from 40: 0 on the 80th.
  for (int i = 1; i < 80; ++i) ASSERT_EQ(sut.update(0.0, s).transition, N) << i;
  const auto d = sut.update(0.0, s);
  EXPECT_EQ(d.transition, C);
  EXPECT_EQ(d.by, Detector::cusum);
  EXPECT_EQ(d.value, 0.0);
  EXPECT_FALSE(sut.active());
}

TEST(CusumDetector, ClearsWithinAboutTwoHOverKSamplesAfterTheFaultEndsInNoise) {
  // The fault lasts long enough to reach the cap, then noise alone brings the statistic back
  // to 0 in about 2h / k = 80 samples.
  for (unsigned seed = 1; seed <= 20; ++seed) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> noise(0.0, 1.0);
    DivergenceDetector sut;
    const S s = cusum(1.0, 0.5, 20.0);
    for (int i = 0; i < 200; ++i) sut.update(2.0 + noise(rng), s);
    ASSERT_TRUE(sut.active());
    ASSERT_GT(sut.cusum(), 30.0);  // near the cap of 2h = 40
    int cleared = 0;
    for (int i = 1; i <= 1000 && cleared == 0; ++i) {
      if (sut.update(noise(rng), s).transition == C) cleared = i;
    }
    EXPECT_GE(cleared, 20) << "seed " << seed;
    EXPECT_LE(cleared, 160) << "seed " << seed;
  }
}

TEST(CusumDetector, ClearAfterNeedsConsecutiveUpdatesAtZero) {
  DivergenceDetector sut;
  const S s = cusum(1.0, 0.5, 1.0, 2);
  ASSERT_EQ(sut.update(1.6, s).transition, R);  // S+ = 1.1
  // S+ 0.6, 0.1, 0 (one at zero), 0.5 (the run breaks), 0, 0.
  EXPECT_EQ(feed(sut, s, {0.0, 0.0, 0.0, 1.0, -0.5, 0.0}), (std::vector{N, N, N, N, N, C}));
}

TEST(CusumDetector, ResetCusumForgetsTheEvidenceButNotTheAlert) {
  DivergenceDetector sut;
  const S s = cusum(1.0, 0.5, 1.0);
  ASSERT_EQ(sut.update(3.0, s).transition, R);
  sut.reset_cusum();
  EXPECT_EQ(sut.cusum(), 0.0);
  EXPECT_TRUE(sut.active());
  EXPECT_EQ(sut.update(0.0, s).transition, C);
}

// ---- both parts ------------------------------------------------------------------------------

S both() {
  S s = threshold(0.15, 0.1);
  s.has_cusum = true;
  s.sigma = 0.01;
  s.k = 0.5;
  s.h = 20.0;
  return s;
}

TEST(BothDetectors, ASmallPersistentBiasIsRaisedByTheCusum) {
  DivergenceDetector sut;
  // 2 sigma, far below the threshold: S+ grows by 1.5 a sample, above 20 on the 14th.
  for (int i = 1; i < 14; ++i) ASSERT_EQ(sut.update(0.02, both()).transition, N) << i;
  const auto d = sut.update(0.02, both());
  EXPECT_EQ(d.transition, R);
  EXPECT_EQ(d.by, Detector::cusum);
  EXPECT_DOUBLE_EQ(d.value, 21.0);
  EXPECT_DOUBLE_EQ(d.threshold, 20.0);
  EXPECT_EQ(sut.raised_by(), Detector::cusum);
}

TEST(BothDetectors, AStepAboveTheThresholdIsRaisedByTheThreshold) {
  DivergenceDetector sut;
  const auto d = sut.update(0.3, both());  // S+ = 29.5 too: the threshold wins the tie
  EXPECT_EQ(d.transition, R);
  EXPECT_EQ(d.by, Detector::threshold);
  EXPECT_DOUBLE_EQ(d.value, 0.3);
  EXPECT_DOUBLE_EQ(d.threshold, 0.15);
}

TEST(BothDetectors, ClearingWaitsForTheCusumAsWellAsTheResidual) {
  DivergenceDetector sut;
  ASSERT_EQ(sut.update(0.3, both()).transition, R);  // S+ = 29.5
  // The residual is back below clear_threshold at once; S+ falls by 0.5 a sample: 0 on the 59th.
  for (int i = 1; i < 59; ++i) ASSERT_EQ(sut.update(0.0, both()).transition, N) << i;
  const auto d = sut.update(0.0, both());
  EXPECT_EQ(d.transition, C);
  EXPECT_EQ(d.by, Detector::threshold);
  EXPECT_DOUBLE_EQ(d.threshold, 0.1);
}

TEST(BothDetectors, ClearingWaitsForTheResidualAsWellAsTheCusum) {
  DivergenceDetector sut;
  S s = both();
  s.sigma = 1.0;  // the CUSUM sees nothing of these residuals
  ASSERT_EQ(sut.update(0.3, s).transition, R);
  EXPECT_EQ(feed(sut, s, {0.12, 0.12, 0.05}), (std::vector{N, N, C}));
}

}  // namespace
}  // namespace twind::core
