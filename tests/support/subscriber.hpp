// An independent MQTT peer for integration tests, built on the Paho C++ client directly (not on
// twind's Client), so that what twind sends is observed by a separate implementation.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace twind::testing {

/// The asset's id in a fleet's topic: its second level (plant/<id>/u, twin/<id>/state).
inline std::string asset_of(const std::string& topic) {
  const std::size_t a = topic.find('/') + 1;
  return topic.substr(a, topic.find('/', a) - a);
}

struct Received {
  std::chrono::steady_clock::time_point at;  ///< arrival, on the steady clock
  /// Arrival on the wall clock, to compare with the Unix times in payloads and logs.
  std::chrono::system_clock::time_point wall;
  std::string topic;
  std::string payload;
  bool retained = false;
  int qos = 0;
};

/// Seconds since the Unix epoch of a wall-clock time point (as twind's and twin-sim's `ts`).
inline double unix_seconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

/// Connects (MQTT 3.1.1, clean session) and subscribes to `filters`, waiting for both (up to 5 s);
/// then records every message that arrives. Thread-safe.
class Subscriber {
 public:
  /// Throws std::runtime_error when the connection or the subscription fails. An empty
  /// `client_id` makes a unique one.
  Subscriber(const std::string& uri, const std::vector<std::string>& filters, int qos = 1,
             std::string client_id = "");
  Subscriber(const Subscriber&) = delete;
  Subscriber& operator=(const Subscriber&) = delete;
  /// Disconnects cleanly.
  ~Subscriber();

  [[nodiscard]] std::vector<Received> messages() const;
  /// The payloads received on `topic`, in arrival order.
  [[nodiscard]] std::vector<std::string> payloads(const std::string& topic) const;
  /// Waits until `done(messages)` holds or `timeout` passes; returns whether it held.
  bool wait_for(const std::function<bool(const std::vector<Received>&)>& done,
                std::chrono::milliseconds timeout) const;
  /// Waits until at least `n` messages arrived on `topic`.
  bool wait_for_count(const std::string& topic, std::size_t n,
                      std::chrono::milliseconds timeout) const;

  /// Publishes as this peer and waits for the broker's acknowledgement (QoS >= 1) or the write
  /// (QoS 0), up to 5 s. Throws std::runtime_error on failure.
  void publish(const std::string& topic, const std::string& payload, int qos = 1,
               bool retained = false);
  [[nodiscard]] bool connected() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace twind::testing
