// Internal to twind_config: an asset's `detector` (how the comparison of outputs with the model
// raises and clears alerts, and at which severity) and its `diagnose`.
#pragma once

#include "reader.hpp"
#include "twind/config/config.hpp"

namespace twind::config::detail {

/// Reads `detector` into `d`, keeping the defaults of what is absent.
void read_detector(Reader& r, const Value& v, DetectorSpec& d);

/// Reads `diagnose` into `d`, keeping the defaults of what is absent.
void read_diagnose(Reader& r, const Value& v, DiagnoseSpec& d);

}  // namespace twind::config::detail
