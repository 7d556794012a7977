// twind's wall clock: Unix seconds that never step.
//
// The system clock steps when it is set (NTP's first correction after a virtual machine boots or
// resumes, an operator's `date -s`). A step is not time passing: were twind's clock to step
// forward by 20 s, every plant would look 20 s silent (stale alarms the plants did not earn) and
// every plant-stamped sample 20 s late (twind behind its input, shedding it); stepping back, no
// tick would fall due for 20 s and samples stamped on arrival would run backwards. So twind's
// clock is the steady clock (which never steps) plus an offset that follows the system clock's
// steps at a bounded rate (kSlewRate), like an NTP daemon's slew: durations stay true within
// that rate, and the stamps come back to the system clock's in (step / kSlewRate) seconds. A step
// is logged and counted (twind_clock_steps_total); what remains of it is
// twind_clock_offset_seconds.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>

namespace twind::app {

class StepFreeClock {
 public:
  /// Seconds per second by which the offset follows a step: 1 ms per second, a 20 s step in
  /// 5.6 hours. It equals core::AssetTwin::kTransitCreep, so that while a step is being taken in,
  /// a plant's transit floor follows twind's clock and no delay appears that is not there.
  static constexpr double kSlewRate = 0.001;
  /// A difference between the system clock and this one larger than this, seconds, that was not
  /// there at the last reading, is a step (logged): reading the two clocks apart costs far less.
  static constexpr double kStepThreshold = 0.25;

  using Source = std::function<double()>;
  /// Reads the system and steady clocks (seconds); tests pass their own.
  StepFreeClock();
  StepFreeClock(Source system, Source steady);

  /// Now, Unix seconds. Thread-safe; a step seen here is logged once (outside the lock).
  double now();

  struct Stats {
    std::uint64_t steps = 0;  ///< steps of the system clock seen
    double offset = 0.0;      ///< system clock minus this one at the last reading, seconds
  };
  [[nodiscard]] Stats stats() const;

 private:
  Source system_;
  Source steady_;
  mutable std::mutex mu_;
  double offset_ = 0.0;       // this clock minus the steady clock
  double last_steady_ = 0.0;  // at the last reading
  double last_error_ = 0.0;   // system clock minus this one at the last reading
  std::uint64_t steps_ = 0;
};

/// The process's clock (a StepFreeClock): the daemon's default clock and the time of its status
/// messages and its HTTP answers.
[[nodiscard]] double wall_clock_now();
[[nodiscard]] StepFreeClock::Stats wall_clock_stats();

}  // namespace twind::app
