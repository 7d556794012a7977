// A diagnosis as data: the engine cuts a job from a twin in alert (its model, its signals and
// the samples around the alert, copied), anything may compute it (run_diagnosis, on any thread),
// and the engine takes the result back (Engine::on_diagnosis). Replay computes each job at once,
// on the engine's thread, so that its output is the same run to run; the live daemon computes on
// a thread of its own, so that a diagnosis never holds up a tick. No I/O, no clock.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "twind/config/config.hpp"
#include "twind/ident/diagnose.hpp"
#include "twind/ident/physical.hpp"

namespace twind::core {

struct DiagnosisJob {
  std::uint64_t key = 0;    ///< the engine's number for it: its result is matched by it
  double ts = 0.0;          ///< the tick that cut it
  double alert_ts = 0.0;    ///< the divergence alert's event time
  config::AssetSpec asset;  ///< its id, model, signals and diagnose section
  std::vector<ident::Hypothesis> hypotheses;
  ident::Series window;  ///< the samples kept around the alert, in the twin's order
  std::vector<double> onsets;
  ident::DiagnoseOptions options;
};

struct DiagnosisResult {
  std::uint64_t key = 0;
  std::string asset;
  double ts = 0.0;
  double alert_ts = 0.0;
  ident::Diagnosis diagnosis;
  /// The model in physical terms before the change, and with the best change in place when it
  /// is one of the model's (linear models).
  std::optional<ident::Physical> before;
  std::optional<ident::Physical> after;
  /// The job's window started after the change (ident::DiagnoseOptions::changed_from_start): its
  /// onsets say nothing of when the change began.
  bool changed_from_start = false;
  /// The event time of the first sample the best estimate stands on: its onset, the window's
  /// start when the change was in place from it, or Diagnosis::moving_from.
  double since = 0.0;
  std::string error;  ///< why nothing could be computed (then `diagnosis` has no best)
};

/// Computes `job`: ident::diagnose, then the physical terms. Pure; any thread; never throws.
[[nodiscard]] DiagnosisResult run_diagnosis(const DiagnosisJob& job);

}  // namespace twind::core
