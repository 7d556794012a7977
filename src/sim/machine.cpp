#include "twind/sim/machine.hpp"

#include <cmath>
#include <sstream>
#include <stdexcept>

#include "twind/codec/recording.hpp"
#include "twind/json/writer.hpp"

namespace twind::sim {
namespace {

// Same tolerance as ClosedLoop: t - t0 accumulates k * dt, which may land a hair below a
// scheduled time that is a whole number of periods.
constexpr double kTimeSlack = 1e-9;

[[noreturn]] void reject(const char* field, double got, const char* expected) {
  std::ostringstream msg;
  msg << field << ": got " << got << ", expected " << expected;
  throw std::invalid_argument(msg.str());
}

void validate(const MachineScenario& s) {
  if (!std::isfinite(s.dt) || s.dt <= 0.0) reject("dt", s.dt, "a finite number > 0");
  if (!std::isfinite(s.speed_command)) reject("speed_command", s.speed_command, "a finite number");
  if (!std::isfinite(s.load)) reject("load", s.load, "a finite number");
  if (!std::isfinite(s.wear_at)) reject("wear_at", s.wear_at, "a finite number");
  if (!std::isfinite(s.wear_factor) || s.wear_factor <= 0.0) {
    reject("wear_factor", s.wear_factor, "a finite number > 0");
  }
  const double noises[] = {s.noise_rpm, s.noise_temp, s.noise_vib};
  const char* names[] = {"noise_rpm", "noise_temp", "noise_vib"};
  for (std::size_t i = 0; i < 3; ++i) {
    if (!std::isfinite(noises[i]) || noises[i] < 0.0) {
      reject(names[i], noises[i], "a finite number >= 0");
    }
  }
  double previous = -INFINITY;
  for (const auto& [time, command] : s.speed_steps) {
    if (!std::isfinite(time) || time < previous) {
      reject("speed_steps time", time, "finite and not before the previous step");
    }
    if (!std::isfinite(command)) reject("speed_steps command", command, "a finite number");
    previous = time;
  }
}

std::shared_ptr<const model::Model> make_machine(const model::RotatingMachineParams& p) {
  return model::make_rotating_machine({"machine", "sim"}, p);
}

}  // namespace

model::RotatingMachineParams worn_params(const model::RotatingMachineParams& nominal, WearMode mode,
                                         double factor) noexcept {
  model::RotatingMachineParams p = nominal;
  switch (mode) {
    case WearMode::none:
      break;
    case WearMode::bearing:
      p.k_imb_mm_s *= factor;
      break;
    case WearMode::fouling:
      p.r_th_k_per_w *= factor;
      break;
    case WearMode::friction:
      p.tau_mech_s *= factor;
      break;
  }
  return p;
}

MachineSim::MachineSim(const MachineScenario& scenario, double t0)
    : scenario_(scenario),
      t0_(t0),
      t_(t0),
      command_(scenario.speed_command),
      params_(scenario.nominal),
      rng_(scenario.seed) {
  validate(scenario_);
  model_ = make_machine(params_);
  // Build the worn model once now, so that bad worn parameters fail at construction rather than
  // mid-run.
  if (scenario_.wear != WearMode::none && scenario_.wear_at >= 0.0) {
    (void)make_machine(worn_params(params_, scenario_.wear, scenario_.wear_factor));
  }
  // Steps due at the start set the initial command, so the machine starts settled on it.
  while (next_step_ < scenario_.speed_steps.size() &&
         scenario_.speed_steps[next_step_].first <= kTimeSlack) {
    command_ = scenario_.speed_steps[next_step_].second;
    ++next_step_;
  }
  x_[0] = command_;
  x_[1] = params_.t_ambient_c + params_.r_th_k_per_w * model::rotating_machine_losses_w(
                                                           params_, command_, scenario_.load);
}

void MachineSim::set_params(const model::RotatingMachineParams& params) {
  params_ = params;
  model_ = make_machine(params);
  memo_ = {};
}

MachineSample MachineSim::step_to(double next_t) {
  MachineSample s;
  s.t = t_;
  const double elapsed = t_ - t0_;
  while (next_step_ < scenario_.speed_steps.size() &&
         elapsed >= scenario_.speed_steps[next_step_].first - kTimeSlack) {
    command_ = scenario_.speed_steps[next_step_].second;
    ++next_step_;
  }
  if (!worn_ && scenario_.wear != WearMode::none && scenario_.wear_at >= 0.0 &&
      elapsed >= scenario_.wear_at - kTimeSlack) {
    worn_ = true;
    s.wear_injected = true;
    set_params(worn_params(scenario_.nominal, scenario_.wear, scenario_.wear_factor));
  }
  s.speed_command = command_;
  s.load = scenario_.load;
  const double u[2] = {command_, scenario_.load};
  double y[3] = {};
  model_->output(x_, u, y);
  // Always draw all three, so one channel's noise does not shift another's sequence when a
  // standard deviation is changed.
  const double n_rpm = noise_(rng_);
  const double n_temp = noise_(rng_);
  const double n_vib = noise_(rng_);
  s.rpm = y[0] + scenario_.noise_rpm * n_rpm;
  s.temperature = y[1] + scenario_.noise_temp * n_temp;
  s.vibration = y[2] + scenario_.noise_vib * n_vib;
  model_->advance(x_, u, next_t - t_, memo_);
  t_ = next_t;
  return s;
}

MachineSample MachineSim::step() {
  ++k_;
  return step_to(t0_ + static_cast<double>(k_) * scenario_.dt);
}

RecordingSummary record_machine(const MachineScenario& scenario,
                                const MachineRecordingOptions& options, std::string& out) {
  if (!std::isfinite(options.duration)) reject("duration", options.duration, "a finite number");
  RecordingSummary summary;
  MachineSim sim(scenario, options.t0);
  std::string payload;
  // A non-positive duration records nothing (and must not reach the unsigned conversion).
  const auto samples = options.duration > 0.0
                           ? static_cast<std::size_t>(options.duration / scenario.dt + 0.5)
                           : std::size_t{0};
  for (std::size_t k = 0; k < samples; ++k) {
    const MachineSample s = sim.step();
    if (s.wear_injected) summary.wear_time = s.t;
    ++summary.samples;
    payload.clear();
    json::Writer w(payload);
    w.begin_object()
        .key("ts")
        .value(s.t)
        .key("speed_command")
        .value(s.speed_command)
        .key("load")
        .value(s.load)
        .key("rpm")
        .value(s.rpm)
        .key("temperature")
        .value(s.temperature)
        .key("vibration")
        .value(s.vibration)
        .end_object();
    codec::append_record_line(out, s.t, options.frame_topic, payload);
  }
  return summary;
}

}  // namespace twind::sim
