// `twind replay`: the engine driven by a recording instead of a broker. Ticks and every
// timestamp are recording time, so the same input and configuration give the same bytes.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>

#include "twind/core/types.hpp"

namespace twind::config {
struct Config;
}

namespace twind::app {

struct ReplaySummary {
  std::uint64_t lines = 0;      ///< lines read, blank ones included
  std::uint64_t bad_lines = 0;  ///< lines that are not a valid recording line (skipped)
  std::uint64_t messages = 0;   ///< messages offered to the engine
  std::uint64_t values = 0;     ///< values accepted by a twin
  std::uint64_t states = 0;
  std::uint64_t alerts = 0;
  std::array<std::uint64_t, kRejectKinds> rejected{};
  [[nodiscard]] std::uint64_t rejected_total() const noexcept;
  /// One line: `N lines (B bad), M messages, V values, S states, A alerts, R rejected (...)`.
  [[nodiscard]] std::string str() const;
};

/// Where the driver's human-readable lines go. Both default to ignoring them.
struct ReplayHooks {
  /// Diagnostics: bad recording lines with their line numbers, rejected payloads at most once
  /// per second of recording time per topic.
  std::function<void(const std::string&)> warn;
  /// Every alert transition, as `[t=3.06s] ALERT: divergence = 0.18 > 0.15 (plant/y)`, the time
  /// counted from the recording's first line.
  std::function<void(const std::string&)> alert;
};

/// Reads a recording from `in` line by line (streaming, constant memory), runs every asset's twin
/// over it and writes the messages the live daemon would have published to `out` as recording
/// lines, in order. Ticks fall on the grid k * tick in recording time: a tick at T is taken after
/// every message with t <= T and before any with t > T, up to the last message's time.
/// Throws model::ModelError if the configuration's models cannot be built; never for the input.
ReplaySummary replay(const config::Config& config, std::istream& in, std::ostream& out,
                     const ReplayHooks& hooks = {});

}  // namespace twind::app
