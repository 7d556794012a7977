// MQTT 3.1.1 topic names and filters (OASIS MQTT 3.1.1, section 4.7 and 1.5.3). Pure functions,
// no allocation, safe from any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace twind::mqtt {

/// True for a topic name a client may publish to: 1 to 65535 bytes of well-formed UTF-8 without
/// U+0000 and without the wildcards `+` and `#`. Empty levels ("a//b", "/a") are valid.
[[nodiscard]] bool valid_topic_name(std::string_view topic);

/// True for a topic filter a client may subscribe to: the rules of valid_topic_name(), except
/// that `+` may stand alone as a whole level and `#` alone as the whole last level
/// ("a/+/c", "a/#", "#", "+"); "a+", "a/#/c", "a#" are invalid.
[[nodiscard]] bool valid_topic_filter(std::string_view filter);

/// True when `filter` matches the topic name `topic`: `+` matches exactly one level (an empty
/// one too), `#` any number of trailing levels including none ("a/#" matches "a"), and a filter
/// starting with a wildcard never matches a topic starting with `$` (section 4.7.2). Matching is
/// byte-wise and case-sensitive. False when either argument is invalid.
[[nodiscard]] bool topic_matches(std::string_view filter, std::string_view topic);

/// What Client::subscribe() accepts: QoS 0..2 and valid filters. Throws std::invalid_argument
/// naming the bad value otherwise.
void check_subscription(const std::vector<std::string>& filters, int qos);

}  // namespace twind::mqtt
