// The topic filters an adapter subscribes on every connection. Not thread-safe: each adapter
// keeps it under its own lock.
#pragma once

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

namespace twind::mqtt::detail {

struct Subscriptions {
  std::vector<std::pair<std::string, int>> all;    ///< subscribed on every connection
  std::vector<std::pair<std::string, int>> fresh;  ///< added since the connection's subscribe
  std::vector<std::string> optional;               ///< a refusal does not fail the connection
  /// Removed by unsubscribe() and not yet unsubscribed on a live connection. Kept across a
  /// reconnection (a session the broker kept, clean_session = false, may still hold them); a
  /// filter is never in both `fresh` and `gone`, so the order of the two sends does not matter.
  std::vector<std::string> gone;

  /// Adds filters (a known one takes the new QoS) to `all` and to `fresh`.
  void add(const std::vector<std::string>& filters, int qos) {
    for (const std::string& f : filters) {
      std::erase(gone, f);
      const auto it = std::find_if(all.begin(), all.end(),
                                   [&](const auto& existing) { return existing.first == f; });
      if (it == all.end()) {
        all.emplace_back(f, qos);
      } else {
        it->second = qos;
      }
      fresh.emplace_back(f, qos);
    }
  }

  /// Removes filters from `all`, `fresh` and `optional`; those that were in `all` go to `gone`.
  void remove(const std::vector<std::string>& filters) {
    for (const std::string& f : filters) {
      const auto it = std::find_if(all.begin(), all.end(),
                                   [&](const auto& existing) { return existing.first == f; });
      if (it == all.end()) continue;
      all.erase(it);
      std::erase_if(fresh, [&](const auto& s) { return s.first == f; });
      std::erase(optional, f);
      if (std::find(gone.begin(), gone.end(), f) == gone.end()) gone.push_back(f);
    }
  }

  void add_optional(const std::vector<std::string>& filters) {
    for (const std::string& f : filters) {
      if (!is_optional(f)) optional.push_back(f);
    }
  }

  [[nodiscard]] bool is_optional(const std::string& f) const {
    return std::find(optional.begin(), optional.end(), f) != optional.end();
  }
};

}  // namespace twind::mqtt::detail
