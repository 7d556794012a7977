// Internal to twind_config: validation of one parsed YAML document into a Config (validate.cpp),
// and of a command document (command_reader.cpp).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "twind/config/command.hpp"
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

/// Checks a command document (a mapping: id, command, scope, model) the way validate() checks a
/// configuration; the model against `signals` (inputs then outputs), or not at all when nullptr.
/// Fills `parse.request_id` and `parse.kind` as soon as they are read. Returns the command when
/// there is no error.
[[nodiscard]] std::optional<Command> validate_command(const YAML::Node& root,
                                                      const std::vector<SignalSpec>* signals,
                                                      CommandParse& parse,
                                                      std::vector<Diagnostic>& out);

}  // namespace twind::config::detail
