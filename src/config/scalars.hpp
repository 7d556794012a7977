// Internal to twind_config: the text-level rules of the configuration (numbers, durations,
// names, topics, URIs), free of yaml-cpp so they read and test as plain string functions.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace twind::config::detail {

/// A number as YAML 1.2's core schema writes it (`-1`, `+2.5`, `1e-3`, `.inf`, `.nan`), the
/// whole text or nothing. May return a non-finite value; the caller decides whether it is allowed.
[[nodiscard]] std::optional<double> parse_number(std::string_view text);

/// A decimal integer with an optional sign, the whole text or nothing.
[[nodiscard]] std::optional<long long> parse_integer(std::string_view text);

struct Duration {
  enum class Status {
    ok,           ///< `seconds` is set (maybe non-finite or <= 0: the caller checks the range)
    no_unit,      ///< a bare number: the unit is ambiguous
    bad_unit,     ///< a number followed by something other than ms, s, min, h
    not_a_number  ///< does not start with a number
  };
  Status status = Status::not_a_number;
  double seconds = 0.0;
};
/// `<number><unit>` with unit ms, s, min or h, optionally separated by spaces.
[[nodiscard]] Duration parse_duration(std::string_view text);

/// `[A-Za-z_][A-Za-z0-9_]*`: signal names, also frame keys.
[[nodiscard]] bool is_identifier(std::string_view text) noexcept;
/// `[A-Za-z_][A-Za-z0-9_]*`, the portable shape of an environment variable's name.
[[nodiscard]] bool is_env_name(std::string_view text) noexcept;

/// What is wrong with a concrete MQTT topic name (the `expected ...` half of a message), or
/// nothing when it is a valid topic to publish or subscribe to literally.
[[nodiscard]] std::optional<std::string> topic_problem(std::string_view topic);

/// What is wrong with a broker URI, or nothing when the client can use it: mqtt::BrokerUri::parse
/// decides, so that the check and the client agree.
[[nodiscard]] std::optional<std::string> uri_problem(std::string_view uri);

/// Whether a broker URI asks for TLS (ssl://, mqtts:// or wss://).
[[nodiscard]] bool is_tls_uri(std::string_view uri);

/// The shortest text that reads back as `v` (`0.15`, `1e+300`).
[[nodiscard]] std::string format_number(double v);

/// `text` in double quotes with quotes, backslashes and control characters escaped, cut to
/// `max_chars` with `...` so a pasted blob does not flood the terminal.
[[nodiscard]] std::string quote(std::string_view text, std::size_t max_chars = 60);

/// Levenshtein distance, for `did you mean` suggestions.
[[nodiscard]] std::size_t edit_distance(std::string_view a, std::string_view b);

/// Whether YAML/JSON brackets ([ and {, outside quoted strings) nest deeper than `max_depth`:
/// yaml-cpp parses them recursively, and tens of thousands of `[` would exhaust the stack.
[[nodiscard]] bool nested_deeper_than(std::string_view text, int max_depth) noexcept;

/// The offset of a ',' that would start a YAML token outside any [ ] or { } (at the start of a
/// line, or after `:`, `-`, `?`, a closing bracket or a quoted scalar), if there is one.
/// yaml-cpp 0.7 loops forever, allocating, on such a comma (yaml-cpp issue #1040); inside a
/// plain scalar (`name: a, b`) a comma is text and harmless.
[[nodiscard]] std::optional<std::size_t> stray_comma(std::string_view text) noexcept;

/// Whether `topic` holds exactly one `{asset}`, as a whole level (`plant/{asset}/y`), and no other
/// braces: the shape of a template's topics, where MQTT's `+` can stand for the asset.
[[nodiscard]] bool is_asset_pattern(std::string_view topic) noexcept;

/// Whether `topic` holds `{partition}` once, as a whole level, before an `{asset}` that makes it
/// an asset pattern otherwise (`twin_in/{partition}/plant/{asset}/frame`): a template's topic as
/// a partitioning broker delivers it.
[[nodiscard]] bool is_partitioned_pattern(std::string_view topic) noexcept;

/// Whether `topic` holds exactly one `{member}`, as a whole level, and no other braces.
[[nodiscard]] bool is_member_pattern(std::string_view topic) noexcept;

/// The most partitions a cluster may have.
inline constexpr long long kMaxPartitions = 4096;

/// Whether some topic could match both `a` and `b`, where `{asset}` and `{partition}` (whole
/// levels) stand for any non-empty level: two subscriptions that would both deliver one message.
[[nodiscard]] bool topics_overlap(std::string_view a, std::string_view b) noexcept;

/// `s` with every `from` replaced by `to`.
[[nodiscard]] std::string replace_all(std::string s, std::string_view from, std::string_view to);

}  // namespace twind::config::detail
