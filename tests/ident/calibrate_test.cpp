#include "twind/ident/calibrate.hpp"

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace twind::ident {
namespace {

TEST(Calibrate, TheLimitGivesTheRunLengthAskedFor) {
  for (const double run : {1e3, 1e6, 1e9}) {
    const double h = cusum_limit(0.5, run);
    EXPECT_NEAR(cusum_false_alarm_run(0.5, h) / run, 1.0, 1e-6);
  }
  // Longer runs need higher limits.
  EXPECT_LT(cusum_limit(0.5, 1e6), cusum_limit(0.5, 1e9));
}

TEST(Calibrate, SiegmundsApproximationMatchesASimulatedCusum) {
  // h = 4, k = 0.5: two-sided ARL by the formula; measured by running the CUSUM on N(0, 1).
  const double h = 4.0;
  const double predicted = cusum_false_alarm_run(0.5, h);
  std::mt19937_64 rng(11);
  std::normal_distribution<double> z(0.0, 1.0);
  double total = 0.0;
  const int runs = 400;
  for (int i = 0; i < runs; ++i) {
    double pos = 0.0;
    double neg = 0.0;
    double n = 0.0;
    while (pos <= h && neg <= h) {
      const double v = z(rng);
      pos = std::max(0.0, pos + v - 0.5);
      neg = std::max(0.0, neg - v - 0.5);
      n += 1.0;
    }
    total += n;
  }
  EXPECT_NEAR(total / runs / predicted, 1.0, 0.15);
}

TEST(Calibrate, TheNormalQuantile) {
  EXPECT_NEAR(normal_two_sided_quantile(0.05), 1.959964, 1e-5);
  EXPECT_NEAR(normal_two_sided_quantile(1e-9), 6.109410, 1e-4);
}

TEST(Calibrate, OneFalseAlarmAYearAtFiftyHertz) {
  std::mt19937_64 rng(5);
  std::normal_distribution<double> e(0.0, 0.01);
  std::vector<double> r(30000);
  for (double& v : r) v = e(rng);
  const Calibration c = calibrate(r, 50.0, 1.0);
  EXPECT_NEAR(c.sigma, 0.01, 0.0003);
  EXPECT_NEAR(c.p_sample, 1.0 / (50.0 * kSecondsPerYear), 1e-15);
  // About 6.2 sigma; more where the healthy data had a larger residual.
  EXPECT_GT(c.threshold, 6.0 * c.sigma);
  EXPECT_LT(c.threshold, 7.0 * c.sigma);
  EXPECT_NEAR(cusum_false_alarm_run(0.5, c.h), c.run, 1e-6 * c.run);
  EXPECT_LT(c.max_statistic, c.h);
}

}  // namespace
}  // namespace twind::ident
