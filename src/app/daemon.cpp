#include "twind/app/daemon.hpp"

#include <spdlog/spdlog.h>

#include <array>
#include <chrono>
#include <cmath>
#include <thread>

#include "twind/codec/json_writer.hpp"
#include "twind/core/encode.hpp"
#include "twind/core/engine.hpp"
#include "twind/core/rate_limit.hpp"
#include "twind_version.hpp"

namespace twind::app {
namespace {

// Beyond this many assets /metrics carries totals only (see take_snapshot).
constexpr std::size_t kPerAssetSeriesLimit = 1000;
// A connection failure that repeats is logged once, then once per this many seconds; at most
// this many distinct causes are remembered.
constexpr double kFailureReportInterval = 60.0;
constexpr std::size_t kFailureCauses = 64;

// Prometheus label values escape backslash, double quote and newline.
// Text from the network (a command's id, an asset id from a topic) as it may appear in one log
// line: control characters would let a sender forge lines of their own.
std::string printable(std::string_view v) {
  std::string out(v);
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  return out;
}

std::string label(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

class Metrics {
 public:
  void family(std::string_view name, std::string_view type, std::string_view help) {
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    out_ += help;
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
  }
  void sample(std::string_view name, double v, std::string_view labels = {}) {
    out_ += name;
    if (!labels.empty()) {
      out_ += '{';
      out_ += labels;
      out_ += '}';
    }
    out_ += ' ';
    codec::append_json_number(out_, v);
    out_ += '\n';
  }
  void one(std::string_view name, std::string_view type, std::string_view help, double v) {
    family(name, type, help);
    sample(name, v);
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

}  // namespace

double wall_clock_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Publishes what the engine decides and keeps the tick's states for the snapshot.
class Daemon::Sink final : public core::Sink {
 public:
  explicit Sink(Daemon& d) : d_(d) {}

  void on_state(const core::AssetTwin& twin, double ts) override {
    payload_.clear();
    core::encode_state(twin, ts, payload_);
    if (!d_.publish(twin.topic(twin.def().state_topic), payload_, 0, false,
                    twin.id() == d_.watched_asset_)) {
      failed();
    }
    if (d_.options_.keep_states) tick_states.emplace_back(twin.id(), payload_);
  }

  void on_model_change(const core::AssetTwin& twin, const core::ModelChange& change) override {
    payload_.clear();
    core::encode_model_change(twin, change, payload_);
    if (!d_.client_.publish(twin.topic(twin.def().model_topic), payload_, 1, false)) failed();
    spdlog::info("{}", core::model_change_line(twin, change));
  }

  void on_reply(const core::CommandReply& reply) override {
    payload_.clear();
    core::encode_reply(reply, payload_);
    if (!d_.client_.publish(reply.topic, payload_, 1, false)) failed();
    if (reply.ok) {
      spdlog::info("command {} to {} (id \"{}\"): ok", printable(reply.command),
                   printable(reply.asset), printable(reply.request_id));
    } else {
      spdlog::warn("command {} to {} (id \"{}\") refused: {}", printable(reply.command),
                   printable(reply.asset), printable(reply.request_id), printable(reply.error));
    }
  }

  void on_discovered(const core::AssetTwin& twin) override {
    spdlog::info("asset {} discovered (template {})", twin.id(),
                 twin.def().entry);  // ids are checked
    if (d_.check_publish_ && d_.watched_asset_.empty()) {
      d_.watched_asset_ = twin.id();
      d_.watch_asset(twin.topic(twin.def().state_topic), twin.topic(twin.def().alert_topic));
    }
  }

  void on_alert(const core::AssetTwin& twin, const core::AlertEvent& event) override {
    payload_.clear();
    core::encode_alert(twin, event, payload_);
    // QoS 1: the client keeps it until the broker acknowledges it, across reconnections.
    if (!d_.publish(twin.topic(twin.def().alert_topic), payload_, 1, false,
                    twin.id() == d_.watched_asset_)) {
      failed();
    }
    const double t = origin < 0.0 ? 0.0 : d_.now() - origin;
    const std::string line = core::console_line(twin, event, t);
    if (event.raised) {
      spdlog::warn("{}", line);
    } else {
      spdlog::info("{}", line);
    }
  }

  void on_reject(std::string_view topic, Reject reason, double arrival) override {
    std::uint64_t suppressed = 0;
    if (!limiter_.allow(topic, arrival, suppressed)) return;
    if (suppressed > 0) {
      spdlog::warn("rejected a payload on {}: {} ({} more on this topic since the last report)",
                   printable(topic), to_string(reason), suppressed);
    } else {
      spdlog::warn("rejected a payload on {}: {}", printable(topic), to_string(reason));
    }
  }

  double origin = -1.0;  // arrival of the first message: t=0 of the console lines
  std::vector<std::pair<std::string, std::string>> tick_states;

 private:
  void failed() {
    const std::lock_guard lock(d_.mutex_);
    ++d_.counters_.publish_failed;
  }

  Daemon& d_;
  std::string payload_;
  core::RateLimiter limiter_;
};

Daemon::Daemon(config::Config config, mqtt::Client& client, DaemonOptions options)
    : config_(std::move(config)),
      client_(client),
      options_(std::move(options)),
      snapshot_(std::make_shared<DaemonSnapshot>()),
      check_(options_.publish_check_timeout),
      failures_(kFailureReportInterval, kFailureCauses) {
  if (!options_.clock) options_.clock = wall_clock_now;
  engine_ = std::make_unique<core::Engine>(config_, now());
  sink_ = std::make_unique<Sink>(*this);
  // Before the client starts: it subscribes on every connection, so nothing published between
  // the first connection and run() is missed.
  client_.subscribe(engine_->topics(), 1);
  check_publish_ = config_.broker.check_publish;
  if (check_publish_) {
    {
      const std::lock_guard lock(check_mu_);
      check_.watch(config_.topics.status);
    }
    client_.subscribe_optional({config_.topics.status}, 1);
    // The first asset known now; with discovery only, the first one discovered (Sink).
    if (engine_->size() > 0) {
      const core::AssetTwin& twin = engine_->twin(0);
      watched_asset_ = twin.id();
      watch_asset(twin.topic(twin.def().state_topic), twin.topic(twin.def().alert_topic));
    }
  }
}

Daemon::~Daemon() = default;

void Daemon::watch_asset(const std::string& state_topic, const std::string& alert_topic) {
  {
    const std::lock_guard lock(check_mu_);
    check_.watch(state_topic);
    check_.watch(alert_topic);
  }
  client_.subscribe_optional({state_topic, alert_topic}, 1);
}

bool Daemon::publish(const std::string& topic, std::string_view payload, int qos, bool retained,
                     bool watched) {
  // Only what goes out on a live connection says anything about the broker's rules. Announced
  // first: the broker may deliver it back before publish() returns.
  const bool track = watched && check_publish_ && client_.connected();
  if (track) {
    const std::lock_guard lock(check_mu_);
    check_.on_published(topic, payload, now());
  }
  const bool ok = client_.publish(topic, payload, qos, retained);
  if (track && !ok) {
    const std::lock_guard lock(check_mu_);
    check_.withdraw(topic, payload);
  }
  return ok;
}

void Daemon::poll_publish_check() {
  if (!check_publish_) return;
  std::vector<PublishCheck::Finding> findings;
  std::size_t denied = 0;
  {
    const std::lock_guard lock(check_mu_);
    findings = check_.poll(now());
    denied = check_.denied();
  }
  for (const PublishCheck::Finding& f : findings) {
    if (f.delivered) {
      spdlog::info("messages twind publishes on {} reach the broker's subscribers again", f.topic);
    } else {
      spdlog::error(
          "the broker acknowledged what twind published on {} but never delivered it back ({} s): "
          "its ACL denies twind publishing to {} (or reading it, which this check needs; "
          "broker.check_publish: false turns the check off); subscribers do not get these "
          "messages",
          f.topic, options_.publish_check_timeout, f.topic);
    }
  }
  const std::lock_guard lock(mutex_);
  counters_.publish_denied_topics = denied;
}

double Daemon::now() const {
  return options_.clock();
}

std::string Daemon::status_payload(std::string_view state, double ts) {
  std::string out;
  codec::JsonWriter w(out);
  w.begin_object().key("state").value(state).key("version").value(TWIND_VERSION);
  w.key("ts").value(ts).end_object();
  return out;
}

void Daemon::on_connected() {
  connected_ = true;
  spdlog::info("connected to the broker; subscribed to {} topics", engine_->topics().size());
  {
    // A failure after this connection is a new one, reported in full again.
    const std::lock_guard lock(failures_mu_);
    failures_seen_.clear();
    failures_ = core::RateLimiter{kFailureReportInterval, kFailureCauses};
  }
  const std::string online = status_payload("online", now());
  if (check_publish_) {
    const std::lock_guard lock(check_mu_);
    check_.reset();
  }
  publish(config_.topics.status, online, 1, true, true);
}

void Daemon::on_disconnected(const std::string& cause) {
  if (check_publish_) {
    const std::lock_guard lock(check_mu_);
    check_.reset();
  }
  if (connected_.exchange(false)) {
    spdlog::warn("lost the broker: {}; reconnecting with backoff", cause);
    return;
  }
  // One line for a failure, then one a minute while it repeats: a wrong password retried with
  // backoff for a day must not fill the journal.
  std::uint64_t suppressed = 0;
  bool first = false;
  {
    const std::lock_guard lock(failures_mu_);
    if (failures_seen_.size() >= kFailureCauses) failures_seen_.clear();  // bounded
    first = failures_seen_.insert(cause).second;
    if (!failures_.allow(cause, now(), suppressed)) return;
  }
  if (first) {
    spdlog::error(
        "cannot reach the broker: {}; retrying with backoff (repeats are logged once a "
        "minute)",
        cause);
  } else {
    spdlog::warn(
        "still cannot reach the broker: {} ({} more failed attempts since the last report)", cause,
        suppressed + 1);
  }
}

void Daemon::on_message(std::string_view topic, std::string_view payload) {
  if (check_publish_) {
    // twind's own messages, back from the broker: evidence for the check, not telemetry.
    const std::lock_guard lock(check_mu_);
    if (check_.watched(topic)) {
      check_.on_received(topic, payload);
      return;
    }
  }
  const double arrival = now();
  post(Message{std::string(topic), std::string(payload), arrival});
}

void Daemon::post(Event e) {
  {
    const std::lock_guard lock(mutex_);
    if (std::holds_alternative<Message>(e) && inbox_.size() >= options_.max_inbox) {
      ++counters_.inbox_dropped;
      return;
    }
    inbox_.push_back(std::move(e));
    // A busy engine takes the message with its next batch: no wake-up to pay for.
    if (!waiting_) return;
  }
  wake_.notify_one();
}

void Daemon::stop() {
  post(Stop{});
}

void Daemon::reload(config::Config next) {
  post(Reload{std::move(next)});
}

std::shared_ptr<const DaemonSnapshot> Daemon::snapshot() const {
  const std::lock_guard lock(mutex_);
  return snapshot_;
}

DaemonCounters Daemon::counters() const {
  const std::lock_guard lock(mutex_);
  return counters_;
}

void Daemon::apply(Reload& r) {
  config::Config& next = r.config;
  std::vector<std::string> changes;
  try {
    changes = engine_->reconfigure(next, now(), *sink_);
  } catch (const std::exception& e) {
    spdlog::error("reload refused, the running configuration stays: {}", e.what());
    const std::lock_guard lock(mutex_);
    ++counters_.reloads_refused;
    return;
  }
  if (next.tick != config_.tick) {
    changes.push_back("tick " + std::to_string(config_.tick) + " s -> " +
                      std::to_string(next.tick) + " s");
  }
  if (next.topics != config_.topics) changes.emplace_back("outbound topics changed");
  if (next.broker != config_.broker) {
    spdlog::warn("reload: broker settings changed; they take effect at the next restart");
  }
  for (const std::string& c : changes) spdlog::info("reload: {}", c);
  if (changes.empty()) spdlog::info("reload: nothing changed");
  // New topics are subscribed now; the connection is kept. Topics no longer configured stay
  // subscribed until the next restart and their messages are counted as unknown_topic.
  client_.subscribe(engine_->topics(), 1);
  config_ = std::move(next);
  const std::lock_guard lock(mutex_);
  ++counters_.reloads;
}

namespace {

void per_asset_series(const core::Engine& engine, Metrics& m) {
  m.family("twind_asset_status", "gauge", "1 for the asset's current status.");
  for (std::size_t i = 0; i < engine.size(); ++i) {
    const core::AssetTwin& t = engine.twin(i);
    for (Status s : {Status::starting, Status::ok, Status::alert, Status::stale}) {
      m.sample("twind_asset_status", t.status() == s ? 1.0 : 0.0,
               "asset=\"" + label(t.id()) + "\",status=\"" + std::string(to_string(s)) + "\"");
    }
  }
  m.family("twind_asset_divergence", "gauge", "The asset's divergence figure (see twin/state).");
  for (std::size_t i = 0; i < engine.size(); ++i) {
    const core::AssetTwin& t = engine.twin(i);
    if (const auto d = t.divergence()) {
      m.sample("twind_asset_divergence", d->value, "asset=\"" + label(t.id()) + "\"");
    }
  }
}

}  // namespace

void Daemon::take_snapshot(double ts) {
  auto snap = std::make_shared<DaemonSnapshot>();
  snap->ts = ts;
  snap->states = std::move(sink_->tick_states);
  sink_->tick_states.clear();
  sink_->tick_states.reserve(snap->states.size());  // no regrowth while a fleet's period fills it
  snap->connected = client_.connected();

  const core::Counters& c = engine_->counters();
  const mqtt::ClientStats cs = client_.stats();
  const DaemonCounters dc = counters();
  snap->ticks = dc.ticks;
  snap->messages = c.messages;
  snap->alerts = c.alerts;

  Metrics m;
  m.one("twind_messages_total", "counter", "Inbound messages offered to the twins.",
        static_cast<double>(c.messages));
  m.one("twind_values_total", "counter", "Values accepted by a twin.",
        static_cast<double>(c.values));
  m.family("twind_rejected_total", "counter", "Inbound messages or values refused, by reason.");
  for (std::size_t i = 0; i < kRejectKinds; ++i) {
    m.sample("twind_rejected_total", static_cast<double>(c.rejected[i]),
             "reason=\"" + std::string(to_string(static_cast<Reject>(i))) + "\"");
  }
  m.one("twind_states_total", "counter", "twin/state messages produced.",
        static_cast<double>(c.states));
  m.one("twind_alerts_total", "counter", "Alert transitions produced.",
        static_cast<double>(c.alerts));
  m.one("twind_ticks_total", "counter", "Ticks taken.", static_cast<double>(dc.ticks));
  m.one("twind_ticks_skipped_total", "counter", "Ticks skipped because the loop fell behind.",
        static_cast<double>(dc.ticks_skipped));
  m.one("twind_inbox_dropped_total", "counter", "Telemetry dropped because the engine fell behind.",
        static_cast<double>(dc.inbox_dropped));
  m.one("twind_publish_failed_total", "counter", "States or alerts the MQTT client refused.",
        static_cast<double>(dc.publish_failed));
  m.one("twind_reloads_total", "counter", "Configurations reloaded.",
        static_cast<double>(dc.reloads));
  m.one("twind_reloads_refused_total", "counter", "Configurations refused on reload.",
        static_cast<double>(dc.reloads_refused));
  m.one("twind_publish_denied_topics", "gauge",
        "Watched topics (broker.check_publish) whose messages the broker acknowledged but never "
        "delivered back: an ACL denying twind's publications.",
        static_cast<double>(dc.publish_denied_topics));
  m.one("twind_mqtt_connected", "gauge", "1 while connected to the broker.",
        snap->connected ? 1.0 : 0.0);
  m.one("twind_mqtt_connects_total", "counter", "Successful broker connections.",
        static_cast<double>(cs.connects));
  m.one("twind_mqtt_connect_failures_total", "counter", "Failed connection attempts.",
        static_cast<double>(cs.connect_failures));
  m.one("twind_mqtt_published_total", "counter", "Messages handed to the broker connection.",
        static_cast<double>(cs.published));
  m.one("twind_mqtt_delivered_total", "counter", "QoS 1 messages acknowledged by the broker.",
        static_cast<double>(cs.delivered));
  m.one("twind_mqtt_dropped_total", "counter",
        "Outbound messages lost (QoS 0 while "
        "disconnected, outbox overflow).",
        static_cast<double>(cs.dropped));
  m.one("twind_mqtt_received_total", "counter", "Messages received from the broker.",
        static_cast<double>(cs.received));
  m.one("twind_mqtt_outbox", "gauge", "QoS 1 messages awaiting acknowledgement.",
        static_cast<double>(cs.outbox));

  std::array<std::size_t, 4> by_status{};
  for (std::size_t i = 0; i < engine_->size(); ++i) {
    ++by_status[static_cast<std::size_t>(engine_->twin(i).status())];
  }
  m.family("twind_assets", "gauge", "Assets by status.");
  for (Status s : {Status::starting, Status::ok, Status::alert, Status::stale}) {
    m.sample("twind_assets", static_cast<double>(by_status[static_cast<std::size_t>(s)]),
             "status=\"" + std::string(to_string(s)) + "\"");
  }
  m.one("twind_assets_discovered_total", "counter", "Assets made by discovery.",
        static_cast<double>(c.discovered));
  m.one("twind_commands_total", "counter", "Commands received (each answered).",
        static_cast<double>(c.commands));
  m.one("twind_commands_refused_total", "counter", "Commands refused.",
        static_cast<double>(c.commands_refused));
  m.one("twind_model_changes_total", "counter", "Model swaps (reload, command, rebaseline).",
        static_cast<double>(c.model_changes));
  // One series per asset is what a small plant's dashboard wants and what a fleet's Prometheus
  // cannot afford (and what would cost this loop milliseconds every tick): per-asset series stop
  // at kPerAssetSeriesLimit assets, the totals above always hold.
  if (engine_->size() <= kPerAssetSeriesLimit) per_asset_series(*engine_, m);
  snap->metrics = m.take();

  const std::lock_guard lock(mutex_);
  snapshot_ = std::move(snap);
}

void Daemon::run() {
  // Ticks fall on the grid k * tick of Unix time, k an integer: no drift from accumulating a
  // period that doubles cannot represent exactly at this magnitude.
  double tick = engine_->tick_interval();
  auto first_tick_after = [&](double t) {
    return static_cast<std::int64_t>(std::floor(t / tick)) + 1;
  };
  std::int64_t k = first_tick_after(now());
  auto due = [&] { return static_cast<double>(k) * tick; };
  std::deque<Event> batch;
  constexpr std::size_t kCheckClockEvery = 1024;

  auto take_tick_if_due = [&] {
    const double t = now();
    if (t < due()) return;
    const auto latest = static_cast<std::int64_t>(std::floor(t / tick));
    const auto period = static_cast<std::int64_t>(engine_->slots());
    if (latest - k >= period) {
      // Fell a whole period behind (a stalled machine, a huge backlog): publish one state per
      // asset, for the latest period, rather than a burst of late ones.
      const std::lock_guard lock(mutex_);
      counters_.ticks_skipped += static_cast<std::uint64_t>(latest - k - period + 1);
      k = latest - period + 1;
    }
    // Sub-ticks (tick_spread) each carry other assets: none is skipped, late ones go out late.
    for (; k <= latest; ++k) {
      engine_->tick(due(), *sink_);
      {
        const std::lock_guard lock(mutex_);
        ++counters_.ticks;
      }
      if (engine_->slot_of(due()) + 1 == engine_->slots()) take_snapshot(due());
      if (options_.on_tick) options_.on_tick();
    }
    poll_publish_check();
  };

  // Batches start at least kMinBatchGap apart: under a fleet's 20,000 messages a second the
  // engine wakes a thousand times a second for batches of twenty rather than twenty thousand
  // times for one; a message arriving alone, long after the last, is not delayed.
  constexpr auto kMinBatchGap = std::chrono::milliseconds(1);
  auto last_batch = std::chrono::steady_clock::now() - kMinBatchGap;
  while (true) {
    std::this_thread::sleep_until(last_batch + kMinBatchGap);
    {
      std::unique_lock lock(mutex_);
      const double wait = due() - now();
      if (inbox_.empty() && wait > 0.0) {
        waiting_ = true;
        wake_.wait_for(lock, std::chrono::duration<double>(wait), [&] { return !inbox_.empty(); });
        waiting_ = false;
      }
      batch.swap(inbox_);
    }
    last_batch = std::chrono::steady_clock::now();
    std::size_t n = 0;
    for (Event& e : batch) {
      if (auto* m = std::get_if<Message>(&e)) {
        if (sink_->origin < 0.0) sink_->origin = m->arrival;
        engine_->on_message(m->topic, m->payload, m->arrival, *sink_);
      } else if (auto* r = std::get_if<Reload>(&e)) {
        apply(*r);
        if (engine_->tick_interval() != tick) {
          tick = engine_->tick_interval();
          k = first_tick_after(now());
        }
      } else {
        return;
      }
      if (++n % kCheckClockEvery == 0) take_tick_if_due();
    }
    batch.clear();
    take_tick_if_due();
  }
}

}  // namespace twind::app
