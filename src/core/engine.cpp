#include "twind/core/engine.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <utility>

#include "counting_sink.hpp"
#include "twind/core/cluster.hpp"
#include "twind/core/commands.hpp"
#include "twind/ident/diagnose.hpp"

namespace twind::core {
namespace {

// An asset's sub-tick: FNV-1a of its id, so it stays the same across restarts and reloads.
std::uint16_t slot_for(std::string_view id, std::uint32_t slots) {
  std::uint64_t h = 14695981039346656037ULL;
  for (const char c : id) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  return static_cast<std::uint16_t>(h % slots);
}

}  // namespace

std::uint64_t Counters::rejected_total() const noexcept {
  return std::accumulate(rejected.begin(), rejected.end(), std::uint64_t{0});
}

Engine::Engine(const config::Config& config, double start)
    : settings_(EngineSettings::of(config)),
      partitions_(config.cluster ? config.cluster->partitions : 0),
      handover_settle_(config.cluster ? config.cluster->handover_settle : 0.0),
      subscribed_(partitions_, false),
      held_(partitions_, false),
      fleet_(build_entries(config), start),
      router_(fleet_, settings_.topics.command, subscribed_),
      decoder_(config.max_payload_bytes) {
  set_schedule();
  set_diagnosis();
}

std::vector<std::string> Engine::reconfigure(const config::Config& next, double now, Sink& sink) {
  // Every definition is built first: a model that cannot be built throws before anything changes.
  std::vector<Entry> entries = build_entries(next);
  const EngineSettings settings = EngineSettings::of(next);
  ReloadPlan plan = plan_reload(fleet_, settings_, entries, settings);
  apply_reload(fleet_, plan, std::move(entries), now, sink, counters_);
  if (settings.max_payload_bytes != settings_.max_payload_bytes) {
    decoder_ = codec::PayloadDecoder(settings.max_payload_bytes);
  }
  settings_ = settings;
  set_schedule();
  set_diagnosis();
  router_ = Router(fleet_, settings_.topics.command, subscribed_);
  return std::move(plan.changes);
}

std::size_t Engine::partitions_held() const noexcept {
  return static_cast<std::size_t>(std::count(held_.begin(), held_.end(), true));
}

std::size_t Engine::set_partitions(const std::vector<bool>& subscribed,
                                   const std::vector<bool>& held, Sink& sink) {
  subscribed_ = subscribed;
  held_ = held;
  subscribed_.resize(partitions_, false);
  held_.resize(partitions_, false);
  const auto keep = [&](std::size_t i) {
    return held_[partition_of(fleet_.twin(i).id(), partitions_)];
  };
  std::size_t dropped = 0;
  for (std::size_t i = 0; i < fleet_.size(); ++i) dropped += keep(i) ? 0U : 1U;
  if (dropped > 0) {
    std::vector<Entry> entries(fleet_.entries().begin(), fleet_.entries().end());
    for (Entry& e : entries) e.discovered = 0;
    Fleet kept(std::move(entries));
    for (std::size_t i = 0; i < fleet_.size(); ++i) {
      if (!keep(i)) {
        const AssetTwin& twin = fleet_.twin(i);
        if (twin.has_alerts_to_settle()) sink.on_let_go(twin);
        continue;
      }
      const std::uint32_t e = fleet_.entry_of(i);
      ++kept.entry(e).discovered;
      kept.add(std::move(fleet_.twin(i)), e);
    }
    fleet_ = std::move(kept);
    set_schedule();
  }
  std::erase_if(book_,
                [&](const auto& r) { return !subscribed_[partition_of(r.first, partitions_)]; });
  router_ = Router(fleet_, settings_.topics.command, subscribed_);
  return dropped;
}

bool Engine::take_over(std::string_view id, std::vector<HandedRecord> alerts, double now,
                       Sink& sink) {
  const std::uint32_t p = partitions_ == 0 ? 0 : partition_of(id, partitions_);
  if (partitions_ == 0 || !subscribed_[p]) return false;
  const std::optional<std::uint32_t> a = fleet_.index_of(id);
  if (a && held_[p]) {
    install(fleet_.twin(*a), alerts, now, sink);  // the twin has it now
    if (const auto it = book_.find(id); it != book_.end()) book_.erase(it);
  } else if (alerts.empty()) {
    if (const auto it = book_.find(id); it != book_.end()) book_.erase(it);
  } else {
    book_.insert_or_assign(std::string(id), std::move(alerts));
  }
  return true;
}

void Engine::install(AssetTwin& twin, const std::vector<HandedRecord>& alerts, double now,
                     Sink& sink) {
  std::vector<HandedAlert> handed;
  for (const HandedRecord& r : alerts) {
    const std::size_t s = twin.def().find_signal(r.signal);
    if (s < twin.def().signals.size()) handed.push_back({r.id, s, r.since, r.detector});
  }
  CountingSink counting(sink, counters_);
  if (twin.take_over(handed, now, counting, handover_settle_)) sink.on_handed_over(twin);
}

void Engine::hand_over(std::size_t i, double now, Sink& sink) {
  if (book_.empty()) return;
  AssetTwin& twin = fleet_.twin(i);
  const auto it = book_.find(twin.id());
  if (it == book_.end()) return;
  install(twin, it->second, now, sink);
  book_.erase(it);
}

void Engine::set_diagnosis() {
  const std::span<const Entry> entries = fleet_.entries();
  diagnosis_on_ = std::any_of(entries.begin(), entries.end(),
                              [](const Entry& e) { return e.spec.diagnose.enabled; });
}

void Engine::set_schedule() {
  // Sub-ticks of 5 ms at most 100 to a period: finer would wake the driver for little.
  slots_ =
      settings_.tick_spread
          ? static_cast<std::uint32_t>(std::clamp(std::floor(settings_.tick / 0.005), 1.0, 100.0))
          : 1U;
  slot_.clear();
  for (std::size_t i = 0; i < fleet_.size(); ++i) {
    slot_.push_back(slot_for(fleet_.twin(i).id(), slots_));
  }
}

long long Engine::tick_index(double now) const noexcept {
  return std::llround(now / tick_interval());
}

std::uint32_t Engine::slot_of(double now) const noexcept {
  const long long k = tick_index(now);
  const auto s = static_cast<long long>(slots_);
  return static_cast<std::uint32_t>(((k % s) + s) % s);
}

void Engine::add_twin(AssetTwin twin, std::uint32_t entry) {
  slot_.push_back(slot_for(twin.id(), slots_));
  fleet_.add(std::move(twin), entry);
}

const AssetTwin* Engine::find(std::string_view id) const noexcept {
  const std::optional<std::uint32_t> a = fleet_.index_of(id);
  return a ? &fleet_.twin(*a) : nullptr;
}

void Engine::reject(std::string_view topic, Reject reason, double arrival, Sink& sink) {
  ++counters_.rejected[static_cast<std::size_t>(reason)];
  sink.on_reject(topic, reason, arrival);
}

void Engine::on_message(std::string_view topic, std::string_view payload, double arrival,
                        Sink& sink) {
  ++counters_.messages;
  if (const std::span<const Route> routes = router_.routes(topic); !routes.empty()) {
    if (const codec::DecodeResult r = decoder_.decode(payload, payload_); !r) {
      reject(topic, r.reason, arrival, sink);
      return;
    }
    for (const Route& route : routes) deliver(route, topic, arrival, sink);
    return;
  }
  const TopicMatch match = router_.match(topic);
  switch (match.kind) {
    case TopicMatch::Kind::command:
      // A replica answers for the assets of the partitions it holds; their holder, for the rest.
      if (partitions_ > 0 && !held_[partition_of(match.id, partitions_)]) {
        ++counters_.not_held;
        return;
      }
      on_command(match.id, payload, arrival, sink);
      return;
    case TopicMatch::Kind::pattern:
      if (match.pattern->partitioned) {
        if (match.partition >= partitions_ ||
            match.partition != partition_of(match.id, partitions_)) {
          reject(topic, Reject::wrong_partition, arrival, sink);
          return;
        }
        if (!held_[match.partition]) {
          ++counters_.not_held;
          return;
        }
      }
      on_template_topic(*match.pattern, match.id, topic, payload, arrival, sink);
      return;
    case TopicMatch::Kind::unknown:
      break;
  }
  reject(topic, Reject::unknown_topic, arrival, sink);
}

void Engine::on_template_topic(const Pattern& pattern, std::string_view id, std::string_view topic,
                               std::string_view payload, double arrival, Sink& sink) {
  Entry& entry = fleet_.entry(pattern.entry);
  const std::optional<std::uint32_t> listed = fleet_.index_of(id);
  if (listed && fleet_.entry_of(*listed) != pattern.entry) {
    // The id belongs to another entry: its data cannot be this template's.
    reject(topic, Reject::bad_asset, arrival, sink);
    return;
  }
  if (!listed && !entry.spec.discover) {
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
  if (listed) {
    deliver(Route{*listed, pattern.signal}, topic, arrival, sink);
    return;
  }
  if (entry.discovered >= entry.spec.max_assets) {
    reject(topic, Reject::asset_limit, arrival, sink);
    return;
  }
  if (!worth_a_twin(*entry.def, pattern.signal, payload_)) {
    // Refused as the twin would refuse it, without making the twin.
    reject(topic, payload_.is_frame ? Reject::unknown_signal : Reject::out_of_bounds, arrival,
           sink);
    return;
  }
  const auto a = static_cast<std::uint32_t>(fleet_.size());
  ++entry.discovered;
  ++counters_.discovered;
  add_twin(AssetTwin(std::string(id), entry.def, arrival), pattern.entry);
  sink.on_discovered(fleet_.twin(a));
  hand_over(a, arrival, sink);
  deliver(Route{a, pattern.signal}, topic, arrival, sink);
}

void Engine::deliver(const Route& route, std::string_view topic, double arrival, Sink& sink) {
  AssetTwin& twin = fleet_.twin(route.asset);
  const AssetDef& def = twin.def();
  const codec::Payload& payload = payload_;
  const double ts = payload.has_ts ? payload.ts : arrival;
  CountingSink counting(sink, counters_);
  // While input may be lost on the way, a silence may be the loss: none is judged.
  if (!input_lossy_) twin.check_stale(std::min(arrival, heard_until_), counting);

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
  // Stamped by the plant (an arrival stamp has no delay to show): its delay, of which the
  // latest kDelaySamples are kept. While input is lost on the way, a sample older than
  // shed_after() is dropped unprocessed, so that the twins catch up with the freshest input.
  if (ts != arrival && std::isfinite(ts)) {
    const double delay = twin.input_delay(arrival - ts, ts);
    if (delays_.size() < kDelaySamples) {
      delays_.push_back(delay);
    } else {
      delays_[delays_seen_ % kDelaySamples] = delay;
    }
    ++delays_seen_;
    if (input_lossy_ && delay > shed_after()) {
      ++counters_.shed;
      twin.heard(signal, arrival);
      return;
    }
  }
  CountingSink counting(sink, counters_);
  const std::uint64_t reanchors = twin.reanchors();
  const std::uint64_t unjudged = twin.unjudged();
  if (const auto refused = twin.on_sample(signal, value, ts, arrival, counting, input_lossy_)) {
    reject(topic, *refused, arrival, sink);
    return;
  }
  ++counters_.values;
  counters_.reanchored += twin.reanchors() - reanchors;
  counters_.unjudged += twin.unjudged() - unjudged;
}

void Engine::on_command(std::string_view asset, std::string_view payload, double arrival,
                        Sink& sink) {
  ++counters_.commands;
  const CommandReply reply = run_command(fleet_, asset, payload, arrival, settings_.topics.command,
                                         decoder_.max_bytes(), sink, counters_);
  if (!reply.ok) ++counters_.commands_refused;
  sink.on_reply(reply);
}

double Engine::take_input_delay() {
  if (delays_.empty()) return std::numeric_limits<double>::quiet_NaN();
  const auto mid = delays_.begin() + static_cast<std::ptrdiff_t>(delays_.size() / 2);
  std::nth_element(delays_.begin(), mid, delays_.end());
  const double median = *mid;
  delays_.clear();
  delays_seen_ = 0;
  return median;
}

void Engine::tick(double now, double heard_until, Sink& sink) {
  CountingSink counting(sink, counters_);
  const double judged_at = std::min(now, heard_until);
  const std::uint32_t slot = slot_of(now);
  // The period this tick belongs to, for the twins' turns when states are thinned.
  const auto period =
      static_cast<std::uint64_t>(std::max(0LL, tick_index(now) / static_cast<long long>(slots_)));
  for (std::size_t i = 0; i < fleet_.size(); ++i) {
    if (slot_[i] != slot) continue;
    AssetTwin& twin = fleet_.twin(i);
    if (!input_lossy_) twin.check_stale(judged_at, counting);
    if (state_stride_ > 1 && (period + i) % state_stride_ != 0) {
      ++counters_.states_thinned;
      continue;
    }
    twin.next_seq();
    ++counters_.states;
    sink.on_state(twin, now);
  }
  if (diagnosis_on_) diagnose_due(now, sink);
}

// Twins with new samples, taking turns, while jobs may go out: inline, one per tick.
void Engine::diagnose_due(double now, Sink& sink) {
  const std::size_t n = fleet_.size();
  const std::size_t most = diagnosis_deferred_ ? kDiagnosesInFlight : 1;
  std::size_t cut = 0;
  const std::size_t start = diagnosis_turn_;
  for (std::size_t k = 0; k < n && in_flight_ < most && (diagnosis_deferred_ || cut == 0); ++k) {
    const std::size_t i = (start + k) % n;
    AssetTwin& twin = fleet_.twin(i);
    if (!twin.diagnosis_due()) continue;
    std::optional<DiagnosisJob> job = cut_diagnosis(twin, now);
    if (!job) continue;
    diagnosis_turn_ = (i + 1) % n;
    ++cut;
    ++in_flight_;
    if (diagnosis_deferred_) {
      jobs_.push_back(std::move(*job));
    } else {
      on_diagnosis(run_diagnosis(*job), sink);
    }
  }
}

void Engine::take_diagnosis_jobs(std::vector<DiagnosisJob>& out) {
  for (DiagnosisJob& j : jobs_) out.push_back(std::move(j));
  jobs_.clear();
}

std::optional<DiagnosisJob> Engine::cut_diagnosis(AssetTwin& twin, double now) {
  const AssetDef& def = twin.def();
  DiagnosisJob job;
  job.ts = now;
  job.alert_ts = twin.diagnosis_alert();
  config::AssetSpec& spec = job.asset;
  spec.id = twin.id();
  spec.model = def.model_spec;
  spec.diagnose.enabled = true;
  spec.diagnose.hypotheses = def.hypotheses;
  bool every_sigma = true;
  for (const SignalDef& sd : def.signals) {
    config::SignalSpec s;
    s.name = sd.name;
    s.role = sd.role;
    spec.signals.push_back(std::move(s));
    if (sd.role == Role::output) {
      every_sigma = every_sigma && sd.has_cusum;
      job.options.noise.push_back(sd.cusum_sigma);
    }
  }
  if (!every_sigma) job.options.noise.clear();  // estimated from the samples before the onset
  job.window.asset = twin.id();
  job.window.samples.reserve(twin.recent().size());
  for (const RecentSample& r : twin.recent()) {
    job.window.samples.push_back({r.t, r.signal, r.value});
  }
  job.hypotheses = ident::hypotheses(spec);
  const AssetTwin::Following& f = twin.diagnosis_following();
  if (f.known) job.options.incumbent = ident::Hypothesis{f.best_kind, f.best_name, 0, 0.0};
  if (f.after_onset) {
    // The window starts after the change: it is in place from the first sample, judged against
    // the noise found when the window still held the samples before it.
    job.options.changed_from_start = true;
    job.options.noise = f.noise;
  } else {
    if (job.window.samples.empty() || !(job.window.samples.front().t < job.alert_ts)) {
      twin.diagnosis_sent(0);  // looked at: nothing to say until more samples come
      return std::nullopt;
    }
    // Onsets from the first quarter of the samples before the raise (the rest of them tell the
    // state and the noise) up to the raise.
    constexpr int kOnsets = 8;
    const double first = job.window.samples.front().t;
    for (int k = 0; k < kOnsets; ++k) {
      job.onsets.push_back(first + (job.alert_ts - first) * (0.25 + 0.75 * k / (kOnsets - 1)));
    }
  }
  job.key = ++diagnosis_keys_;
  twin.diagnosis_sent(job.key);
  return job;
}

namespace {

DiagnosisReport::Finding finding(const ident::Estimate& e) {
  return {ident::to_string(e.hypothesis.kind),
          e.hypothesis.name,
          e.hypothesis.nominal,
          e.estimate,
          e.ci95,
          e.onset};
}

}  // namespace

void Engine::on_diagnosis(const DiagnosisResult& result, Sink& sink) {
  if (in_flight_ > 0) --in_flight_;
  const std::optional<std::uint32_t> a = fleet_.index_of(result.asset);
  if (!a) return;
  AssetTwin& twin = fleet_.twin(*a);
  // The alert it was cut for has cleared, another has been raised, or the twin changed since.
  if (result.key == 0 || twin.diagnosis_pending() != result.key) return;
  const ident::Diagnosis& d = result.diagnosis;
  const DiagnosisMark& last = twin.diagnosis_mark();
  if (!d.best) {
    twin.diagnosed(last);
    return;
  }
  twin.diagnosis_followed(
      d.best->hypothesis.kind, d.best->hypothesis.name, d.noise,
      result.changed_from_start ? std::nullopt : std::optional<double>(d.best->onset),
      d.moving_from);
  const std::string kind = ident::to_string(d.best->hypothesis.kind);
  const std::string& name = d.best->hypothesis.name;
  const bool drifting = d.moving_from.has_value();
  // Moved: by more than half its interval, and by more than 1 % of the change it reports.
  const double change = std::abs(last.estimate - d.best->hypothesis.nominal);
  const bool moved =
      !last.any || last.kind != kind || last.name != name || last.explained != d.explained ||
      last.drifting != drifting ||
      std::abs(d.best->estimate - last.estimate) > std::max(0.5 * last.ci95, 0.01 * change);
  if (!moved) {
    twin.diagnosed(last);
    return;
  }
  twin.diagnosed(
      {true, d.explained, kind, name, d.best->estimate, d.best->ci95, drifting, d.identified});
  DiagnosisReport report;
  report.ts = result.ts;
  report.alert_ts = result.alert_ts;
  report.samples = d.samples;
  report.explained = d.explained;
  report.best = finding(*d.best);
  if (d.runner_up) report.runner_up = finding(*d.runner_up);
  if (result.changed_from_start) {
    // The window no longer holds the onset: the one found while it did.
    const double onset = twin.diagnosis_following().onset;
    report.best->onset = onset;
    if (report.runner_up) report.runner_up->onset = onset;
  }
  report.drifting = drifting;
  report.since = result.since;
  report.margin = d.margin;
  report.before = result.before;
  report.after = result.after;
  ++counters_.diagnoses;
  sink.on_diagnosis(twin, report);
}

}  // namespace twind::core
