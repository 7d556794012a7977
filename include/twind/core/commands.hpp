// Carrying out a command against the twins: get_model, set_model for one asset or its whole
// template, rebaseline. Parsing is the configuration's (config/command.hpp); this builds the reply
// and lets the twins decide what the command changes. No I/O and no clock.
#pragma once

#include <cstddef>
#include <string_view>

#include "twind/core/fleet.hpp"
#include "twind/core/sink.hpp"

namespace twind::core {

/// Runs the command `payload` sent to asset `asset` (the {asset} level of the command topic
/// `command_topic`, a pattern) at `arrival`, and returns the reply to publish. A payload over
/// `max_bytes` is refused unread. A model change goes to `sink` as it is made (alerts it clears
/// first); a template-scope command also becomes the template's definition, for the assets it
/// discovers later. Counts alerts and model changes; never throws except std::bad_alloc.
[[nodiscard]] CommandReply run_command(Fleet& fleet, std::string_view asset,
                                       std::string_view payload, double arrival,
                                       std::string_view command_topic, std::size_t max_bytes,
                                       Sink& sink, Counters& counters);

}  // namespace twind::core
