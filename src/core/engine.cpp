#include "twind/core/engine.hpp"

#include <numeric>

#include "twind/config/config.hpp"

namespace twind::core {
namespace {

// Counts alert transitions on their way from a twin to the driver's sink.
class CountingSink final : public AlertSink {
 public:
  CountingSink(Sink& sink, Counters& counters) : sink_(sink), counters_(counters) {}
  void on_alert(const AssetTwin& twin, const AlertEvent& event) override {
    ++counters_.alerts;
    sink_.on_alert(twin, event);
  }

 private:
  Sink& sink_;
  Counters& counters_;
};

}  // namespace

std::uint64_t Counters::rejected_total() const noexcept {
  return std::accumulate(rejected.begin(), rejected.end(), std::uint64_t{0});
}

Engine::Engine(const config::Config& config, double start) : decoder_(config.max_payload_bytes) {
  twins_.reserve(config.assets.size());
  for (const config::AssetSpec& spec : config.assets) {
    const auto asset = static_cast<std::uint32_t>(twins_.size());
    twins_.emplace_back(compile_asset(spec, config.topics.state, config.topics.alert), start);
    const AssetDef& def = twins_.back().def();
    auto add = [&](const std::string& topic, std::uint32_t signal) {
      auto [it, inserted] = routes_.try_emplace(topic);
      if (inserted) topics_.push_back(topic);
      it->second.push_back(Route{asset, signal});
    };
    for (std::size_t i = 0; i < def.signals.size(); ++i) {
      // The spec's signal order and the definition's differ (inputs are moved first): route by
      // name so each topic reaches the signal it was configured for.
      for (const config::SignalSpec& s : spec.signals) {
        if (s.name == def.signals[i].name && !s.topic.empty()) {
          add(s.topic, static_cast<std::uint32_t>(i));
        }
      }
    }
    for (const std::string& topic : spec.frame_topics) add(topic, Route::kFrame);
  }
}

void Engine::reject(std::string_view topic, Reject reason, double arrival, Sink& sink) {
  ++counters_.rejected[static_cast<std::size_t>(reason)];
  sink.on_reject(topic, reason, arrival);
}

void Engine::on_message(std::string_view topic, std::string_view payload, double arrival,
                        Sink& sink) {
  ++counters_.messages;
  const auto it = routes_.find(topic);
  if (it == routes_.end()) {
    reject(topic, Reject::unknown_topic, arrival, sink);
    return;
  }
  if (const codec::DecodeResult r = decoder_.decode(payload, payload_); !r) {
    reject(topic, r.reason, arrival, sink);
    return;
  }
  for (const Route& route : it->second) deliver(route, topic, payload_, arrival, sink);
}

void Engine::deliver(const Route& route, std::string_view topic, const codec::Payload& payload,
                     double arrival, Sink& sink) {
  AssetTwin& twin = twins_[route.asset];
  const AssetDef& def = twin.def();
  const double ts = payload.has_ts ? payload.ts : arrival;
  CountingSink counting(sink, counters_);
  twin.check_stale(arrival, counting);

  if (!payload.is_frame) {
    if (route.signal == Route::kFrame) {
      // A bare value on a frame topic names no signal.
      reject(topic, Reject::malformed, arrival, sink);
      return;
    }
    offer(twin, route.signal, payload.fields.front().value, ts, arrival, topic, sink);
    return;
  }

  for (const codec::FieldError& e : payload.field_errors) reject(topic, e.reason, arrival, sink);
  // Inputs before outputs: a frame is one instant, and an output's prediction at that instant
  // uses the inputs that arrived with it (it matters where D != 0).
  for (const Role role : {Role::input, Role::output}) {
    for (const codec::Field& f : payload.fields) {
      const std::size_t s = def.find_signal(f.name);
      if (s == def.signals.size()) {
        if (role == Role::input) reject(topic, Reject::unknown_signal, arrival, sink);
        continue;
      }
      if (def.signals[s].role == role) offer(twin, s, f.value, ts, arrival, topic, sink);
    }
  }
}

void Engine::offer(AssetTwin& twin, std::size_t signal, double value, double ts, double arrival,
                   std::string_view topic, Sink& sink) {
  CountingSink counting(sink, counters_);
  if (const auto refused = twin.on_sample(signal, value, ts, arrival, counting)) {
    reject(topic, *refused, arrival, sink);
    return;
  }
  ++counters_.values;
}

void Engine::tick(double now, Sink& sink) {
  CountingSink counting(sink, counters_);
  for (AssetTwin& twin : twins_) {
    twin.check_stale(now, counting);
    twin.next_seq();
    ++counters_.states;
    sink.on_state(twin, now);
  }
}

}  // namespace twind::core
