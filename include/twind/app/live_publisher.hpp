// The daemon's Publisher: messages to the broker through mqtt::Client, human lines to the log,
// and the publication check (broker.check_publish, see publish_check.hpp) wrapped around both:
// what goes out on a watched topic is expected back, and twind's own messages coming back are
// evidence for the check rather than telemetry. When the check finds that the broker dropped
// what it acknowledged for a while and then delivers again, the QoS 1 messages that are not
// retained (alerts, diagnoses, model changes, replies) of that gap are published once more:
// the last minute of them is kept (at most kKeepMessages).
//
// Threads: used on the daemon's engine thread only (the client it calls is thread-safe).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "twind/app/publish_check.hpp"
#include "twind/app/publisher.hpp"
#include "twind/mqtt/client.hpp"

namespace twind::app {

/// Logs one line through the process's logger.
void log_line(LogLevel level, const std::string& line);

class LivePublisher final : public Publisher {
 public:
  /// `check`: broker.check_publish; `timeout`: seconds a watched message may take to come back.
  LivePublisher(mqtt::Client& client, bool check, double timeout);

  /// The QoS of its subscriptions (default 1).
  void set_watch_qos(int qos) { watch_qos_ = qos; }
  /// Watches `topic` (the status topic) and subscribes to it. Nothing without the check.
  void watch(const std::string& topic);
  /// Watches the state and alert topics of `twin`, the first asset only: later calls do nothing
  /// until the watched asset is let go.
  void watch_asset(const core::AssetTwin& twin);
  /// A replica let the watched asset go (its states stop): its topics are no longer watched, and
  /// `next`, when given, is watched instead.
  void let_go_of_asset(const core::AssetTwin* next);
  /// The asset watched ("" when none).
  [[nodiscard]] const std::string& watched_asset() const noexcept { return watched_asset_; }

  /// The clock's reading now: the time of the publications that follow, for the check.
  void set_clock(double now) { now_ = now; }

  bool publish(std::string_view topic, std::string_view payload, int qos, bool retained,
               double ts) override;
  void log(LineKind kind, LogLevel level, const std::string& line) override;
  /// Discovery: the first asset discovered is watched when none was configured.
  void discovered(const core::AssetTwin& twin) override { watch_asset(twin); }

  /// A connection made or lost: what was pending or confirmed says nothing any more.
  void connection_changed();
  /// A message from the broker. True when it is on a watched topic: evidence for the check,
  /// which the caller must not take as telemetry.
  bool echo(std::string_view topic, std::string_view payload);
  /// Logs what the check found by `now` (denials, deliveries again) and publishes once more the
  /// messages of a gap it found; returns how many watched topics stand denied.
  std::size_t poll_check(double now);
  /// Messages published once more after gaps, in all.
  [[nodiscard]] std::uint64_t republished() const noexcept { return republished_; }

  /// Seconds of QoS 1 messages kept for a gap, and at most how many.
  static constexpr double kKeepSeconds = 60.0;
  static constexpr std::size_t kKeepMessages = 4096;

 private:
  struct Kept {
    double at = 0.0;
    std::string topic;
    std::string payload;
  };
  void keep(std::string_view topic, std::string_view payload);
  void republish(double since, double until);

  mqtt::Client& client_;
  const bool check_;
  int watch_qos_ = 1;
  const double timeout_;
  std::string watched_asset_;  // "" until one is watched
  std::vector<std::string> asset_topics_;
  std::vector<std::string> retired_;  // topics watched before: an echo still on its way is no input
  double now_ = 0.0;
  PublishCheck watch_;
  std::deque<Kept> kept_;
  double republished_until_ = 0.0;
  std::uint64_t acked_ = 0;  // the client's QoS 1 acknowledgements at the last poll
  std::uint64_t republished_ = 0;
};

}  // namespace twind::app
