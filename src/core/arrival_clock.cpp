#include "twind/core/arrival_clock.hpp"

#include <algorithm>

namespace twind::core {

double ArrivalClock::stamp(double arrival) noexcept {
  const double raw = arrival - last_arrival_;
  if (seen_ < 3) {
    // The first sample of a run teaches nothing of the period: it may be the end of a burst
    // (a start-up, an outage), late by any amount. The interval after it starts the mean.
    if (seen_ == 2 && raw > 0.0) {
      period_ = raw;
      intervals_ = 1;
    }
    if (raw > 0.0 || seen_ == 0) ++seen_;
    last_stamp_ = last_arrival_ = arrival;
    return arrival;
  }
  const double late = arrival - (last_stamp_ + period_);
  // While the rhythm is being learnt, every interval must be close to the mean of the run's.
  const double limit = intervals_ < kSettle ? kLearnLimit : 1.0;
  if (late > limit * kLateLimit * period_ || late < -limit * kEarlyLimit * period_) {
    // No rhythm: learn it again, this arrival being the first of a run.
    period_ = 0.0;
    intervals_ = 0;
    seen_ = 2;
    last_stamp_ = last_arrival_ = arrival;
    return arrival;
  }
  double stamp = arrival;
  if (intervals_ >= kSettle && late > kMinLate) {
    stamp = last_stamp_ + period_ + kFollow * late;
  }
  // The mean of the raw intervals: whatever the delays, it depends on the run's first and
  // latest arrival only, and it follows a sender's clock that runs slow or fast.
  intervals_ = std::min(intervals_ + 1, kPeriodWindow);
  period_ += (raw - period_) / static_cast<double>(intervals_);
  last_stamp_ = stamp;
  last_arrival_ = arrival;
  return stamp;
}

}  // namespace twind::core
