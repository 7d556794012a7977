// When the engine ticks: the grid both drivers share. Pure: the driver reads its clock (the wall
// clock live, the recording's time in replay) and asks which ticks are due; the schedule never
// reads a clock and does no I/O.
#pragma once

#include <cstdint>

namespace twind::core {

/// Ticks (sub-ticks with tick_spread: Engine::tick_interval() apart, Engine::slots() to a
/// period) fall on the grid k * interval, k an integer: no drift from adding up a period that a
/// double cannot represent exactly at Unix-time magnitudes.
class TickSchedule {
 public:
  /// What the time handed to take() is, which decides the two rules where the drivers differ.
  enum class Clock : std::uint8_t {
    /// The wall clock runs on while the loop is busy. The first tick is the first grid point
    /// after the start (the start itself has passed by the time the loop looks). A loop that
    /// fell a whole period (or more) behind takes the latest period's ticks only (one state
    /// per asset rather than a burst of late ones) and counts the others as skipped.
    wall,
    /// Recording time advances only as the driver reads it, so it never lags behind the
    /// engine: no tick is ever skipped, however long a gap in the recording. The first tick is
    /// the first grid point at or after the start (the first line's time).
    recording,
  };
  /// Which ticks take() hands out: those at or before the time, or only those strictly before
  /// it (replay ticks strictly before a message's time ahead of the message, and up to and
  /// including the last line's time at the end).
  enum class Bound : std::uint8_t { through, before };

  /// The ticks to take now: indices first .. end-1, each at time(k).
  struct Due {
    std::int64_t first = 0;
    std::int64_t end = 0;
    std::uint64_t skipped = 0;  ///< ticks passed over before `first` (Clock::wall only)
    [[nodiscard]] bool empty() const noexcept { return first == end; }
    [[nodiscard]] std::uint64_t size() const noexcept {
      return static_cast<std::uint64_t>(end - first);
    }
  };

  /// `interval` > 0 seconds between ticks, `period` >= 1 ticks to a period; the grid starts at
  /// `start` by `clock`'s rule.
  TickSchedule(double interval, std::uint32_t period, double start, Clock clock);

  /// The ticks due when the clock reads `now` (a tick at k is due when time(k) <= now, or
  /// time(k) < now with Bound::before); they count as taken. Empty when none is due, also when
  /// `now` goes backwards.
  [[nodiscard]] Due take(double now, Bound bound = Bound::through);

  /// The time of tick `k`: k * interval.
  [[nodiscard]] double time(std::int64_t k) const noexcept {
    return static_cast<double>(k) * interval_;
  }
  /// The time of the next tick to take.
  [[nodiscard]] double next() const noexcept { return time(next_); }
  [[nodiscard]] double interval() const noexcept { return interval_; }
  [[nodiscard]] std::uint32_t period() const noexcept { return period_; }

  /// A reload: a new interval restarts the grid at `now` (by the clock's first-tick rule); the
  /// same interval keeps the ticks where they were. The period is taken either way.
  void reschedule(double interval, std::uint32_t period, double now);

 private:
  [[nodiscard]] std::int64_t first_tick(double start) const noexcept;

  double interval_;
  std::uint32_t period_;
  Clock clock_;
  std::int64_t next_;
};

}  // namespace twind::core
