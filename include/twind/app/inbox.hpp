// The one queue into the daemon's engine thread: everything another thread has to say to it
// (the MQTT client's connections, losses and messages; reloads and stops from the signal
// thread; diagnoses from the diagnosis thread) is posted here as an event, stamped with its
// time, and the engine thread takes it from here. Nothing else crosses between those threads.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <variant>

#include "twind/config/config.hpp"
#include "twind/core/diagnosis.hpp"

namespace twind::app {

namespace event {
/// A connection to the broker (the client has subscribed again).
struct Connected {
  double at = 0.0;
};
/// A lost connection, or a failed connection attempt.
struct Disconnected {
  std::string cause;
  double at = 0.0;
};
/// A message from the broker: telemetry, a command, or one of twind's own coming back.
struct Message {
  std::string topic;
  std::string payload;
  double arrival = 0.0;
};
/// A new, validated configuration to swap in.
struct Reload {
  config::Config config;
};
struct Stop {};
/// A diagnosis computed by the DiagnosisWorker, for the engine to take back.
struct Diagnosed {
  std::unique_ptr<core::DiagnosisResult> result;
};
}  // namespace event

using Event = std::variant<event::Message, event::Connected, event::Disconnected, event::Reload,
                           event::Stop, event::Diagnosed>;

/// Thread-safe. Bounded for messages: past `max_messages` events waiting, a message is dropped
/// and counted (the other events are rare and never dropped).
class Inbox {
 public:
  explicit Inbox(std::size_t max_messages) : max_messages_(max_messages) {}

  void post(Event e);
  /// Moves every waiting event to the back of `out`, in order. Never blocks for long.
  void take(std::deque<Event>& out);
  /// Blocks until an event waits or `timeout` has passed.
  void wait(std::chrono::duration<double> timeout);
  /// Messages dropped so far.
  [[nodiscard]] std::uint64_t dropped() const;

 private:
  const std::size_t max_messages_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool waiting_ = false;  // a thread is in wait(): only then is a post worth a notification
  std::deque<Event> events_;
  std::uint64_t dropped_ = 0;
};

}  // namespace twind::app
