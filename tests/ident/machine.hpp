// The rotating machine as the ident tests take it: its asset (speed command and load in, rpm,
// temperature and vibration out) and its emulator's samples in the twin's order.
#pragma once

#include "twind/config/config.hpp"
#include "twind/ident/fit.hpp"
#include "twind/sim/machine.hpp"

namespace twind::ident::testing {

/// The machine's asset with model `version`, starting from `params`.
inline config::AssetSpec machine_asset(std::string version,
                                       const model::RotatingMachineParams& params = {}) {
  config::AssetSpec a;
  a.id = "pump";
  a.model.id = {"pump", std::move(version)};
  a.model.kind = config::ModelKind::rotating_machine;
  a.model.machine = params;
  for (const char* name : {"speed_command", "load", "rpm", "temperature", "vibration"}) {
    config::SignalSpec s;
    s.name = name;
    s.role = a.signals.size() < 2 ? Role::input : Role::output;
    a.signals.push_back(s);
  }
  return a;
}

/// The emulator's samples from `from` until `until` seconds, each instant's five signals.
inline Series machine_series(sim::MachineSim& machine, double from, double until) {
  Series out{"pump", {}};
  while (machine.time() < until) {
    const sim::MachineSample s = machine.step();
    if (s.t < from) continue;
    out.samples.push_back({s.t, 0, s.speed_command});
    out.samples.push_back({s.t, 1, s.load});
    out.samples.push_back({s.t, 2, s.rpm});
    out.samples.push_back({s.t, 3, s.temperature});
    out.samples.push_back({s.t, 4, s.vibration});
  }
  return out;
}

}  // namespace twind::ident::testing
