#include "twind/ident/diagnose.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "least_squares.hpp"
#include "simulation.hpp"

namespace twind::ident {
namespace {

using Eigen::VectorXd;

constexpr double kInf = std::numeric_limits<double>::infinity();

double* machine_field(model::RotatingMachineParams& p, std::size_t i) {
  double* fields[] = {&p.tau_mech_s,  &p.rpm_rated,    &p.p_idle_w,
                      &p.k_speed_w,   &p.r_th_k_per_w, &p.c_th_j_per_k,
                      &p.t_ambient_c, &p.v_base_mm_s,  &p.k_imb_mm_s};
  return fields[i];
}

// `spec` with the number of a parameter hypothesis set to `v`.
config::ModelSpec with_parameter(const config::ModelSpec& spec, const Hypothesis& h, double v) {
  config::ModelSpec out = spec;
  switch (spec.kind) {
    case config::ModelKind::state_space:
      if (h.index < out.a.data.size()) {
        out.a.data[h.index] = v;
      } else {
        out.b.data[h.index - out.a.data.size()] = v;
      }
      break;
    case config::ModelKind::transfer_function:
      if (h.index < out.num.size()) {
        out.num[h.index] = v;
      } else {
        out.den[h.index - out.num.size()] = v;
      }
      break;
    case config::ModelKind::rotating_machine:
      *machine_field(out.machine, h.index) = v;
      break;
  }
  return out;
}

// `spec` with input `i` acting `g` times as strongly, for a linear model.
std::optional<config::ModelSpec> with_input_gain(const config::ModelSpec& spec, std::size_t i,
                                                 double g) {
  config::ModelSpec out = spec;
  switch (spec.kind) {
    case config::ModelKind::state_space:
      for (std::size_t r = 0; r < out.b.rows; ++r) out.b.data[r * out.b.cols + i] *= g;
      for (std::size_t r = 0; r < out.d.rows; ++r) out.d.data[r * out.d.cols + i] *= g;
      return out;
    case config::ModelKind::transfer_function:
      for (double& c : out.num) c *= g;
      return out;
    case config::ModelKind::rotating_machine:
      return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace

const char* to_string(Hypothesis::Kind kind) noexcept {
  switch (kind) {
    case Hypothesis::Kind::parameter:
      return "parameter";
    case Hypothesis::Kind::output_gain:
      return "output_gain";
    case Hypothesis::Kind::output_bias:
      return "output_bias";
    case Hypothesis::Kind::input_gain:
      return "input_gain";
  }
  return "parameter";
}

namespace {

// The value in `spec` of parameter `index` (numbered as Hypothesis::index).
double parameter_value(const config::ModelSpec& spec, std::size_t index) {
  switch (spec.kind) {
    case config::ModelKind::state_space:
      return index < spec.a.data.size() ? spec.a.data[index]
                                        : spec.b.data[index - spec.a.data.size()];
    case config::ModelKind::transfer_function:
      return index < spec.num.size() ? spec.num[index] : spec.den[index - spec.num.size()];
    case config::ModelKind::rotating_machine: {
      model::RotatingMachineParams p = spec.machine;
      return *machine_field(p, index);
    }
  }
  return 0.0;
}

// The hypothesis `name` stands for in `asset`, the default set's and a listed one alike.
std::optional<Hypothesis> hypothesis_named(const config::AssetSpec& asset, std::string_view name) {
  std::optional<config::HypothesisTarget> t =
      config::find_hypothesis(asset.model, asset.signals, name);
  if (!t) return std::nullopt;
  Hypothesis h{t->kind, std::move(t->name), t->index, 0.0};
  switch (h.kind) {
    case Hypothesis::Kind::parameter:
      h.nominal = parameter_value(asset.model, h.index);
      break;
    case Hypothesis::Kind::output_gain:
    case Hypothesis::Kind::input_gain:
      h.nominal = 1.0;
      break;
    case Hypothesis::Kind::output_bias:
      h.nominal = 0.0;
      break;
  }
  return h;
}

// The names of the default set.
std::vector<std::string> default_names(const config::AssetSpec& asset) {
  std::vector<std::string> out;
  const config::ModelSpec& m = asset.model;
  const auto entries = [&](const model::Matrix& x, const char* label) {
    for (std::size_t i = 0; i < x.data.size(); ++i) {
      if (x.data[i] == 0.0) continue;
      out.push_back(std::string(label) + "[" + std::to_string(i / x.cols) + "][" +
                    std::to_string(i % x.cols) + "]");
    }
  };
  switch (m.kind) {
    case config::ModelKind::state_space:
      entries(m.a, "A");
      entries(m.b, "B");
      break;
    case config::ModelKind::transfer_function:
      for (std::size_t i = 0; i < m.num.size(); ++i)
        out.push_back("num[" + std::to_string(i) + "]");
      for (std::size_t i = 1; i < m.den.size(); ++i)
        out.push_back("den[" + std::to_string(i) + "]");
      break;
    case config::ModelKind::rotating_machine:
      for (const std::string_view name : config::kMachineParameters) {
        if (name != "rpm_rated") out.emplace_back(name);  // a reference, not a property that wears
      }
      break;
  }
  for (const config::SignalSpec& s : asset.signals) {
    if (s.role == Role::output) {
      out.push_back("output_gain(" + s.name + ")");
      out.push_back("output_bias(" + s.name + ")");
    } else {
      out.push_back("input_gain(" + s.name + ")");
    }
  }
  return out;
}

}  // namespace

std::vector<Hypothesis> hypotheses(const config::AssetSpec& asset) {
  const std::vector<std::string>& listed = asset.diagnose.hypotheses;
  const std::vector<std::string> names = listed.empty() ? default_names(asset) : listed;
  std::vector<Hypothesis> out;
  out.reserve(names.size());
  for (const std::string& name : names) {
    if (auto h = hypothesis_named(asset, name)) out.push_back(std::move(*h));
  }
  return out;
}

namespace {

Diagnosis diagnose_from_zero(const config::AssetSpec& asset, std::span<const Hypothesis> candidates,
                             const Series& window, std::span<const double> onsets,
                             const DiagnoseOptions& options);

}  // namespace

Diagnosis diagnose(const config::AssetSpec& asset, std::span<const Hypothesis> candidates,
                   const Series& window, std::span<const double> onsets,
                   const DiagnoseOptions& options) {
  if (window.samples.empty()) return {};
  // Times counted from the window's first sample: Unix seconds resolve only a quarter of a
  // microsecond, too coarse for the onset's finite differences.
  const double t0 = window.samples.front().t;
  Series shifted{window.asset, window.samples};
  for (Sample& s : shifted.samples) s.t -= t0;
  std::vector<double> from_zero(onsets.begin(), onsets.end());
  for (double& o : from_zero) o -= t0;
  Diagnosis d = diagnose_from_zero(asset, candidates, shifted, from_zero, options);
  if (d.best) d.best->onset += t0;
  if (d.runner_up) d.runner_up->onset += t0;
  return d;
}

namespace {

// Hypotheses refined after the screening, and the iterations of each screening fit.
constexpr std::size_t kRefined = 3;
constexpr std::size_t kScreenIterations = 6;

Diagnosis diagnose_from_zero(const config::AssetSpec& asset, std::span<const Hypothesis> candidates,
                             const Series& window, std::span<const double> onsets,
                             const DiagnoseOptions& options) {
  Diagnosis d;
  std::size_t inputs = 0;
  for (const auto& s : asset.signals) inputs += s.role == Role::input ? 1 : 0;
  const std::size_t outputs = asset.signals.size() - inputs;
  const auto nominal = detail::try_build(asset.model);
  if (!nominal || window.samples.empty() || onsets.empty()) return d;
  const std::size_t states = nominal->states();
  const double first_onset = *std::min_element(onsets.begin(), onsets.end());

  // The start as the twin would take it, and the nominal model's comparisons: their times and
  // outputs are every hypothesis' too (the samples decide them, not the model).
  std::vector<double> x_start;
  std::vector<double> times;
  std::vector<std::size_t> output_of;
  std::vector<double> nominal_residual;
  std::vector<double> before_sq(outputs, 0.0);
  std::vector<double> before_n(outputs, 0.0);
  std::vector<double> magnitude(outputs, 0.0);
  const bool ok = detail::simulate(
      *nominal, window, inputs, outputs, nullptr, kInf,
      [&](std::size_t j, double t, double r, double y) {
        ++d.samples;
        times.push_back(t);
        output_of.push_back(j);
        nominal_residual.push_back(r);
        magnitude[j] = std::max(magnitude[j], std::abs(y));
        if (t < first_onset) {
          before_sq[j] += r * r;
          before_n[j] += 1.0;
        }
      },
      &x_start);
  if (!ok || d.samples == 0 || x_start.size() != states) return d;
  std::vector<double> noise(outputs, 0.0);
  for (std::size_t j = 0; j < outputs; ++j) {
    if (j < options.noise.size()) {
      noise[j] = options.noise[j];
    } else if (options.noise.size() == 1) {
      noise[j] = options.noise[0];
    } else if (before_n[j] >= 5.0) {
      noise[j] = std::sqrt(before_sq[j] / before_n[j]);
    }
    // Never zero: a noise-free recording is judged against a millionth of the signal.
    noise[j] = std::max(noise[j], 1e-6 * std::max(1.0, magnitude[j]));
  }
  d.noise = noise.empty() ? 0.0 : noise[0];
  double x_scale = 1.0;
  for (const double m : magnitude) x_scale = std::max(x_scale, m);

  // Onsets between the grid's points are reached by estimating the onset too, from the best of
  // them: the simulation takes the change at its exact time, so the cost is continuous in it.
  double spacing = 0.0;
  for (std::size_t i = 1; i < onsets.size(); ++i) {
    spacing = std::max(spacing, std::abs(onsets[i] - onsets[i - 1]));
  }
  if (spacing <= 0.0) spacing = 0.1;

  // The rms after `onset` of residuals in units of the noise, one per comparison.
  const auto rms_after = [&](double onset, const auto& residual_of) {
    double sq = 0.0;
    double n = 0.0;
    for (std::size_t k = 0; k < times.size(); ++k) {
      if (times[k] < onset) continue;
      const double z = residual_of(k);
      sq += z * z;
      n += 1.0;
    }
    return n > 0.0 ? std::sqrt(sq / n) : 0.0;
  };

  std::vector<Estimate> estimates;
  std::vector<double> x0(states);
  std::vector<double> buffer;
  // Two passes. Screening: every hypothesis on the onset grid, each point with a few
  // iterations, which ranks them well enough. Refining: the kRefined best of them, polished at
  // their best onset and then with the onset free. Most of the work is the refining of few.
  struct Screened {
    std::size_t index = 0;
    double cost = kInf;
    double onset = 0.0;
    VectorXd phi;
  };
  std::vector<Screened> screened;
  for (int pass = 0; pass < 2; ++pass) {
    const std::size_t count = pass == 0 ? candidates.size() : std::min(kRefined, screened.size());
    for (std::size_t c = 0; c < count; ++c) {
      const Hypothesis& h = candidates[pass == 0 ? c : screened[c].index];
      const double scale = h.kind == Hypothesis::Kind::output_bias ? noise[h.index] * 10.0
                                                                   : detail::scale_of(h.nominal);
      // phi = [value, (onset shift,) initial state...]
      const auto residuals_at = [&](double onset0, bool free_onset) -> detail::Residuals {
        return [&, onset0, free_onset](const VectorXd& phi, VectorXd& r) {
          const double value = h.nominal + phi[0] * scale;
          const Eigen::Index xoff = free_onset ? 2 : 1;
          detail::Change change;
          change.at = onset0 + (free_onset ? phi[1] * spacing : 0.0);
          std::shared_ptr<const model::Model> changed;
          switch (h.kind) {
            case Hypothesis::Kind::parameter:
              changed = detail::try_build(with_parameter(asset.model, h, value));
              if (!changed) return false;
              change.model = changed.get();
              break;
            case Hypothesis::Kind::output_gain:
              change.output = h.index;
              change.output_gain = value;
              break;
            case Hypothesis::Kind::output_bias:
              change.output = h.index;
              change.output_bias = value;
              break;
            case Hypothesis::Kind::input_gain:
              change.input = h.index;
              change.input_gain = value;
              break;
          }
          for (std::size_t i = 0; i < states; ++i) x0[i] = phi[xoff + Eigen::Index(i)] * x_scale;
          buffer.clear();
          const bool fine = detail::simulate(
              *nominal, window, inputs, outputs, x0.data(), kInf,
              [&](std::size_t j, double, double res, double) { buffer.push_back(res / noise[j]); },
              nullptr, &change);
          if (!fine) return false;
          r = Eigen::Map<const VectorXd>(buffer.data(), Eigen::Index(buffer.size()));
          return true;
        };
      };
      if (pass == 0) {
        // The grid, the onset held.
        Screened best{c, kInf, onsets.front(), {}};
        for (const double onset : onsets) {
          VectorXd phi(Eigen::Index(1 + states));
          phi[0] = 0.0;
          for (std::size_t i = 0; i < states; ++i) phi[Eigen::Index(1 + i)] = x_start[i] / x_scale;
          const detail::Solution sol = detail::levenberg_marquardt(
              residuals_at(onset, false), phi, std::min(options.max_iterations, kScreenIterations));
          if (sol.failed || sol.r.size() == 0) continue;
          if (const double cost = sol.r.squaredNorm(); cost < best.cost) {
            best.cost = cost;
            best.onset = onset;
            best.phi = sol.phi;
          }
        }
        if (std::isfinite(best.cost)) screened.push_back(std::move(best));
        continue;
      }
      double best_cost = screened[c].cost;
      const double best_onset = screened[c].onset;
      VectorXd best_phi = screened[c].phi;
      if (const detail::Solution polished = detail::levenberg_marquardt(
              residuals_at(best_onset, false), best_phi, options.max_iterations);
          !polished.failed && polished.r.size() > 0 && polished.r.squaredNorm() <= best_cost) {
        best_cost = polished.r.squaredNorm();
        best_phi = polished.phi;
      }
      detail::Solution sol;
      double onset = best_onset;
      if (h.kind == Hypothesis::Kind::output_gain || h.kind == Hypothesis::Kind::output_bias) {
        // A sensor's change shows only at the samples after it: the cost is a step function of the
        // onset, so the onset is searched over the sample times around the grid's best.
        for (const Sample& smp : window.samples) {
          if (smp.signal < inputs || smp.t <= best_onset - spacing ||
              smp.t >= best_onset + spacing || smp.t == best_onset) {
            continue;
          }
          const detail::Solution trial = detail::levenberg_marquardt(
              residuals_at(smp.t, false), best_phi, options.max_iterations);
          if (trial.failed || trial.r.size() == 0) continue;
          if (const double cost = trial.r.squaredNorm(); cost < best_cost) {
            best_cost = cost;
            onset = smp.t;
            best_phi = trial.phi;
          }
        }
        sol = detail::levenberg_marquardt(residuals_at(onset, false), best_phi,
                                          options.max_iterations);
      } else {
        // Then the onset free, from the grid's best.
        VectorXd phi(Eigen::Index(2 + states));
        phi[0] = best_phi[0];
        phi[1] = 0.0;
        phi.tail(Eigen::Index(states)) = best_phi.tail(Eigen::Index(states));
        sol = detail::levenberg_marquardt(residuals_at(best_onset, true), phi,
                                          options.max_iterations);
        onset = best_onset + (sol.failed ? 0.0 : sol.phi[1] * spacing);
      }
      if (sol.failed || std::size_t(sol.r.size()) != times.size()) continue;
      Estimate e;
      e.hypothesis = h;
      e.estimate = h.nominal + sol.phi[0] * scale;
      e.onset = onset;
      e.cost = sol.r.squaredNorm();
      // The interval from the Jacobian at the optimum, the onset and initial state marginalised.
      e.ci95 = detail::half_widths95(sol, 1)[0] * scale;
      // sol.r: the residuals at the optimum, one per comparison, in units of the noise.
      e.rms = rms_after(e.onset, [&](std::size_t k) { return sol.r[Eigen::Index(k)]; });
      estimates.push_back(e);
    }
    if (pass == 0) {
      std::stable_sort(screened.begin(), screened.end(),
                       [](const Screened& a, const Screened& b) { return a.cost < b.cost; });
    }
  }
  if (estimates.empty()) return d;
  std::stable_sort(estimates.begin(), estimates.end(),
                   [](const Estimate& a, const Estimate& b) { return a.cost < b.cost; });
  d.best = estimates[0];
  if (estimates.size() > 1) d.runner_up = estimates[1];
  d.margin = d.runner_up ? d.runner_up->cost / std::max(d.best->cost, 1e-300) : kInf;
  // The nominal model after the best onset, for scale.
  d.nominal_rms = rms_after(
      d.best->onset, [&](std::size_t k) { return nominal_residual[k] / noise[output_of[k]]; });
  d.explained = d.best->rms <= options.explained_within;
  if (d.best->hypothesis.kind == Hypothesis::Kind::parameter) {
    d.identified = with_parameter(asset.model, d.best->hypothesis, d.best->estimate);
  } else if (d.best->hypothesis.kind == Hypothesis::Kind::input_gain) {
    d.identified = with_input_gain(asset.model, d.best->hypothesis.index, d.best->estimate);
  }
  return d;
}

}  // namespace

}  // namespace twind::ident
