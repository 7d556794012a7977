#include "least_squares.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace twind::ident::detail {

using Eigen::MatrixXd;
using Eigen::VectorXd;

namespace {

MatrixXd jacobian(const Residuals& p, const VectorXd& phi, const VectorXd& r) {
  MatrixXd j(r.size(), phi.size());
  VectorXd probe = phi;
  VectorXd rp;
  for (Eigen::Index i = 0; i < phi.size(); ++i) {
    const double h = 1e-6 * std::max(1.0, std::abs(phi[i]));
    probe[i] = phi[i] + h;
    if (p(probe, rp) && rp.size() == r.size()) {
      j.col(i) = (rp - r) / h;
    } else {
      probe[i] = phi[i] - h;
      if (p(probe, rp) && rp.size() == r.size()) {
        j.col(i) = (r - rp) / h;
      } else {
        j.col(i).setZero();
      }
    }
    probe[i] = phi[i];
  }
  return j;
}

}  // namespace

Solution levenberg_marquardt(const Residuals& p, VectorXd phi, std::size_t max_iterations) {
  Solution s;
  if (!p(phi, s.r)) {
    s.phi = std::move(phi);
    s.failed = true;
    return s;
  }
  double cost = s.r.squaredNorm();
  double mu = 1e-3;
  VectorXd trial_r;
  for (; s.iterations < max_iterations; ++s.iterations) {
    s.jacobian = jacobian(p, phi, s.r);
    const MatrixXd h = s.jacobian.transpose() * s.jacobian;
    const VectorXd g = s.jacobian.transpose() * s.r;
    bool accepted = false;
    double step_norm = 0.0;
    double old_cost = cost;
    while (mu < 1e12) {
      MatrixXd a = h;
      for (Eigen::Index i = 0; i < a.rows(); ++i) a(i, i) += mu * std::max(h(i, i), 1e-12);
      const VectorXd step = a.ldlt().solve(-g);
      const VectorXd trial = phi + step;
      if (step.allFinite() && p(trial, trial_r) && trial_r.size() == s.r.size()) {
        const double c = trial_r.squaredNorm();
        if (c < cost) {
          phi = trial;
          s.r = trial_r;
          cost = c;
          mu = std::max(mu / 3.0, 1e-12);
          accepted = true;
          step_norm = step.norm();
          break;
        }
      }
      mu *= 4.0;
    }
    if (!accepted) break;
    if (step_norm < 1e-10 * (phi.norm() + 1e-10) || old_cost - cost < 1e-14 * old_cost) {
      ++s.iterations;
      break;
    }
  }
  s.jacobian = jacobian(p, phi, s.r);
  s.phi = std::move(phi);
  return s;
}

std::vector<double> half_widths95(const Solution& s, std::size_t count) {
  const MatrixXd jtj = s.jacobian.transpose() * s.jacobian;
  const VectorXd norms = jtj.diagonal().cwiseSqrt().cwiseMax(1e-300);
  const MatrixXd normalised =
      norms.cwiseInverse().asDiagonal() * jtj * norms.cwiseInverse().asDiagonal();
  const double dof = std::max(1.0, static_cast<double>(s.r.size() - s.phi.size()));
  const double s2 = s.r.squaredNorm() / dof;
  std::vector<double> out(count, std::numeric_limits<double>::infinity());
  const Eigen::FullPivLU<MatrixXd> lu(normalised);
  if (!lu.isInvertible()) return out;
  const MatrixXd inverse = lu.inverse();
  for (std::size_t i = 0; i < count; ++i) {
    const auto k = static_cast<Eigen::Index>(i);
    if (norms[k] > 1e-300) out[i] = 1.96 * std::sqrt(std::max(0.0, s2 * inverse(k, k))) / norms[k];
  }
  return out;
}

}  // namespace twind::ident::detail
