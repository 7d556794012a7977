// The compiled, immutable definition of an asset: what its twin needs on the per-sample path,
// flattened out of the configuration. Shared by every twin built from the same definition.
#pragma once

#include <cstddef>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "twind/base/types.hpp"
#include "twind/config/config.hpp"
#include "twind/model/model.hpp"

namespace twind::core {

struct SignalDef {
  std::string name;
  Role role = Role::input;
  std::size_t index = 0;  ///< position in the model's input vector u or output vector y
  double min = -std::numeric_limits<double>::infinity();
  double max = std::numeric_limits<double>::infinity();
  bool has_threshold = false;  ///< outputs: whether divergence is alerted on
  double threshold = 0.0;
  double clear_threshold = 0.0;
  double stale_after = 0.0;  ///< seconds; 0 = never stale
  /// Outputs: whether a CUSUM of the residual (detector: cusum) also decides divergence, with
  /// its sigma (signal's unit), k and h (units of sigma).
  bool has_cusum = false;
  double cusum_sigma = 1.0;
  double cusum_k = 0.5;
  double cusum_h = 1.0;
};

/// What every twin built from one configuration entry shares: the single asset's, or all the
/// assets' of a template. A twin that took another model by command has its own copy.
struct AssetDef {
  std::string entry;  ///< the configuration entry: the asset's id, or the template's name
  std::shared_ptr<const model::Model> model;
  model::ModelId model_id;  ///< reported in twin/state; a rebaseline bumps its version
  /// What `model` was built from (its id may lag model_id): the diagnosis changes its numbers.
  config::ModelSpec model_spec;
  std::vector<SignalDef> signals;  ///< inputs in model order, then outputs in model order
  std::size_t n_inputs = 0;
  std::size_t n_outputs = 0;
  bool diagnose = false;  ///< keep recent samples and explain divergences (Engine, "Diagnosis")
  std::vector<std::string> hypotheses;  ///< the diagnosis' hypotheses; empty: the default set
  int raise_after = 1;
  int clear_after = 1;
  Severity severity = Severity::critical;
  Severity stale_severity = Severity::warning;
  std::string state_topic;  ///< topic patterns: {asset} stands for the twin's id
  std::string alert_topic;
  std::string model_topic;
  std::string diagnosis_topic;

  /// The signal named `name`, or signals.size() when there is none.
  [[nodiscard]] std::size_t find_signal(std::string_view name) const noexcept;
};

/// Compiles a validated configuration entry (a single asset or a template) with the
/// configuration's topic patterns. Throws model::ModelError as config::build_model does, or when
/// the model's dimensions do not match the signals.
[[nodiscard]] std::shared_ptr<const AssetDef> compile_asset(const config::AssetSpec& spec,
                                                            const config::TopicsSpec& topics);

/// A copy of `def` that runs `model`, reported as `id`, built from `spec` (or from def's
/// specification, when null). Throws model::ModelError when the model's inputs and outputs do
/// not match the signals.
[[nodiscard]] std::shared_ptr<const AssetDef> with_model(const AssetDef& def,
                                                         std::shared_ptr<const model::Model> model,
                                                         model::ModelId id,
                                                         const config::ModelSpec* spec = nullptr);

/// Replaces every `{asset}` in `pattern` by `asset`.
[[nodiscard]] std::string expand_topic(std::string_view pattern, std::string_view asset);

}  // namespace twind::core
