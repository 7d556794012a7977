#include "twind/app/clock.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <utility>

namespace twind::app {
namespace {

double system_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

double steady_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

StepFreeClock& process_clock() {
  static StepFreeClock clock;
  return clock;
}

}  // namespace

StepFreeClock::StepFreeClock() : StepFreeClock(system_seconds, steady_seconds) {}

StepFreeClock::StepFreeClock(Source system, Source steady)
    : system_(std::move(system)), steady_(std::move(steady)) {
  last_steady_ = steady_();
  offset_ = system_() - last_steady_;
}

double StepFreeClock::now() {
  double stepped = 0.0;
  double t = 0.0;
  {
    const std::lock_guard lock(mu_);
    // The steady clock is read first: a reader that waited for the lock still gets a time no
    // earlier than the one before it.
    const double steady = std::max(steady_(), last_steady_);
    const double error = system_() - (steady + offset_);
    if (std::fabs(error - last_error_) > kStepThreshold) {
      stepped = error - last_error_;
      ++steps_;
    }
    const double room = kSlewRate * (steady - last_steady_);
    const double take = std::clamp(error, -room, room);
    offset_ += take;
    last_error_ = error - take;
    last_steady_ = steady;
    t = steady + offset_;
  }
  if (stepped != 0.0) {
    spdlog::warn(
        "the system clock stepped by {:+.3f} s; twind's clock does not step: it follows at {} ms "
        "per second (twind_clock_offset_seconds is what remains)",
        stepped, kSlewRate * 1000.0);
  }
  return t;
}

StepFreeClock::Stats StepFreeClock::stats() const {
  const std::lock_guard lock(mu_);
  return {steps_, last_error_};
}

double wall_clock_now() {
  return process_clock().now();
}

StepFreeClock::Stats wall_clock_stats() {
  return process_clock().stats();
}

}  // namespace twind::app
