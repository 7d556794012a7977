// The daemon's Prometheus text exposition (GET /metrics), from counters. Pure.
#pragma once

#include <cstdint>
#include <string>

#include "twind/app/clock.hpp"
#include "twind/app/recorder.hpp"
#include "twind/mqtt/client.hpp"

namespace twind::core {
class Engine;
}

namespace twind::app {

/// Counters of the live driver itself, beside the engine's.
struct DaemonCounters {
  std::uint64_t inbox_dropped = 0;  ///< telemetry lost because the engine fell behind
  std::uint64_t ticks = 0;
  std::uint64_t ticks_skipped = 0;   ///< ticks not taken because the loop fell a period behind
  std::uint64_t publish_failed = 0;  ///< states or alerts the client refused (disconnected)
  std::uint64_t reloads = 0;
  std::uint64_t reloads_refused = 0;
  std::uint64_t publish_denied_topics = 0;  ///< watched topics whose messages never came back
  std::uint64_t publish_republished = 0;    ///< messages of delivery gaps published once more
  std::uint64_t records_waiting = 0;        ///< a replica's alert records not sent yet (paced)
  std::uint64_t records_superseded = 0;     ///< records replaced by a newer one while they waited
  std::uint64_t records_resent = 0;         ///< records and alerts sent again, acknowledged late
  std::uint64_t waiting_dropped = 0;        ///< records and alerts dropped beyond those waiting
  /// How far the engine is behind its input, seconds, at the last tick: the time since it last
  /// had read everything sent to it, or since the tick it took last fell due, whichever is more.
  double lag_seconds = 0.0;
  std::uint64_t behind_periods = 0;  ///< times the lag went past a tick period
  StepFreeClock::Stats clock;        ///< the process clock's steps (wall_clock_stats())
  bool recording = false;  ///< `run --record`: the recorder's counters below are in the exposition
  RecorderStats record;
};

/// Beyond this many assets the exposition carries totals only: one series per asset is what a
/// small plant's dashboard wants and what a fleet's Prometheus cannot afford (and what would cost
/// the engine loop milliseconds every tick).
inline constexpr std::size_t kPerAssetSeriesLimit = 1000;

/// The exposition: the engine's counters and its twins' statuses (per asset up to
/// kPerAssetSeriesLimit assets), the driver's counters, the client's.
[[nodiscard]] std::string prometheus_text(const core::Engine& engine, const DaemonCounters& daemon,
                                          const mqtt::ClientStats& client, bool connected);

}  // namespace twind::app
