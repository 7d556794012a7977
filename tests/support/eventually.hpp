// Waiting for a positive event in tests: poll a condition, bounded, instead of sleeping a fixed
// time and hoping it was long enough.
#pragma once

#include <chrono>
#include <thread>

namespace twind::testing {

/// Polls `done` every 10 ms for up to `timeout`; returns whether it held.
template <class Pred>
bool eventually(Pred done, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

}  // namespace twind::testing
