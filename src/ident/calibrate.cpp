#include "twind/ident/calibrate.hpp"

#include <algorithm>
#include <cmath>

namespace twind::ident {

double cusum_false_alarm_run(double k, double h) noexcept {
  const double b = h + 1.166;
  if (k <= 0.0) return b * b / 2.0;
  const double a = 2.0 * k * b;
  // exp(a) - a - 1 without cancellation for small a.
  const double one_side = (a < 1e-4 ? a * a / 2.0 : std::expm1(a) - a) / (2.0 * k * k);
  return one_side / 2.0;
}

double cusum_limit(double k, double run) noexcept {
  double lo = 0.0;
  double hi = 1.0;
  while (cusum_false_alarm_run(k, hi) < run && hi < 1e9) hi *= 2.0;
  for (int i = 0; i < 200 && hi - lo > 1e-9 * hi; ++i) {
    const double mid = 0.5 * (lo + hi);
    (cusum_false_alarm_run(k, mid) < run ? lo : hi) = mid;
  }
  return hi;
}

double normal_two_sided_quantile(double p) noexcept {
  // P(|Z| > z) = erfc(z / sqrt 2), decreasing in z.
  double lo = 0.0;
  double hi = 40.0;
  for (int i = 0; i < 200 && hi - lo > 1e-12; ++i) {
    const double mid = 0.5 * (lo + hi);
    (std::erfc(mid / std::sqrt(2.0)) > p ? lo : hi) = mid;
  }
  return hi;
}

Calibration calibrate(std::span<const double> residuals, double rate, double false_alarms_per_year,
                      double k) {
  Calibration c;
  c.k = k;
  const auto n = static_cast<double>(residuals.size());
  double sum = 0.0;
  for (const double r : residuals) {
    sum += r;
    c.max_abs = std::max(c.max_abs, std::abs(r));
  }
  c.mean = sum / n;
  // About 0, not about the mean: a residual's bias is part of what the detectors will see.
  double squares = 0.0;
  for (const double r : residuals) squares += r * r;
  c.sigma = std::sqrt(squares / (n - 1.0));
  c.p_sample = std::min(0.5, false_alarms_per_year / (rate * kSecondsPerYear));
  c.run = 1.0 / c.p_sample;
  c.threshold = std::max(c.sigma * normal_two_sided_quantile(c.p_sample), 1.2 * c.max_abs);
  c.h = cusum_limit(k, c.run);
  double pos = 0.0;
  double neg = 0.0;
  for (const double r : residuals) {
    const double z = c.sigma > 0.0 ? r / c.sigma : 0.0;
    pos = std::max(0.0, pos + z - k);
    neg = std::max(0.0, neg - z - k);
    c.max_statistic = std::max({c.max_statistic, pos, neg});
  }
  return c;
}

}  // namespace twind::ident
