#include "twind/core/diagnosis.hpp"

#include <exception>

namespace twind::core {

DiagnosisResult run_diagnosis(const DiagnosisJob& job) {
  DiagnosisResult r;
  r.key = job.key;
  r.asset = job.asset.id;
  r.ts = job.ts;
  r.alert_ts = job.alert_ts;
  r.changed_from_start = job.options.changed_from_start;
  try {
    r.diagnosis = ident::diagnose(job.asset, job.hypotheses, job.window, job.onsets, job.options);
  } catch (const std::exception& e) {
    // A hypothesis' model that cannot be built, or memory: nothing is said of these samples.
    r.diagnosis = {};
    r.error = e.what();
    return r;
  }
  if (r.diagnosis.best) {
    if (r.diagnosis.moving_from) {
      r.since = *r.diagnosis.moving_from;
    } else if (r.changed_from_start) {
      r.since = job.window.samples.front().t;
    } else {
      r.since = r.diagnosis.best->onset;
    }
    std::vector<std::string> inputs;
    std::vector<std::string> outputs;
    for (const config::SignalSpec& s : job.asset.signals) {
      (s.role == Role::input ? inputs : outputs).push_back(s.name);
    }
    r.before = ident::physical(job.asset.model, inputs, outputs);
    if (r.diagnosis.identified) r.after = ident::physical(*r.diagnosis.identified, inputs, outputs);
  }
  return r;
}

}  // namespace twind::core
