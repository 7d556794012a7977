// Linear time-invariant models: state space (continuous or discrete) and SISO transfer functions.
#pragma once

#include <cstddef>
#include <memory>
#include <stdexcept>
#include <vector>

#include "twind/model/model.hpp"

namespace twind::model {

/// A dense row-major matrix as configuration hands it over (no Eigen in this header).
struct Matrix {
  std::size_t rows = 0;
  std::size_t cols = 0;
  std::vector<double> data;  ///< rows * cols values, row by row

  [[nodiscard]] double operator()(std::size_t r, std::size_t c) const { return data[r * cols + c]; }
  friend bool operator==(const Matrix&, const Matrix&) = default;
};

/// Thrown by the factories below for matrices of inconsistent shapes, non-finite entries,
/// a non-positive sample time or a transfer function that is not proper.
class ModelError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

/// Continuous-time x' = A x + B u, y = C x + D u. advance() discretises exactly by zero-order
/// hold through the matrix exponential of [[A, B], [0, 0]] dt; discretisations for repeated
/// intervals (keyed to the nanosecond) are cached in the model, up to a bounded number.
/// Details of advance(): dt is quantised to whole nanoseconds (the discretisation depends on the
/// key alone, so results never depend on cache history); dt == 0 or under half a nanosecond
/// leaves x alone; a negative, NaN or infinite dt, or one over 1e9 s, returns false with x
/// unchanged. A StepMemo belongs to one model: reset it (StepMemo{}) when a twin changes model,
/// since its hint points into the old model's cache. Repeated intervals take no lock and do not
/// allocate.
[[nodiscard]] std::shared_ptr<const Model> make_continuous_state_space(ModelId id, Matrix a,
                                                                       Matrix b, Matrix c,
                                                                       Matrix d);

/// Discrete-time x[k+1] = A x[k] + B u[k], y = C x + D u with sample time dt > 0. advance()
/// takes as many whole steps as fit in the interval and carries the remainder in StepMemo, so
/// the state changes only on the model's own sample grid. Intervals summing to a whole number of
/// samples to within 1e-9 dt step that many times; a negative, NaN or infinite interval returns
/// false with x unchanged. Long gaps cost log2(steps) matrix products, not one per step.
[[nodiscard]] std::shared_ptr<const Model> make_discrete_state_space(ModelId id, Matrix a, Matrix b,
                                                                     Matrix c, Matrix d, double dt);

/// A SISO continuous transfer function num(s)/den(s), coefficients in descending powers of s
/// (den[0] != 0, deg num <= deg den), realised in controllable canonical form.
[[nodiscard]] std::shared_ptr<const Model> make_transfer_function(ModelId id,
                                                                  std::vector<double> num,
                                                                  std::vector<double> den);

/// The controllable canonical state-space realisation (A, B, C, D) of num(s)/den(s); exposed for
/// tests and for `twind check`. Throws ModelError as make_transfer_function does.
struct StateSpace {
  Matrix a, b, c, d;
};
[[nodiscard]] StateSpace transfer_function_to_state_space(const std::vector<double>& num,
                                                          const std::vector<double>& den);

/// Eigenvalues' largest real part of a square matrix (continuous stability margin); used by
/// `twind check` to warn about unstable models. -infinity for a 0 x 0 matrix; throws ModelError
/// when `a` is not square or has non-finite entries.
[[nodiscard]] double max_real_eigenvalue(const Matrix& a);

}  // namespace twind::model
