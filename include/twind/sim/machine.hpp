// The rotating-machine emulator: a motor-driven pump (model::make_rotating_machine) under a speed
// command profile, with one wear mode injected by hot-swapping the model's parameters mid-run
// (state carried over, like ClosedLoop::set_plant). No I/O and no clock: the caller decides when
// a step happens.
#pragma once

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "twind/model/model.hpp"
#include "twind/model/rotating_machine.hpp"
#include "twind/sim/recording.hpp"  // RecordingSummary

namespace twind::sim {

/// What wears, and what it does to the model once injected (each multiplies one parameter by
/// MachineScenario::wear_factor):
///  - bearing:  k_imb_mm_s   (vibration rises at once, by (factor - 1) k_imb (rpm / 1000)^2)
///  - fouling:  r_th_k_per_w (temperature rises slowly towards T_amb + factor R_th P, with the
///                            new thermal time constant factor R_th C_th)
///  - friction: tau_mech_s   (speed follows its command more slowly)
enum class WearMode { none, bearing, fouling, friction };

struct MachineScenario {
  double dt = 0.1;              ///< sample period [s], finite and > 0
  double speed_command = 1500;  ///< command at the start [rpm], finite
  double load = 0.5;            ///< load fraction, finite, held for the whole run
  model::RotatingMachineParams nominal{};
  WearMode wear = WearMode::none;
  double wear_at = -1;       ///< seconds after the start; negative: never
  double wear_factor = 2.0;  ///< multiplier of the worn parameter, finite and > 0
  double noise_rpm = 0;      ///< standard deviations of additive gaussian measurement noise,
  double noise_temp = 0;     ///< finite and >= 0 (0: exact model outputs)
  double noise_vib = 0;
  std::uint64_t seed = 1;  ///< noise generator seed
  /// Speed command steps (seconds after the start, new command [rpm]), applied from the first
  /// sample at or after their time (finite, non-decreasing; commands finite). Default: 1500 -> 1200
  /// at 20 s and back at 40 s, so the speed dynamics (and friction wear) show. Empty: speed_command
  /// throughout.
  std::vector<std::pair<double, double>> speed_steps{{20.0, 1200.0}, {40.0, 1500.0}};
};

/// One sample: at time t the machine ran under speed_command and load, and was measured.
struct MachineSample {
  double t = 0.0;
  double speed_command = 0.0;
  double load = 0.0;
  double rpm = 0.0;            ///< measured: model output + noise
  double temperature = 0.0;    ///< measured [degC]
  double vibration = 0.0;      ///< measured [mm/s]
  bool wear_injected = false;  ///< the parameters changed at this sample (for the first time)
};

/// `nominal` with the parameter of `mode` multiplied by `factor` (unchanged for WearMode::none).
[[nodiscard]] model::RotatingMachineParams worn_params(const model::RotatingMachineParams& nominal,
                                                       WearMode mode, double factor) noexcept;

class MachineSim {
 public:
  /// Starts at time t0 (seconds; any origin, e.g. Unix time for recordings) at the steady state
  /// of the initial command: rpm = command, T = t_ambient + R_th P(command, load), so there is no
  /// start-up transient. Throws std::invalid_argument `<field>: got X, expected Y` for a bad
  /// scenario field (see MachineScenario), and model::ModelError for bad parameters (nominal or
  /// worn).
  MachineSim(const MachineScenario& scenario, double t0);

  /// Takes the sample at the current time (command steps and wear due by then applied first),
  /// then advances the machine to `next_t` (> time()) with command and load held.
  MachineSample step_to(double next_t);

  /// step_to(start + (k + 1) * dt) for the k-th call: the fixed-rate loop.
  MachineSample step();

  [[nodiscard]] double time() const noexcept { return t_; }
  /// The parameters in effect now (nominal, or worn once injected).
  [[nodiscard]] const model::RotatingMachineParams& params() const noexcept { return params_; }

 private:
  void set_params(const model::RotatingMachineParams& params);

  MachineScenario scenario_;
  double t0_;
  double t_;
  std::uint64_t k_ = 0;
  std::size_t next_step_ = 0;
  double command_;
  bool worn_ = false;
  model::RotatingMachineParams params_;
  std::shared_ptr<const model::Model> model_;
  model::StepMemo memo_;
  double x_[2];
  std::mt19937_64 rng_;
  std::normal_distribution<double> noise_{0.0, 1.0};
};

struct MachineRecordingOptions {
  double t0 = 1732200000.0;  ///< Unix time of the first sample
  double duration = 60.0;    ///< seconds; samples at t0, t0 + dt, ... while t < t0 + duration
  std::string frame_topic = "machine/pump1/frame";
};

/// Runs `scenario` and appends one recording line per sample to `out`, a frame
/// {"ts": t, "speed_command": ..., "load": ..., "rpm": ..., "temperature": ..., "vibration": ...}
/// on options.frame_topic at t. Deterministic. Throws as MachineSim's constructor, and
/// std::invalid_argument for a non-finite duration (a non-positive one records nothing).
RecordingSummary record_machine(const MachineScenario& scenario,
                                const MachineRecordingOptions& options, std::string& out);

}  // namespace twind::sim
