// Detection calibrated to a false-alarm budget, from the residuals of healthy operation.
#pragma once

#include <span>

namespace twind::ident {

/// Seconds in a year of 365.25 days.
inline constexpr double kSecondsPerYear = 365.25 * 86400.0;

/// Average run length, in samples, of a two-sided CUSUM on independent N(0, 1) values with
/// allowance k >= 0 and limit h > 0 before a false alarm, by Siegmund's approximation of each
/// side, ARL1 = (exp(2 k b) - 2 k b - 1) / (2 k^2) with b = h + 1.166 (b^2 when k = 0), the two
/// sides together ARL1 / 2.
[[nodiscard]] double cusum_false_alarm_run(double k, double h) noexcept;

/// The smallest limit h whose cusum_false_alarm_run(k, h) reaches `run` samples (bisection).
[[nodiscard]] double cusum_limit(double k, double run) noexcept;

/// The two-sided normal quantile: the z with P(|N(0, 1)| > z) = p, for 0 < p < 1.
[[nodiscard]] double normal_two_sided_quantile(double p) noexcept;

struct Calibration {
  double sigma = 0.0;          ///< standard deviation of the healthy residuals (about their mean 0)
  double mean = 0.0;           ///< their mean, for the report
  double max_abs = 0.0;        ///< the largest healthy |residual|
  double p_sample = 0.0;       ///< false-alarm budget per sample
  double threshold = 0.0;      ///< fixed threshold for the budget
  double k = 0.5;              ///< CUSUM allowance, in sigmas
  double h = 0.0;              ///< CUSUM limit, in sigmas
  double run = 0.0;            ///< samples between false alarms the budget allows
  double max_statistic = 0.0;  ///< the CUSUM's largest value over the healthy residuals
};

/// Detection settings for one output from its healthy residuals, taken at `rate` samples a
/// second, for `false_alarms_per_year` false alarms a year:
///  - p = false_alarms_per_year / (rate * kSecondsPerYear) per sample;
///  - threshold = max(sigma * normal_two_sided_quantile(p), 1.2 * the largest healthy |residual|)
///    (the second term where the residuals' tails are heavier than a normal's);
///  - CUSUM on residual / sigma with allowance k (half the smallest shift, in sigmas, it is
///    tuned to) and h = cusum_limit(k, 1 / p).
/// Precondition: at least two residuals, rate > 0, false_alarms_per_year > 0.
[[nodiscard]] Calibration calibrate(std::span<const double> residuals, double rate,
                                    double false_alarms_per_year, double k = 0.5);

}  // namespace twind::ident
