// Runs the plant-simulation core offline and writes what its MQTT publisher would have sent, as a
// recording (docs/interfaces.md, "Recordings"): the seed scenario's test data
// (scenarios/seed.jsonl), and the input of `twind replay` in scripts/demo-replay.sh.
#pragma once

#include <string>

#include "twind/sim/closed_loop.hpp"

namespace twind::sim {

struct RecordingOptions {
  double t0 = 1732200000.0;  ///< Unix time of the first sample
  double duration = 8.0;     ///< seconds; samples at t0, t0 + dt, ... while t < t0 + duration
  std::string u_topic = "plant/u";
  std::string y_topic = "plant/y";
  /// When set, each sample is one frame {"ts": t, "u": ..., "y": ...} on this topic instead of
  /// two messages on u_topic and y_topic.
  std::string frame_topic;
};

struct RecordingSummary {
  std::size_t samples = 0;
  double wear_time = -1.0;  ///< time of the sample where the wear was injected; < 0: none
};

/// Runs `scenario` and appends one recording line per message to `out`. Deterministic.
RecordingSummary record(const Scenario& scenario, const RecordingOptions& options,
                        std::string& out);

}  // namespace twind::sim
