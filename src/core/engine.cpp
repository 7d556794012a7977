#include "twind/core/engine.hpp"

#include <algorithm>
#include <numeric>
#include <sstream>

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
    twins_.emplace_back(compile_asset(spec, config.topics.state, config.topics.alert), start);
  }
  specs_ = config.assets;
  build_routes();
}

void Engine::build_routes() {
  routes_.clear();
  topics_.clear();
  for (std::size_t a = 0; a < twins_.size(); ++a) {
    const config::AssetSpec& spec = specs_[a];
    const AssetDef& def = twins_[a].def();
    auto add = [&](const std::string& topic, std::uint32_t signal) {
      auto [it, inserted] = routes_.try_emplace(topic);
      if (inserted) topics_.push_back(topic);
      it->second.push_back(Route{static_cast<std::uint32_t>(a), signal});
    };
    // The definition lists inputs first: route by name so each topic reaches its signal.
    for (const config::SignalSpec& s : spec.signals) {
      if (!s.topic.empty()) add(s.topic, static_cast<std::uint32_t>(def.find_signal(s.name)));
    }
    for (const std::string& topic : spec.frame_topics) add(topic, Route::kFrame);
  }
}

namespace {

bool same_signals(const config::AssetSpec& a, const config::AssetSpec& b) {
  if (a.signals.size() != b.signals.size()) return false;
  for (std::size_t i = 0; i < a.signals.size(); ++i) {
    if (a.signals[i].name != b.signals[i].name || a.signals[i].role != b.signals[i].role) {
      return false;
    }
  }
  return true;
}

std::string num(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

std::string opt(const std::optional<double>& v) {
  return v ? num(*v) : "none";
}

// The settings of one asset that a reload may change without restarting its twin.
void describe_settings(const config::AssetSpec& a, const config::AssetSpec& b,
                       std::vector<std::string>& out) {
  const std::string p = b.id + ": ";
  for (std::size_t i = 0; i < a.signals.size(); ++i) {
    const config::SignalSpec& x = a.signals[i];
    const config::SignalSpec& y = b.signals[i];
    const std::string s = p + y.name + ".";
    if (x.topic != y.topic) out.push_back(s + "topic " + x.topic + " -> " + y.topic);
    if (x.min != y.min) out.push_back(s + "min " + num(x.min) + " -> " + num(y.min));
    if (x.max != y.max) out.push_back(s + "max " + num(x.max) + " -> " + num(y.max));
    if (x.threshold != y.threshold) {
      out.push_back(s + "threshold " + opt(x.threshold) + " -> " + opt(y.threshold));
    }
    if (x.clear_threshold != y.clear_threshold) {
      out.push_back(s + "clear_threshold " + opt(x.clear_threshold) + " -> " +
                    opt(y.clear_threshold));
    }
    if (x.stale_after != y.stale_after) {
      out.push_back(s + "stale_after " + opt(x.stale_after) + " -> " + opt(y.stale_after));
    }
  }
  if (a.frame_topics != b.frame_topics) out.push_back(p + "frame topics changed");
  if (a.detector != b.detector) out.push_back(p + "detector settings changed");
}

}  // namespace

std::vector<std::string> Engine::reconfigure(const config::Config& next, double now, Sink& sink) {
  // Build every definition first: a model that cannot be built throws before anything changes.
  std::vector<std::shared_ptr<const AssetDef>> defs;
  defs.reserve(next.assets.size());
  for (const config::AssetSpec& spec : next.assets) {
    defs.push_back(compile_asset(spec, next.topics.state, next.topics.alert));
  }

  std::vector<std::string> changes;
  std::vector<AssetTwin> twins;
  twins.reserve(next.assets.size());
  CountingSink counting(sink, counters_);
  for (std::size_t n = 0; n < next.assets.size(); ++n) {
    const config::AssetSpec& spec = next.assets[n];
    std::size_t old = 0;
    while (old < specs_.size() && specs_[old].id != spec.id) ++old;
    if (old == specs_.size()) {
      changes.push_back(spec.id + ": added");
      twins.emplace_back(defs[n], now);
      continue;
    }
    const config::AssetSpec& before = specs_[old];
    if (before.model != spec.model || !same_signals(before, spec)) {
      changes.push_back(spec.id + ": model " + before.model.id.name + " v" +
                        before.model.id.version + " -> " + spec.model.id.name + " v" +
                        spec.model.id.version +
                        (same_signals(before, spec) ? "" : " with new signals") +
                        "; the twin restarts from the measurements");
      twins.emplace_back(defs[n], now);
      continue;
    }
    describe_settings(before, spec, changes);
    twins.push_back(std::move(twins_[old]));
    twins.back().rebind(defs[n], now, counting);
  }
  for (const config::AssetSpec& before : specs_) {
    const bool kept = std::any_of(next.assets.begin(), next.assets.end(),
                                  [&](const config::AssetSpec& s) { return s.id == before.id; });
    if (!kept) changes.push_back(before.id + ": removed");
  }
  if (next.max_payload_bytes != decoder_.max_bytes()) {
    changes.push_back("max_payload_bytes " + std::to_string(decoder_.max_bytes()) + " -> " +
                      std::to_string(next.max_payload_bytes));
    decoder_ = codec::PayloadDecoder(next.max_payload_bytes);
  }
  twins_ = std::move(twins);
  specs_ = next.assets;
  build_routes();
  return changes;
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
