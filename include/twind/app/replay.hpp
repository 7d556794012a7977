// `twind replay`: the engine driven by a recording instead of a broker. Ticks and every
// timestamp are recording time, so the same input and configuration give the same bytes.
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>

#include "twind/core/engine.hpp"

namespace twind::app {

struct ReplaySummary {
  std::uint64_t lines = 0;      ///< lines read, blank ones included
  std::uint64_t bad_lines = 0;  ///< lines that are not a valid recording line (skipped)
  std::uint64_t records = 0;    ///< valid recording lines, each a message offered to the engine
  /// The first bad line, "line N: why". Bad lines ahead of the first valid one are held back
  /// (up to 100 of them) and reported once a valid line shows the input is a recording; when no
  /// line is valid they are not reported one by one: the caller reports the input as a whole.
  std::string first_bad;
  core::Counters counters;  ///< the engine's: messages, values, states, alerts, rejections
  /// One line: `N lines (B bad), M messages, V values, S states, A alerts, R rejected (...)`.
  [[nodiscard]] std::string str() const;
};

/// Where the driver's human-readable lines go. Each defaults to ignoring them.
struct ReplayHooks {
  /// Diagnostics, each prefixed with its line number (`line 11: ...`): bad recording lines
  /// (see ReplaySummary::first_bad), rejected payloads at
  /// most once per second of recording time per topic, refused commands.
  std::function<void(const std::string&)> warn;
  /// Every alert transition, as `[t=3.06s] ALERT: divergence = 0.18 > 0.15 (plant/y)`, the time
  /// counted from the recording's first line.
  std::function<void(const std::string&)> alert;
  /// Information, with its line number: model changes, commands carried out, assets discovered.
  std::function<void(const std::string&)> info;
};

struct ReplayOptions {
  /// Also write a trace line for every sample a twin accepts, an output's with its comparison
  /// (docs/interfaces.md, "Trace lines"), in order with the messages. Without it the output is
  /// the messages alone.
  bool trace = false;
};

/// Reads a recording from `in` line by line (streaming, constant memory), runs every asset's twin
/// over it and writes the messages the live daemon would have published to `out` as recording
/// lines, in order. Ticks fall on the grid k * tick in recording time (core::TickSchedule with
/// Clock::recording, as the daemon's on the wall clock): a tick at T is taken after every
/// message with t <= T and before any with t > T, up to the last message's time.
/// Throws model::ModelError if the configuration's models cannot be built; never for the input.
ReplaySummary replay(const config::Config& config, std::istream& in, std::ostream& out,
                     const ReplayHooks& hooks = {}, const ReplayOptions& options = {});

}  // namespace twind::app
