// Internal to twind_model: the zero-order-hold discretisation shared by linear.cpp and zoh.cpp.
// Eigen is fine here, this header is never installed nor included outside src/model.
#pragma once

#include <Eigen/Core>

namespace twind::model::detail {

/// x(t + dt) = ad x(t) + bd u for u held constant over dt.
struct Discretisation {
  Eigen::MatrixXd ad;
  Eigen::MatrixXd bd;
};

/// Exact zero-order hold of x' = a x + b u over dt seconds: the top block row of
/// exp([[a, b], [0, 0]] dt). Allocates; a.rows() == a.cols() == b.rows() is the caller's duty.
[[nodiscard]] Discretisation zoh_discretise(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b,
                                            double dt);

}  // namespace twind::model::detail
