// Internal to twind_config: an asset's `detector` (how the comparison of outputs with the model
// raises and clears alerts, and at which severity) and its `diagnose`.
#pragma once

#include <vector>

#include "reader.hpp"
#include "twind/config/config.hpp"

namespace twind::config::detail {

/// Reads `detector` into `d`, keeping the defaults of what is absent.
void read_detector(Reader& r, const Value& v, DetectorSpec& d);

/// Reads `diagnose` into `d`, keeping the defaults of what is absent. Its hypotheses name entries
/// of `model` and the `signals` (each role in the model's order); without a model (one that was
/// refused, or none) only the list's shape is checked.
void read_diagnose(Reader& r, const Value& v, const ModelSpec* model,
                   const std::vector<SignalSpec>& signals, DiagnoseSpec& d);

}  // namespace twind::config::detail
