// The cost of one diagnosis update (core::run_diagnosis, what twind's diagnosis thread computes
// per job) for the seed plant at the window sizes a long alert reaches, and for the rotating
// machine; and the memory a twin keeps for it. Run:
//   build/bench/twind_diagnosis_bench --benchmark_counters_tabular=true
// Each job is cut by the engine itself from a recording of the plant wearing (the seed: pole
// -1 -> -2 at 3 s, noise 0.01, samples every 20 ms; the machine: bearing wear at 30 s, its
// emulator's noise), at the first tick where the twin's window holds at least the samples asked
// for.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <istream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "twind/codec/recording.hpp"
#include "twind/config/loader.hpp"
#include "twind/core/diagnosis.hpp"
#include "twind/core/engine.hpp"
#include "twind/sim/machine.hpp"
#include "twind/sim/recording.hpp"

namespace {

using namespace twind;

class NullSink final : public core::Sink {
 public:
  void on_alert(const core::AssetTwin&, const core::AlertEvent&) override {}
  void on_state(const core::AssetTwin&, double) override {}
  void on_model_change(const core::AssetTwin&, const core::ModelChange&) override {}
  void on_reply(const core::CommandReply&) override {}
};

config::Config load(const std::string& path) {
  config::LoadResult r = config::load_file(path);
  if (!r.config) {
    std::fprintf(stderr, "%s does not load\n", path.c_str());
    std::abort();
  }
  return *r.config;
}

// Feeds `recording` to an engine of `config` in deferred mode, answering every job at once, and
// returns the first job whose window holds at least `samples` samples.
std::optional<core::DiagnosisJob> job_of(const config::Config& config, const std::string& recording,
                                         std::size_t samples) {
  core::Engine engine(config, 0.0);
  engine.set_diagnosis_deferred(true);
  NullSink sink;
  codec::RecordingParser parser;
  codec::RecordLine line;
  std::istringstream in(recording);
  double next_tick = -1.0;
  std::vector<core::DiagnosisJob> jobs;
  for (std::string text; std::getline(in, text);) {
    if (!parser.parse(text, line)) continue;
    if (next_tick < 0.0) next_tick = line.t;
    while (line.t >= next_tick) {
      engine.tick(next_tick, sink);
      engine.take_diagnosis_jobs(jobs);
      for (core::DiagnosisJob& j : jobs) {
        if (j.window.samples.size() >= samples) return std::move(j);
        engine.on_diagnosis(core::run_diagnosis(j), sink);
      }
      jobs.clear();
      next_tick += engine.tick_interval();
    }
    engine.on_message(line.topic, line.payload, line.t, sink);
  }
  return std::nullopt;
}

std::string seed_recording() {
  sim::Scenario sc;
  sc.noise_std = 0.01;
  sc.seed = 3;
  sim::RecordingOptions o;
  o.duration = 40.0;
  std::string out;
  (void)sim::record(sc, o, out);
  return out;
}

// Times run_diagnosis on the job of `recording` with state.range(0) samples or more.
void time_jobs(benchmark::State& state, const config::Config& config,
               const std::string& recording) {
  const auto job = job_of(config, recording, static_cast<std::size_t>(state.range(0)));
  if (!job) {
    state.SkipWithError("no job that large");
    return;
  }
  std::string best;
  for (auto _ : state) {
    core::DiagnosisResult r = core::run_diagnosis(*job);
    benchmark::DoNotOptimize(r);
    best = r.diagnosis.best ? r.diagnosis.best->hypothesis.name : "-";
  }
  state.counters["samples"] = static_cast<double>(job->window.samples.size());
  state.counters["hypotheses"] = static_cast<double>(job->hypotheses.size());
  state.counters["job_KB"] =
      static_cast<double>(job->window.samples.size() * sizeof(ident::Sample)) / 1024.0;
  state.SetLabel("best " + best);
}

void BM_DiagnosisSeed(benchmark::State& state) {
  static const config::Config config = load(std::string(TWIND_SOURCE_DIR) + "/config/twind.yaml");
  static const std::string recording = seed_recording();
  time_jobs(state, config, recording);
}
BENCHMARK(BM_DiagnosisSeed)->Arg(128)->Arg(512)->Arg(2048)->Unit(benchmark::kMillisecond);

void BM_DiagnosisMachine(benchmark::State& state) {
  static const config::Config config = load(std::string(TWIND_SOURCE_DIR) + "/config/machine.yaml");
  static const std::string recording = [] {
    sim::MachineScenario sc;
    sc.wear = sim::WearMode::bearing;
    sc.wear_at = 30.0;
    sc.noise_rpm = 2.0;
    sc.noise_temp = 0.05;
    sc.noise_vib = 0.01;
    sim::MachineRecordingOptions o;
    o.duration = 200.0;
    std::string out;
    (void)sim::record_machine(sc, o, out);
    return out;
  }();
  time_jobs(state, config, recording);
}
BENCHMARK(BM_DiagnosisMachine)->Arg(256)->Arg(1024)->Unit(benchmark::kMillisecond);

// What a twin keeps for its diagnosis: the ring while healthy, the held window in alert.
void BM_DiagnosisMemoryPerTwin(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(sizeof(core::RecentSample));
  state.counters["ring_bytes"] =
      static_cast<double>(core::AssetTwin::kRecent * sizeof(core::RecentSample));
  state.counters["held_max_bytes"] =
      static_cast<double>(core::AssetTwin::kHeld * sizeof(core::RecentSample));
}
BENCHMARK(BM_DiagnosisMemoryPerTwin)->Iterations(1);

}  // namespace

BENCHMARK_MAIN();
