// Alert state machines: pure values, updated sample by sample, no clock.
#pragma once

#include <cstdint>
#include <limits>
#include <string_view>

namespace twind::core {

/// What one update of a detector decided.
enum class Transition { none, raised, cleared };

/// Which part of a DivergenceDetector decided a divergence alert.
enum class Detector : std::uint8_t { threshold, cusum };

constexpr std::string_view to_string(Detector d) noexcept {
  return d == Detector::cusum ? "cusum" : "threshold";
}

/// An output's divergence alert, decided from its residuals (measured - predicted) by a
/// threshold with hysteresis and debounce, a two-sided CUSUM, or both (docs/interfaces.md,
/// "Alert: twin/alert").
///
/// Threshold: raises after `raise_after` consecutive |residual| strictly above `raise`.
/// CUSUM (Page 1954), in units of sigma: with z = residual / sigma,
///   S+ = min(2h, max(0, S+ + z - k)),   S- = min(2h, max(0, S- - z - k)),
/// raises as soon as max(S+, S-) > h. A shift of d sigma (d > k) takes it there in about
/// h / (d - k) samples; on pure noise the false alarm rate falls exponentially with h. The cap
/// at 2h bounds how long an alert outlives its fault: with the fault gone the statistic falls by
/// about k a sample, back to 0 within about 2h / k samples.
/// With both, whichever raises first raises the one alert (the threshold on a tie). Once raised,
/// it clears after `clear_after` consecutive updates with |residual| strictly below `clear`
/// (where a threshold is set) and max(S+, S-) = 0 (where a CUSUM is set); any other update
/// resets that run, so noise around one threshold cannot make the alert chatter.
///
/// A plain value: no allocation, no clock.
class DivergenceDetector {
 public:
  struct Settings {
    bool has_threshold = false;
    double raise = 0.0;
    double clear = 0.0;  ///< <= raise
    int raise_after = 1;
    int clear_after = 1;
    bool has_cusum = false;
    double sigma = 1.0;  ///< > 0
    double k = 0.5;      ///< >= 0
    double h = 1.0;      ///< > 0
  };

  /// What one update decided, and the figures its alert reports.
  struct Decision {
    Transition transition = Transition::none;
    Detector by = Detector::threshold;  ///< the part that raised the alert
    /// Raised: |residual| (threshold) or max(S+, S-) (cusum). Cleared: |residual| (an alert the
    /// threshold raised) or max(S+, S-), that is 0 (one the CUSUM raised).
    double value = 0.0;
    /// Raised: `raise` or h. Cleared: `clear` or 0.
    double threshold = 0.0;
  };

  Decision update(double residual, const Settings& s) noexcept {
    const double magnitude = residual < 0.0 ? -residual : residual;
    if (s.has_cusum) accumulate(residual, s);
    if (!active_) {
      run_ = s.has_threshold && magnitude > s.raise ? run_ + 1 : 0;
      if (s.has_threshold && run_ >= s.raise_after)
        return raise(Detector::threshold, magnitude, s.raise);
      if (s.has_cusum && cusum() > s.h) return raise(Detector::cusum, cusum(), s.h);
      return {};
    }
    const bool calm = (!s.has_threshold || magnitude < s.clear) && (!s.has_cusum || cusum() == 0.0);
    run_ = calm ? run_ + 1 : 0;
    if (run_ < s.clear_after) return {};
    active_ = false;
    run_ = 0;
    if (by_ == Detector::cusum) return {Transition::cleared, by_, cusum(), 0.0};
    return {Transition::cleared, by_, magnitude, s.clear};
  }

  /// Forgets everything: any run in progress, the active state and the CUSUM (used when a
  /// twin's alerts are cleared or rebaselined).
  void reset() noexcept { *this = DivergenceDetector{}; }
  /// Forgets the CUSUM's evidence only (S+ = S- = 0): used when the twin's state starts again
  /// from the measurements, which the evidence no longer concerns, or the CUSUM is removed.
  void reset_cusum() noexcept { pos_ = neg_ = 0.0; }

  [[nodiscard]] bool active() const noexcept { return active_; }
  /// The part that raised the alert (meaningful while active()).
  [[nodiscard]] Detector raised_by() const noexcept { return by_; }
  [[nodiscard]] double cusum_pos() const noexcept { return pos_; }
  [[nodiscard]] double cusum_neg() const noexcept { return neg_; }
  /// max(S+, S-).
  [[nodiscard]] double cusum() const noexcept { return pos_ > neg_ ? pos_ : neg_; }

 private:
  // 2h, kept finite for any finite h.
  static double cap(double h) noexcept {
    const double c = 2.0 * h;
    return c <= std::numeric_limits<double>::max() ? c : std::numeric_limits<double>::max();
  }
  // max(0, x) capped, with NaN (which a finite residual cannot give) taken as 0.
  static double clamp(double x, double c) noexcept {
    if (!(x > 0.0)) return 0.0;
    return x < c ? x : c;
  }
  void accumulate(double residual, const Settings& s) noexcept {
    const double z = residual / s.sigma;
    const double c = cap(s.h);
    pos_ = clamp(pos_ + z - s.k, c);
    neg_ = clamp(neg_ - z - s.k, c);
  }
  Decision raise(Detector by, double value, double threshold) noexcept {
    active_ = true;
    by_ = by;
    run_ = 0;
    return {Transition::raised, by, value, threshold};
  }

  bool active_ = false;
  Detector by_ = Detector::threshold;
  int run_ = 0;       // consecutive updates towards the next transition
  double pos_ = 0.0;  // S+
  double neg_ = 0.0;  // S-
};

}  // namespace twind::core
