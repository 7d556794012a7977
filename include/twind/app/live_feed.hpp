// What the browser dashboard is fed: the engine thread hands every state, alert and diagnosis it
// publishes to the feed; the HTTP server's threads read it back as each asset's recent history
// (the first draw of an asset's page) and as a stream of events (Server-Sent Events, /events).
//
// The feed is the one thing the engine thread and the HTTP threads share for this: a mutex over
// a bounded ring of events and a bounded history per asset. The engine thread only appends (a
// copy of a payload it has just encoded, and a few numbers per state); readers copy out what
// they need. States go into the ring only while a stream is open, so a daemon nobody watches
// pays for the history alone (and nothing with a history of 0).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace twind::core {
class AssetTwin;
}

namespace twind::app {

struct LiveFeedOptions {
  /// States kept per asset for the first draw of its page (0: none). Each costs
  /// 8 * (4 + inputs + 2 * outputs) bytes: 240 of the seed plant (2 min at 500 ms) take 13 KB.
  std::size_t history = 240;
  /// Events kept for the streams; a stream that falls further behind is told it missed some.
  std::size_t events = 4096;
  /// Alerts kept per asset (its page lists them).
  std::size_t alerts = 20;
  /// Streams open at once; each holds one of the HTTP server's threads.
  std::size_t streams = 16;
};

class LiveFeed {
 public:
  enum class Kind { state, alert, diagnosis };
  struct Event {
    std::uint64_t seq = 0;
    Kind kind = Kind::state;
    std::string asset;
    std::string payload;  ///< the message's JSON, as published
  };

  explicit LiveFeed(LiveFeedOptions options = {});

  // --- The engine thread --------------------------------------------------------------------
  void state(const core::AssetTwin& twin, double ts, std::string_view payload);
  void alert(const core::AssetTwin& twin, std::string_view payload);
  void diagnosis(const core::AssetTwin& twin, std::string_view payload);
  /// Wakes the streams waiting for what was appended since the last flush (after each batch of
  /// the engine's work, so that a fleet's tick wakes them once, not once per state).
  void flush();

  // --- The HTTP threads ---------------------------------------------------------------------
  /// {"asset", "inputs": [names], "outputs": [names], "columns": [...], "rows": [[...]...],
  ///  "alerts": [payloads], "diagnosis": payload|null}; empty for an asset it has never seen.
  [[nodiscard]] std::optional<std::string> history_json(std::string_view asset) const;

  struct Batch {
    std::vector<Event> events;
    std::uint64_t next = 0;  ///< the seq to wait after next time
    bool missed = false;     ///< events after the cursor fell out of the ring
    bool closed = false;     ///< the feed is closing: end the stream
  };
  /// The events after `after` for `asset` (every event of it), or for every asset when `asset`
  /// is empty (their alerts and diagnoses only: a fleet's states are /state's), waiting up to
  /// `timeout` for the first. A stream starts from cursor().
  [[nodiscard]] Batch wait(std::uint64_t after, std::string_view asset,
                           std::chrono::milliseconds timeout);
  /// Where a stream that starts now starts: after everything flushed so far.
  [[nodiscard]] std::uint64_t cursor() const;
  /// A stream opens (false when `streams` are open already) and closes.
  [[nodiscard]] bool open_stream();
  void close_stream();
  /// Wakes every stream for good (the server stops).
  void close();

  [[nodiscard]] const LiveFeedOptions& options() const noexcept { return options_; }

 private:
  struct Asset {
    std::vector<std::string> inputs;
    std::vector<std::string> outputs;
    std::size_t width = 0;     ///< numbers per row
    std::vector<double> rows;  ///< a ring of `history` rows
    std::size_t head = 0;      ///< the oldest row
    std::size_t count = 0;
    std::deque<std::string> alerts;
    std::string diagnosis;
  };
  Asset& asset_of(const core::AssetTwin& twin);
  void push(Kind kind, const std::string& asset, std::string_view payload);

  const LiveFeedOptions options_;
  mutable std::mutex mutex_;
  std::condition_variable woken_;
  std::unordered_map<std::string, Asset> assets_;
  std::deque<Event> ring_;
  std::uint64_t seq_ = 0;
  std::uint64_t flushed_ = 0;
  bool closed_ = false;
  std::atomic<std::size_t> streams_{0};
};

}  // namespace twind::app
