// Internal to twind_config: the `cluster` section (a replica sharing a fleet with others).
#pragma once

#include "reader.hpp"
#include "twind/config/config.hpp"

namespace twind::config::detail {

/// Reads `cluster` into `c`; nullopt (with its errors reported) when it cannot be read.
[[nodiscard]] std::optional<ClusterSpec> read_cluster(Reader& r, const Value& v);

}  // namespace twind::config::detail
