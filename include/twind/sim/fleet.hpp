// The fleet load generator: N independent copies of the seed plant G(s) = 1/(s + 1), each sampled
// at a fixed rate with its samples phase-shifted so that the fleet's publications are spread
// evenly over the period, each driven by its own deterministic piecewise-constant input, and the
// first K of them wearing (pole -1 -> -2) at a chosen time. No I/O and no clock: the caller takes
// the samples in time order and decides when each goes out (twin-sim --fleet paces them in real
// time).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace twind::sim {

struct FleetOptions {
  std::size_t assets = 1000;  ///< N, > 0
  double rate = 2.0;          ///< samples per second of each asset [Hz], finite and > 0
  double t0 = 0.0;            ///< time of the fleet's first sample [s], finite (e.g. Unix time)
  /// Seconds after t0 at which the wearing assets' pole changes (exactly at that instant, also in
  /// the middle of a sampling interval); negative: never. Finite.
  double wear_at = -1.0;
  std::size_t wear_assets = 0;  ///< K: assets 0 .. K-1 wear; <= assets
  double nominal_pole = -1.0;   ///< p of every plant before wear, finite and < 0
  double worn_pole = -2.0;      ///< p of a wearing plant from wear_at on, finite and < 0
  /// The input of each asset is a level held for `hold_samples` samples, then moved to a new
  /// level drawn uniformly from [u_min, u_max] (finite, u_min <= u_max; hold_samples >= 1).
  double u_min = 0.0;
  double u_max = 5.0;
  std::uint32_t hold_samples = 4;
  double noise_std = 0.0;  ///< std. deviation of gaussian noise added to the measured y, >= 0
  std::uint64_t seed = 1;  ///< mixes into every asset's input levels and noise
};

/// One sample of one asset: at `ts` the plant's output was measured (`y`, noise included) and the
/// input `u` is applied from `ts` on (held until the asset's next sample).
struct FleetSample {
  std::size_t asset = 0;  ///< index, 0 .. assets-1
  std::uint64_t k = 0;    ///< the asset's sample number, from 0
  double ts = 0.0;
  double u = 0.0;
  double y = 0.0;
};

/// "p" and the zero-padded index, at least 5 digits, wider when the fleet's largest index needs
/// more: p00000 .. p09999 for 10,000 assets, p000000 .. p100000 for 100,001.
[[nodiscard]] std::string fleet_asset_id(std::size_t index, std::size_t assets);

/// Appends the frame of `s` as published on plant/<id>/frame: {"ts":...,"u":...,"y":...}, numbers
/// in the shortest form that reads back to the same double.
void append_fleet_frame(std::string& out, const FleetSample& s);

/// The fleet. Asset i's k-th sample falls at t0 + (k + i / N) / rate, so the fleet as a whole
/// emits sample n = k N + i at t0 + n / (N rate): one every 1 / (N rate) seconds, in asset order
/// within each period.
///
/// Each plant is dx/dt = p x + u, y = x, integrated exactly between samples with the closed form
/// of a held input, x(t + h) = e^{p h} x + (e^{p h} - 1) / p u, over the intervals between the
/// samples' timestamps as they are published (so a twin fed the same frames integrates the same
/// intervals). A plant starts at the steady state of its first input. Its input is a function of
/// (seed, asset, k / hold_samples) only. State: 16 bytes per asset. Not thread-safe.
class FleetSim {
 public:
  /// Throws std::invalid_argument `<field>: got X, expected Y` for a bad option (see
  /// FleetOptions).
  explicit FleetSim(const FleetOptions& options);

  /// Time of the sample pop() gives next.
  [[nodiscard]] double next_due() const noexcept;
  /// The next sample in time order (the asset's plant advanced to its time).
  void pop(FleetSample& out) noexcept;

  [[nodiscard]] std::size_t size() const noexcept { return x_.size(); }
  [[nodiscard]] const FleetOptions& options() const noexcept { return options_; }
  /// fleet_asset_id(index, size()).
  [[nodiscard]] std::string asset_id(std::size_t index) const;
  /// Time of asset `index`'s k-th sample (as next_due() will give it).
  [[nodiscard]] double sample_time(std::size_t index, std::uint64_t k) const noexcept;
  /// The input asset `index` applies from its k-th sample on.
  [[nodiscard]] double input(std::size_t index, std::uint64_t k) const noexcept;
  /// The pole of asset `index` at time t.
  [[nodiscard]] double pole(std::size_t index, double t) const noexcept;

 private:
  FleetOptions options_;
  std::uint64_t next_ = 0;  // n = k N + i of the next sample
  std::vector<double> x_;   // each plant's state at its latest sample
  std::vector<double> u_;   // each plant's input since its latest sample
};

}  // namespace twind::sim
