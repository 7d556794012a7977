// twin-sim's live runs: the seed plant, the rotating machine and the fleet, each paced in real
// time on the wall clock and published over MQTT until its duration ends or `stop` is set (by
// the signal handler of sim_main.cpp). Private to the twin-sim executable.
#pragma once

#include <atomic>
#include <string>

#include "twind/sim/closed_loop.hpp"
#include "twind/sim/fleet.hpp"
#include "twind/sim/machine.hpp"

namespace twind::app {

/// Where and how twin-sim publishes.
struct Publishing {
  std::string broker;
  std::string client_id = "twin-sim";
  std::string u_topic = "plant/u";
  std::string y_topic = "plant/y";
  std::string frame_topic;
  bool bare = false;
  int qos = 0;
  double connect_timeout = 10.0;
};

/// Each returns twin-sim's exit code: 0 after the run, 1 when the broker cannot be reached.
int run_live_seed(const sim::Scenario& sc, double duration, const Publishing& p,
                  const std::atomic<bool>& stop);
int run_live_machine(const sim::MachineScenario& sc, double duration, const Publishing& p,
                     const std::atomic<bool>& stop);
int run_live_fleet(sim::FleetOptions options, double duration, const Publishing& p,
                   const std::atomic<bool>& stop);

}  // namespace twind::app
