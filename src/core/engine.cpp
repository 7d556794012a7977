#include "twind/core/engine.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <sstream>

#include "twind/config/command.hpp"
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

constexpr std::string_view kAsset = "{asset}";

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

std::string label(const config::AssetSpec& spec) {
  return spec.is_template() ? "template " + spec.template_name : spec.id;
}

std::string model_text(const model::ModelId& id) {
  return id.name + " v" + id.version;
}

// The settings of one entry that a reload may change without restarting its twins.
void describe_settings(const config::AssetSpec& a, const config::AssetSpec& b,
                       std::vector<std::string>& out) {
  const std::string p = label(b) + ": ";
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
  if (a.ids != b.ids) out.push_back(p + "ids changed");
  if (a.discover != b.discover) {
    out.push_back(p + "discover " + (a.discover ? "true" : "false") + " -> " +
                  (b.discover ? "true" : "false"));
  }
  if (a.max_assets != b.max_assets) {
    out.push_back(p + "max_assets " + std::to_string(a.max_assets) + " -> " +
                  std::to_string(b.max_assets));
  }
}

// Whether a discovered asset's first message is worth a twin: at least one value the twin would
// accept, so that noise on a template's topics does not fill the fleet.
bool acceptable(const AssetDef& def, std::uint32_t signal, const codec::Payload& p,
                std::uint32_t frame) {
  const auto fits = [&](std::size_t s, double v) {
    const SignalDef& sd = def.signals[s];
    return std::isfinite(v) && v >= sd.min && v <= sd.max;
  };
  if (!p.is_frame) return signal != frame && fits(signal, p.fields.front().value);
  return std::any_of(p.fields.begin(), p.fields.end(), [&](const codec::Field& f) {
    const std::size_t s = def.find_signal(f.name);
    return s < def.signals.size() && fits(s, f.value);
  });
}

}  // namespace

// An asset's sub-tick: FNV-1a of its id, so it stays the same across restarts and reloads.
std::uint16_t slot_for(std::string_view id, std::uint32_t slots) {
  std::uint64_t h = 14695981039346656037ULL;
  for (const char c : id) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  return static_cast<std::uint16_t>(h % slots);
}

std::uint64_t Counters::rejected_total() const noexcept {
  return std::accumulate(rejected.begin(), rejected.end(), std::uint64_t{0});
}

Engine::Pattern Engine::Pattern::of(const std::string& topic, std::uint32_t signal) {
  const std::size_t at = topic.find(kAsset);
  return Pattern{topic.substr(0, at), topic.substr(at + kAsset.size()), signal};
}

bool Engine::Pattern::match(std::string_view topic, std::string_view& id) const noexcept {
  if (topic.size() <= prefix.size() + suffix.size()) return false;
  if (!topic.starts_with(prefix) || !topic.ends_with(suffix)) return false;
  id = topic.substr(prefix.size(), topic.size() - prefix.size() - suffix.size());
  return id.find('/') == std::string_view::npos;
}

std::vector<Engine::Entry> Engine::build_entries(const config::Config& config) {
  std::vector<Entry> entries;
  entries.reserve(config.assets.size());
  for (const config::AssetSpec& spec : config.assets) {
    Entry e;
    e.spec = spec;
    e.def = compile_asset(spec, config.topics);
    if (spec.is_template()) {
      const auto add = [&](const std::string& topic, std::uint32_t signal) {
        e.patterns.push_back(Pattern::of(topic, signal));
      };
      for (const config::SignalSpec& s : spec.signals) {
        if (!s.topic.empty()) add(s.topic, static_cast<std::uint32_t>(e.def->find_signal(s.name)));
      }
      for (const std::string& topic : spec.frame_topics) add(topic, Route::kFrame);
    }
    entries.push_back(std::move(e));
  }
  return entries;
}

Engine::Engine(const config::Config& config, double start)
    : topic_spec_(config.topics),
      entries_(build_entries(config)),
      decoder_(config.max_payload_bytes) {
  set_schedule(config);
  for (std::uint32_t e = 0; e < entries_.size(); ++e) {
    const config::AssetSpec& spec = entries_[e].spec;
    if (!spec.is_template()) {
      add_twin(spec.id, e, start);
    } else {
      for (const std::string& id : spec.ids) add_twin(id, e, start);
    }
  }
  build_routes();
}

void Engine::set_schedule(const config::Config& config) {
  tick_ = config.tick;
  // Sub-ticks of 5 ms at most 100 to a period: finer would wake the driver for little.
  slots_ = config.tick_spread
               ? static_cast<std::uint32_t>(std::clamp(std::floor(config.tick / 0.005), 1.0, 100.0))
               : 1U;
  slot_.clear();
  for (const AssetTwin& t : twins_) slot_.push_back(slot_for(t.id(), slots_));
}

std::uint32_t Engine::slot_of(double now) const noexcept {
  const auto k = std::llround(now / tick_interval());
  const auto s = static_cast<long long>(slots_);
  return static_cast<std::uint32_t>(((k % s) + s) % s);
}

void Engine::add_twin(std::string id, std::uint32_t entry, double start) {
  slot_.push_back(slot_for(id, slots_));
  index_.emplace(id, static_cast<std::uint32_t>(twins_.size()));
  twins_.emplace_back(std::move(id), entries_[entry].def, start);
  entry_of_.push_back(entry);
}

const AssetTwin* Engine::find(std::string_view id) const noexcept {
  const auto it = index_.find(id);
  return it == index_.end() ? nullptr : &twins_[it->second];
}

void Engine::build_routes() {
  routes_.clear();
  topics_.clear();
  // Single assets by their literal topics; templates' assets by pattern (one entry per topic
  // per asset would cost memory per asset for nothing a prefix test cannot do).
  for (std::size_t a = 0; a < twins_.size(); ++a) {
    const config::AssetSpec& spec = entries_[entry_of_[a]].spec;
    if (spec.is_template()) continue;
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
  for (const Entry& e : entries_) {
    for (const Pattern& p : e.patterns) {
      if (e.spec.discover) {
        topics_.push_back(p.prefix + "+" + p.suffix);
      } else {
        for (const std::string& id : e.spec.ids) topics_.push_back(p.prefix + id + p.suffix);
      }
    }
  }
  command_.reset();
  if (!topic_spec_.command.empty()) {
    command_ = Pattern::of(topic_spec_.command, Route::kFrame);
    topics_.push_back(command_->prefix + "+" + command_->suffix);
  }
}

std::vector<std::string> Engine::reconfigure(const config::Config& next, double now, Sink& sink) {
  // Build every definition first: a model that cannot be built throws before anything changes.
  std::vector<Entry> entries = build_entries(next);

  std::vector<std::string> changes;
  const auto old_entry_of = [&](const config::AssetSpec& spec) -> std::optional<std::uint32_t> {
    for (std::uint32_t e = 0; e < entries_.size(); ++e) {
      const config::AssetSpec& old = entries_[e].spec;
      if (old.is_template() == spec.is_template() && old.id == spec.id &&
          old.template_name == spec.template_name) {
        return e;
      }
    }
    return std::nullopt;
  };
  // Per entry, what the reload does to its twins.
  std::vector<std::optional<std::uint32_t>> before(entries.size());
  for (std::uint32_t n = 0; n < entries.size(); ++n) {
    const config::AssetSpec& spec = entries[n].spec;
    before[n] = old_entry_of(spec);
    if (!before[n]) {
      changes.push_back(label(spec) + ": added");
      continue;
    }
    const config::AssetSpec& old = entries_[*before[n]].spec;
    if (!same_signals(old, spec)) {
      changes.push_back(label(spec) + ": new signals; its twins start again from the measurements");
    } else if (old.model != spec.model) {
      changes.push_back(label(spec) + ": model " + model_text(old.model.id) + " -> " +
                        model_text(spec.model.id));
      describe_settings(old, spec, changes);
    } else {
      describe_settings(old, spec, changes);
    }
  }

  std::vector<AssetTwin> twins;
  std::vector<std::uint32_t> entry_of;
  Index index;
  std::vector<bool> placed(twins_.size(), false);
  std::vector<ModelChange> swapped;  // by position in `twins`, published once all is in place
  std::vector<std::size_t> swapped_at;
  CountingSink counting(sink, counters_);
  const auto place = [&](const std::string& id, std::uint32_t n) {
    const Entry& entry = entries[n];
    const auto it = index_.find(id);
    const bool had = it != index_.end() && before[n] && entry_of_[it->second] == *before[n];
    index.emplace(id, static_cast<std::uint32_t>(twins.size()));
    entry_of.push_back(n);
    if (!had) {
      twins.emplace_back(id, entry.def, now);
      return;
    }
    const std::uint32_t a = it->second;
    placed[a] = true;
    AssetTwin& twin = twins_[a];
    const Entry& old = entries_[*before[n]];
    if (!same_signals(old.spec, entry.spec)) {
      twin.clear_alerts(now, counting);
      twins.emplace_back(id, entry.def, now);
      return;
    }
    twins.push_back(std::move(twin));
    AssetTwin& kept = twins.back();
    if (old.spec.model != entry.spec.model) {
      const model::ModelId was = kept.def().model_id;
      const bool state_kept = kept.swap_model(entry.def, now, counting);
      swapped.push_back({was, entry.def->model_id, ModelCause::reload, state_kept, now});
      swapped_at.push_back(twins.size() - 1);
    } else if (kept.def_ptr() != old.def) {
      // A model taken by command stays, under the entry's new settings.
      kept.rebind(with_model(*entry.def, kept.def().model, kept.def().model_id), now, counting);
    } else {
      kept.rebind(entry.def, now, counting);
    }
  };
  for (std::uint32_t n = 0; n < entries.size(); ++n) {
    const config::AssetSpec& spec = entries[n].spec;
    if (!spec.is_template()) {
      place(spec.id, n);
    } else {
      for (const std::string& id : spec.ids) place(id, n);
    }
  }
  // Discovered twins stay with their template while it still discovers, within its limit.
  for (std::uint32_t a = 0; a < twins_.size(); ++a) {
    if (placed[a] || index.contains(twins_[a].id())) continue;
    for (std::uint32_t n = 0; n < entries.size(); ++n) {
      Entry& entry = entries[n];
      if (before[n] != entry_of_[a] || !entry.spec.discover) continue;
      if (entry.discovered >= entry.spec.max_assets) break;
      ++entry.discovered;
      place(twins_[a].id(), n);
      break;
    }
  }
  std::vector<std::size_t> removed(entries_.size(), 0);  // templates' assets, by old entry
  for (std::uint32_t a = 0; a < twins_.size(); ++a) {
    if (placed[a]) continue;
    twins_[a].clear_alerts(now, counting);
    if (index.contains(twins_[a].id())) continue;  // started again under a new entry
    if (entries_[entry_of_[a]].spec.is_template()) {
      ++removed[entry_of_[a]];
    } else {
      changes.push_back(twins_[a].id() + ": removed");
    }
  }
  for (std::size_t e = 0; e < removed.size(); ++e) {
    if (removed[e] > 0) {
      changes.push_back(label(entries_[e].spec) + ": " + std::to_string(removed[e]) +
                        " asset(s) removed");
    }
  }
  if (next.max_payload_bytes != decoder_.max_bytes()) {
    changes.push_back("max_payload_bytes " + std::to_string(decoder_.max_bytes()) + " -> " +
                      std::to_string(next.max_payload_bytes));
    decoder_ = codec::PayloadDecoder(next.max_payload_bytes);
  }
  twins_ = std::move(twins);
  entry_of_ = std::move(entry_of);
  index_ = std::move(index);
  entries_ = std::move(entries);
  topic_spec_ = next.topics;
  set_schedule(next);
  build_routes();
  for (std::size_t i = 0; i < swapped.size(); ++i) {
    ++counters_.model_changes;
    sink.on_model_change(twins_[swapped_at[i]], swapped[i]);
  }
  return changes;
}

void Engine::reject(std::string_view topic, Reject reason, double arrival, Sink& sink) {
  ++counters_.rejected[static_cast<std::size_t>(reason)];
  sink.on_reject(topic, reason, arrival);
}

void Engine::on_message(std::string_view topic, std::string_view payload, double arrival,
                        Sink& sink) {
  ++counters_.messages;
  if (const auto it = routes_.find(topic); it != routes_.end()) {
    if (const codec::DecodeResult r = decoder_.decode(payload, payload_); !r) {
      reject(topic, r.reason, arrival, sink);
      return;
    }
    for (const Route& route : it->second) deliver(route, topic, payload_, arrival, sink);
    return;
  }
  std::string_view id;
  if (command_ && command_->match(topic, id)) {
    on_command(id, payload, arrival, sink);
    return;
  }
  for (std::uint32_t e = 0; e < entries_.size(); ++e) {
    for (const Pattern& p : entries_[e].patterns) {
      if (p.match(topic, id)) {
        on_template_topic(e, p, id, topic, payload, arrival, sink);
        return;
      }
    }
  }
  reject(topic, Reject::unknown_topic, arrival, sink);
}

void Engine::on_template_topic(std::uint32_t entry, const Pattern& pattern, std::string_view id,
                               std::string_view topic, std::string_view payload, double arrival,
                               Sink& sink) {
  Entry& e = entries_[entry];
  const auto it = index_.find(id);
  if (it != index_.end() && entry_of_[it->second] != entry) {
    // The id belongs to another entry: its data cannot be this template's.
    reject(topic, Reject::bad_asset, arrival, sink);
    return;
  }
  const bool listed = it != index_.end();
  if (!listed && !e.spec.discover) {
    reject(topic, Reject::unknown_topic, arrival, sink);
    return;
  }
  if (!listed && !config::is_asset_id(id)) {
    reject(topic, Reject::bad_asset, arrival, sink);
    return;
  }
  if (const codec::DecodeResult r = decoder_.decode(payload, payload_); !r) {
    reject(topic, r.reason, arrival, sink);
    return;
  }
  std::uint32_t a = 0;
  if (listed) {
    a = it->second;
  } else {
    if (e.discovered >= e.spec.max_assets) {
      reject(topic, Reject::asset_limit, arrival, sink);
      return;
    }
    if (!acceptable(*e.def, pattern.signal, payload_, Route::kFrame)) {
      // Refused as the twin would refuse it, without making the twin.
      reject(topic, payload_.is_frame ? Reject::unknown_signal : Reject::out_of_bounds, arrival,
             sink);
      return;
    }
    a = static_cast<std::uint32_t>(twins_.size());
    ++e.discovered;
    ++counters_.discovered;
    add_twin(std::string(id), entry, arrival);
    sink.on_discovered(twins_.back());
  }
  deliver(Route{a, pattern.signal}, topic, payload_, arrival, sink);
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

void Engine::on_command(std::string_view asset, std::string_view payload, double arrival,
                        Sink& sink) {
  ++counters_.commands;
  CommandReply reply;
  reply.topic = config::reply_topic(expand_topic(topic_spec_.command, asset));
  reply.asset = asset;
  reply.ts = arrival;
  const auto it = index_.find(asset);
  const config::CommandParse parse = [&] {
    if (payload.size() > decoder_.max_bytes()) {
      config::CommandParse p;
      p.error = "got " + std::to_string(payload.size()) + " bytes, expected at most " +
                std::to_string(decoder_.max_bytes()) + " (max_payload_bytes)";
      return p;
    }
    return config::parse_command(
        payload, it == index_.end() ? nullptr : &entries_[entry_of_[it->second]].spec.signals);
  }();
  reply.request_id = parse.request_id;
  reply.command = parse.kind;
  if (!parse.command) {
    reply.error = parse.error;
  } else if (it == index_.end()) {
    reply.error = "unknown asset " + std::string(asset);
  } else {
    run_command(it->second, *parse.command, reply, sink);
  }
  reply.ok = reply.error.empty();
  if (!reply.ok) ++counters_.commands_refused;
  if (it != index_.end()) {
    const AssetTwin& twin = twins_[it->second];
    reply.model = twin.def().model_id;
    reply.status = twin.status();
  }
  sink.on_reply(reply);
}

void Engine::run_command(std::uint32_t asset, const config::Command& command, CommandReply& reply,
                         Sink& sink) {
  const std::uint32_t e = entry_of_[asset];
  Entry& entry = entries_[e];
  if (command.template_scope && !entry.spec.is_template()) {
    reply.error = "scope: got template, expected asset (" + twins_[asset].id() +
                  " is a single asset, not made from a template)";
    return;
  }
  if (command.kind == config::CommandKind::get_model) return;

  // The definition the command asks for, built before anything changes.
  const AssetTwin& target = twins_[asset];
  const AssetDef& base = command.template_scope ? *entry.def : target.def();
  std::shared_ptr<const AssetDef> def;
  try {
    if (command.model) {
      def = with_model(base, build_model(*command.model), command.model->id);
    } else {
      model::ModelId id = base.model_id;
      id.version = next_version(id.version);
      def = with_model(base, base.model, std::move(id));
    }
  } catch (const std::exception& ex) {
    reply.error = std::string("model: ") + ex.what();
    return;
  }
  reply.previous = target.def().model_id;
  const ModelCause cause = command.kind == config::CommandKind::rebaseline ? ModelCause::rebaseline
                                                                           : ModelCause::command;
  if (!command.template_scope) {
    reply.assets = 1;
    change_model(asset, def, cause, reply.ts, sink, &reply);
    return;
  }
  // The template itself changes: its assets now, and those discovered later.
  entry.def = def;
  if (command.model) entry.spec.model = *command.model;
  entry.spec.model.id = def->model_id;
  for (std::uint32_t a = 0; a < twins_.size(); ++a) {
    if (entry_of_[a] != e) continue;
    ++reply.assets;
    change_model(a, def, cause, reply.ts, sink, a == asset ? &reply : nullptr);
  }
}

void Engine::change_model(std::uint32_t asset, std::shared_ptr<const AssetDef> def,
                          ModelCause cause, double now, Sink& sink, CommandReply* reply) {
  AssetTwin& twin = twins_[asset];
  CountingSink counting(sink, counters_);
  ModelChange change;
  change.before = twin.def().model_id;
  change.after = def->model_id;
  change.cause = cause;
  change.ts = now;
  if (cause == ModelCause::rebaseline) {
    twin.rebaseline(std::move(def), now, counting);
    change.state_kept = false;
  } else {
    change.state_kept = twin.swap_model(std::move(def), now, counting);
  }
  if (reply != nullptr) reply->state_kept = change.state_kept;
  ++counters_.model_changes;
  sink.on_model_change(twin, change);
}

void Engine::tick(double now, Sink& sink) {
  CountingSink counting(sink, counters_);
  const std::uint32_t slot = slot_of(now);
  for (std::size_t i = 0; i < twins_.size(); ++i) {
    if (slot_[i] != slot) continue;
    AssetTwin& twin = twins_[i];
    twin.check_stale(now, counting);
    twin.next_seq();
    ++counters_.states;
    sink.on_state(twin, now);
  }
}

}  // namespace twind::core
