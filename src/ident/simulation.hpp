// The twin's event-time simulation over recorded samples (AssetTwin's integration, without its
// detectors), for the ident layer's fits and diagnoses. Internal to src/ident.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <memory>
#include <vector>

#include "twind/config/model_build.hpp"
#include "twind/ident/fit.hpp"
#include "twind/model/model.hpp"

namespace twind::ident::detail {

/// A change of the machine from time `at` on (the state carried over): another model, an input
/// that acts `input_gain` times as strongly, an output sensor that reads `output_gain` times the
/// output plus `output_bias`.
struct Change {
  static constexpr std::size_t kNone = static_cast<std::size_t>(-1);
  double at = std::numeric_limits<double>::infinity();
  const model::Model* model = nullptr;  ///< null: the same model
  std::size_t input = kNone;
  double input_gain = 1.0;
  std::size_t output = kNone;
  double output_gain = 1.0;
  double output_bias = 0.0;
};

/// From the first instant every signal has been seen, the state (x0, or the least-squares state
/// of the measurements then) is advanced to each sample's time with the inputs held; an input
/// sample replaces its held value, an output sample is compared with the prediction. Calls
/// compare(j, t, residual, measured) for the outputs of samples before `until`. False when the
/// model cannot advance or predicts a non-finite value.
template <class Compare>
bool simulate(const model::Model& nominal, const Series& s, std::size_t inputs, std::size_t outputs,
              const double* x0, double until, Compare&& compare,
              std::vector<double>* x_start = nullptr, const Change* change = nullptr) {
  const model::Model* m = &nominal;
  std::vector<double> u(inputs, 0.0);
  std::vector<double> y(outputs, 0.0);
  std::vector<double> yp(outputs, 0.0);
  std::vector<double> x(m->states(), 0.0);
  std::vector<char> seen(inputs + outputs, 0);
  std::size_t n_seen = 0;
  bool started = false;
  bool changed = false;
  double t_model = 0.0;
  model::StepMemo memo;
  const auto apply_change = [&] {
    changed = true;
    if (change->model != nullptr) {
      m = change->model;
      memo = {};
    }
    if (change->input < inputs) u[change->input] *= change->input_gain;
  };
  for (const Sample& smp : s.samples) {
    if (smp.t >= until) break;
    if (started && change != nullptr && !changed && smp.t >= change->at) {
      if (change->at > t_model) {
        if (!m->advance(x, u, change->at - t_model, memo)) return false;
        t_model = change->at;
      }
      apply_change();
    }
    if (started && smp.t > t_model) {
      if (!m->advance(x, u, smp.t - t_model, memo)) return false;
      t_model = smp.t;
    }
    if (smp.signal < inputs) {
      const bool scaled = changed && smp.signal == change->input;
      u[smp.signal] = scaled ? smp.value * change->input_gain : smp.value;
    } else {
      y[smp.signal - inputs] = smp.value;
    }
    if (seen[smp.signal] == 0) {
      seen[smp.signal] = 1;
      ++n_seen;
    }
    if (!started) {
      if (n_seen < inputs + outputs) continue;
      started = true;
      t_model = smp.t;
      if (x0 != nullptr) {
        std::copy(x0, x0 + x.size(), x.begin());
      } else {
        m->initial_state(y, u, x);
      }
      if (x_start != nullptr) *x_start = x;
      continue;
    }
    if (smp.signal < inputs) continue;
    m->output(x, u, yp);
    const std::size_t j = smp.signal - inputs;
    double predicted = yp[j];
    if (changed && j == change->output) {
      predicted = change->output_gain * predicted + change->output_bias;
    }
    const double r = smp.value - predicted;
    if (!std::isfinite(r) || std::abs(predicted) > 1e12) return false;
    compare(j, smp.t, r, smp.value);
  }
  return true;
}

/// The model of `spec`, or null when it cannot be built.
inline std::shared_ptr<const model::Model> try_build(const config::ModelSpec& spec) {
  try {
    return config::build_model(spec);
  } catch (const model::ModelError&) {
    return nullptr;
  }
}

}  // namespace twind::ident::detail
