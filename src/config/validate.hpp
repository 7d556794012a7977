// Internal to twind_config: validation of one parsed YAML document into a Config.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "twind/config/loader.hpp"

namespace YAML {
class Node;
}

namespace twind::config::detail {

/// Checks every rule of the key table against `root` and appends one Diagnostic per finding to
/// `out`, in the order they were found (the caller sorts them into document order). Returns the
/// Config when no error was found; its `source` is left empty. Throws only std::bad_alloc.
[[nodiscard]] std::optional<Config> validate(const YAML::Node& root, const std::string& file,
                                             std::vector<Diagnostic>& out);

}  // namespace twind::config::detail
