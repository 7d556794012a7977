// Where a sample stamped on arrival was taken. A plant that publishes bare numbers (or frames
// without ts) leaves twind only the time each message arrived, and every delay on the way (the
// sender's own scheduling, the broker, twind's read loop) moves that stamp. A twin judges an
// output against a model integrated between such stamps: when the sample that stepped the input
// arrived 30 ms late and the next on time, the twin held the old input 30 ms too long, and after
// a step of 5 units the prediction is off by 0.15 on a healthy plant.
//
// Most plants sample on a fixed period, and a delay only ever adds to a sample's time. The clock
// learns the period (the mean of the arrivals' intervals) and places each late sample on that
// rhythm: a sample that arrives later than one period after the previous one is stamped one
// period after it, plus a thirty-second of its lateness; a sample that arrives early is stamped on
// arrival (it shows the rhythm's true phase). Arrivals that keep no rhythm (a source that
// publishes on change, a burst after an outage, a sample later than half a period) are stamped
// on arrival, as without the clock. On a sender whose samples arrive up to 60 ms late the stamps
// move by at most about 20 ms from one sample to the next, against 60 ms on arrival. Pure: no
// clock of its own, no I/O, no allocation.
#pragma once

#include <cstdint>

namespace twind::core {

class ArrivalClock {
 public:
  /// The time to place a sample that arrived at `arrival` (the arrivals handed to one clock
  /// never decrease). At most `arrival`.
  [[nodiscard]] double stamp(double arrival) noexcept;

  /// The source's period as learnt so far (0 until the second interval of a run).
  [[nodiscard]] double period() const noexcept { return period_; }
  /// Whether the arrivals keep a rhythm, so that late ones are placed on it.
  [[nodiscard]] bool regular() const noexcept { return intervals_ >= kSettle; }

  /// Intervals that keep the rhythm before late samples are placed on it.
  static constexpr std::uint32_t kSettle = 4;
  /// How late (in periods) a sample may be and still be placed on the rhythm.
  static constexpr double kLateLimit = 0.5;
  /// How early (in periods) a sample may be and still count as keeping the rhythm.
  static constexpr double kEarlyLimit = 0.25;
  /// While the rhythm is being learnt, the share of those limits an interval must keep to.
  static constexpr double kLearnLimit = 0.6;
  /// Lateness below this (seconds) is left alone: a stamp is never moved for less.
  static constexpr double kMinLate = 0.001;
  /// The share of a late sample's lateness that moves the rhythm.
  static constexpr double kFollow = 1.0 / 32.0;
  /// The period is the mean of the run's intervals, or of the latest this many.
  static constexpr std::uint32_t kPeriodWindow = 256;

 private:
  double last_stamp_ = 0.0;
  double last_arrival_ = 0.0;
  double period_ = 0.0;
  std::uint32_t seen_ = 0;       // samples of the run, saturating at 3
  std::uint32_t intervals_ = 0;  // intervals in the period's mean
};

}  // namespace twind::core
