// The plant-simulation core: a first-order plant under a PI controller, with wear injected by
// hot-swapping the plant's model mid-run (state carried over). The seed scenario of the control
// library's digital-twin example. No I/O and no clock: the caller decides when a step happens
// (twin-sim paces it in real time, tests and recordings run it as fast as it goes).
#pragma once

#include <cstdint>
#include <memory>
#include <random>

#include "twind/model/model.hpp"

namespace twind::sim {

/// G(s) = gain / (s - pole): x' = pole x + gain u, y = x.
struct FirstOrderPlant {
  double pole = -1.0;
  double gain = 1.0;
};

/// A PI controller u = kp e + ki ∫e dt with output clamped to [-limit, limit]. The integral is
/// frozen while the output is saturated in the direction of the error (anti-windup).
struct PiController {
  double kp = 4.0;
  double ki = 1.2;
  double limit = 15.0;
  double integral = 0.0;

  /// The control for error e at this sample; then integrates e over the dt until the next one.
  double update(double e, double dt) noexcept;
};

struct Scenario {
  double dt = 0.02;  ///< controller and sample period, seconds
  double setpoint = 3.0;
  PiController controller{};
  FirstOrderPlant nominal{};
  FirstOrderPlant worn{-2.0, 1.0};
  double wear_at = 3.0;  ///< seconds after the start; negative: never
  /// Seconds over which the plant moves from `nominal` to `worn` once wear starts, linearly in
  /// pole and gain (0: at once, the seed's hot swap): a slow drift.
  double drift = 0.0;
  /// The sensor from wear_at on: it measures sensor_gain * y + sensor_bias (the controller
  /// sees what it measures). 1 and 0: a healthy sensor.
  double sensor_gain = 1.0;
  double sensor_bias = 0.0;
  double noise_std = 0.0;  ///< standard deviation of additive noise on the measured y
  std::uint64_t seed = 1;  ///< noise generator seed
  double y0 = 0.0;         ///< plant output at the start
};

/// One sample of the loop: at time t the plant's output was measured (y), the controller
/// answered with u, and u is then held until the next sample.
struct Sample {
  double t = 0.0;
  double u = 0.0;
  double y = 0.0;
  bool wear_injected = false;  ///< the plant changed at this sample (for the first time)
};

class ClosedLoop {
 public:
  /// Starts at time t0 (seconds; any origin, e.g. Unix time for recordings).
  ClosedLoop(const Scenario& scenario, double t0);

  /// Takes the sample at the current time and advances the plant to `next_t` (> time()) with
  /// the controller's u held. Times are taken as given so that the twin, which sees the same
  /// timestamps, integrates exactly the same intervals.
  Sample step_to(double next_t);

  /// step_to(start + (k + 1) * dt) for the k-th call: the fixed-rate loop.
  Sample step();

  /// Hot-swaps the plant: the state carries over, the dynamics change from now on.
  void set_plant(const FirstOrderPlant& plant);

  [[nodiscard]] double time() const noexcept { return t_; }
  [[nodiscard]] const FirstOrderPlant& plant() const noexcept { return plant_; }

 private:
  Scenario scenario_;
  double t0_;
  double t_;
  std::uint64_t k_ = 0;
  bool worn_ = false;
  FirstOrderPlant plant_;
  std::shared_ptr<const model::Model> model_;
  model::StepMemo memo_;
  double x_;
  std::mt19937_64 rng_;
  std::normal_distribution<double> noise_;
};

}  // namespace twind::sim
