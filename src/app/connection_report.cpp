#include "twind/app/connection_report.hpp"

namespace twind::app {

ReportLine ConnectionReport::connected(std::size_t topics, const std::string& uri) {
  connected_ = true;
  seen_.clear();
  limiter_ = core::RateLimiter{interval_, max_causes_};
  return {LogLevel::info, "connected to the broker" + (uri.empty() ? std::string() : " at " + uri) +
                              "; subscribed to " + std::to_string(topics) + " topics"};
}

std::optional<ReportLine> ConnectionReport::disconnected(const std::string& cause, double at) {
  if (connected_) {
    connected_ = false;
    return ReportLine{LogLevel::warning,
                      "lost the broker: " + cause + "; reconnecting with backoff"};
  }
  if (seen_.size() >= max_causes_) seen_.clear();  // bounded
  const bool first = seen_.insert(cause).second;
  std::uint64_t suppressed = 0;
  if (!limiter_.allow(cause, at, suppressed)) return std::nullopt;
  if (first) {
    return ReportLine{LogLevel::error,
                      "cannot reach the broker: " + cause +
                          "; retrying with backoff (repeats are logged once a minute)"};
  }
  return ReportLine{LogLevel::warning, "still cannot reach the broker: " + cause + " (" +
                                           std::to_string(suppressed + 1) +
                                           " more failed attempts since the last report)"};
}

}  // namespace twind::app
