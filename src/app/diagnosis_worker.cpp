#include "twind/app/diagnosis_worker.hpp"

#include <utility>

#ifdef __linux__
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>
#endif

namespace twind::app {

DiagnosisWorker::DiagnosisWorker(Deliver deliver)
    : deliver_(std::move(deliver)), thread_([this] { run(); }) {}

DiagnosisWorker::~DiagnosisWorker() {
  {
    const std::lock_guard lock(mutex_);
    stop_ = true;
    jobs_.clear();
  }
  wake_.notify_one();
  thread_.join();
}

void DiagnosisWorker::submit(core::DiagnosisJob job) {
  {
    const std::lock_guard lock(mutex_);
    jobs_.push_back(std::move(job));
  }
  wake_.notify_one();
}

void DiagnosisWorker::run() {
#ifdef __linux__
  // This thread only: SCHED_IDLE runs it on CPU time nothing else wants, so that the engine,
  // the broker beside it and the plant's publishers are never kept waiting by a diagnosis
  // (any thread may lower its own policy so). Should the policy be refused, nice +19 instead.
  const sched_param idle{};
  if (pthread_setschedparam(pthread_self(), SCHED_IDLE, &idle) != 0) {
    (void)setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), 19);
  }
#endif
  for (;;) {
    core::DiagnosisJob job;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stop_ || !jobs_.empty(); });
      if (stop_) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    deliver_(core::run_diagnosis(job));
  }
}

}  // namespace twind::app
