#include "twind/core/detector.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

namespace twind::core {
namespace {

using S = HysteresisDetector::Settings;

std::vector<Transition> feed(HysteresisDetector& sut, const S& s, const std::vector<double>& xs) {
  std::vector<Transition> out;
  for (double x : xs) out.push_back(sut.update(x, s));
  return out;
}

constexpr auto N = Transition::none;
constexpr auto R = Transition::raised;
constexpr auto C = Transition::cleared;

TEST(HysteresisDetector, ValueAboveThresholdRaisesOnThatSample) {
  HysteresisDetector sut;
  EXPECT_EQ(feed(sut, {0.15, 0.1, 1, 1}, {0.0, 0.14, 0.16}), (std::vector{N, N, R}));
  EXPECT_TRUE(sut.active());
}

TEST(HysteresisDetector, ValueEqualToThresholdDoesNotRaise) {
  HysteresisDetector sut;
  EXPECT_EQ(feed(sut, {0.15, 0.1, 1, 1}, {0.15, 0.15}), (std::vector{N, N}));
  EXPECT_FALSE(sut.active());
}

TEST(HysteresisDetector, ValueBetweenClearAndRaiseKeepsAlertRaised) {
  HysteresisDetector sut;
  EXPECT_EQ(feed(sut, {0.15, 0.1, 1, 1}, {0.2, 0.14, 0.11, 0.12, 0.09}),
            (std::vector{R, N, N, N, C}));
  EXPECT_FALSE(sut.active());
}

TEST(HysteresisDetector, RaiseAfterNeedsConsecutiveSamplesAbove) {
  HysteresisDetector sut;
  const S s{1.0, 0.5, 3, 1};
  // Two above, one below breaks the run, then three above.
  EXPECT_EQ(feed(sut, s, {2, 2, 0.7, 2, 2, 2}), (std::vector{N, N, N, N, N, R}));
}

TEST(HysteresisDetector, ClearAfterNeedsConsecutiveSamplesBelow) {
  HysteresisDetector sut;
  const S s{1.0, 0.5, 1, 2};
  EXPECT_EQ(feed(sut, s, {2, 0.1, 0.7, 0.1, 0.1}), (std::vector{R, N, N, N, C}));
}

TEST(HysteresisDetector, NoiseAroundThresholdWithoutHysteresisChattersButWithHysteresisDoesNot) {
  const std::vector<double> noisy = {0.16, 0.14, 0.16, 0.14, 0.16, 0.14};
  HysteresisDetector without;
  const auto a = feed(without, {0.15, 0.15, 1, 1}, noisy);
  EXPECT_EQ(std::count(a.begin(), a.end(), C), 3);
  HysteresisDetector with;
  const auto b = feed(with, {0.15, 0.1, 1, 1}, noisy);
  EXPECT_EQ(std::count(b.begin(), b.end(), C), 0);
}

TEST(HysteresisDetector, ResetForgetsActiveStateAndRun) {
  HysteresisDetector sut;
  const S s{1.0, 0.5, 2, 1};
  sut.update(2, s);
  sut.reset();
  EXPECT_EQ(sut.update(2, s), N);  // the run restarted
  EXPECT_EQ(sut.update(2, s), R);
}

}  // namespace
}  // namespace twind::core
