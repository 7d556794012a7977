// Commands to a running twin, as they arrive on `twin/{asset}/cmd` (schema: docs/commands.md).
// Parsing only: the engine carries them out. No I/O.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "twind/config/config.hpp"

namespace twind::config {

enum class CommandKind {
  set_model,   ///< run another model (name, version and definition in the command)
  rebaseline,  ///< accept the plant's present behaviour as nominal: re-initialise, clear alerts
  get_model,   ///< report the model in use
};

[[nodiscard]] constexpr std::string_view to_string(CommandKind k) noexcept {
  switch (k) {
    case CommandKind::set_model:
      return "set_model";
    case CommandKind::rebaseline:
      return "rebaseline";
    case CommandKind::get_model:
      return "get_model";
  }
  return "set_model";
}

struct Command {
  std::string request_id;  ///< the sender's "id", echoed in the reply; may be empty
  CommandKind kind = CommandKind::get_model;
  bool template_scope = false;     ///< "scope": "template": every asset of the asset's template
  std::optional<ModelSpec> model;  ///< set_model (required), rebaseline (optional)
  /// rebaseline: adopt the model the asset's latest diagnosis identified (not with `model`).
  bool identified = false;
};

struct CommandParse {
  std::optional<Command> command;  ///< set when the command is valid
  std::string request_id;          ///< the sender's "id" when it could be read, also on error
  std::string kind;                ///< the "command" as written, when it could be read
  std::string error;               ///< what is wrong, `line:col: key: got X, expected Y`
};

/// Parses one command payload: one strict JSON object (RFC 8259; nothing after it). `signals` are
/// the asset's signals, inputs then outputs, against which a model is checked exactly as the
/// configuration's would be; nullptr skips the model's checks (for an asset that does not
/// exist, where only the request id matters). Never throws except std::bad_alloc.
[[nodiscard]] CommandParse parse_command(std::string_view payload,
                                         const std::vector<SignalSpec>* signals);

}  // namespace twind::config
