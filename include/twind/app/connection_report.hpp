// What the daemon says about its broker connection, one line per event worth a line: a
// connection, its loss, and failed attempts, each distinct cause in full once and then once a
// minute with the count of attempts while it repeats (a wrong password retried with backoff for
// a weekend must not fill the journal). Pure: the caller hands in the times and logs the lines.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <unordered_set>

#include "twind/app/publisher.hpp"
#include "twind/core/rate_limit.hpp"

namespace twind::app {

struct ReportLine {
  LogLevel level = LogLevel::info;
  std::string text;
};

class ConnectionReport {
 public:
  /// A cause that repeats is reported once per `interval` seconds; at most `max_causes`
  /// distinct causes are remembered.
  explicit ConnectionReport(double interval = 60.0, std::size_t max_causes = 64)
      : interval_(interval), max_causes_(max_causes), limiter_(interval, max_causes) {}

  /// Connected (and subscribed to `topics` filters). A failure after it is a new one, reported
  /// in full again.
  /// `uri`: the node reached (mqtt::Client::connected_uri()), named when not empty.
  [[nodiscard]] ReportLine connected(std::size_t topics, const std::string& uri = "");
  /// The connection was lost, or an attempt failed, at `at`. Empty when the line is held back.
  [[nodiscard]] std::optional<ReportLine> disconnected(const std::string& cause, double at);
  [[nodiscard]] bool is_connected() const noexcept { return connected_; }

 private:
  double interval_;
  std::size_t max_causes_;
  bool connected_ = false;
  core::RateLimiter limiter_;
  std::unordered_set<std::string> seen_;
};

}  // namespace twind::app
