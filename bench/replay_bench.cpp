// Replay throughput, the cost of one twin step, and decoding (hand-written vs nlohmann/json). Run:
//   build/bench/twind_bench --benchmark_counters_tabular=true
// Goal: >= 1,000,000 telemetry messages/s on one core for the 1-asset recording.
#include <benchmark/benchmark.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <streambuf>
#include <string>

#include "twind/app/replay.hpp"
#include "twind/codec/payload.hpp"
#include "twind/codec/recording.hpp"
#include "twind/config/config.hpp"
#include "twind/core/engine.hpp"
#include "twind/sim/closed_loop.hpp"
#include "twind/sim/recording.hpp"

namespace {

using namespace twind;

config::AssetSpec seed_asset(const std::string& id) {
  config::AssetSpec a;
  a.id = id;
  a.model.id = {"first-order-lag", "1"};
  a.model.a = {1, 1, {-1.0}};
  a.model.b = {1, 1, {1.0}};
  a.model.c = {1, 1, {1.0}};
  a.model.d = {1, 1, {0.0}};
  config::SignalSpec u;
  u.name = "u";
  u.role = Role::input;
  u.topic = "plant/" + id + "/u";
  u.min = -1000;
  u.max = 1000;
  config::SignalSpec y;
  y.name = "y";
  y.role = Role::output;
  y.topic = "plant/" + id + "/y";
  y.min = -1000;
  y.max = 1000;
  y.threshold = 0.15;
  y.clear_threshold = 0.1;
  y.stale_after = 1.5;
  a.signals = {u, y};
  return a;
}

config::Config fleet_config(std::size_t n) {
  config::Config c;
  c.topics.state = "twin/{asset}/state";
  c.topics.alert = "twin/{asset}/alert";
  for (std::size_t i = 0; i < n; ++i) c.assets.push_back(seed_asset("p" + std::to_string(i)));
  return c;
}

// Seed-scenario telemetry for n assets, interleaved in time order: `samples` per asset.
std::string fleet_recording(std::size_t n, std::size_t samples) {
  std::vector<sim::ClosedLoop> loops;
  sim::Scenario sc;
  sc.wear_at = -1.0;
  for (std::size_t i = 0; i < n; ++i) {
    sc.y0 = 0.001 * static_cast<double>(i);
    loops.emplace_back(sc, 1732200000.0);
  }
  std::string out;
  std::string payload;
  for (std::size_t k = 0; k < samples; ++k) {
    for (std::size_t i = 0; i < n; ++i) {
      const sim::Sample s = loops[i].step();
      const std::string base = "plant/p" + std::to_string(i);
      payload = std::to_string(s.y);
      codec::append_record_line(out, s.t, base + "/y", payload);
      payload = std::to_string(s.u);
      codec::append_record_line(out, s.t, base + "/u", payload);
    }
  }
  return out;
}

class NullBuffer final : public std::streambuf {
 protected:
  int_type overflow(int_type c) override { return c; }
  std::streamsize xsputn(const char*, std::streamsize n) override { return n; }
};

void run_replay(benchmark::State& state, const config::Config& c, const std::string& rec) {
  NullBuffer null;
  std::ostream out(&null);
  std::uint64_t messages = 0;
  for (auto _ : state) {
    std::istringstream in(rec);
    const app::ReplaySummary s = app::replay(c, in, out);
    messages += s.counters.messages;
    benchmark::DoNotOptimize(s.counters.values);
  }
  state.counters["msgs/s"] =
      benchmark::Counter(static_cast<double>(messages), benchmark::Counter::kIsRate);
  state.SetItemsProcessed(static_cast<std::int64_t>(messages));
}

void BM_ReplayOneAsset(benchmark::State& state) {
  config::Config c = fleet_config(1);
  const std::string rec = fleet_recording(1, 100000);  // 200,000 messages, 2000 s of plant time
  run_replay(state, c, rec);
}
BENCHMARK(BM_ReplayOneAsset)->Unit(benchmark::kMillisecond);

void BM_ReplayThousandAssets(benchmark::State& state) {
  config::Config c = fleet_config(1000);
  const std::string rec = fleet_recording(1000, 100);  // 200,000 messages, 2 s of plant time
  run_replay(state, c, rec);
}
BENCHMARK(BM_ReplayThousandAssets)->Unit(benchmark::kMillisecond);

// One sample through a twin (advance over 20 ms, compare, detector), without decoding.
void BM_TwinStep(benchmark::State& state) {
  config::Config c = fleet_config(1);
  struct Null final : core::Sink {
    void on_alert(const core::AssetTwin&, const core::AlertEvent&) override {}
    void on_state(const core::AssetTwin&, double) override {}
    void on_model_change(const core::AssetTwin&, const core::ModelChange&) override {}
    void on_reply(const core::CommandReply&) override {}
  } sink;
  auto twin = core::AssetTwin(c.assets[0].id, core::compile_asset(c.assets[0], c.topics), 0.0);
  double t = 0.0;
  twin.on_sample(0, 1.0, t, t, sink);
  for (auto _ : state) {
    t += 0.02;
    benchmark::DoNotOptimize(twin.on_sample(1, 1.0, t, t, sink));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TwinStep);

// Decoding alone: the hand-written decoder against nlohmann/json's DOM on the same line.
const std::string kLine =
    R"({"t":1732200000.02,"topic":"plant/p0/y","payload":{"value":2.9712,"ts":1732200000.02}})";

void BM_DecodeLineHandWritten(benchmark::State& state) {
  codec::RecordingParser parser;
  codec::PayloadDecoder decoder;
  codec::RecordLine rec;
  codec::Payload p;
  for (auto _ : state) {
    (void)parser.parse(kLine, rec);
    benchmark::DoNotOptimize(decoder.decode(rec.payload, p));
    benchmark::DoNotOptimize(p.fields.front().value);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DecodeLineHandWritten);

void BM_DecodeLineNlohmann(benchmark::State& state) {
  for (auto _ : state) {
    const auto j = nlohmann::json::parse(kLine);
    benchmark::DoNotOptimize(j["payload"]["value"].get<double>());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DecodeLineNlohmann);

}  // namespace

BENCHMARK_MAIN();
