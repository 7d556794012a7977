// Internal to twind_config: an asset's `detector`: how the comparison of outputs with the model
// raises and clears alerts, and at which severity.
#pragma once

#include "reader.hpp"
#include "twind/config/config.hpp"

namespace twind::config::detail {

/// Reads `detector` into `d`, keeping the defaults of what is absent.
void read_detector(Reader& r, const Value& v, DetectorSpec& d);

}  // namespace twind::config::detail
