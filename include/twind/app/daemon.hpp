// The live driver: the engine fed from MQTT and driven by the wall clock. Thin by design: all the
// twin logic is core::Engine's; this owns the threads, the clock and the broker connection.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <variant>
#include <vector>

#include "twind/app/publish_check.hpp"
#include "twind/config/config.hpp"
#include "twind/core/rate_limit.hpp"
#include "twind/mqtt/client.hpp"

namespace twind::core {
class Engine;
}

namespace twind::app {

/// The wall clock as Unix seconds: the daemon's default clock and the time of its status messages.
[[nodiscard]] double wall_clock_now();

/// What the daemon reports about itself (for /metrics, /state and logs). A copy, taken on the
/// engine thread after every tick.
struct DaemonSnapshot {
  double ts = 0.0;                                          ///< the tick it was taken on
  std::vector<std::pair<std::string, std::string>> states;  ///< asset id -> latest twin/state
  std::string metrics;                                      ///< Prometheus text exposition
  bool connected = false;
  std::uint64_t ticks = 0;
  std::uint64_t messages = 0;  ///< inbound messages processed
  std::uint64_t alerts = 0;    ///< alert transitions
};

struct DaemonOptions {
  std::size_t max_inbox = 200000;  ///< messages waiting for the engine; past it, counted drops
  /// Keep every asset's latest state for snapshot() (the HTTP /state view); without HTTP, a
  /// fleet's states need not be copied every tick.
  bool keep_states = true;
  /// Called on the engine thread at every tick (e.g. the systemd watchdog).
  std::function<void()> on_tick;
  /// Wall clock, Unix seconds (tests may speed it up or freeze it).
  std::function<double()> clock;
  /// broker.check_publish: seconds a message published on a watched topic may take to come back
  /// before the topic is reported as denied.
  double publish_check_timeout = 5.0;
};

/// Counters of the live driver itself, beside the engine's.
struct DaemonCounters {
  std::uint64_t inbox_dropped = 0;  ///< telemetry lost because the engine fell behind
  std::uint64_t ticks = 0;
  std::uint64_t ticks_skipped = 0;   ///< ticks not taken because the loop fell a period behind
  std::uint64_t publish_failed = 0;  ///< states or alerts the client refused (disconnected)
  std::uint64_t reloads = 0;
  std::uint64_t reloads_refused = 0;
  std::uint64_t publish_denied_topics = 0;  ///< watched topics whose messages never came back
};

/// Runs every asset's twin live.
///
/// Threads: the client's threads call the mqtt::Handler functions, which only stamp the arrival
/// time and queue; one engine thread (the caller of run()) decodes, integrates, ticks and
/// publishes. stop() and reload() may be called from any thread (a signal-handling thread).
class Daemon final : public mqtt::Handler {
 public:
  Daemon(config::Config config, mqtt::Client& client, DaemonOptions options = {});
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  /// Subscribes, then processes telemetry and ticks until stop(). Returns when stopped; the
  /// caller then stops the client (publishing `offline`).
  void run();

  void stop();
  /// Queues a new, already validated configuration; the engine thread swaps it in between two
  /// messages (Engine::reconfigure) and logs what changed.
  void reload(config::Config next);

  /// The latest snapshot (thread-safe; never null after construction).
  [[nodiscard]] std::shared_ptr<const DaemonSnapshot> snapshot() const;
  [[nodiscard]] DaemonCounters counters() const;

  /// `twin/status` payloads: online at every connection, offline as the will and at shutdown.
  [[nodiscard]] static std::string status_payload(std::string_view state, double ts);

  // mqtt::Handler
  void on_connected() override;
  void on_disconnected(const std::string& cause) override;
  void on_message(std::string_view topic, std::string_view payload) override;

 private:
  struct Message {
    std::string topic;
    std::string payload;
    double arrival = 0.0;
  };
  struct Reload {
    config::Config config;
  };
  struct Stop {};
  using Event = std::variant<Message, Reload, Stop>;

  class Sink;
  void post(Event e);
  void apply(Reload& r);
  void take_snapshot(double ts);
  [[nodiscard]] double now() const;
  // broker.check_publish: the twin whose topics are watched (the first one), and the watch.
  void watch_asset(const std::string& state_topic, const std::string& alert_topic);
  // client_.publish(), watched by the publication check when `watched`.
  bool publish(const std::string& topic, std::string_view payload, int qos, bool retained,
               bool watched);
  void poll_publish_check();

  config::Config config_;
  mqtt::Client& client_;
  DaemonOptions options_;
  std::unique_ptr<core::Engine> engine_;
  std::unique_ptr<Sink> sink_;

  bool waiting_ = false;      // the engine thread waits on wake_ (guarded by mutex_)
  mutable std::mutex mutex_;  // guards inbox_, counters_ (driver part) and snapshot_
  std::condition_variable wake_;
  std::deque<Event> inbox_;
  DaemonCounters counters_;
  std::shared_ptr<const DaemonSnapshot> snapshot_;
  std::atomic<bool> connected_{false};

  // The publication check. watched_asset_ is the engine thread's; check_ is shared with the
  // client's threads (the status published on connection, echoes received) under check_mu_.
  bool check_publish_ = false;
  std::string watched_asset_;
  mutable std::mutex check_mu_;
  PublishCheck check_;
  // Connection failures reported (the client's worker thread), each cause once a minute, since
  // the last connection.
  std::mutex failures_mu_;
  core::RateLimiter failures_;
  std::unordered_set<std::string> failures_seen_;
};

}  // namespace twind::app
