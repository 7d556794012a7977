// Per-key rate limiting of log lines: a rejected payload is logged at most once per second per
// topic (docs/interfaces.md, "Inbound payloads"). Pure: the caller hands in the time.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

namespace twind::core {

class RateLimiter {
 public:
  explicit RateLimiter(double interval = 1.0, std::size_t max_keys = 4096)
      : interval_(interval), max_keys_(max_keys) {}

  /// Whether an event for `key` at `now` may be logged. When it may, `suppressed` receives the
  /// number of events for that key swallowed since the last one logged.
  bool allow(std::string_view key, double now, std::uint64_t& suppressed);

 private:
  struct Entry {
    double last = 0.0;
    std::uint64_t suppressed = 0;
  };
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };
  double interval_;
  std::size_t max_keys_;  // bounds memory against a flood of distinct topics
  std::unordered_map<std::string, Entry, Hash, std::equal_to<>> entries_;
};

}  // namespace twind::core
