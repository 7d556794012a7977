#include "twind/sim/closed_loop.hpp"

#include <algorithm>
#include <cmath>

#include "twind/model/linear.hpp"

namespace twind::sim {
namespace {

std::shared_ptr<const model::Model> make_plant(const FirstOrderPlant& p) {
  return model::make_continuous_state_space({"plant", "sim"}, {1, 1, {p.pole}}, {1, 1, {p.gain}},
                                            {1, 1, {1.0}}, {1, 1, {0.0}});
}

}  // namespace

double PiController::update(double e, double dt) noexcept {
  const double unclamped = kp * e + ki * integral;
  const double u = std::clamp(unclamped, -limit, limit);
  const bool saturated_with_error = (u != unclamped) && ((u > 0) == (e > 0));
  if (!saturated_with_error) integral += e * dt;
  return u;
}

ClosedLoop::ClosedLoop(const Scenario& scenario, double t0)
    : scenario_(scenario),
      t0_(t0),
      t_(t0),
      plant_(scenario.nominal),
      model_(make_plant(plant_)),
      x_(scenario.y0),
      rng_(scenario.seed),
      noise_(0.0, scenario.noise_std > 0.0 ? scenario.noise_std : 1.0) {}

void ClosedLoop::set_plant(const FirstOrderPlant& plant) {
  plant_ = plant;
  model_ = make_plant(plant);
  memo_ = {};
}

Sample ClosedLoop::step_to(double next_t) {
  Sample s;
  s.t = t_;
  if (!worn_ && scenario_.wear_at >= 0.0 && t_ - t0_ >= scenario_.wear_at - 1e-9) {
    worn_ = true;
    s.wear_injected = true;
    if (scenario_.drift <= 0.0) set_plant(scenario_.worn);
  }
  if (worn_ && scenario_.drift > 0.0) {
    const double f = std::clamp((t_ - t0_ - scenario_.wear_at) / scenario_.drift, 0.0, 1.0);
    const FirstOrderPlant& a = scenario_.nominal;
    const FirstOrderPlant& b = scenario_.worn;
    if (plant_.pole != b.pole || plant_.gain != b.gain) {
      set_plant({a.pole + f * (b.pole - a.pole), a.gain + f * (b.gain - a.gain)});
    }
  }
  const double measured = worn_ ? scenario_.sensor_gain * x_ + scenario_.sensor_bias : x_;
  s.y = measured + (scenario_.noise_std > 0.0 ? noise_(rng_) : 0.0);
  const double dt = next_t - t_;
  s.u = scenario_.controller.update(scenario_.setpoint - s.y, dt);
  const double u[1] = {s.u};
  double x[1] = {x_};
  model_->advance(x, u, dt, memo_);
  x_ = x[0];
  t_ = next_t;
  return s;
}

Sample ClosedLoop::step() {
  ++k_;
  return step_to(t0_ + static_cast<double>(k_) * scenario_.dt);
}

}  // namespace twind::sim
