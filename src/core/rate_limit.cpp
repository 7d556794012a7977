#include "twind/core/rate_limit.hpp"

namespace twind::core {

bool RateLimiter::allow(std::string_view key, double now, std::uint64_t& suppressed) {
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    // A flood of distinct keys (random topics) must not grow memory without bound: forget them
    // all and start again, at worst logging a few lines more than once a second.
    if (entries_.size() >= max_keys_) entries_.clear();
    entries_.emplace(std::string(key), Entry{now, 0});
    suppressed = 0;
    return true;
  }
  Entry& e = it->second;
  if (now - e.last >= interval_ || now < e.last) {
    suppressed = e.suppressed;
    e = Entry{now, 0};
    return true;
  }
  ++e.suppressed;
  return false;
}

}  // namespace twind::core
