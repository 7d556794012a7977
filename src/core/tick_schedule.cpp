#include "twind/core/tick_schedule.hpp"

#include <algorithm>
#include <cmath>

namespace twind::core {

TickSchedule::TickSchedule(double interval, std::uint32_t period, double start, Clock clock)
    : interval_(interval), period_(std::max<std::uint32_t>(period, 1)), clock_(clock) {
  next_ = first_tick(start);
}

std::int64_t TickSchedule::first_tick(double start) const noexcept {
  const double q = start / interval_;
  return clock_ == Clock::recording ? static_cast<std::int64_t>(std::ceil(q))
                                    : static_cast<std::int64_t>(std::floor(q)) + 1;
}

TickSchedule::Due TickSchedule::take(double now, Bound bound) {
  const auto due = [&](std::int64_t k) {
    return bound == Bound::through ? time(k) <= now : time(k) < now;
  };
  Due d{next_, next_, 0};
  if (!due(next_)) return d;
  // The last due tick: floor(now / interval) up to rounding, settled by the test itself so that
  // a tick is due exactly when its time says so.
  std::int64_t last = std::max(next_, static_cast<std::int64_t>(std::floor(now / interval_)));
  while (due(last + 1)) ++last;
  while (last > next_ && !due(last)) --last;
  d.end = last + 1;
  const auto period = static_cast<std::int64_t>(period_);
  if (clock_ == Clock::wall && d.end - d.first > period) {
    d.first = d.end - period;
    d.skipped = static_cast<std::uint64_t>(d.first - next_);
  }
  next_ = d.end;
  return d;
}

void TickSchedule::reschedule(double interval, std::uint32_t period, double now) {
  period_ = std::max<std::uint32_t>(period, 1);
  if (interval == interval_) return;
  interval_ = interval;
  next_ = first_tick(now);
}

}  // namespace twind::core
