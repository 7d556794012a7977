// Levenberg-Marquardt for the ident layer's fits. Internal to src/ident.
#pragma once

#include <Eigen/Dense>
#include <cstddef>
#include <functional>

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

/// Minimises |r(phi)|^2 from `phi` (Marquardt's diagonal scaling; a step that cannot be computed
/// counts as a worse one). Stops on a step below 1e-10 of |phi|, a relative decrease below
/// 1e-14, or after max_iterations.
[[nodiscard]] Solution levenberg_marquardt(const Residuals& r, Eigen::VectorXd phi,
                                           std::size_t max_iterations);

}  // namespace twind::ident::detail
