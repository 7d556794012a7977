// The compiled, immutable definition of an asset: what its twin needs on the per-sample path,
// flattened out of the configuration. Shared by every twin built from the same definition.
#pragma once

#include <cstddef>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "twind/core/types.hpp"
#include "twind/model/model.hpp"

namespace twind::config {
struct AssetSpec;
}

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
};

struct AssetDef {
  std::string id;
  std::shared_ptr<const model::Model> model;
  std::vector<SignalDef> signals;  ///< inputs in model order, then outputs in model order
  std::size_t n_inputs = 0;
  std::size_t n_outputs = 0;
  int raise_after = 1;
  int clear_after = 1;
  Severity severity = Severity::critical;
  Severity stale_severity = Severity::warning;
  std::string state_topic;  ///< with {asset} already substituted
  std::string alert_topic;

  /// The signal named `name`, or signals.size() when there is none.
  [[nodiscard]] std::size_t find_signal(std::string_view name) const noexcept;
};

/// Builds the model an asset specification names. Throws model::ModelError on an inconsistent
/// specification (which the configuration loader has normally refused already).
[[nodiscard]] std::shared_ptr<const model::Model> build_model(const config::AssetSpec& spec);

/// Compiles a validated asset specification. `state_topic` and `alert_topic` are templates in
/// which `{asset}` is replaced by the asset id. Throws model::ModelError as build_model does.
[[nodiscard]] std::shared_ptr<const AssetDef> compile_asset(const config::AssetSpec& spec,
                                                            const std::string& state_topic,
                                                            const std::string& alert_topic);

/// Replaces every `{asset}` in `pattern` by `asset`.
[[nodiscard]] std::string expand_topic(std::string_view pattern, std::string_view asset);

}  // namespace twind::core
