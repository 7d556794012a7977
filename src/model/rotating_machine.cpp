// The rotating-machine model: a first-order speed loop driving a first-order thermal balance.
#include "twind/model/rotating_machine.hpp"

#include <algorithm>
#include <array>
#include <cassert>
#include <cmath>
#include <cstdint>
#include <sstream>
#include <string>
#include <utility>

namespace twind::model {
namespace {

constexpr std::size_t kStates = 2;
constexpr std::size_t kInputs = 2;
constexpr std::size_t kOutputs = 3;

// A tenth of the fastest time constant keeps RK4's error near 1e-6 of a transient.
constexpr double kStepsPerTimeConstant = 10.0;
// e^-50: after this many slowest time constants the start is forgotten far below rounding.
constexpr double kHorizonTimeConstants = 50.0;
// Bounds the sub-steps of one call to 500 * 1e5; beyond it an explicit method is the wrong tool.
constexpr double kMaxTimeConstantRatio = 1e5;
// Intervals within this relative amount of a whole number of h_max take that number of steps,
// so that 0.6 / 0.2 = 3.0000000000000004 does not cost a fourth, shorter step.
constexpr double kStepCountSlack = 1e-9;
constexpr double kAbsoluteZeroC = -273.15;

using State = std::array<double, kStates>;

std::string format_number(double v) {
  std::ostringstream out;
  out << v;
  return out.str();
}

[[noreturn]] void refuse(const char* name, double got, const std::string& expected) {
  throw ModelError(std::string(name) + ": got " + format_number(got) + ", expected " + expected);
}

void check_positive(const char* name, double v, const char* unit) {
  if (!(v > 0.0) || !std::isfinite(v)) {
    refuse(name, v, std::string("a positive finite number of ") + unit);
  }
}

void check_non_negative(const char* name, double v, const char* unit) {
  if (!(v >= 0.0) || !std::isfinite(v)) {
    refuse(name, v, std::string("a non-negative finite number of ") + unit);
  }
}

void validate(const RotatingMachineParams& p) {
  check_positive("tau_mech_s", p.tau_mech_s, "seconds");
  check_positive("rpm_rated", p.rpm_rated, "rpm");
  check_non_negative("p_idle_w", p.p_idle_w, "watts");
  check_non_negative("k_speed_w", p.k_speed_w, "watts");
  check_positive("r_th_k_per_w", p.r_th_k_per_w, "K/W");
  check_positive("c_th_j_per_k", p.c_th_j_per_k, "J/K");
  if (!std::isfinite(p.t_ambient_c) || !(p.t_ambient_c > kAbsoluteZeroC)) {
    refuse("t_ambient_c", p.t_ambient_c, "a finite temperature above -273.15 degC");
  }
  check_non_negative("v_base_mm_s", p.v_base_mm_s, "mm/s");
  check_non_negative("k_imb_mm_s", p.k_imb_mm_s, "mm/s per (1000 rpm)^2");
  const double tau_th = p.r_th_k_per_w * p.c_th_j_per_k;
  const double ratio = std::max(tau_th / p.tau_mech_s, p.tau_mech_s / tau_th);
  if (!(ratio <= kMaxTimeConstantRatio)) {
    refuse("tau_mech_s", p.tau_mech_s,
           "within a factor 1e5 of the thermal time constant r_th_k_per_w * c_th_j_per_k = " +
               format_number(tau_th) + " s");
  }
}

double losses(const RotatingMachineParams& p, double rpm, double load) {
  const double relative_speed = rpm / p.rpm_rated;
  return p.p_idle_w + p.k_speed_w * relative_speed * relative_speed * (0.5 + std::max(load, 0.0));
}

double vibration(const RotatingMachineParams& p, double rpm) {
  const double krpm = rpm / 1000.0;
  return p.v_base_mm_s + p.k_imb_mm_s * krpm * krpm;
}

class RotatingMachine final : public Model {
 public:
  RotatingMachine(ModelId id, const RotatingMachineParams& params)
      : id_(std::move(id)),
        p_(params),
        tau_th_(params.r_th_k_per_w * params.c_th_j_per_k),
        h_max_(std::min(params.tau_mech_s, tau_th_) / kStepsPerTimeConstant),
        horizon_(kHorizonTimeConstants * std::max(params.tau_mech_s, tau_th_)) {}

  [[nodiscard]] const ModelId& id() const noexcept override { return id_; }
  [[nodiscard]] std::size_t states() const noexcept override { return kStates; }
  [[nodiscard]] std::size_t inputs() const noexcept override { return kInputs; }
  [[nodiscard]] std::size_t outputs() const noexcept override { return kOutputs; }

  bool advance(std::span<double> x, std::span<const double> u, double dt,
               StepMemo& /*memo*/) const override {
    assert(x.size() == kStates && u.size() == kInputs);
    if (dt == 0.0) {
      return true;
    }
    if (!(dt > 0.0) || !std::isfinite(dt) || !std::isfinite(u[0]) || !std::isfinite(u[1])) {
      return false;
    }
    const double span = std::min(dt, horizon_);
    const double steps = std::max(1.0, std::ceil(span / h_max_ - kStepCountSlack));
    const auto n = static_cast<std::int64_t>(steps);
    const double h = span / steps;
    State s{x[0], x[1]};
    for (std::int64_t i = 0; i < n; ++i) {
      rk4_step(s, u[0], u[1], h);
    }
    x[0] = s[0];
    x[1] = s[1];
    return std::isfinite(s[0]) && std::isfinite(s[1]);
  }

  void output(std::span<const double> x, std::span<const double> u,
              std::span<double> y) const override {
    assert(x.size() == kStates && u.size() == kInputs && y.size() == kOutputs);
    (void)u;
    y[0] = x[0];
    y[1] = x[1];
    y[2] = vibration(p_, x[0]);
  }

  void initial_state(std::span<const double> y, std::span<const double> u,
                     std::span<double> x) const override {
    assert(x.size() == kStates && u.size() == kInputs && y.size() == kOutputs);
    (void)u;
    x[0] = y[0];
    x[1] = y[1];
  }

 private:
  [[nodiscard]] State derivative(const State& s, double command, double load) const {
    const double power = losses(p_, s[0], load);
    return {(command - s[0]) / p_.tau_mech_s,
            (power - (s[1] - p_.t_ambient_c) / p_.r_th_k_per_w) / p_.c_th_j_per_k};
  }

  void rk4_step(State& s, double command, double load, double h) const {
    const auto along = [&s](const State& k, double scale) {
      return State{s[0] + scale * k[0], s[1] + scale * k[1]};
    };
    const State k1 = derivative(s, command, load);
    const State k2 = derivative(along(k1, h / 2.0), command, load);
    const State k3 = derivative(along(k2, h / 2.0), command, load);
    const State k4 = derivative(along(k3, h), command, load);
    for (std::size_t i = 0; i < kStates; ++i) {
      s[i] += h / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]);
    }
  }

  ModelId id_;
  RotatingMachineParams p_;
  double tau_th_;
  double h_max_;
  double horizon_;
};

}  // namespace

std::shared_ptr<const Model> make_rotating_machine(ModelId id, RotatingMachineParams params) {
  validate(params);
  return std::make_shared<const RotatingMachine>(std::move(id), params);
}

double rotating_machine_losses_w(const RotatingMachineParams& params, double rpm,
                                 double load_fraction) noexcept {
  return losses(params, rpm, load_fraction);
}

double rotating_machine_vibration_mm_s(const RotatingMachineParams& params, double rpm) noexcept {
  return vibration(params, rpm);
}

}  // namespace twind::model
