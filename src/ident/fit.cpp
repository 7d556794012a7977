#include "twind/ident/fit.hpp"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <complex>
#include <functional>
#include <limits>
#include <sstream>

#include "least_squares.hpp"
#include "simulation.hpp"
#include "twind/config/model_build.hpp"
#include "twind/model/linear.hpp"

namespace twind::ident {
namespace {

using detail::levenberg_marquardt;
using detail::simulate;
using detail::Solution;
using detail::try_build;

using Eigen::MatrixXd;
using Eigen::VectorXd;

constexpr double kInf = std::numeric_limits<double>::infinity();
// A fit whose hold-out residuals exceed this many times the measurement noise is refused.
constexpr double kBeyondNoise = 3.0;
// Parameters whose scaled information matrix has an eigenvalue this small against its largest
// are not identified (the right orders of the plants tested: 1e-5 and above; one order too
// many: 1e-10 and below).
constexpr double kUnidentified = 1e-8;

// What is estimated: a model made from a parameter vector.
struct Structure {
  std::vector<std::string> names;
  std::vector<std::string> units;
  std::vector<double> start;
  std::vector<double> scale;  // a typical magnitude of each parameter (never 0)
  std::function<config::ModelSpec(std::span<const double>)> make;
  std::vector<Parameter> held;
  std::string method;
};

// Output error of a structure over the estimation part of every series, each with its own
// initial state; residuals weighted per output.
class Problem {
 public:
  Problem(const Structure& st, std::span<const Series* const> series, std::size_t inputs,
          std::size_t outputs, std::size_t states, double split, std::vector<double> weights,
          std::vector<double> x_scale)
      : st_(st),
        series_(series.begin(), series.end()),
        inputs_(inputs),
        outputs_(outputs),
        states_(states),
        split_(split),
        weights_(std::move(weights)),
        x_scale_(std::move(x_scale)) {}

  [[nodiscard]] std::size_t size() const { return st_.start.size() + states_ * series_.size(); }

  // Parameters in units of their scale.
  [[nodiscard]] std::vector<double> theta(const VectorXd& phi) const {
    std::vector<double> t(st_.start.size());
    for (std::size_t i = 0; i < t.size(); ++i) t[i] = phi[Eigen::Index(i)] * st_.scale[i];
    return t;
  }

  bool residuals(const VectorXd& phi, VectorXd& r) const {
    const std::vector<double> t = theta(phi);
    const auto model = try_build(st_.make(t));
    if (!model) return false;
    buffer_.clear();
    std::vector<double> x0(states_);
    for (std::size_t s = 0; s < series_.size(); ++s) {
      for (std::size_t i = 0; i < states_; ++i) {
        x0[i] = phi[Eigen::Index(t.size() + s * states_ + i)] * x_scale_[i];
      }
      const bool ok = simulate(
          *model, *series_[s], inputs_, outputs_, x0.data(), split_,
          [&](std::size_t j, double, double res, double) { buffer_.push_back(res / weights_[j]); });
      if (!ok) return false;
    }
    r = Eigen::Map<const VectorXd>(buffer_.data(), Eigen::Index(buffer_.size()));
    return true;
  }

 private:
  const Structure& st_;
  std::vector<const Series*> series_;
  std::size_t inputs_, outputs_, states_;
  double split_;
  std::vector<double> weights_;
  std::vector<double> x_scale_;
  mutable std::vector<double> buffer_;
};

detail::Residuals residuals_of(const Problem& p) {
  return [&p](const VectorXd& phi, VectorXd& r) { return p.residuals(phi, r); };
}

double median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  const auto mid = v.begin() + std::ptrdiff_t(v.size() / 2);
  std::nth_element(v.begin(), mid, v.end());
  return *mid;
}

std::string fmt(double v) {
  std::ostringstream o;
  o.precision(4);
  o << v;
  return o.str();
}

// --- Starting points ----------------------------------------------------------------------

// A continuous transfer function of den degree n and num length nb from a state-variable
// filter: u and y (held between samples) through 1 / (s + lambda)^n give their derivatives up
// to the n-th, and the differential equation is then linear in the coefficients (least
// squares). Biased by the hold on y, good enough to start from.
std::optional<std::pair<std::vector<double>, std::vector<double>>> svf_estimate(
    const Series& s, std::size_t n, std::size_t nb, double lambda, double from, double until) {
  // (s + lambda)^n = s^n + c[n-1] s^(n-1) + ... + c[0]
  std::vector<double> c(n + 1, 0.0);
  c[0] = 1.0;  // polynomial in ascending powers while building
  for (std::size_t k = 0; k < n; ++k) {
    for (std::size_t i = k + 1; i > 0; --i) c[i] = c[i] * lambda + c[i - 1];
    c[0] *= lambda;
  }
  // c now holds ascending coefficients of degree n with c[n] = 1.
  const std::size_t dim = 2 * n;
  model::Matrix a{dim, dim, std::vector<double>(dim * dim, 0.0)};
  model::Matrix b{dim, 2, std::vector<double>(dim * 2, 0.0)};
  model::Matrix cm{dim, dim, std::vector<double>(dim * dim, 0.0)};
  model::Matrix d{dim, 2, std::vector<double>(dim * 2, 0.0)};
  for (std::size_t f = 0; f < 2; ++f) {
    const std::size_t o = f * n;
    for (std::size_t i = 0; i + 1 < n; ++i) a.data[(o + i) * dim + o + i + 1] = 1.0;
    for (std::size_t i = 0; i < n; ++i) a.data[(o + n - 1) * dim + o + i] = -c[i];
    b.data[(o + n - 1) * 2 + f] = 1.0;
  }
  for (std::size_t i = 0; i < dim; ++i) cm.data[i * dim + i] = 1.0;
  const auto filter = model::make_continuous_state_space({"svf", "0"}, a, b, cm, d);
  std::vector<double> x(dim, 0.0);
  std::vector<double> w(2, 0.0);  // held u, y
  bool seen_u = false;
  bool seen_y = false;
  bool started = false;
  double t_model = 0.0;
  model::StepMemo memo;
  std::vector<double> rows;
  std::vector<double> target;
  const std::size_t cols = n + nb;
  for (const Sample& smp : s.samples) {
    if (smp.t >= until) break;
    if (started && smp.t > t_model) {
      if (!filter->advance(x, w, smp.t - t_model, memo)) return std::nullopt;
      t_model = smp.t;
    }
    if (smp.signal == 0) {
      w[0] = smp.value;
      seen_u = true;
    } else {
      if (started && smp.t >= from) {
        // The y filter's states, before the new value enters: s^k / (s + l)^n y for k < n.
        double yn = w[1];
        for (std::size_t k = 0; k < n; ++k) yn -= c[k] * x[n + k];
        target.push_back(yn);
        for (std::size_t k = 0; k < n; ++k) rows.push_back(-x[n + k]);
        for (std::size_t k = 0; k < nb; ++k) {
          if (k < n) {
            rows.push_back(x[k]);
          } else {
            double un = w[0];
            for (std::size_t i = 0; i < n; ++i) un -= c[i] * x[i];
            rows.push_back(un);
          }
        }
      }
      w[1] = smp.value;
      seen_y = true;
    }
    if (!started && seen_u && seen_y) {
      started = true;
      t_model = smp.t;
    }
  }
  if (target.size() < 4 * cols) return std::nullopt;
  const Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>
      phi(rows.data(), Eigen::Index(target.size()), Eigen::Index(cols));
  const Eigen::Map<const VectorXd> yv(target.data(), Eigen::Index(target.size()));
  const VectorXd theta = phi.colPivHouseholderQr().solve(yv);
  if (!theta.allFinite()) return std::nullopt;
  std::vector<double> den(n + 1);
  den[0] = 1.0;
  for (std::size_t k = 0; k < n; ++k) den[n - k] = theta[Eigen::Index(k)];
  std::vector<double> num(nb);
  for (std::size_t k = 0; k < nb; ++k) num[nb - 1 - k] = theta[Eigen::Index(n + k)];
  return std::make_pair(num, den);
}

// --- Structures -----------------------------------------------------------------------------

Structure transfer_function_structure(const config::ModelSpec& base, std::size_t n, std::size_t nb,
                                      std::vector<double> num, std::vector<double> den,
                                      bool as_state_space) {
  Structure st;
  for (std::size_t i = 1; i <= n; ++i) {
    st.names.push_back("den[" + std::to_string(i) + "]");
    st.start.push_back(den[i]);
  }
  for (std::size_t i = 0; i < nb; ++i) {
    st.names.push_back("num[" + std::to_string(i) + "]");
    st.start.push_back(num[i]);
  }
  st.units.assign(st.names.size(), "");
  for (const double v : st.start) st.scale.push_back(detail::scale_of(v));
  st.make = [base, n, nb, as_state_space](std::span<const double> t) {
    config::ModelSpec spec = base;
    spec.den.assign(n + 1, 1.0);
    std::copy(t.begin(), t.begin() + std::ptrdiff_t(n), spec.den.begin() + 1);
    spec.num.assign(t.begin() + std::ptrdiff_t(n), t.begin() + std::ptrdiff_t(n + nb));
    if (as_state_space) {
      const model::StateSpace ss = model::transfer_function_to_state_space(spec.num, spec.den);
      spec.kind = config::ModelKind::state_space;
      spec.domain = config::Domain::continuous;
      spec.a = ss.a;
      spec.b = ss.b;
      spec.c = ss.c;
      spec.d = ss.d;
      spec.num.clear();
      spec.den.clear();
    } else {
      spec.kind = config::ModelKind::transfer_function;
    }
    return spec;
  };
  st.method = std::string("transfer function of order ") + std::to_string(n) +
              (as_state_space ? ", realised in controllable canonical form" : "");
  return st;
}

Structure state_space_structure(const config::ModelSpec& base) {
  Structure st;
  struct Entry {
    int matrix;  // 0 A, 1 B, 2 D
    std::size_t index;
  };
  std::vector<Entry> entries;
  const model::Matrix* mats[3] = {&base.a, &base.b, &base.d};
  const char* labels[3] = {"A", "B", "D"};
  for (int k = 0; k < 3; ++k) {
    const model::Matrix& m = *mats[k];
    for (std::size_t i = 0; i < m.data.size(); ++i) {
      if (m.data[i] == 0.0) continue;
      entries.push_back({k, i});
      st.names.push_back(std::string(labels[k]) + "[" + std::to_string(i / m.cols) + "][" +
                         std::to_string(i % m.cols) + "]");
      st.start.push_back(m.data[i]);
      st.scale.push_back(detail::scale_of(m.data[i]));
    }
  }
  st.units.assign(st.names.size(), "");
  st.make = [base, entries](std::span<const double> t) {
    config::ModelSpec spec = base;
    model::Matrix* out[3] = {&spec.a, &spec.b, &spec.d};
    for (std::size_t i = 0; i < entries.size(); ++i) {
      out[entries[i].matrix]->data[entries[i].index] = t[i];
    }
    return spec;
  };
  st.method = std::string(base.domain == config::Domain::discrete ? "discrete" : "continuous") +
              " state space, the non-zero entries of A, B and D (C held)";
  return st;
}

Structure machine_structure(const config::ModelSpec& base) {
  Structure st;
  const model::RotatingMachineParams& p = base.machine;
  st.names = {"tau_mech", "k_speed", "r_th", "c_th", "v_base", "k_imb"};
  st.units = {"s", "W", "K/W", "J/K", "mm/s", "mm/s per (1000 rpm)^2"};
  st.start = {p.tau_mech_s,   p.k_speed_w,   p.r_th_k_per_w,
              p.c_th_j_per_k, p.v_base_mm_s, p.k_imb_mm_s};
  for (const double v : st.start) st.scale.push_back(detail::scale_of(v));
  st.held = {{"rpm_rated", "rpm", p.rpm_rated, p.rpm_rated, 0.0, true},
             {"p_idle", "W", p.p_idle_w, p.p_idle_w, 0.0, true},
             {"t_ambient", "degC", p.t_ambient_c, p.t_ambient_c, 0.0, true}};
  st.make = [base](std::span<const double> t) {
    config::ModelSpec spec = base;
    model::RotatingMachineParams& q = spec.machine;
    q.tau_mech_s = t[0];
    q.k_speed_w = t[1];
    q.r_th_k_per_w = t[2];
    q.c_th_j_per_k = t[3];
    q.v_base_mm_s = t[4];
    q.k_imb_mm_s = t[5];
    return spec;
  };
  st.method =
      "rotating machine: tau_mech, k_speed, r_th, c_th, v_base, k_imb (rpm_rated, "
      "p_idle and t_ambient held)";
  return st;
}

// --- Data -----------------------------------------------------------------------------------

struct Span {
  double start = kInf;
  double end = -kInf;
};

Span time_span(std::span<const Series* const> series) {
  Span s;
  for (const Series* x : series) {
    if (x->samples.empty()) continue;
    s.start = std::min(s.start, x->samples.front().t);
    s.end = std::max(s.end, x->samples.back().t);
  }
  return s;
}

std::vector<Excitation> excitation(const config::AssetSpec& asset, const Series& s,
                                   std::size_t inputs) {
  std::vector<Excitation> out(inputs);
  std::vector<double> sum(inputs, 0.0);
  std::vector<double> squares(inputs, 0.0);
  std::vector<std::size_t> count(inputs, 0);
  std::vector<double> last(inputs, 0.0);
  for (std::size_t i = 0; i < inputs; ++i) {
    out[i].signal = asset.signals[i].name;
    out[i].min = kInf;
    out[i].max = -kInf;
  }
  for (const Sample& smp : s.samples) {
    if (smp.signal >= inputs) continue;
    Excitation& e = out[smp.signal];
    const std::size_t i = smp.signal;
    if (count[i] > 0 && smp.value != last[i]) ++e.changes;
    last[i] = smp.value;
    e.min = std::min(e.min, smp.value);
    e.max = std::max(e.max, smp.value);
    sum[i] += smp.value;
    squares[i] += smp.value * smp.value;
    ++count[i];
  }
  for (std::size_t i = 0; i < inputs; ++i) {
    if (count[i] == 0) continue;
    const double mean = sum[i] / double(count[i]);
    out[i].stddev = std::sqrt(std::max(0.0, squares[i] / double(count[i]) - mean * mean));
  }
  return out;
}

// The measurement noise of each output as its second differences show it (robust: the median,
// so that the signal's own steps do not count).
std::vector<double> noise_floor(const Series& s, std::size_t inputs, std::size_t outputs,
                                double until) {
  std::vector<std::vector<double>> values(outputs);
  for (const Sample& smp : s.samples) {
    if (smp.t >= until) break;
    if (smp.signal >= inputs) values[smp.signal - inputs].push_back(smp.value);
  }
  std::vector<double> out(outputs, 0.0);
  for (std::size_t j = 0; j < outputs; ++j) {
    const auto& v = values[j];
    std::vector<double> d;
    for (std::size_t i = 1; i + 1 < v.size(); ++i)
      d.push_back(std::abs(v[i + 1] - 2 * v[i] + v[i - 1]));
    out[j] = median(std::move(d)) / (0.6745 * std::sqrt(6.0));
  }
  return out;
}

}  // namespace

FitResult fit(const config::AssetSpec& asset, std::span<const Series> all_series,
              const FitOptions& options) {
  const config::ModelSpec& spec = asset.model;
  std::size_t inputs = 0;
  for (const auto& s : asset.signals) inputs += s.role == Role::input ? 1 : 0;
  const std::size_t outputs = asset.signals.size() - inputs;

  std::vector<const Series*> series;
  for (const Series& s : all_series) {
    if (series.size() < options.max_series && !s.samples.empty()) series.push_back(&s);
  }
  if (series.empty()) throw FitError("no samples of this asset in the recording");
  const Span span = time_span(series);
  const double split = span.start + (1.0 - options.holdout) * (span.end - span.start);

  // Excitation: an input that never moves cannot tell its effect from the rest.
  const std::vector<Excitation> excited = excitation(asset, *series.front(), inputs);
  for (std::size_t i = 0; i < inputs; ++i) {
    const Excitation& e = excited[i];
    const bool must_move = spec.kind != config::ModelKind::rotating_machine || i == 0;
    const double tolerance = 1e-9 * std::max({1.0, std::abs(e.min), std::abs(e.max)});
    if (must_move && !(e.max - e.min > tolerance)) {
      throw FitError("input " + e.signal + " never moves (" +
                     (std::isfinite(e.min) ? "always " + fmt(e.min) : "no sample") +
                     "): the data is not persistently exciting; record while the machine is "
                     "operated through its range (set-point or load changes)");
    }
  }

  // The structure to estimate, and where to start.
  Structure st;
  const bool siso = inputs == 1 && outputs == 1;
  if (spec.kind == config::ModelKind::rotating_machine) {
    if (options.order)
      throw FitError("--order applies to linear models, not to a rotating machine");
    st = machine_structure(spec);
  } else if (spec.kind == config::ModelKind::transfer_function ||
             (options.order && spec.kind == config::ModelKind::state_space)) {
    if (!siso) {
      throw FitError(
          "--order needs a model with one input and one output; write the state "
          "space's structure (its non-zero entries) instead");
    }
    if (spec.kind == config::ModelKind::state_space && spec.domain == config::Domain::discrete) {
      throw FitError(
          "--order fits a continuous model; this asset's model is discrete: write "
          "its structure instead, or make it continuous");
    }
    std::size_t n = spec.kind == config::ModelKind::transfer_function ? spec.den.size() - 1 : 0;
    std::size_t nb = spec.kind == config::ModelKind::transfer_function ? spec.num.size() : 0;
    if (options.order) {
      n = *options.order;
      nb = n;  // strictly proper
    }
    if (n == 0 || n > 8) throw FitError("order " + std::to_string(n) + ": expected 1 to 8");
    // Start: the configuration's own coefficients when their orders match, then every
    // state-variable-filter estimate; the one that explains the estimation data best.
    std::vector<std::pair<std::vector<double>, std::vector<double>>> starts;
    if (spec.kind == config::ModelKind::transfer_function && spec.den.size() == n + 1 &&
        spec.num.size() == nb) {
      std::vector<double> num = spec.num;
      std::vector<double> den = spec.den;
      for (double& v : num) v /= spec.den[0];
      for (double& v : den) v /= spec.den[0];
      starts.emplace_back(num, den);
    }
    std::vector<double> gaps;
    for (std::size_t i = 1; i < series.front()->samples.size(); ++i) {
      const double g = series.front()->samples[i].t - series.front()->samples[i - 1].t;
      if (g > 0.0) gaps.push_back(g);
    }
    const double ts = std::max(median(gaps), 1e-3);
    const double lo = 10.0 / std::max(split - span.start, 1e-3);
    const double hi = std::max(lo * 1.01, 1.0 / ts);
    constexpr int kLambdas = 6;
    for (int k = 0; k < kLambdas; ++k) {
      const double lambda = lo * std::pow(hi / lo, double(k) / (kLambdas - 1));
      const double settle = std::min(10.0 / lambda, 0.3 * (split - span.start));
      if (auto e = svf_estimate(*series.front(), n, nb, lambda, span.start + settle, split)) {
        starts.push_back(std::move(*e));
      }
    }
    if (starts.empty())
      throw FitError("too few samples to estimate a model of order " + std::to_string(n));
    double best = kInf;
    for (auto& [num, den] : starts) {
      Structure candidate = transfer_function_structure(
          spec, n, nb, num, den, spec.kind == config::ModelKind::state_space);
      const auto m = try_build(candidate.make(candidate.start));
      if (!m || model::max_real_eigenvalue(model::transfer_function_to_state_space({1.0}, den).a) >=
                    0.0) {
        continue;
      }
      double cost = 0.0;
      if (!simulate(*m, *series.front(), inputs, outputs, nullptr, split,
                    [&](std::size_t, double, double r, double) { cost += r * r; })) {
        continue;
      }
      if (cost < best) {
        best = cost;
        st = std::move(candidate);
      }
    }
    if (!std::isfinite(best)) {
      throw FitError("no stable model of order " + std::to_string(n) +
                     " starts to explain the data: try another --order");
    }
    st.method += ", started from a state-variable-filter least-squares estimate";
  } else {
    st = state_space_structure(spec);
    if (st.start.empty())
      throw FitError("the state space has no non-zero entry in A, B or D to estimate");
  }

  const auto start_model = try_build(st.make(st.start));
  if (!start_model) throw FitError("the model to start from cannot be built");
  const std::size_t states = start_model->states();

  // Weights: each output's spread (then, with several outputs, its residuals' spread).
  std::vector<double> weights(outputs, 1.0);
  std::vector<double> x_scale(states, 1.0);
  {
    std::vector<double> sum(outputs, 0.0);
    std::vector<double> sq(outputs, 0.0);
    std::vector<double> cnt(outputs, 0.0);
    for (const Sample& smp : series.front()->samples) {
      if (smp.signal < inputs) continue;
      const std::size_t j = smp.signal - inputs;
      sum[j] += smp.value;
      sq[j] += smp.value * smp.value;
      cnt[j] += 1.0;
    }
    double largest = 0.0;
    for (std::size_t j = 0; j < outputs; ++j) {
      if (cnt[j] == 0.0)
        throw FitError("output " + asset.signals[inputs + j].name + " has no sample");
      const double mean = sum[j] / cnt[j];
      const double sd = std::sqrt(std::max(0.0, sq[j] / cnt[j] - mean * mean));
      weights[j] = sd > 0.0 ? sd : detail::scale_of(mean);
      largest = std::max(largest, std::abs(mean) + sd);
    }
    x_scale.assign(states, detail::scale_of(largest));
  }

  // Initial states: as the twin would start.
  VectorXd phi(Eigen::Index(st.start.size() + states * series.size()));
  for (std::size_t i = 0; i < st.start.size(); ++i)
    phi[Eigen::Index(i)] = st.start[i] / st.scale[i];
  for (std::size_t s = 0; s < series.size(); ++s) {
    std::vector<double> x0;
    simulate(
        *start_model, *series[s], inputs, outputs, nullptr, split,
        [](std::size_t, double, double, double) {}, &x0);
    if (x0.empty()) {
      throw FitError("series " + series[s]->asset +
                     ": not every signal has a sample before the hold-out part");
    }
    for (std::size_t i = 0; i < states; ++i) {
      phi[Eigen::Index(st.start.size() + s * states + i)] = x0[i] / x_scale[i];
    }
  }

  Problem problem(st, series, inputs, outputs, states, split, weights, x_scale);
  {
    VectorXd r;
    if (!problem.residuals(phi, r)) {
      throw FitError("the model to start from does not stay finite over the data");
    }
    const std::size_t needed = std::max<std::size_t>(20, 5 * problem.size());
    if (std::size_t(r.size()) < needed) {
      throw FitError("too few samples: " + std::to_string(r.size()) +
                     " output comparisons before the hold-out part, at least " +
                     std::to_string(needed) + " needed for " + std::to_string(problem.size()) +
                     " parameters; record longer");
    }
  }
  Solution sol = levenberg_marquardt(residuals_of(problem), phi, options.max_iterations);
  if (sol.failed) {
    throw FitError(
        "the model the configuration starts from cannot follow the data (it does not stay "
        "finite): write a stable model of the right order to start from");
  }
  std::size_t iterations = sol.iterations;
  if (outputs > 1) {
    // Reweight by each output's residual spread and refine: outputs in different units then
    // count by how well they are known.
    std::vector<double> sq(outputs, 0.0);
    std::vector<double> cnt(outputs, 0.0);
    const auto m = try_build(st.make(problem.theta(sol.phi)));
    std::vector<double> x0(states);
    for (std::size_t i = 0; i < states; ++i) {
      x0[i] = sol.phi[Eigen::Index(st.start.size() + i)] * x_scale[i];
    }
    simulate(*m, *series.front(), inputs, outputs, x0.data(), split,
             [&](std::size_t j, double, double r, double) {
               sq[j] += r * r;
               cnt[j] += 1.0;
             });
    for (std::size_t j = 0; j < outputs; ++j) {
      const double rms = std::sqrt(sq[j] / std::max(1.0, cnt[j]));
      weights[j] = std::max(rms, 1e-9 * weights[j]);
    }
    Problem reweighted(st, series, inputs, outputs, states, split, weights, x_scale);
    sol = levenberg_marquardt(residuals_of(reweighted), sol.phi, options.max_iterations);
    iterations += sol.iterations;
  }

  // Identifiability: parameters the data cannot tell apart make (J^T J) singular.
  const Eigen::Index np = Eigen::Index(st.start.size());
  const Eigen::Index all = sol.phi.size();
  const MatrixXd jtj = sol.jacobian.transpose() * sol.jacobian;
  VectorXd norms = jtj.diagonal().cwiseSqrt();
  for (Eigen::Index i = 0; i < np; ++i) {
    if (!(norms[i] > 0.0)) {
      throw FitError("the data does not move parameter " + st.names[std::size_t(i)] +
                     ": not persistently exciting");
    }
  }
  for (Eigen::Index i = np; i < all; ++i) norms[i] = std::max(norms[i], 1e-300);
  const MatrixXd corr = norms.cwiseInverse().asDiagonal() * jtj * norms.cwiseInverse().asDiagonal();
  Eigen::SelfAdjointEigenSolver<MatrixXd> eig(corr);
  if (eig.eigenvalues()[0] < kUnidentified * eig.eigenvalues()[all - 1]) {
    const VectorXd v = eig.eigenvectors().col(0);
    std::string which;
    for (Eigen::Index i = 0; i < np; ++i) {
      if (std::abs(v[i]) > 0.3) which += (which.empty() ? "" : ", ") + st.names[std::size_t(i)];
    }
    throw FitError("the data cannot tell " +
                   (which.empty() ? std::string("the initial state") : which) +
                   " apart: the model's order may be too high (a pole cancelled by a zero: try a "
                   "lower --order), or the data is not persistently exciting (record while the "
                   "inputs move through their range)");
  }

  FitResult result;
  const std::vector<double> theta = problem.theta(sol.phi);
  result.model = st.make(theta);
  result.model.id.version = config::next_version(spec.id.version);
  FitReport& rep = result.report;
  const std::vector<double> half = detail::half_widths95(sol, theta.size());
  for (std::size_t i = 0; i < theta.size(); ++i) {
    rep.parameters.push_back(
        {st.names[i], st.units[i], st.start[i], theta[i], half[i] * st.scale[i], false});
  }
  for (const Parameter& h : st.held) rep.parameters.push_back(h);
  rep.inputs = excited;
  rep.iterations = iterations;
  rep.start = span.start;
  rep.split = split;
  rep.end = span.end;
  rep.method = st.method +
               "; initial state estimated; output error minimised by "
               "Levenberg-Marquardt through the twin's own simulation";
  for (const Series* s : series) rep.assets.push_back(s->asset);

  // The fit, judged: the estimation part's residuals, and the hold-out's (the first series
  // simulated on from its estimated start through the whole recording).
  const auto fitted = try_build(result.model);
  if (!fitted) throw FitError("the fitted model cannot be built");
  std::vector<double> x0(states);
  for (std::size_t i = 0; i < states; ++i)
    x0[i] = sol.phi[Eigen::Index(np) + Eigen::Index(i)] * x_scale[i];
  const std::vector<double> floor = noise_floor(*series.front(), inputs, outputs, split);
  rep.outputs.resize(outputs);
  result.residuals.assign(outputs, {});
  std::vector<double> est_sq(outputs, 0.0);
  std::vector<double> hold_sq(outputs, 0.0);
  std::vector<double> hold_sum(outputs, 0.0);
  std::vector<double> hold_ysq(outputs, 0.0);
  std::vector<double> first_t(outputs, kInf);
  std::vector<double> last_t(outputs, -kInf);
  std::vector<double> last_seen(outputs, -kInf);
  std::vector<std::vector<double>> intervals(outputs);
  const bool ok = simulate(*fitted, *series.front(), inputs, outputs, x0.data(), kInf,
                           [&](std::size_t j, double t, double r, double y) {
                             OutputFit& o = rep.outputs[j];
                             result.residuals[j].push_back(r);
                             first_t[j] = std::min(first_t[j], t);
                             last_t[j] = t;
                             if (std::isfinite(last_seen[j]) && t > last_seen[j]) {
                               intervals[j].push_back(t - last_seen[j]);
                             }
                             last_seen[j] = t;
                             if (t < split) {
                               ++o.samples;
                               est_sq[j] += r * r;
                               return;
                             }
                             ++o.holdout_samples;
                             hold_sq[j] += r * r;
                             hold_sum[j] += y;
                             hold_ysq[j] += y * y;
                             if (std::abs(r) > o.holdout_max) {
                               o.holdout_max = std::abs(r);
                               o.holdout_max_t = t;
                             }
                           });
  if (!ok) throw FitError("the fitted model does not stay finite over the hold-out part");
  result.rates.assign(outputs, 0.0);
  for (std::size_t j = 0; j < outputs; ++j) {
    OutputFit& o = rep.outputs[j];
    o.signal = asset.signals[inputs + j].name;
    o.interval = median(intervals[j]);
    o.noise = std::sqrt(est_sq[j] / double(std::max<std::size_t>(1, o.samples)));
    o.noise_floor = floor[j];
    const double hn = double(std::max<std::size_t>(1, o.holdout_samples));
    o.holdout_rms = std::sqrt(hold_sq[j] / hn);
    const double mean = hold_sum[j] / hn;
    const double sd = std::sqrt(std::max(0.0, hold_ysq[j] / hn - mean * mean));
    o.holdout_nrmse = sd > 0.0 ? 100.0 * o.holdout_rms / sd : 0.0;
    const double span_j = last_t[j] - first_t[j];
    result.rates[j] = span_j > 0.0 ? double(result.residuals[j].size() - 1) / span_j : 0.0;
    if (o.holdout_samples < 10) {
      throw FitError("too few samples of " + o.signal + " in the hold-out part (" +
                     std::to_string(o.holdout_samples) + "): record longer");
    }
    // Far beyond the noise: the noise as the output's own second differences show it, which no
    // fit lowers.
    const double noise = std::max({o.noise_floor, 1e-6 * sd, 1e-12});
    if (o.holdout_rms > kBeyondNoise * noise) {
      throw FitError("output " + o.signal + ": the fitted model misses the hold-out data by " +
                     fmt(o.holdout_rms) + " rms, " + fmt(o.holdout_rms / noise) +
                     " times the noise (" + fmt(noise) +
                     "): the model's order or structure is probably wrong (try --order with "
                     "another order, or another structure), or the machine changed during the "
                     "recording");
    }
  }
  return result;
}

double Physical::Pole::time_constant() const noexcept {
  return re < 0.0 ? -1.0 / re : std::numeric_limits<double>::quiet_NaN();
}

std::optional<Physical> physical(const config::ModelSpec& spec,
                                 const std::vector<std::string>& inputs,
                                 const std::vector<std::string>& outputs) {
  if (spec.kind == config::ModelKind::rotating_machine) return std::nullopt;
  model::StateSpace ss;
  if (spec.kind == config::ModelKind::transfer_function) {
    ss = model::transfer_function_to_state_space(spec.num, spec.den);
  } else {
    ss = {spec.a, spec.b, spec.c, spec.d};
  }
  const auto map = [](const model::Matrix& m) {
    return Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
        m.data.data(), Eigen::Index(m.rows), Eigen::Index(m.cols));
  };
  const MatrixXd a = map(ss.a);
  const MatrixXd b = map(ss.b);
  const MatrixXd c = map(ss.c);
  const MatrixXd d = map(ss.d);
  const bool discrete =
      spec.kind == config::ModelKind::state_space && spec.domain == config::Domain::discrete;
  Physical out;
  if (a.rows() == 0) return out;
  const Eigen::VectorXcd z = a.eigenvalues();
  for (Eigen::Index i = 0; i < z.size(); ++i) {
    const std::complex<double> p = discrete ? std::log(z[i]) / spec.dt : z[i];
    // A pair's imaginary parts cancel to rounding: a real pole is written as real.
    const double im = std::abs(p.imag()) > 1e-12 * std::abs(p) ? p.imag() : 0.0;
    out.poles.push_back({p.real(), im});
  }
  std::sort(out.poles.begin(), out.poles.end(),
            [](const auto& x, const auto& y) { return x.re != y.re ? x.re > y.re : x.im > y.im; });
  // DC gain: y = (D - C A^-1 B) u for a continuous model, (D + C (I - A)^-1 B) u for a discrete.
  const MatrixXd m = discrete ? MatrixXd(MatrixXd::Identity(a.rows(), a.cols()) - a) : MatrixXd(-a);
  Eigen::FullPivLU<MatrixXd> lu(m);
  if (!lu.isInvertible()) return out;
  const MatrixXd gain = d + c * lu.solve(b);
  for (Eigen::Index i = 0; i < gain.rows(); ++i) {
    for (Eigen::Index j = 0; j < gain.cols(); ++j) {
      const auto in = std::size_t(j);
      const auto o = std::size_t(i);
      out.dc_gains.push_back({in < inputs.size() ? inputs[in] : "u" + std::to_string(in),
                              o < outputs.size() ? outputs[o] : "y" + std::to_string(o),
                              gain(i, j)});
    }
  }
  return out;
}

std::string physical_summary(const config::ModelSpec& spec, const std::vector<std::string>& inputs,
                             const std::vector<std::string>& outputs) {
  const std::optional<Physical> ph = physical(spec, inputs, outputs);
  if (!ph || ph->poles.empty()) return {};
  std::string out = ph->poles.size() == 1 ? "pole " : "poles ";
  for (std::size_t i = 0; i < ph->poles.size(); ++i) {
    const Physical::Pole& p = ph->poles[i];
    out += (i > 0 ? ", " : "") + fmt(p.re);
    if (p.im != 0.0) out += (p.im > 0 ? "+" : "") + fmt(p.im) + "i";
    if (p.re < 0.0) out += " (time constant " + fmt(p.time_constant()) + " s)";
  }
  for (const Physical::DcGain& g : ph->dc_gains) {
    out += "; DC gain " + g.input + " -> " + g.output + " " + fmt(g.gain);
  }
  if (ph->dc_gains.empty()) out += "; no DC gain (an integrator)";
  return out;
}

}  // namespace twind::ident
