// Alert state machines: pure values, updated sample by sample, no clock.
#pragma once

namespace twind::core {

/// What one update of a detector decided.
enum class Transition { none, raised, cleared };

/// A threshold detector with hysteresis and debounce. Raises after `raise_after` consecutive
/// values strictly above `raise`; once raised, clears after `clear_after` consecutive values
/// strictly below `clear` (clear <= raise). A value in between resets both runs, so noise
/// around one threshold cannot make the alert chatter.
class HysteresisDetector {
 public:
  struct Settings {
    double raise = 0.0;
    double clear = 0.0;
    int raise_after = 1;
    int clear_after = 1;
  };

  Transition update(double value, const Settings& s) noexcept {
    if (!active_) {
      run_ = value > s.raise ? run_ + 1 : 0;
      if (run_ >= s.raise_after) {
        active_ = true;
        run_ = 0;
        return Transition::raised;
      }
      return Transition::none;
    }
    run_ = value < s.clear ? run_ + 1 : 0;
    if (run_ >= s.clear_after) {
      active_ = false;
      run_ = 0;
      return Transition::cleared;
    }
    return Transition::none;
  }

  /// Forgets any run in progress and the active state (used when a twin is re-initialised).
  void reset() noexcept { *this = HysteresisDetector{}; }

  [[nodiscard]] bool active() const noexcept { return active_; }

 private:
  bool active_ = false;
  int run_ = 0;  // consecutive samples towards the next transition
};

}  // namespace twind::core
