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
  if (d.moving_from) *d.moving_from += t0;
  if (d.runner_up) d.runner_up->onset += t0;
  return d;
}

namespace {

// Hypotheses refined after the screening, and the iterations of each screening fit.
constexpr std::size_t kRefined = 3;
constexpr std::size_t kScreenIterations = 6;
// Output comparisons needed on each side of the split before a change is checked for moving.
constexpr std::size_t kTrackSamples = 16;
// How often the check for a moving change may halve the samples it looks at.
constexpr std::size_t kTrackLevels = 3;
// Moving: the halves' estimates differ by more than this many times their intervals together
// (about 4 standard errors: a change that has stopped is all but never said to move).
constexpr double kTrackFactor = 2.0;

Diagnosis diagnose_from_zero(const config::AssetSpec& asset, std::span<const Hypothesis> candidates,
                             const Series& window, std::span<const double> onsets,
                             const DiagnoseOptions& options) {
  Diagnosis d;
  std::size_t inputs = 0;
  for (const auto& s : asset.signals) inputs += s.role == Role::input ? 1 : 0;
  const std::size_t outputs = asset.signals.size() - inputs;
  const auto nominal = detail::try_build(asset.model);
  if (!nominal || window.samples.empty() || (onsets.empty() && !options.changed_from_start)) {
    return d;
  }
  const std::size_t states = nominal->states();
  const double first_onset =
      options.changed_from_start ? 0.0 : *std::min_element(onsets.begin(), onsets.end());

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
  d.noise = noise;
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

  std::vector<double> x0(states);
  std::vector<double> buffer;
  const auto scale_for = [&](const Hypothesis& h) {
    return h.kind == Hypothesis::Kind::output_bias ? noise[h.index] * 10.0
                                                   : detail::scale_of(h.nominal);
  };
  // The residuals of the samples of `w`, in units of the noise, with h's number changed from
  // `onset0` on (phi = [value, (onset shift,) initial state...]).
  const auto residuals_of = [&](const Hypothesis& h, const Series& w, double onset0,
                                bool free_onset) -> detail::Residuals {
    const double scale = scale_for(h);
    return [&, hp = &h, wp = &w, scale, onset0, free_onset](const VectorXd& phi, VectorXd& r) {
      const double value = hp->nominal + phi[0] * scale;
      const Eigen::Index xoff = free_onset ? 2 : 1;
      detail::Change change;
      change.at = onset0 + (free_onset ? phi[1] * spacing : 0.0);
      std::shared_ptr<const model::Model> changed;
      switch (hp->kind) {
        case Hypothesis::Kind::parameter:
          changed = detail::try_build(with_parameter(asset.model, *hp, value));
          if (!changed) return false;
          change.model = changed.get();
          break;
        case Hypothesis::Kind::output_gain:
          change.output = hp->index;
          change.output_gain = value;
          break;
        case Hypothesis::Kind::output_bias:
          change.output = hp->index;
          change.output_bias = value;
          break;
        case Hypothesis::Kind::input_gain:
          change.input = hp->index;
          change.input_gain = value;
          break;
      }
      for (std::size_t i = 0; i < states; ++i) x0[i] = phi[xoff + Eigen::Index(i)] * x_scale;
      buffer.clear();
      const bool fine = detail::simulate(
          *nominal, *wp, inputs, outputs, x0.data(), kInf,
          [&](std::size_t j, double, double res, double) { buffer.push_back(res / noise[j]); },
          nullptr, &change);
      if (!fine) return false;
      r = Eigen::Map<const VectorXd>(buffer.data(), Eigen::Index(buffer.size()));
      return true;
    };
  };
  // phi at the start: the value `at`, then the initial state `x` (then the onset shift, 0).
  const auto start_phi = [&](double at, const std::vector<double>& x, bool free_onset) {
    const Eigen::Index xoff = free_onset ? 2 : 1;
    VectorXd phi(xoff + Eigen::Index(states));
    phi[0] = at;
    if (free_onset) phi[1] = 0.0;
    for (std::size_t i = 0; i < states; ++i) phi[xoff + Eigen::Index(i)] = x[i] / x_scale;
    return phi;
  };

  std::vector<Estimate> estimates;
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
  // A change in place from the start has one onset, the window's first sample (time 0 here).
  const std::vector<double> from_start{0.0};
  const std::span<const double> grid = options.changed_from_start ? from_start : onsets;
  for (const Hypothesis& h : candidates) {
    Screened best{std::size_t(&h - candidates.data()), kInf, grid.front(), {}};
    for (const double onset : grid) {
      const detail::Solution sol = detail::levenberg_marquardt(
          residuals_of(h, window, onset, false), start_phi(0.0, x_start, false),
          std::min(options.max_iterations, kScreenIterations));
      if (sol.failed || sol.r.size() == 0) continue;
      if (const double cost = sol.r.squaredNorm(); cost < best.cost) {
        best.cost = cost;
        best.onset = onset;
        best.phi = sol.phi;
      }
    }
    if (std::isfinite(best.cost)) screened.push_back(std::move(best));
  }
  std::stable_sort(screened.begin(), screened.end(),
                   [](const Screened& a, const Screened& b) { return a.cost < b.cost; });
  const auto is_incumbent = [&](const Hypothesis& h) {
    return options.incumbent && h.kind == options.incumbent->kind &&
           h.name == options.incumbent->name;
  };
  std::size_t refined = std::min(kRefined, screened.size());
  // The incumbent is refined too, wherever the screening put it.
  for (std::size_t c = refined; c < screened.size(); ++c) {
    if (!is_incumbent(candidates[screened[c].index])) continue;
    std::rotate(screened.begin() + std::ptrdiff_t(refined), screened.begin() + std::ptrdiff_t(c),
                screened.begin() + std::ptrdiff_t(c + 1));
    ++refined;
    break;
  }
  for (std::size_t c = 0; c < refined; ++c) {
    const Hypothesis& h = candidates[screened[c].index];
    double best_cost = screened[c].cost;
    const double best_onset = screened[c].onset;
    VectorXd best_phi = screened[c].phi;
    if (const detail::Solution polished = detail::levenberg_marquardt(
            residuals_of(h, window, best_onset, false), best_phi, options.max_iterations);
        !polished.failed && polished.r.size() > 0 && polished.r.squaredNorm() <= best_cost) {
      best_cost = polished.r.squaredNorm();
      best_phi = polished.phi;
    }
    detail::Solution sol;
    double onset = best_onset;
    if (options.changed_from_start) {
      sol = detail::levenberg_marquardt(residuals_of(h, window, onset, false), best_phi,
                                        options.max_iterations);
    } else if (h.kind == Hypothesis::Kind::output_gain || h.kind == Hypothesis::Kind::output_bias) {
      // A sensor's change shows only at the samples after it: the cost is a step function of the
      // onset, so the onset is searched over the sample times around the grid's best.
      for (const Sample& smp : window.samples) {
        if (smp.signal < inputs || smp.t <= best_onset - spacing || smp.t >= best_onset + spacing ||
            smp.t == best_onset) {
          continue;
        }
        const detail::Solution trial = detail::levenberg_marquardt(
            residuals_of(h, window, smp.t, false), best_phi, options.max_iterations);
        if (trial.failed || trial.r.size() == 0) continue;
        if (const double cost = trial.r.squaredNorm(); cost < best_cost) {
          best_cost = cost;
          onset = smp.t;
          best_phi = trial.phi;
        }
      }
      sol = detail::levenberg_marquardt(residuals_of(h, window, onset, false), best_phi,
                                        options.max_iterations);
    } else {
      // Then the onset free, from the grid's best.
      VectorXd phi(Eigen::Index(2 + states));
      phi[0] = best_phi[0];
      phi[1] = 0.0;
      phi.tail(Eigen::Index(states)) = best_phi.tail(Eigen::Index(states));
      sol = detail::levenberg_marquardt(residuals_of(h, window, best_onset, true), phi,
                                        options.max_iterations);
      onset = best_onset + (sol.failed ? 0.0 : sol.phi[1] * spacing);
    }
    if (sol.failed || std::size_t(sol.r.size()) != times.size()) continue;
    const double scale = scale_for(h);
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
  if (estimates.empty()) return d;
  std::stable_sort(estimates.begin(), estimates.end(),
                   [](const Estimate& a, const Estimate& b) { return a.cost < b.cost; });
  for (std::size_t c = 1; c < estimates.size(); ++c) {
    if (!is_incumbent(estimates[c].hypothesis)) continue;
    if (estimates[c].cost - estimates[0].cost < kKeepBest) {
      std::rotate(estimates.begin(), estimates.begin() + std::ptrdiff_t(c),
                  estimates.begin() + std::ptrdiff_t(c + 1));
    }
    break;
  }
  d.best = estimates[0];
  if (estimates.size() > 1) d.runner_up = estimates[1];
  d.margin = d.runner_up ? d.runner_up->cost / std::max(d.best->cost, 1e-300) : kInf;
  // The nominal model after the best onset, for scale.
  d.nominal_rms = rms_after(
      d.best->onset, [&](std::size_t k) { return nominal_residual[k] / noise[output_of[k]]; });
  d.explained = d.best->rms <= options.explained_within;

  // Still moving? The best hypothesis again, on each half of the samples after its onset, the
  // change in place from the start of each (at the onset, for the half that holds it). A change
  // that has stopped gives both halves the same number within their intervals; one that goes on
  // (a wearing part) gives the later half a later value, which is the one to report: fitted to a
  // ramp, the whole window's step is the ramp's average. The halves count only when each is
  // explained on its own. One that is not (a ramp too steep for halves this long, or a change of
  // another kind than the hypothesis, its transient misfitted) sends the check to the later
  // half, split in two the same way, down to kTrackLevels.
  if (options.track) {
    const Hypothesis& h = d.best->hypothesis;
    const double scale = scale_for(h);
    struct Segment {
      bool fine = false;
      double estimate = 0.0;
      double ci95 = kInf;
      double rms = kInf;
    };
    // h fitted to the samples in [lo, hi): the change from the start of the run, or at the
    // onset for the run that holds it (the window's samples before lo too, as they tell the
    // state and the onset).
    const auto fit = [&](double lo, double hi, bool holds_onset) {
      Segment out;
      Series run{window.asset, {}};
      for (const Sample& smp : window.samples) {
        if ((holds_onset || smp.t >= lo) && smp.t < hi) run.samples.push_back(smp);
      }
      std::vector<double> x;
      if (!detail::simulate(
              *nominal, run, inputs, outputs, nullptr, kInf,
              [](std::size_t, double, double, double) {}, &x) ||
          x.size() != states) {
        return out;
      }
      const detail::Solution sol = detail::levenberg_marquardt(
          residuals_of(h, run, holds_onset ? d.best->onset : lo, false),
          start_phi((d.best->estimate - h.nominal) / scale, x, false), options.max_iterations);
      // The run's comparisons are the window's last ones before hi (those of the run's start,
      // where every signal has first been seen, are not compared).
      const auto end =
          std::size_t(std::lower_bound(times.begin(), times.end(), hi) - times.begin());
      if (sol.failed || sol.r.size() == 0 || std::size_t(sol.r.size()) > end) return out;
      const std::size_t first = end - std::size_t(sol.r.size());
      double sq = 0.0;
      double n = 0.0;
      for (std::size_t k = first; k < end; ++k) {
        if (times[k] < lo) continue;
        const double z = sol.r[Eigen::Index(k - first)];
        sq += z * z;
        n += 1.0;
      }
      if (n == 0.0) return out;
      out.fine = true;
      out.estimate = h.nominal + sol.phi[0] * scale;
      out.ci95 = detail::half_widths95(sol, 1)[0] * scale;
      out.rms = std::sqrt(sq / n);
      return out;
    };
    const double end = std::nextafter(times.back(), kInf);
    double lo = options.changed_from_start ? 0.0 : d.best->onset;
    bool holds_onset = !options.changed_from_start;
    for (std::size_t level = 0; level < kTrackLevels; ++level) {
      const double split = lo + 0.5 * (times.back() - lo);
      std::size_t early = 0;
      std::size_t late = 0;
      for (const double t : times) {
        if (t >= lo) ++(t < split ? early : late);
      }
      if (early < kTrackSamples || late < kTrackSamples) break;
      const Segment then = fit(lo, split, holds_onset);
      const Segment now = fit(split, end, false);
      if (!then.fine || !now.fine) break;
      if (then.rms <= options.explained_within && now.rms <= options.explained_within) {
        if (std::isfinite(now.ci95) && std::isfinite(then.ci95) &&
            std::abs(now.estimate - then.estimate) >
                kTrackFactor * std::hypot(now.ci95, then.ci95)) {
          d.best->estimate = now.estimate;
          d.best->ci95 = now.ci95;
          d.best->rms = now.rms;
          d.explained = true;
          d.moving_from = split;
        }
        break;
      }
      lo = split;
      holds_onset = false;
    }
  }
  if (d.best->hypothesis.kind == Hypothesis::Kind::parameter) {
    d.identified = with_parameter(asset.model, d.best->hypothesis, d.best->estimate);
  } else if (d.best->hypothesis.kind == Hypothesis::Kind::input_gain) {
    d.identified = with_input_gain(asset.model, d.best->hypothesis.index, d.best->estimate);
  }
  return d;
}

}  // namespace

}  // namespace twind::ident
