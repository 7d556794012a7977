#include "twind/mqtt/topic.hpp"

#include <cstddef>
#include <cstdint>
#include <stdexcept>

namespace twind::mqtt {
namespace {

constexpr std::size_t kMaxTopicBytes = 65535;  // the length prefix of an MQTT string is 16 bits

// Well-formed UTF-8 per RFC 3629 (no overlong forms, no surrogates, nothing above U+10FFFF),
// and no U+0000, which MQTT forbids in strings (section 1.5.3).
bool valid_mqtt_utf8(std::string_view s) {
  std::size_t i = 0;
  const std::size_t n = s.size();
  while (i < n) {
    const auto b0 = static_cast<std::uint8_t>(s[i]);
    if (b0 == 0) return false;
    if (b0 < 0x80) {
      ++i;
      continue;
    }
    std::size_t len = 0;
    std::uint8_t lo = 0x80;
    std::uint8_t hi = 0xBF;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
      len = 2;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
      len = 3;
      if (b0 == 0xE0) lo = 0xA0;  // overlong
      if (b0 == 0xED) hi = 0x9F;  // surrogates U+D800..U+DFFF
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
      len = 4;
      if (b0 == 0xF0) lo = 0x90;  // overlong
      if (b0 == 0xF4) hi = 0x8F;  // above U+10FFFF
    } else {
      return false;
    }
    if (n - i < len) return false;
    const auto b1 = static_cast<std::uint8_t>(s[i + 1]);
    if (b1 < lo || b1 > hi) return false;
    for (std::size_t k = 2; k < len; ++k) {
      const auto bk = static_cast<std::uint8_t>(s[i + k]);
      if (bk < 0x80 || bk > 0xBF) return false;
    }
    i += len;
  }
  return true;
}

bool valid_mqtt_string(std::string_view s) {
  return !s.empty() && s.size() <= kMaxTopicBytes && valid_mqtt_utf8(s);
}

}  // namespace

bool valid_topic_name(std::string_view topic) {
  return valid_mqtt_string(topic) && topic.find_first_of("+#") == std::string_view::npos;
}

bool valid_topic_filter(std::string_view filter) {
  if (!valid_mqtt_string(filter)) return false;
  std::size_t begin = 0;
  while (true) {
    const std::size_t end = filter.find('/', begin);
    const bool last = end == std::string_view::npos;
    const std::string_view level =
        filter.substr(begin, last ? std::string_view::npos : end - begin);
    if (level.find('#') != std::string_view::npos && (level != "#" || !last)) return false;
    if (level.find('+') != std::string_view::npos && level != "+") return false;
    if (last) return true;
    begin = end + 1;
  }
}

bool topic_matches(std::string_view filter, std::string_view topic) {
  if (!valid_topic_filter(filter) || !valid_topic_name(topic)) return false;
  if (topic.front() == '$' && (filter.front() == '+' || filter.front() == '#')) return false;
  std::size_t f = 0;
  std::size_t t = 0;
  bool topic_done = false;
  while (true) {
    const std::size_t f_end = filter.find('/', f);
    const bool f_last = f_end == std::string_view::npos;
    const std::string_view f_level = filter.substr(f, f_last ? std::string_view::npos : f_end - f);
    // '#' also matches the parent level: "a/#" matches "a".
    if (f_level == "#") return true;
    if (topic_done) return false;
    const std::size_t t_end = topic.find('/', t);
    const bool t_last = t_end == std::string_view::npos;
    const std::string_view t_level = topic.substr(t, t_last ? std::string_view::npos : t_end - t);
    if (f_level != "+" && f_level != t_level) return false;
    if (f_last) return t_last;
    f = f_end + 1;
    if (t_last) {
      topic_done = true;
    } else {
      t = t_end + 1;
    }
  }
}

void check_subscription(const std::vector<std::string>& filters, int qos) {
  if (qos < 0 || qos > 2) {
    throw std::invalid_argument("subscribe: got QoS " + std::to_string(qos) +
                                ", expected 0, 1 or 2");
  }
  for (const std::string& f : filters) {
    if (!valid_topic_filter(f)) {
      throw std::invalid_argument("subscribe: got topic filter \"" + f +
                                  "\", expected a valid MQTT topic filter");
    }
  }
}

}  // namespace twind::mqtt
