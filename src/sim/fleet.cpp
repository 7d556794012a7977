#include "twind/sim/fleet.hpp"

#include <cmath>
#include <numbers>
#include <sstream>
#include <stdexcept>

#include "twind/json/writer.hpp"

namespace twind::sim {
namespace {

// 16 bytes an asset: 160 MB at the limit, far beyond what one broker can carry at 2 Hz.
constexpr std::size_t kMaxAssets = 10'000'000;

template <typename T>
[[noreturn]] void reject(const char* field, T got, const char* expected) {
  std::ostringstream msg;
  msg << field << ": got " << got << ", expected " << expected;
  throw std::invalid_argument(msg.str());
}

void validate(const FleetOptions& o) {
  if (o.assets == 0 || o.assets > kMaxAssets) reject("assets", o.assets, "1 .. 10000000");
  if (!std::isfinite(o.rate) || o.rate <= 0.0) reject("rate", o.rate, "a finite number > 0");
  if (!std::isfinite(o.t0)) reject("t0", o.t0, "a finite number");
  if (!std::isfinite(o.wear_at)) reject("wear_at", o.wear_at, "a finite number");
  if (o.wear_assets > o.assets) reject("wear_assets", o.wear_assets, "at most the asset count");
  if (!std::isfinite(o.nominal_pole) || o.nominal_pole >= 0.0) {
    reject("nominal_pole", o.nominal_pole, "a finite number < 0");
  }
  if (!std::isfinite(o.worn_pole) || o.worn_pole >= 0.0) {
    reject("worn_pole", o.worn_pole, "a finite number < 0");
  }
  if (!std::isfinite(o.u_min)) reject("u_min", o.u_min, "a finite number");
  if (!std::isfinite(o.u_max) || o.u_max < o.u_min) {
    reject("u_max", o.u_max, "a finite number >= u_min");
  }
  if (o.hold_samples == 0) reject("hold_samples", o.hold_samples, "at least 1");
  if (!std::isfinite(o.noise_std) || o.noise_std < 0.0) {
    reject("noise_std", o.noise_std, "a finite number >= 0");
  }
}

// SplitMix64's finaliser: every input level and noise value is a pure function of its key, so
// no per-asset generator state is kept and any sample can be recomputed.
std::uint64_t mix(std::uint64_t z) noexcept {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30U)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27U)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31U);
}

std::uint64_t key(std::uint64_t seed, std::uint64_t stream, std::uint64_t asset,
                  std::uint64_t index) noexcept {
  return mix(mix(mix(mix(seed) ^ stream) ^ asset) ^ index);
}

// Uniform in [0, 1): the top 53 bits.
double unit(std::uint64_t h) noexcept {
  return static_cast<double>(h >> 11U) * 0x1.0p-53;
}

constexpr std::uint64_t kInputStream = 1;
constexpr std::uint64_t kNoiseStream = 2;

// x(a + h) for dx/dt = p x + u with u held: e^{ph} x + (e^{ph} - 1)/p u, written with expm1 so
// that short intervals keep their precision.
double advance(double x, double u, double p, double h) noexcept {
  return x + std::expm1(p * h) * (x + u / p);
}

}  // namespace

std::string fleet_asset_id(std::size_t index, std::size_t assets) {
  std::size_t width = 1;
  for (std::size_t largest = assets > 0 ? assets - 1 : 0; largest >= 10; largest /= 10) ++width;
  if (width < 5) width = 5;
  std::string digits = std::to_string(index);
  std::string id = "p";
  if (digits.size() < width) id.append(width - digits.size(), '0');
  id += digits;
  return id;
}

void append_fleet_frame(std::string& out, const FleetSample& s) {
  json::Writer w(out);
  w.begin_object().key("ts").value(s.ts).key("u").value(s.u).key("y").value(s.y).end_object();
}

FleetSim::FleetSim(const FleetOptions& options) : options_(options) {
  validate(options_);
  x_.assign(options_.assets, 0.0);
  u_.assign(options_.assets, 0.0);
}

double FleetSim::sample_time(std::size_t index, std::uint64_t k) const noexcept {
  const double n =
      static_cast<double>(k) * static_cast<double>(options_.assets) + static_cast<double>(index);
  return options_.t0 + n / (static_cast<double>(options_.assets) * options_.rate);
}

double FleetSim::next_due() const noexcept {
  return sample_time(static_cast<std::size_t>(next_ % options_.assets), next_ / options_.assets);
}

double FleetSim::input(std::size_t index, std::uint64_t k) const noexcept {
  const std::uint64_t level = k / options_.hold_samples;
  const double r = unit(key(options_.seed, kInputStream, index, level));
  return options_.u_min + (options_.u_max - options_.u_min) * r;
}

double FleetSim::pole(std::size_t index, double t) const noexcept {
  const bool worn = index < options_.wear_assets && options_.wear_at >= 0.0 &&
                    t >= options_.t0 + options_.wear_at;
  return worn ? options_.worn_pole : options_.nominal_pole;
}

void FleetSim::pop(FleetSample& out) noexcept {
  const auto i = static_cast<std::size_t>(next_ % options_.assets);
  const std::uint64_t k = next_ / options_.assets;
  ++next_;
  const double ts = sample_time(i, k);
  double& x = x_[i];
  if (k == 0) {
    // Steady state of the first input: no start-up transient.
    x = -input(i, 0) / pole(i, ts);
  } else {
    const double from = sample_time(i, k - 1);
    const double wear = options_.t0 + options_.wear_at;
    const double before = pole(i, from);
    const double after = pole(i, ts);
    if (before == after) {
      x = advance(x, u_[i], before, ts - from);
    } else {
      // The pole changes inside this interval: two exact pieces, split at the wear instant.
      x = advance(x, u_[i], before, wear - from);
      x = advance(x, u_[i], after, ts - wear);
    }
  }
  u_[i] = input(i, k);

  double noise = 0.0;
  if (options_.noise_std > 0.0) {
    // Box-Muller on two uniforms of this (asset, k); 1 - unit() is in (0, 1], so log() is finite.
    const std::uint64_t h = key(options_.seed, kNoiseStream, i, k);
    const double r1 = 1.0 - unit(h);
    const double r2 = unit(mix(h));
    noise =
        options_.noise_std * std::sqrt(-2.0 * std::log(r1)) * std::cos(2.0 * std::numbers::pi * r2);
  }
  out.asset = i;
  out.k = k;
  out.ts = ts;
  out.u = u_[i];
  out.y = x + noise;
}

std::string FleetSim::asset_id(std::size_t index) const {
  return fleet_asset_id(index, options_.assets);
}

}  // namespace twind::sim
