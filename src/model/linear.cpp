// State-space models (continuous and discrete) behind twind::model::Model.
#include "twind/model/linear.hpp"

#include <Eigen/Dense>
#include <array>
#include <atomic>
#include <bit>
#include <cassert>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "discretisation.hpp"

namespace twind::model {
namespace {

using detail::Discretisation;
using Eigen::Index;
using Eigen::MatrixXd;
using Eigen::VectorXd;
using ConstVectorMap = Eigen::Map<const VectorXd>;
using VectorMap = Eigen::Map<VectorXd>;

// Bound on cached discretisations per model: a twin fed at a fixed rate needs one or two, and
// jittered timestamps must not grow memory without end.
constexpr std::size_t kCacheCapacity = 64;
// Intervals past the cache advance by the powers of two of their key that it holds, one
// discretisation per nanosecond bit: kMaxInterval (1e18 ns) fits in 60 bits.
constexpr std::size_t kPowerBits = 60;

// Intervals are keyed (and computed) in whole nanoseconds; 1e9 s keeps the key far inside
// int64 and is ~31 years, past which no plant model means anything.
constexpr double kMaxInterval = 1e9;
constexpr double kNanosPerSecond = 1e9;

// Past this many discrete steps in one call, A^k by squaring beats repeated multiplication.
constexpr double kMaxLoopSteps = 16.0;
// 2^62: larger step counts do not fit the unsigned exponent comfortably and mean a gap of
// absurd length anyway.
constexpr double kMaxSteps = 4.611686018427387904e18;

std::string format_number(double v) {
  std::ostringstream out;
  out << v;
  return out.str();
}

std::string format_count(std::size_t v, const char* one, const char* many) {
  return std::to_string(v) + " " + (v == 1 ? one : many);
}

// Checks what one matrix can be checked for alone: its value count and finite entries.
void check_matrix(const Matrix& mat, const char* name) {
  if (mat.data.size() != mat.rows * mat.cols) {
    throw ModelError(std::string(name) + " has " +
                     format_count(mat.data.size(), "value", "values") + ", expected " +
                     std::to_string(mat.rows * mat.cols) + " (" +
                     format_count(mat.rows, "row", "rows") + " x " +
                     format_count(mat.cols, "column", "columns") + ")");
  }
  for (std::size_t r = 0; r < mat.rows; ++r) {
    for (std::size_t c = 0; c < mat.cols; ++c) {
      if (!std::isfinite(mat(r, c))) {
        throw ModelError(std::string(name) + " row " + std::to_string(r + 1) + ", column " +
                         std::to_string(c + 1) + " is " + format_number(mat(r, c)) +
                         ", expected a finite number");
      }
    }
  }
}

void check_square(const Matrix& a, const char* name) {
  check_matrix(a, name);
  if (a.rows != a.cols) {
    throw ModelError(std::string(name) + " has " + format_count(a.rows, "row", "rows") + " and " +
                     format_count(a.cols, "column", "columns") + ", expected a square matrix");
  }
}

void check_dimension(const char* name, std::size_t got, const char* one, const char* many,
                     std::size_t expected, const char* why) {
  if (got != expected) {
    throw ModelError(std::string(name) + " has " + format_count(got, one, many) + ", expected " +
                     std::to_string(expected) + " (" + why + ")");
  }
}

void check_shapes(const Matrix& a, const Matrix& b, const Matrix& c, const Matrix& d) {
  check_square(a, "A");
  check_matrix(b, "B");
  check_matrix(c, "C");
  check_matrix(d, "D");
  check_dimension("B", b.rows, "row", "rows", a.rows, "rows of A");
  if (b.cols == 0) {
    throw ModelError("B has 0 columns, expected at least 1 (one per input)");
  }
  check_dimension("C", c.cols, "column", "columns", a.rows, "columns of A");
  if (c.rows == 0) {
    throw ModelError("C has 0 rows, expected at least 1 (one per output)");
  }
  check_dimension("D", d.rows, "row", "rows", c.rows, "rows of C");
  check_dimension("D", d.cols, "column", "columns", b.cols, "columns of B");
}

MatrixXd to_eigen(const Matrix& mat) {
  MatrixXd out(static_cast<Index>(mat.rows), static_cast<Index>(mat.cols));
  for (std::size_t r = 0; r < mat.rows; ++r) {
    for (std::size_t c = 0; c < mat.cols; ++c) {
      out(static_cast<Index>(r), static_cast<Index>(c)) = mat(r, c);
    }
  }
  return out;
}

ConstVectorMap view(std::span<const double> s) {
  return ConstVectorMap(s.data(), static_cast<Index>(s.size()));
}

VectorMap view(std::span<double> s) {
  return VectorMap(s.data(), static_cast<Index>(s.size()));
}

// x <- ad x + bd u without allocating: the product needs a temporary, and a thread_local vector
// that only ever grows serves every model on this thread (Eigen's resize would reallocate on
// every change of size).
void apply(const MatrixXd& ad, const MatrixXd& bd, VectorMap& x, const ConstVectorMap& u) {
  thread_local std::vector<double> scratch;
  const auto n = static_cast<std::size_t>(x.size());
  if (scratch.size() < n) {
    scratch.resize(n);
  }
  VectorMap next(scratch.data(), x.size());
  // Coefficient-wise products: plant models are small, and Eigen's gemv dispatch costs more
  // than the arithmetic at these sizes.
  next.noalias() = ad.lazyProduct(x) + bd.lazyProduct(u);
  x = next;
}

// What the continuous and the discrete forms share: sizes, identity and the output map.
class LinearModel : public Model {
 public:
  LinearModel(ModelId id, const Matrix& a, const Matrix& b, const Matrix& c, const Matrix& d)
      : id_(std::move(id)),
        a_(to_eigen(a)),
        b_(to_eigen(b)),
        c_(to_eigen(c)),
        d_(to_eigen(d)),
        n_(a.rows),
        m_(b.cols),
        p_(c.rows) {
    if (n_ > 0) {
      // Once here rather than per call: initial_state then costs a solve, not a factorisation.
      c_pinv_.compute(c_);
    }
  }

  [[nodiscard]] const ModelId& id() const noexcept override { return id_; }
  [[nodiscard]] std::size_t states() const noexcept override { return n_; }
  [[nodiscard]] std::size_t inputs() const noexcept override { return m_; }
  [[nodiscard]] std::size_t outputs() const noexcept override { return p_; }

  void output(std::span<const double> x, std::span<const double> u,
              std::span<double> y) const override {
    assert(x.size() == n_ && u.size() == m_ && y.size() == p_);
    auto yv = view(y);
    yv.noalias() = c_.lazyProduct(view(x)) + d_.lazyProduct(view(u));
  }

  void initial_state(std::span<const double> y, std::span<const double> u,
                     std::span<double> x) const override {
    assert(x.size() == n_ && u.size() == m_ && y.size() == p_);
    if (n_ == 0) {
      return;
    }
    const VectorXd residual = view(y) - d_ * view(u);
    view(x) = c_pinv_.solve(residual);
  }

 protected:
  ModelId id_;
  MatrixXd a_, b_, c_, d_;
  std::size_t n_, m_, p_;
  Eigen::CompleteOrthogonalDecomposition<MatrixXd> c_pinv_;
};

class ContinuousStateSpace final : public LinearModel {
 public:
  using LinearModel::LinearModel;

  bool advance(std::span<double> x, std::span<const double> u, double dt,
               StepMemo& memo) const override {
    assert(x.size() == n_ && u.size() == m_);
    if (dt == 0.0) {
      return true;
    }
    if (!(dt > 0.0) || dt > kMaxInterval) {
      return false;  // negative, NaN or absurd: the caller re-initialises
    }
    const std::int64_t key = std::llround(dt * kNanosPerSecond);
    if (key == 0 || n_ == 0) {
      return true;
    }
    const Discretisation* disc = nullptr;
    if (memo.dt_key == key && memo.hint != nullptr) {
      disc = static_cast<const Discretisation*>(memo.hint);
    } else {
      disc = discretisation(key, memo);
    }
    auto xv = view(x);
    if (disc != nullptr) {
      apply(disc->ad, disc->bd, xv, view(u));
    } else {
      advance_by_powers(static_cast<std::uint64_t>(key), xv, view(u));
    }
    return xv.allFinite();
  }

 private:
  // An interval the cache has no room for (jittered timestamps: bare numbers stamped on their
  // arrival make every interval new): exp(M (a + b)) = exp(M a) exp(M b), so the state advances
  // by each power of two of the key in turn, from the lowest bit, with the input held. Each
  // power is discretised once per model; then this path neither allocates nor locks. It agrees
  // with the cached path to rounding (a few ulps per bit), not to the bit: which path an
  // interval takes depends on the intervals seen before, so a replay, fed in the same order,
  // stays byte-identical.
  void advance_by_powers(std::uint64_t key, VectorMap& x, const ConstVectorMap& u) const {
    while (key != 0) {
      const auto bit = static_cast<std::size_t>(std::countr_zero(key));
      key &= key - 1;
      const Discretisation* power = powers_[bit].load(std::memory_order_acquire);
      if (power == nullptr) power = make_power(bit);
      apply(power->ad, power->bd, x, u);
    }
  }

  const Discretisation* make_power(std::size_t bit) const {
    std::lock_guard lock(mutex_);
    if (const Discretisation* made = powers_[bit].load(std::memory_order_relaxed)) return made;
    const double seconds = std::ldexp(1.0, static_cast<int>(bit)) / kNanosPerSecond;
    power_store_.push_back(
        std::make_unique<const Discretisation>(detail::zoh_discretise(a_, b_, seconds)));
    powers_[bit].store(power_store_.back().get(), std::memory_order_release);
    return power_store_.back().get();
  }

  // Looks the interval up in the cache, computing it on a miss while the cache has room, and
  // records cached entries in memo. Past the cache bound: nullptr (see advance_by_powers).
  const Discretisation* discretisation(std::int64_t key, StepMemo& memo) const {
    bool full = false;
    {
      std::lock_guard lock(mutex_);
      if (const Discretisation* found = find(key)) {
        remember(memo, key, found);
        return found;
      }
      full = cache_.size() >= kCacheCapacity;
    }
    if (full) return nullptr;
    // Computed from the key, not from dt: the time the model advances by is the key's.
    const double seconds = static_cast<double>(key) / kNanosPerSecond;
    // The exponential is computed outside the lock so other twins are not held up by it.
    auto fresh = std::make_unique<const Discretisation>(detail::zoh_discretise(a_, b_, seconds));
    std::lock_guard lock(mutex_);
    if (const Discretisation* found = find(key)) {
      remember(memo, key, found);  // another thread raced us to it
      return found;
    }
    if (cache_.size() >= kCacheCapacity) return nullptr;
    const Discretisation* stored = fresh.get();
    cache_.emplace_back(key, std::move(fresh));
    remember(memo, key, stored);
    return stored;
  }

  // Caller holds mutex_.
  [[nodiscard]] const Discretisation* find(std::int64_t key) const {
    for (const auto& [k, entry] : cache_) {
      if (k == key) {
        return entry.get();
      }
    }
    return nullptr;
  }

  static void remember(StepMemo& memo, std::int64_t key, const Discretisation* entry) {
    memo.dt_key = key;
    memo.hint = entry;
  }

  mutable std::mutex mutex_;
  // unique_ptr keeps each entry's address stable for StepMemo::hint while the vector grows.
  mutable std::vector<std::pair<std::int64_t, std::unique_ptr<const Discretisation>>> cache_;
  // powers_[j]: the discretisation of 2^j ns, made on first use (owned by power_store_).
  mutable std::array<std::atomic<const Discretisation*>, kPowerBits> powers_{};
  mutable std::vector<std::unique_ptr<const Discretisation>> power_store_;
};

class DiscreteStateSpace final : public LinearModel {
 public:
  DiscreteStateSpace(ModelId id, const Matrix& a, const Matrix& b, const Matrix& c, const Matrix& d,
                     double dt)
      : LinearModel(std::move(id), a, b, c, d), dt_(dt) {}

  bool advance(std::span<double> x, std::span<const double> u, double dt,
               StepMemo& memo) const override {
    assert(x.size() == n_ && u.size() == m_);
    if (dt == 0.0) {
      return true;
    }
    if (!(dt > 0.0) || !std::isfinite(dt)) {
      return false;
    }
    memo.carry += dt;
    // The relative tolerance makes 0.02 + 0.02 + 0.02 three steps of 0.02 despite rounding.
    const double steps = std::floor((memo.carry + 1e-9 * dt_) / dt_);
    if (steps < 1.0) {
      return true;
    }
    memo.carry = std::max(0.0, memo.carry - steps * dt_);
    if (!(steps <= kMaxSteps)) {
      return false;
    }
    auto xv = view(x);
    const auto uv = view(u);
    if (n_ == 0) {
      return true;
    }
    if (steps <= kMaxLoopSteps) {
      for (int i = 0; i < static_cast<int>(steps); ++i) {
        apply(a_, b_, xv, uv);
      }
    } else {
      jump(xv, uv, static_cast<std::uint64_t>(steps));
    }
    return xv.allFinite();
  }

 private:
  // k steps at once: [[A, B], [0, I]]^k = [[A^k, sum_{i<k} A^i B], [0, I]], by squaring, so a
  // long gap costs log2(k) products instead of k.
  void jump(VectorMap& x, const ConstVectorMap& u, std::uint64_t k) const {
    const Index n = a_.rows();
    const Index m = b_.cols();
    MatrixXd base = MatrixXd::Identity(n + m, n + m);
    base.topLeftCorner(n, n) = a_;
    base.topRightCorner(n, m) = b_;
    MatrixXd power = MatrixXd::Identity(n + m, n + m);
    while (k != 0) {
      if ((k & 1U) != 0) {
        power = power * base;
      }
      k >>= 1U;
      if (k != 0) {
        base = base * base;
      }
    }
    const VectorXd next = power.topLeftCorner(n, n) * x + power.topRightCorner(n, m) * u;
    x = next;
  }

  double dt_;
};

}  // namespace

std::shared_ptr<const Model> make_continuous_state_space(ModelId id, Matrix a, Matrix b, Matrix c,
                                                         Matrix d) {
  check_shapes(a, b, c, d);
  return std::make_shared<const ContinuousStateSpace>(std::move(id), a, b, c, d);
}

std::shared_ptr<const Model> make_discrete_state_space(ModelId id, Matrix a, Matrix b, Matrix c,
                                                       Matrix d, double dt) {
  if (!(dt > 0.0) || !std::isfinite(dt)) {
    throw ModelError("sample time dt is " + format_number(dt) +
                     ", expected a positive finite number of seconds");
  }
  check_shapes(a, b, c, d);
  return std::make_shared<const DiscreteStateSpace>(std::move(id), a, b, c, d, dt);
}

double max_real_eigenvalue(const Matrix& a) {
  check_square(a, "A");
  if (a.rows == 0) {
    return -std::numeric_limits<double>::infinity();
  }
  const Eigen::EigenSolver<MatrixXd> solver(to_eigen(a), /*computeEigenvectors=*/false);
  if (solver.info() != Eigen::Success) {
    throw ModelError("eigenvalues of A did not converge");
  }
  return solver.eigenvalues().real().maxCoeff();
}

}  // namespace twind::model
