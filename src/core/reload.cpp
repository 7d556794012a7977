#include "twind/core/reload.hpp"

#include <memory>
#include <sstream>
#include <unordered_set>
#include <utility>

#include "counting_sink.hpp"

namespace twind::core {
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

std::string detector_text(config::DetectorKind d) {
  return d == config::DetectorKind::cusum ? "cusum" : "threshold";
}

std::string cusum_text(const config::SignalSpec& s) {
  if (!s.cusum) return "none";
  return "{sigma " + num(s.cusum->sigma) + ", k " + num(s.cusum->k) + ", h " + num(s.cusum->h) +
         "}";
}

std::string yes_no(bool v) {
  return v ? "true" : "false";
}

// `[A[0][0], output_gain(y)]`, or `default` for the default set.
std::string hypotheses_text(const config::DiagnoseSpec& d) {
  if (d.hypotheses.empty()) return "default";
  std::string out = "[";
  for (const std::string& h : d.hypotheses) out += (out.size() > 1 ? ", " : "") + h;
  return out + "]";
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
    if (x.detector != y.detector) {
      out.push_back(s + "detector " + detector_text(x.detector) + " -> " +
                    detector_text(y.detector));
    }
    if (x.cusum != y.cusum) out.push_back(s + "cusum " + cusum_text(x) + " -> " + cusum_text(y));
  }
  if (a.frame_topics != b.frame_topics) out.push_back(p + "frame topics changed");
  if (a.detector != b.detector) out.push_back(p + "detector settings changed");
  if (a.diagnose.enabled != b.diagnose.enabled) {
    out.push_back(p + "diagnose.enabled " + yes_no(a.diagnose.enabled) + " -> " +
                  yes_no(b.diagnose.enabled));
  }
  if (a.diagnose.hypotheses != b.diagnose.hypotheses) {
    out.push_back(p + "diagnose.hypotheses " + hypotheses_text(a.diagnose) + " -> " +
                  hypotheses_text(b.diagnose));
  }
  if (a.ids != b.ids) out.push_back(p + "ids changed");
  if (a.discover != b.discover) {
    out.push_back(p + "discover " + yes_no(a.discover) + " -> " + yes_no(b.discover));
  }
  if (a.max_assets != b.max_assets) {
    out.push_back(p + "max_assets " + std::to_string(a.max_assets) + " -> " +
                  std::to_string(b.max_assets));
  }
}

void describe_settings(const EngineSettings& a, const EngineSettings& b,
                       std::vector<std::string>& out) {
  if (a.max_payload_bytes != b.max_payload_bytes) {
    out.push_back("max_payload_bytes " + std::to_string(a.max_payload_bytes) + " -> " +
                  std::to_string(b.max_payload_bytes));
  }
  if (a.tick != b.tick) out.push_back("tick " + num(a.tick) + " s -> " + num(b.tick) + " s");
  if (a.tick_spread != b.tick_spread) {
    out.push_back("tick_spread " + yes_no(a.tick_spread) + " -> " + yes_no(b.tick_spread));
  }
  const auto topic = [&](const char* key, const std::string& x, const std::string& y) {
    // An empty command topic turns commands off.
    const auto text = [](const std::string& t) { return t.empty() ? std::string("none") : t; };
    if (x != y) out.push_back(std::string("topics.") + key + " " + text(x) + " -> " + text(y));
  };
  topic("state", a.topics.state, b.topics.state);
  topic("alert", a.topics.alert, b.topics.alert);
  topic("status", a.topics.status, b.topics.status);
  topic("model", a.topics.model, b.topics.model);
  topic("command", a.topics.command, b.topics.command);
}

// The running entry that `spec` continues: the single asset of the same id, or the template of
// the same name.
std::optional<std::uint32_t> running_entry(std::span<const Entry> running,
                                           const config::AssetSpec& spec) {
  for (std::uint32_t e = 0; e < running.size(); ++e) {
    const config::AssetSpec& old = running[e].spec;
    if (old.is_template() == spec.is_template() && old.id == spec.id &&
        old.template_name == spec.template_name) {
      return e;
    }
  }
  return std::nullopt;
}

// Builds a ReloadPlan step by step: which running entry each next entry continues, then the
// twins the next configuration lists, the discovered twins kept, and the running twins dropped.
class Planner {
 public:
  Planner(const Fleet& running, std::span<const Entry> next)
      : running_(running), next_(next), before_(next.size()), continued_(running.size(), false) {
    plan_.discovered.assign(next.size(), 0);
    for (std::uint32_t n = 0; n < next.size(); ++n) {
      before_[n] = running_entry(running.entries(), next[n].spec);
      describe_entry(n);
    }
  }

  // Single assets and templates' listed ids, in configuration order.
  void place_configured() {
    for (std::uint32_t n = 0; n < next_.size(); ++n) {
      const config::AssetSpec& spec = next_[n].spec;
      if (!spec.is_template()) {
        place(spec.id, n);
      } else {
        for (const std::string& id : spec.ids) place(id, n);
      }
    }
  }

  // Discovered twins stay with their template while it still discovers, within its limit.
  void keep_discovered() {
    for (std::uint32_t a = 0; a < running_.size(); ++a) {
      const std::string& id = running_.twin(a).id();
      if (continued_[a] || placed_ids_.contains(id)) continue;
      for (std::uint32_t n = 0; n < next_.size(); ++n) {
        if (before_[n] != running_.entry_of(a) || !next_[n].spec.discover) continue;
        if (plan_.discovered[n] >= next_[n].spec.max_assets) break;
        ++plan_.discovered[n];
        place(id, n);
        break;
      }
    }
  }

  // Every running twin not continued goes: a line per single asset, a count per template.
  void drop_the_rest() {
    std::vector<std::size_t> removed(running_.entries().size(), 0);  // by running entry
    for (std::uint32_t a = 0; a < running_.size(); ++a) {
      if (continued_[a]) continue;
      plan_.dropped.push_back(a);
      const AssetTwin& twin = running_.twin(a);
      if (placed_ids_.contains(twin.id())) continue;  // started again under another entry
      if (running_.entry(running_.entry_of(a)).spec.is_template()) {
        ++removed[running_.entry_of(a)];
      } else {
        plan_.changes.push_back(twin.id() + ": removed");
      }
    }
    for (std::uint32_t e = 0; e < removed.size(); ++e) {
      if (removed[e] > 0) {
        plan_.changes.push_back(label(running_.entry(e).spec) + ": " + std::to_string(removed[e]) +
                                " asset(s) removed");
      }
    }
  }

  ReloadPlan plan() && { return std::move(plan_); }

 private:
  void describe_entry(std::uint32_t n) {
    const config::AssetSpec& spec = next_[n].spec;
    if (!before_[n]) {
      plan_.changes.push_back(label(spec) + ": added");
      return;
    }
    const config::AssetSpec& old = running_.entry(*before_[n]).spec;
    if (!same_signals(old, spec)) {
      plan_.changes.push_back(label(spec) +
                              ": new signals; its twins start again from the measurements");
      return;
    }
    if (old.model != spec.model) {
      plan_.changes.push_back(label(spec) + ": model " + model_text(old.model.id) + " -> " +
                              model_text(spec.model.id));
    }
    describe_settings(old, spec, plan_.changes);
  }

  // The twin `id` of next entry `n`: continues the running twin of that id when it belongs to
  // the entry `n` continues, else starts.
  void place(std::string_view id, std::uint32_t n) {
    placed_ids_.insert(id);
    const std::optional<std::uint32_t> a = running_.index_of(id);
    if (!a || !before_[n] || running_.entry_of(*a) != *before_[n]) {
      plan_.twins.push_back({std::string(id), n, std::nullopt, TwinFate::start});
      return;
    }
    continued_[*a] = true;
    const Entry& old = running_.entry(*before_[n]);
    TwinFate fate = TwinFate::rebind;
    if (!same_signals(old.spec, next_[n].spec)) {
      fate = TwinFate::restart;
    } else if (old.spec.model != next_[n].spec.model) {
      fate = TwinFate::swap_model;
    } else if (running_.twin(*a).def_ptr() != old.def) {
      fate = TwinFate::rebind_own_model;  // a model taken by command stays
    }
    plan_.twins.push_back({std::string(id), n, *a, fate});
  }

  const Fleet& running_;
  std::span<const Entry> next_;
  std::vector<std::optional<std::uint32_t>> before_;  // per next entry: the running one
  std::vector<bool> continued_;                       // per running twin
  // Views the next entries' specs and the running twins, which outlive the planner.
  std::unordered_set<std::string_view> placed_ids_;
  ReloadPlan plan_;
};

}  // namespace

EngineSettings EngineSettings::of(const config::Config& config) {
  return EngineSettings{config.tick, config.tick_spread, config.max_payload_bytes, config.topics};
}

std::string_view to_string(TwinFate fate) noexcept {
  switch (fate) {
    case TwinFate::start:
      return "start";
    case TwinFate::restart:
      return "restart";
    case TwinFate::rebind:
      return "rebind";
    case TwinFate::rebind_own_model:
      return "rebind_own_model";
    case TwinFate::swap_model:
      return "swap_model";
  }
  return "";
}

ReloadPlan plan_reload(const Fleet& running, const EngineSettings& running_settings,
                       std::span<const Entry> next, const EngineSettings& next_settings) {
  Planner planner(running, next);
  planner.place_configured();
  planner.keep_discovered();
  planner.drop_the_rest();
  ReloadPlan plan = std::move(planner).plan();
  describe_settings(running_settings, next_settings, plan.changes);
  return plan;
}

void apply_reload(Fleet& fleet, const ReloadPlan& plan, std::vector<Entry> next, double now,
                  Sink& sink, Counters& counters) {
  for (std::size_t n = 0; n < next.size(); ++n) next[n].discovered = plan.discovered[n];
  Fleet result(std::move(next));
  CountingSink counting(sink, counters);
  std::vector<std::pair<std::size_t, ModelChange>> swapped;  // published once all is in place
  for (const PlannedTwin& p : plan.twins) {
    const std::shared_ptr<const AssetDef>& def = result.entry(p.entry).def;
    if (p.fate == TwinFate::start || p.fate == TwinFate::restart) {
      if (p.fate == TwinFate::restart) fleet.twin(*p.from).clear_alerts(now, counting);
      result.add(AssetTwin(p.id, def, now), p.entry);
      continue;
    }
    AssetTwin& twin = result.add(std::move(fleet.twin(*p.from)), p.entry);
    if (p.fate == TwinFate::swap_model) {
      const model::ModelId was = twin.def().model_id;
      const bool state_kept = twin.swap_model(def, now, counting);
      swapped.push_back(
          {result.size() - 1, {was, def->model_id, ModelCause::reload, state_kept, now}});
    } else if (p.fate == TwinFate::rebind_own_model) {
      twin.rebind(with_model(*def, twin.def().model, twin.def().model_id, &twin.def().model_spec),
                  now, counting);
    } else {
      twin.rebind(def, now, counting);
    }
  }
  for (const std::uint32_t a : plan.dropped) fleet.twin(a).clear_alerts(now, counting);
  fleet = std::move(result);
  for (const auto& [i, change] : swapped) {
    ++counters.model_changes;
    sink.on_model_change(fleet.twin(i), change);
  }
}

}  // namespace twind::core
