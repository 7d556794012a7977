#include "scalars.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <limits>
#include <system_error>
#include <utility>
#include <vector>

#include "twind/mqtt/broker_uri.hpp"

namespace twind::config::detail {
namespace {

// ASCII classes by hand: <cctype> depends on the locale, and these rules must not.
constexpr bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}
constexpr bool is_alpha(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
constexpr bool is_number_char(char c) noexcept {
  return is_digit(c) || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-';
}

constexpr std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::optional<double> parse_number(std::string_view text) {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  // YAML's spellings of the special values; the caller refuses them with a clearer message
  // than "not a number" would be.
  static constexpr std::array<std::string_view, 3> kInfs{".inf", ".Inf", ".INF"};
  static constexpr std::array<std::string_view, 3> kNans{".nan", ".NaN", ".NAN"};
  std::string_view body = text;
  bool negative = false;
  if (!body.empty() && (body.front() == '+' || body.front() == '-')) {
    negative = body.front() == '-';
    body.remove_prefix(1);
  }
  if (std::find(kInfs.begin(), kInfs.end(), body) != kInfs.end()) return negative ? -kInf : kInf;
  if (text == kNans[0] || text == kNans[1] || text == kNans[2]) {
    return std::numeric_limits<double>::quiet_NaN();
  }
  // from_chars alone would also take `inf`, `nan` and `infinity`, which YAML reads as strings.
  if (body.empty() || !std::all_of(body.begin(), body.end(), is_number_char) ||
      std::none_of(body.begin(), body.end(), is_digit) || body.front() == '+' ||
      body.front() == '-') {
    return std::nullopt;
  }
  double value = 0.0;
  const auto [end, ec] = std::from_chars(body.data(), body.data() + body.size(), value);
  if (end != body.data() + body.size()) return std::nullopt;
  if (ec == std::errc::result_out_of_range) {
    // Out of range is either overflow (1e999) or underflow (1e-999): tell them apart by the
    // exponent's sign.
    const auto e = body.find_first_of("eE");
    const bool underflow = e != std::string_view::npos && e + 1 < body.size() && body[e + 1] == '-';
    value = underflow ? 0.0 : kInf;
  } else if (ec != std::errc{}) {
    return std::nullopt;
  }
  return negative ? -value : value;
}

std::optional<long long> parse_integer(std::string_view text) {
  std::string_view body = text;
  bool negative = false;
  if (!body.empty() && (body.front() == '+' || body.front() == '-')) {
    negative = body.front() == '-';
    body.remove_prefix(1);
  }
  if (body.empty() || !std::all_of(body.begin(), body.end(), is_digit)) return std::nullopt;
  unsigned long long magnitude = 0;
  const auto [end, ec] = std::from_chars(body.data(), body.data() + body.size(), magnitude);
  constexpr auto kMax = static_cast<unsigned long long>(std::numeric_limits<long long>::max());
  // Saturate rather than fail, so a huge count is reported as out of range, not as "not an
  // integer".
  if (ec == std::errc::result_out_of_range || magnitude > kMax) magnitude = kMax;
  if (end != body.data() + body.size()) return std::nullopt;
  const auto v = static_cast<long long>(magnitude);
  return negative ? -v : v;
}

Duration parse_duration(std::string_view text) {
  const std::string_view s = trim(text);
  const auto number_end = std::find_if_not(s.begin(), s.end(), is_number_char);
  const auto split = static_cast<std::size_t>(number_end - s.begin());
  const auto number = parse_number(s.substr(0, split));
  if (split == 0 || !number) return {};
  const std::string_view unit = trim(s.substr(split));
  Duration d;
  if (unit.empty()) {
    d.status = Duration::Status::no_unit;
    d.seconds = *number;
    return d;
  }
  d.status = Duration::Status::ok;
  if (unit == "ms") {
    d.seconds = *number / 1000.0;  // division keeps 20ms exactly 0.02, not 20 * 0.001
  } else if (unit == "s") {
    d.seconds = *number;
  } else if (unit == "min") {
    d.seconds = *number * 60.0;
  } else if (unit == "h") {
    d.seconds = *number * 3600.0;
  } else {
    d.status = Duration::Status::bad_unit;
  }
  return d;
}

bool is_identifier(std::string_view text) noexcept {
  if (text.empty() || is_digit(text.front())) return false;
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return is_alpha(c) || is_digit(c) || c == '_'; });
}

bool nested_deeper_than(std::string_view text, int max_depth) noexcept {
  int depth = 0;
  char quote = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quote != 0) {
      if (c == '\\' && quote == '"') {
        ++i;
      } else if (c == quote) {
        quote = 0;
      }
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) return true;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return false;
}

std::optional<std::size_t> stray_comma(std::string_view text) noexcept {
  constexpr char kProperty = '\x01';  // never a significant character: control ones are refused
  const auto one_of = [](char c, std::string_view set) {
    return set.find(c) != std::string_view::npos;
  };
  int depth = 0;     // flow collections open around this point
  char quote = 0;    // inside a quoted scalar
  char last = '\n';  // the last significant character on this line, '\n' at its start
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quote != 0) {
      if (c == '\\' && quote == '"') {
        ++i;
      } else if (c == quote) {
        quote = 0;
        last = c;
      }
      continue;
    }
    // Where a new token may start: brackets, quotes and commas are indicators there, and inside
    // plain text (`payload: 3 or {"value": 3}` in a block) they are just text.
    // kProperty: after an anchor, alias or tag, which a value may follow.
    const bool token_start = last == '\n' || last == kProperty ||
                             (depth == 0 ? one_of(last, ":-?") : one_of(last, "[{,:"));
    if (c == '\n') {
      last = '\n';
    } else if (c == '#' &&
               (i == 0 || text[i - 1] == ' ' || text[i - 1] == '\t' || text[i - 1] == '\n')) {
      while (i + 1 < text.size() && text[i + 1] != '\n') ++i;  // a comment, to the line's end
    } else if ((c == '"' || c == '\'') && token_start) {
      quote = c;
    } else if (one_of(c, "&*!") && token_start) {
      // An anchor, alias or tag ends at a blank or a flow indicator; a comma right after it
      // starts a token of its own (`&a,`).
      while (i + 1 < text.size() && !one_of(text[i + 1], " \t\r\n,[]{}")) ++i;
      if (i + 1 < text.size() && text[i + 1] == ',' && depth == 0) return i + 1;
      last = kProperty;
    } else if ((c == '[' || c == '{') && (depth > 0 || token_start)) {
      ++depth;
      last = c;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
      last = c;
    } else if (c == ',' && depth == 0 && (token_start || one_of(last, "]}\"'"))) {
      return i;
    } else if (c != ' ' && c != '\t' && c != '\r') {
      last = c;
    }
  }
  return std::nullopt;
}

bool is_asset_pattern(std::string_view topic) noexcept {
  static constexpr std::string_view kAsset = "{asset}";
  const std::size_t at = topic.find(kAsset);
  if (at == std::string_view::npos) return false;
  const std::size_t end = at + kAsset.size();
  const bool whole_level =
      (at == 0 || topic[at - 1] == '/') && (end == topic.size() || topic[end] == '/');
  const std::string_view before = topic.substr(0, at);
  const std::string_view after = topic.substr(end);
  return whole_level && before.find_first_of("{}") == std::string_view::npos &&
         after.find_first_of("{}") == std::string_view::npos;
}

namespace {

// Whether `name` is in `topic` once, as a whole level; its offset then.
std::optional<std::size_t> whole_level_once(std::string_view topic, std::string_view name) {
  const std::size_t at = topic.find(name);
  if (at == std::string_view::npos || topic.find(name, at + 1) != std::string_view::npos) {
    return std::nullopt;
  }
  const std::size_t end = at + name.size();
  if ((at != 0 && topic[at - 1] != '/') || (end != topic.size() && topic[end] != '/')) {
    return std::nullopt;
  }
  return at;
}

}  // namespace

bool is_partitioned_pattern(std::string_view topic) noexcept {
  static constexpr std::string_view kPartition = "{partition}";
  const auto at = whole_level_once(topic, kPartition);
  if (!at || topic.find("{asset}") < *at) return false;
  std::string rest(topic.substr(0, *at));
  rest += '0';
  rest += topic.substr(*at + kPartition.size());
  return is_asset_pattern(rest);
}

bool is_member_pattern(std::string_view topic) noexcept {
  static constexpr std::string_view kMember = "{member}";
  const auto at = whole_level_once(topic, kMember);
  if (!at) return false;
  std::string rest(topic.substr(0, *at));
  rest += topic.substr(*at + kMember.size());
  return rest.find_first_of("{}") == std::string::npos;
}

bool topics_overlap(std::string_view a, std::string_view b) noexcept {
  static constexpr std::string_view kAsset = "{asset}";
  static constexpr std::string_view kPartition = "{partition}";
  while (true) {
    const std::size_t ea = a.find('/');
    const std::size_t eb = b.find('/');
    const std::string_view la = a.substr(0, ea);
    const std::string_view lb = b.substr(0, eb);
    // An id is never empty, so {asset} does not match an empty level.
    const bool wild_a = la == kAsset || la == kPartition;
    const bool wild_b = lb == kAsset || lb == kPartition;
    const bool match = la == lb || (wild_a && !lb.empty()) || (wild_b && !la.empty());
    if (!match) return false;
    if (ea == std::string_view::npos || eb == std::string_view::npos) {
      return ea == std::string_view::npos && eb == std::string_view::npos;
    }
    a.remove_prefix(ea + 1);
    b.remove_prefix(eb + 1);
  }
}

bool is_env_name(std::string_view text) noexcept {
  return is_identifier(text);
}

std::optional<std::string> topic_problem(std::string_view topic) {
  if (topic.empty()) return "a non-empty topic";
  if (topic.find_first_of("+#") != std::string_view::npos) {
    return "a topic without the MQTT wildcards + and #";
  }
  if (topic.find('\0') != std::string_view::npos) return "a topic without NUL characters";
  if (topic.size() > 65535) return "a topic of at most 65535 bytes";
  return std::nullopt;
}

bool is_tls_uri(std::string_view uri) {
  const mqtt::ParsedBrokerUri parsed = mqtt::BrokerUri::parse(uri);
  return parsed.uri && parsed.uri->tls();
}

std::optional<std::string> uri_problem(std::string_view uri) {
  mqtt::ParsedBrokerUri parsed = mqtt::BrokerUri::parse(uri);
  if (parsed.uri) return std::nullopt;
  return std::move(parsed.expected);
}

std::string format_number(double v) {
  std::array<char, 32> buf{};
  const auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), v);
  if (ec != std::errc{}) return "?";
  return std::string(buf.data(), end);
}

std::string quote(std::string_view text, std::size_t max_chars) {
  static constexpr std::string_view kHex = "0123456789abcdef";
  std::string out = "\"";
  const bool cut = text.size() > max_chars;
  for (const char c : cut ? text.substr(0, max_chars) : text) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (u < 0x20 || u == 0x7f) {
      out += "\\x";
      out += kHex[u >> 4U];
      out += kHex[u & 0xfU];
    } else {
      out += c;
    }
  }
  if (cut) out += "...";
  out += '"';
  return out;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0U : 1U)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string replace_all(std::string s, std::string_view from, std::string_view to) {
  for (auto at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
  return s;
}

}  // namespace twind::config::detail

namespace twind::config {

bool is_asset_id(std::string_view text) noexcept {
  return !text.empty() && text.size() <= 64 && std::all_of(text.begin(), text.end(), [](char c) {
    return detail::is_alpha(c) || detail::is_digit(c) || c == '_' || c == '.' || c == '-';
  });
}

bool is_member_name(std::string_view text) noexcept {
  return is_asset_id(text) && text.find('.') == std::string_view::npos;
}

}  // namespace twind::config
