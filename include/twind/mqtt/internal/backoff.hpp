// Reconnect backoff of the Paho adapter, header-only so that its bounds are unit-tested without a
// broker. Not thread-safe: one instance belongs to one worker thread.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <random>

namespace twind::mqtt::internal {

/// Waits of min, 2*min, 4*min, ... capped at max, each multiplied by a uniform factor in
/// [1 - jitter, 1 + jitter] so that many clients cut off together do not reconnect in step.
/// min is taken as at least 1 ms and max as at least min.
class Backoff {
 public:
  Backoff(std::chrono::milliseconds min, std::chrono::milliseconds max, std::uint64_t seed,
          double jitter = 0.2)
      : min_(std::max(min, std::chrono::milliseconds(1))),
        max_(std::max(max, min_)),
        nominal_(min_),
        jitter_(std::clamp(jitter, 0.0, 1.0)),
        rng_(seed) {}

  /// The wait before the next attempt; doubles the nominal wait for the one after.
  std::chrono::milliseconds next() {
    std::uniform_real_distribution<double> factor(1.0 - jitter_, 1.0 + jitter_);
    const auto wait = std::chrono::milliseconds(static_cast<std::chrono::milliseconds::rep>(
        static_cast<double>(nominal_.count()) * factor(rng_)));
    nominal_ = std::min(nominal_ * 2, max_);
    return wait;
  }

  /// Back to min, after a successful connection.
  void reset() { nominal_ = min_; }

  /// The nominal (unjittered) wait next() will scale.
  [[nodiscard]] std::chrono::milliseconds nominal() const { return nominal_; }

 private:
  std::chrono::milliseconds min_;
  std::chrono::milliseconds max_;
  std::chrono::milliseconds nominal_;
  double jitter_;
  std::mt19937_64 rng_;
};

}  // namespace twind::mqtt::internal
