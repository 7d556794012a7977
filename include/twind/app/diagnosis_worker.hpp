// The thread that computes the live daemon's diagnoses (core/diagnosis.hpp), so that a diagnosis
// never holds up a tick: the engine thread hands it jobs; it computes them one at a time, in
// order, and hands each result to `deliver` (the daemon posts it to its inbox, the engine
// thread's one queue). The engine keeps at most Engine::kDiagnosesInFlight jobs out, so the
// queue here stays that short. On Linux the thread runs under SCHED_IDLE, on CPU time nothing
// else wants: on a busy machine diagnoses wait, ticks and the broker do not.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "twind/core/diagnosis.hpp"

namespace twind::app {

class DiagnosisWorker {
 public:
  using Deliver = std::function<void(core::DiagnosisResult)>;
  /// Starts the thread. `deliver` is called on it.
  explicit DiagnosisWorker(Deliver deliver);
  /// Finishes the job at hand, drops the others, and joins the thread.
  ~DiagnosisWorker();
  DiagnosisWorker(const DiagnosisWorker&) = delete;
  DiagnosisWorker& operator=(const DiagnosisWorker&) = delete;

  /// Any thread.
  void submit(core::DiagnosisJob job);

 private:
  void run();

  Deliver deliver_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<core::DiagnosisJob> jobs_;
  bool stop_ = false;
  std::thread thread_;  // last: it starts once the rest is made
};

}  // namespace twind::app
