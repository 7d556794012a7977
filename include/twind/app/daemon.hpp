// The live driver: the engine fed from MQTT and driven by the wall clock. Thin by design: all the
// twin logic is core::Engine's, the tick grid core::TickSchedule's, what the output becomes
// PublishingSink's; this wires them to the broker connection, the clock and the threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "twind/app/clock.hpp"
#include "twind/app/diagnosis_worker.hpp"
#include "twind/app/inbox.hpp"
#include "twind/app/metrics.hpp"
#include "twind/app/recorder.hpp"
#include "twind/config/config.hpp"
#include "twind/mqtt/client.hpp"

namespace twind::app {

class LiveFeed;

/// What the daemon reports about itself (for /metrics, /state, /healthz and logs): immutable,
/// taken on the engine thread after every tick period and after every reload.
struct DaemonSnapshot {
  double ts = 0.0;    ///< the last tick's time (0 before the first)
  double tick = 0.0;  ///< the configured tick in force, seconds: how often `ts` moves on
  std::vector<std::pair<std::string, std::string>> states;  ///< asset id -> latest twin/state
  std::string metrics;                                      ///< Prometheus text exposition
  bool connected = false;
  bool behind = false;  ///< lagging its input by more than a tick period (counters.lag_seconds)
  DaemonCounters counters;
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
  /// Wall clock, Unix seconds (by default wall_clock_now(), which never steps): stamps the
  /// client's events (on the client's threads) and drives run(). Tests may replace it (and drive
  /// poll() themselves).
  std::function<double()> clock;
  /// broker.check_publish: seconds a message published on a watched topic may take to come back
  /// before the topic is reported as denied.
  double publish_check_timeout = 5.0;
  /// `run --record`: every inbound message handed to the engine (twind's own, coming back for
  /// the publication check, excepted) is also handed, with its arrival time, to this recorder,
  /// on the engine thread; record() only queues it for the recorder's writer thread. Not owned;
  /// null: none.
  Recorder* recorder = nullptr;
  /// The browser dashboard's feed: every state, alert and diagnosis is handed to it on the
  /// engine thread, and its streams are woken after each poll. Not owned; null: none.
  LiveFeed* feed = nullptr;
};

/// Runs every asset's twin live.
///
/// Threads, and who owns what:
/// - a threaded client's threads call the mqtt::Handler functions, which only stamp the time
///   (clock) and post an event (connected, disconnected with its cause, message) to the inbox;
///   a driven client (mqtt::Client::driven()) calls them on the engine thread, from the
///   client's drive() in run(), and they are handled at once, with no copy and no hand-off;
/// - stop() and reload() may be called from any thread (the signal thread): they post too;
/// - the engine thread, the one caller of poll() (run() is a loop around it), owns everything
///   else: the engine, the configuration in force, the tick schedule, the publication check and
///   the connection report. It takes the events in order, publishes (`online` on a connection
///   included), ticks, logs, and hands out the snapshot;
/// - snapshot() may be called from any thread (the HTTP server's): it returns the latest
///   immutable snapshot.
/// The inbox is the one place those threads meet; the snapshot is handed over whole, under a lock
/// held for the pointer copy only.
class Daemon final : public mqtt::Handler {
 public:
  /// Builds the engine and subscribes (before the client starts: it subscribes on every
  /// connection, so nothing published between the first connection and run() is missed).
  Daemon(config::Config config, mqtt::Client& client, DaemonOptions options = {});
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  /// The engine thread's loop: waits for an event or the next tick, and polls at the clock's
  /// time, until stop(). Returns when stopped; the caller then stops the client (publishing
  /// `offline`).
  void run();

  /// One step of the engine thread: handles the waiting events in order (at most `max_events`
  /// of them; the rest wait for the next call), then takes the ticks due at `now` and polls the
  /// publication check. Returns false once a stop has been handled (nothing is done after it).
  bool poll(double now, std::size_t max_events = std::numeric_limits<std::size_t>::max());

  void stop();
  /// Queues a new, already validated configuration; the engine thread swaps it in between two
  /// messages (Engine::reconfigure) and logs what changed.
  void reload(config::Config next);

  /// The latest snapshot (any thread; never null).
  [[nodiscard]] std::shared_ptr<const DaemonSnapshot> snapshot() const;
  /// The driver's counters as they are now. Engine thread only (or once run() has returned);
  /// other threads read snapshot()->counters.
  [[nodiscard]] DaemonCounters counters() const;

  /// `twin/status` payloads: online at every connection, offline as the will and at shutdown.
  [[nodiscard]] static std::string status_payload(std::string_view state, double ts);

  // mqtt::Handler: stamp and post, nothing else.
  void on_connected() override;
  void on_disconnected(const std::string& cause) override;
  void on_message(std::string_view topic, std::string_view payload) override;

 private:
  struct Loop;  // the engine thread's state (daemon.cpp)

  void handle(Event& e, double now);
  void connected(const event::Connected& c);
  // A replica's: another member's announcement (or its own, back), and what it then holds.
  void announcement(std::string_view member, std::string_view payload, double now);
  void alert_record(std::string_view asset, std::string_view payload, double arrival);
  // A replica's run: a new id, at start and at each connection (its announcements and alert
  // records carry it).
  void new_run();
  void apply_ownership();
  void disconnected(const event::Disconnected& d);
  void message(std::string_view topic, std::string_view payload, double arrival);
  void run_driven();
  void apply(config::Config& next, double now);
  void take_ticks(double now);
  // Hands the jobs the ticks cut to the diagnosis thread; takes a result back.
  void send_diagnoses();
  void diagnosed(const core::DiagnosisResult& result, double now);
  void note_records_waiting(double now);
  void acknowledged(double now);
  [[nodiscard]] bool hearing() const;
  void note_lag(double now, double due);
  void publish_status(double at);
  void take_snapshot(double ts, bool period_complete);

  DaemonOptions options_;
  bool driven_ = false;  // the client is driven from run(): its events are handled at once
  Inbox inbox_;
  std::unique_ptr<Loop> loop_;
  // Made at the first diagnosis; owns its thread, which posts to inbox_: declared after it, so
  // that it stops first.
  std::unique_ptr<DiagnosisWorker> worker_;
  // Handed over whole: the engine thread swaps the pointer in, any thread copies it out; the
  // lock is held for the pointer copy only.
  mutable std::mutex snapshot_mutex_;
  std::shared_ptr<const DaemonSnapshot> snapshot_;
};

}  // namespace twind::app
