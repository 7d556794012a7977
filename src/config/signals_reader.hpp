// Internal to twind_config: an asset's `signals`: what is measured, on which topic, within which
// bounds, and which outputs are compared with the model at which thresholds.
#pragma once

#include "model_reader.hpp"
#include "reader.hpp"
#include "topics.hpp"
#include "twind/config/config.hpp"

namespace twind::config::detail {

/// Reads the signal list; each signal's topic goes through `topics` (a signal needs one unless
/// the asset has frames). The result is what the asset's model is checked against.
[[nodiscard]] SignalsInfo read_signals(Reader& r, TopicChecks& topics, const Value& v,
                                       bool has_frames, const TopicScope& scope);

}  // namespace twind::config::detail
