// A nonlinear rotating machine (a motor-driven pump or fan): speed, winding temperature and
// vibration, behind twind::model::Model.
#pragma once

#include <memory>

#include "twind/model/linear.hpp"  // ModelError
#include "twind/model/model.hpp"

namespace twind::model {

/// Physical parameters of a rotating machine. The defaults describe a small pump that, at a speed
/// command of 1500 rpm and load 0.5, settles at 1500 rpm, 65 degC and 2.1 mm/s:
/// P = 100 + 300 * 1^2 * (0.5 + 0.5) = 400 W, T = 25 + 0.1 * 400 = 65 degC,
/// v = 0.3 + 0.8 * 1.5^2 = 2.1 mm/s.
struct RotatingMachineParams {
  double tau_mech_s = 2.0;       ///< mechanical time constant of the speed loop [s], > 0
  double rpm_rated = 1500.0;     ///< rated speed, the reference of the loss model [rpm], > 0
  double p_idle_w = 100.0;       ///< losses independent of speed and load [W], >= 0
  double k_speed_w = 300.0;      ///< speed-dependent losses at rated speed and load 0.5 [W], >= 0
  double r_th_k_per_w = 0.1;     ///< thermal resistance, winding to ambient [K/W], > 0
  double c_th_j_per_k = 6000.0;  ///< thermal capacity of the machine [J/K], > 0
  double t_ambient_c = 25.0;     ///< ambient temperature [degC], finite and above -273.15
  double v_base_mm_s = 0.3;  ///< vibration velocity at standstill (floor, bearings) [mm/s], >= 0
  double k_imb_mm_s = 0.8;   ///< imbalance vibration per (1000 rpm)^2 [mm/s], >= 0
  friend bool operator==(const RotatingMachineParams&, const RotatingMachineParams&) = default;
};

/// The rotating-machine model. State x = [speed_rpm, temperature_C]; inputs
/// u = [speed_command_rpm, load_fraction]; outputs y = [rpm, temperature_C, vibration_mm_s].
///
///   d(rpm)/dt = (speed_command - rpm) / tau_mech_s
///   P         = p_idle_w + k_speed_w * (rpm / rpm_rated)^2 * (0.5 + max(load, 0))      [W]
///   C_th dT/dt = P - (T - t_ambient_c) / R_th
///   v         = v_base_mm_s + k_imb_mm_s * (rpm / 1000)^2                             [mm/s]
///
/// The loss term: friction and windage grow with speed squared (the 0.5 share), copper losses
/// with the load current (the load share). A negative load fraction counts as 0, so losses never
/// fall below what the spinning machine dissipates unloaded.
///
/// advance(): classic fixed-step RK4 with n = ceil(dt / h_max) equal sub-steps h = dt / n, where
/// h_max = min(tau_mech_s, R_th * C_th) / 10 (a tenth of the fastest time constant: RK4's
/// relative error over one time constant is then about 5e-7). Intervals that are whole multiples of
/// h_max therefore give the same state however they are split, up to rounding. Past
/// 50 * max(tau_mech_s, R_th * C_th) the state has forgotten its start (the transient has shrunk
/// by e^-50), so longer intervals integrate only that horizon: a call costs at most
/// 500 * max/min time constant sub-steps. dt == 0 leaves x alone; a negative or non-finite dt, or
/// a non-finite input, returns false with x unchanged; a non-finite result returns false.
/// No allocation, no lock, StepMemo unused.
///
/// initial_state(): x = [y_rpm, y_T]; the output map is the identity on those two, so this is
/// the exact least-squares solution (the vibration output is not used).
///
/// Throws ModelError `<param>: got X, expected Y` for a non-positive or non-finite time constant,
/// rated speed, thermal resistance or capacity, negative or non-finite losses or vibration
/// coefficients, a non-finite or sub-absolute-zero ambient temperature, or time constants more
/// than 1e5 apart (explicit RK4 would need too many sub-steps).
[[nodiscard]] std::shared_ptr<const Model> make_rotating_machine(ModelId id,
                                                                 RotatingMachineParams params);

/// P(rpm, load) above, in watts: the losses heating the machine. Exposed for tests and tools.
[[nodiscard]] double rotating_machine_losses_w(const RotatingMachineParams& params, double rpm,
                                               double load_fraction) noexcept;

/// v(rpm) above, in mm/s. Exposed for tests and tools.
[[nodiscard]] double rotating_machine_vibration_mm_s(const RotatingMachineParams& params,
                                                     double rpm) noexcept;

}  // namespace twind::model
