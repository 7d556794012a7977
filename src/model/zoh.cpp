// The one translation unit that includes Eigen's MatrixFunctions: it costs ~5 s to compile.
#include <unsupported/Eigen/MatrixFunctions>

#include "discretisation.hpp"

namespace twind::model::detail {

Discretisation zoh_discretise(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b, double dt) {
  const Eigen::Index n = a.rows();
  const Eigen::Index m = b.cols();
  // exp([[A, B], [0, 0]] dt) = [[Ad, Bd], [0, I]] gives Bd = integral of e^{As} B ds without
  // inverting A, so singular A (integrators) is handled like any other.
  Eigen::MatrixXd augmented = Eigen::MatrixXd::Zero(n + m, n + m);
  augmented.topLeftCorner(n, n) = a * dt;
  augmented.topRightCorner(n, m) = b * dt;
  const Eigen::MatrixXd e = augmented.exp();
  return Discretisation{e.topLeftCorner(n, n), e.topRightCorner(n, m)};
}

}  // namespace twind::model::detail
