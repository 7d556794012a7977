// Levenberg-Marquardt for the ident layer's fits. Internal to src/ident.
#pragma once

#include <Eigen/Dense>
#include <cmath>
#include <cstddef>
#include <functional>
#include <vector>

namespace twind::ident::detail {

/// Residuals at parameters phi (in units of their scale); false where they cannot be computed.
using Residuals = std::function<bool(const Eigen::VectorXd& phi, Eigen::VectorXd& r)>;

struct Solution {
  bool failed = false;  ///< the residuals at the start could not be computed
  Eigen::VectorXd phi;
  Eigen::VectorXd r;
  Eigen::MatrixXd jacobian;  ///< at phi, by forward differences (backward where forward fails)
  std::size_t iterations = 0;
};

/// The scale a parameter of value v is estimated in: |v|, or 1 for 0.
[[nodiscard]] inline double scale_of(double v) noexcept {
  return std::abs(v) > 1e-12 ? std::abs(v) : 1.0;
}

/// Half-widths of the 95 % intervals of phi[0 .. count-1] at a solution: 1.96 standard errors,
/// s^2 (J^T J)^-1 with s^2 = |r|^2 / (residuals - parameters), the other parameters marginalised;
/// J^T J's columns are normalised before it is inverted, since the parameters' scales may differ
/// by orders. Infinity where J^T J is singular.
[[nodiscard]] std::vector<double> half_widths95(const Solution& s, std::size_t count);

/// Minimises |r(phi)|^2 from `phi` (Marquardt's diagonal scaling; a step that cannot be computed
/// counts as a worse one). Stops on a step below 1e-10 of |phi|, a relative decrease below
/// 1e-14, or after max_iterations.
[[nodiscard]] Solution levenberg_marquardt(const Residuals& r, Eigen::VectorXd phi,
                                           std::size_t max_iterations);

}  // namespace twind::ident::detail
