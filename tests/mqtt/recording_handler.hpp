// A thread-safe mqtt::Handler that records what it hears, for the fake's and Paho's tests.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "twind/mqtt/client.hpp"

namespace twind::mqtt::testing {

struct Event {
  enum class Kind { connected, disconnected, message };
  Kind kind;
  std::string topic;  ///< message
  std::string text;   ///< payload, or the disconnection cause
};

class RecordingHandler final : public Handler {
 public:
  void on_connected() override { add({Event::Kind::connected, {}, {}}); }
  void on_disconnected(const std::string& cause) override {
    add({Event::Kind::disconnected, {}, cause});
  }
  void on_message(std::string_view topic, std::string_view payload) override {
    add({Event::Kind::message, std::string(topic), std::string(payload)});
    if (on_message_hook) on_message_hook(topic, payload);
  }

  [[nodiscard]] std::vector<Event> events() const {
    std::lock_guard lock(mu_);
    return events_;
  }
  [[nodiscard]] std::size_t count(Event::Kind kind) const {
    std::lock_guard lock(mu_);
    std::size_t n = 0;
    for (const Event& e : events_) n += e.kind == kind ? 1U : 0U;
    return n;
  }
  /// Payloads received on `topic`, in order.
  [[nodiscard]] std::vector<std::string> payloads(std::string_view topic) const {
    std::lock_guard lock(mu_);
    std::vector<std::string> out;
    for (const Event& e : events_) {
      if (e.kind == Event::Kind::message && e.topic == topic) out.push_back(e.text);
    }
    return out;
  }
  bool wait_for(const std::function<bool(const std::vector<Event>&)>& done,
                std::chrono::milliseconds timeout) const {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return done(events_); });
  }
  bool wait_for_count(Event::Kind kind, std::size_t n, std::chrono::milliseconds timeout) const {
    return wait_for(
        [&](const std::vector<Event>& all) {
          std::size_t c = 0;
          for (const Event& e : all) c += e.kind == kind ? 1U : 0U;
          return c >= n;
        },
        timeout);
  }

  /// Called after a message is recorded, on the client's thread (for re-entrancy tests).
  std::function<void(std::string_view, std::string_view)> on_message_hook;

 private:
  void add(Event e) {
    std::lock_guard lock(mu_);
    events_.push_back(std::move(e));
    cv_.notify_all();
  }

  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::vector<Event> events_;
};

}  // namespace twind::mqtt::testing
