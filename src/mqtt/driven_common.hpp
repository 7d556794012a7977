// What the two driven clients (paho_driven.cpp, native_client.cpp) share: their counters, which
// stats() reads from any thread, and the QoS 0 messages that wait for room in the send buffer.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "twind/mqtt/client.hpp"

namespace twind::mqtt::detail {

/// Written by the owner's thread (and the connector's, for connections); read by stats().
struct Counters {
  std::atomic<std::uint64_t> connects{0};
  std::atomic<std::uint64_t> connect_failures{0};
  std::atomic<std::uint64_t> published{0};
  std::atomic<std::uint64_t> delivered{0};
  std::atomic<std::uint64_t> dropped{0};
  std::atomic<std::uint64_t> received{0};
  std::atomic<std::uint64_t> superseded{0};
  std::atomic<std::size_t> outbox{0};
  std::atomic<std::size_t> waiting{0};

  static void add(std::atomic<std::uint64_t>& counter, std::uint64_t n = 1) noexcept {
    counter.fetch_add(n, std::memory_order_relaxed);
  }

  [[nodiscard]] ClientStats snapshot() const noexcept {
    constexpr auto r = std::memory_order_relaxed;
    ClientStats s;
    s.connects = connects.load(r);
    s.connect_failures = connect_failures.load(r);
    s.published = published.load(r);
    s.delivered = delivered.load(r);
    s.dropped = dropped.load(r);
    s.received = received.load(r);
    s.outbox = outbox.load(r);
    s.superseded = superseded.load(r);
    s.waiting = waiting.load(r);
    return s;
  }
};

/// QoS 0 messages that found no room: the newest of each topic, in the order the topics began to
/// wait, at most kMaxTopics topics. The owner's thread's alone.
class WaitingMessages {
 public:
  static constexpr std::size_t kMaxTopics = 1U << 18U;

  explicit WaitingMessages(Counters& counters) : counters_(counters) {}

  [[nodiscard]] bool empty() const noexcept { return order_.empty(); }

  /// Keeps a message, replacing (and counting as superseded) the one of its topic that still
  /// waits. Returns false, counted as dropped, when a new topic finds kMaxTopics waiting.
  bool hold(std::string_view topic, std::string_view payload, bool retained) {
    std::string key(topic);
    const auto it = held_.find(key);
    if (it != held_.end()) {
      it->second.payload.assign(payload);
      it->second.retained = retained;
      Counters::add(counters_.superseded);
      return true;
    }
    if (held_.size() >= kMaxTopics) {
      Counters::add(counters_.dropped);
      return false;
    }
    order_.push_back(key);
    held_.emplace(std::move(key), Held{std::string(payload), retained});
    counters_.waiting.store(held_.size(), std::memory_order_relaxed);
    return true;
  }

  /// Hands the waiting messages, oldest topic first, to `write(topic, payload, retained)` until
  /// it returns false (no room: that message keeps waiting).
  template <class Write>
  void drain(Write&& write) {
    while (!order_.empty()) {
      const auto it = held_.find(order_.front());
      if (!write(std::string_view(it->first), std::string_view(it->second.payload),
                 it->second.retained)) {
        break;
      }
      held_.erase(it);
      order_.pop_front();
    }
    counters_.waiting.store(held_.size(), std::memory_order_relaxed);
  }

  /// Lets every waiting message go, counted as dropped (a lost connection, stop()).
  void forget() {
    Counters::add(counters_.dropped, held_.size());
    held_.clear();
    order_.clear();
    counters_.waiting.store(0, std::memory_order_relaxed);
  }

 private:
  struct Held {
    std::string payload;
    bool retained = false;
  };
  Counters& counters_;
  std::unordered_map<std::string, Held> held_;
  std::deque<std::string> order_;
};

}  // namespace twind::mqtt::detail
