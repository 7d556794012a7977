#include "twind/app/daemon.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>
#include <random>
#include <thread>

#include "twind/app/cluster_link.hpp"
#include "twind/app/connection_report.hpp"
#include "twind/app/diagnosis_worker.hpp"
#include "twind/app/live_feed.hpp"
#include "twind/app/live_publisher.hpp"
#include "twind/app/publisher.hpp"
#include "twind/core/cluster.hpp"
#include "twind/core/engine.hpp"
#include "twind/core/tick_schedule.hpp"
#include "twind/json/writer.hpp"
#include "twind_version.hpp"

namespace twind::app {

namespace {
// While behind, each asset's state goes out on one period in at most this many.
constexpr double kMaxStateStride = 8.0;
// A replica announces itself again this often, seconds, unchanged or not: an announcement the
// broker lost on the way to a member (a NATS cluster under load was seen to lose a QoS 1 message
// between nodes) would otherwise leave that member waiting for a hand-over for good.
constexpr double kAnnounceEvery = 5.0;
// A replica's alert records (retained) go out one at a time, each once no QoS 1 message awaits
// the broker's acknowledgement. nats-server stores a retained message in a JetStream stream
// before it reads on from the connection: about 2 ms each on an idle node, and while JetStream
// elects leaders after a node's loss, 4 s each (its JetStream request timeout; the tests' node
// logs show read loops stalled 4.0 and 8.0 s). A burst of records (a replica letting a thousand
// twins with alerts go) sent at once held up what followed them on the connection for longer
// than a keepalive: its announcements, and the pings whose answers keep the connection alive.
// One at a time, the connection is held up by one record's store at most (4 s, under the
// cluster's 1.5 keepalives of 7.5 s). A record waits in the sink, where a newer one of its asset
// replaces it.
constexpr std::size_t kRecordsInFlight = 1;
// This many alert records waiting, a replica says so (and again once they are all sent).
constexpr std::size_t kManyRecordsWaiting = 100;
// Records and alerts acknowledged this many seconds or more after they were sent are sent once
// more: nats-server gives up a store after 4 s (while JetStream elects leaders, on surviving
// nodes too: "unable to store retained message" in their logs) and acknowledges the message all
// the same, so a record the next holder must read may be gone. A store that succeeds takes
// milliseconds, seconds only on a node that is itself overloaded.
constexpr double kLateAcknowledgement = 2.0;
}  // namespace

// Everything the engine thread owns.
struct Daemon::Loop {
  Loop(config::Config c, mqtt::Client& cl, const DaemonOptions& o, double now)
      : config(std::move(c)),
        client(cl),
        engine(config, now),
        publisher(client, config.broker.check_publish, o.publish_check_timeout),
        sink(publisher, o.keep_states),
        ticks(engine.tick_interval(), engine.slots(), now, core::TickSchedule::Clock::wall),
        heard_until(now) {}

  config::Config config;  // in force
  mqtt::Client& client;
  core::Engine engine;
  LivePublisher publisher;
  PublishingSink sink;
  core::TickSchedule ticks;
  ConnectionReport connection;
  DaemonCounters counters;  // inbox_dropped and publish_failed are read where they are counted
  std::deque<Event> batch;
  std::vector<core::DiagnosisJob> jobs;  // cut by the last tick, for the diagnosis thread
  double last_tick = 0.0;
  // The last time the engine had read everything sent to it: staleness is judged there, so that
  // the daemon's own backlog is never taken for silent plants.
  double heard_until = 0.0;
  double input_delay = 0.0;  // of the plant-stamped input read before the last tick (Engine)
  double delay_at = 0.0;     // when it was measured
  bool behind = false;       // the lag is past a tick period (logged and published on each change)
  bool stopped = false;
  // A replica's: who holds which partition, and where the replicas announce themselves.
  std::optional<core::Ownership> ownership;
  std::uint64_t run_id = 0;
  double announced_at = 0.0;        // the last announcement
  double records_lag_since = -1.0;  // kManyRecordsWaiting records waited since; -1: not now
  double flushed_at = 0.0;          // the last paced messages were sent
  std::uint64_t records_sent = 0;   // since then
  int inbound_qos = 1;              // of its subscriptions
  // cluster.active_alerts, and its filters for the partitions subscribed to.
  core::Pattern records;
  std::vector<std::string> record_filters;
};

Daemon::Daemon(config::Config config, mqtt::Client& client, DaemonOptions options)
    : options_(std::move(options)), driven_(client.driven()), inbox_(options_.max_inbox) {
  if (!options_.clock) options_.clock = wall_clock_now;
  loop_ = std::make_unique<Loop>(std::move(config), client, options_, options_.clock());
  Loop& l = *loop_;
  // Diagnoses are computed on a thread of their own (made at the first), never within a tick.
  l.engine.set_diagnosis_deferred(true);
  l.sink.feed(options_.feed);
  // A replica's subscriptions are QoS 0: NATS makes each QoS 1 subscription of an MQTT client a
  // JetStream consumer, which a node's loss stalls for seconds (new leaders) and a fleet's
  // partitions multiply; plants publish their telemetry at QoS 0 anyway, and what is delivered
  // is at the lower of the two.
  l.inbound_qos = l.config.cluster ? 0 : 1;
  l.publisher.set_watch_qos(l.inbound_qos);
  client.subscribe(l.engine.topics(), l.inbound_qos);
  if (l.config.cluster) {
    l.ownership.emplace(l.config.cluster->member, l.config.cluster->partitions);
    client.subscribe({members_filter(l.config.cluster->members)}, l.inbound_qos);
    l.records = core::Pattern::of(l.config.cluster->active_alerts, 0, 0);
    l.sink.pace_records(true);
    new_run();
  }
  // broker.check_publish: the status topic and the first asset known now; with discovery only,
  // the first one discovered (LivePublisher::discovered).
  l.publisher.watch(l.config.topics.status);
  if (l.engine.size() > 0) l.publisher.watch_asset(l.engine.twin(0));
  auto first = std::make_shared<DaemonSnapshot>();
  first->tick = l.config.tick;
  snapshot_ = std::move(first);
}

Daemon::~Daemon() = default;

std::string Daemon::status_payload(std::string_view state, double ts) {
  std::string out;
  json::Writer w(out);
  w.begin_object().key("state").value(state).key("version").value(TWIND_VERSION);
  w.key("ts").value(ts).end_object();
  return out;
}

// A driven client calls these on the engine thread, from drive() in run(): handled at once.
// A threaded one calls them on its own threads: stamped and posted to the inbox.
void Daemon::on_connected() {
  if (driven_) {
    connected(event::Connected{options_.clock()});
  } else {
    inbox_.post(event::Connected{options_.clock()});
  }
}

void Daemon::on_disconnected(const std::string& cause) {
  if (driven_) {
    disconnected(event::Disconnected{cause, options_.clock()});
  } else {
    inbox_.post(event::Disconnected{cause, options_.clock()});
  }
}

void Daemon::on_message(std::string_view topic, std::string_view payload) {
  if (driven_) {
    message(topic, payload, options_.clock());
  } else {
    inbox_.post(event::Message{std::string(topic), std::string(payload), options_.clock()});
  }
}

void Daemon::stop() {
  inbox_.post(event::Stop{});
}

void Daemon::reload(config::Config next) {
  inbox_.post(event::Reload{std::move(next)});
}

std::shared_ptr<const DaemonSnapshot> Daemon::snapshot() const {
  const std::lock_guard lock(snapshot_mutex_);
  return snapshot_;
}

DaemonCounters Daemon::counters() const {
  DaemonCounters c = loop_->counters;
  c.inbox_dropped = inbox_.dropped();
  c.publish_failed = loop_->sink.publish_failed();
  c.records_waiting = loop_->sink.records_waiting();
  c.records_superseded = loop_->sink.records_superseded();
  c.records_resent = loop_->sink.resent();
  c.waiting_dropped = loop_->sink.waiting_dropped();
  c.clock = wall_clock_stats();
  if (options_.recorder != nullptr) {
    c.recording = true;
    c.record = options_.recorder->stats();
  }
  return c;
}

bool Daemon::poll(double now, std::size_t max_events) {
  Loop& l = *loop_;
  if (l.stopped) return false;
  if (l.batch.empty()) inbox_.take(l.batch);
  l.publisher.set_clock(now);
  for (std::size_t n = 0; n < max_events && !l.batch.empty(); ++n) {
    Event e = std::move(l.batch.front());
    l.batch.pop_front();
    if (std::holds_alternative<event::Stop>(e)) {
      // The records still waiting go to the client, which gives its outbox time at the stop.
      l.sink.flush_records(l.sink.messages_waiting());
      l.stopped = true;
      return false;
    }
    handle(e, now);
  }
  // A threaded client's messages come through the inbox: all of them handled means everything
  // posted before `now` has been read. A driven client's are read in run_driven().
  if (!driven_ && l.batch.empty() && hearing()) l.heard_until = now;
  take_ticks(now);
  if (l.ownership && now - l.announced_at >= kAnnounceEvery && l.client.connected()) {
    publish_status(now);
  }
  if (l.client.connected() && (l.sink.messages_waiting() > 0 || l.sink.unacknowledged() > 0)) {
    const std::size_t outbox = l.client.stats().outbox;
    if (outbox == 0 && l.sink.unacknowledged() > 0) acknowledged(now);
    if (outbox < kRecordsInFlight && l.sink.messages_waiting() > 0) {
      l.records_sent += l.sink.flush_records(kRecordsInFlight - outbox);
      l.flushed_at = now;
    }
  }
  if (l.ownership) note_records_waiting(now);
  // Judged on what it has read: a message of its own that it has not read yet because it is
  // behind its input is not missing.
  l.counters.publish_denied_topics = l.publisher.poll_check(std::min(now, l.heard_until));
  l.counters.publish_republished = l.publisher.republished();
  if (options_.feed != nullptr) options_.feed->flush();
  return true;
}

void Daemon::handle(Event& e, double now) {
  if (auto* m = std::get_if<event::Message>(&e)) {
    message(m->topic, m->payload, m->arrival);
  } else if (auto* c = std::get_if<event::Connected>(&e)) {
    connected(*c);
  } else if (auto* d = std::get_if<event::Disconnected>(&e)) {
    disconnected(*d);
  } else if (auto* r = std::get_if<event::Reload>(&e)) {
    apply(r->config, now);
  } else if (auto* dg = std::get_if<event::Diagnosed>(&e)) {
    diagnosed(*dg->result, now);
  }
}

void Daemon::diagnosed(const core::DiagnosisResult& result, double now) {
  Loop& l = *loop_;
  if (!result.error.empty()) {
    spdlog::warn("diagnosis {}: not computed: {}", result.asset, result.error);
  }
  l.sink.at(now);
  l.engine.on_diagnosis(result, l.sink);
}

void Daemon::send_diagnoses() {
  Loop& l = *loop_;
  l.engine.take_diagnosis_jobs(l.jobs);
  if (l.jobs.empty()) return;
  if (!worker_) {
    worker_ = std::make_unique<DiagnosisWorker>([this](core::DiagnosisResult r) {
      inbox_.post(event::Diagnosed{std::make_unique<core::DiagnosisResult>(std::move(r))});
    });
  }
  for (core::DiagnosisJob& j : l.jobs) worker_->submit(std::move(j));
  l.jobs.clear();
}

void Daemon::message(std::string_view topic, std::string_view payload, double arrival) {
  Loop& l = *loop_;
  if (l.ownership) {
    if (const auto member = member_of(l.config.cluster->members, topic)) {
      l.publisher.echo(topic, payload);  // its own, evidence for the check too
      announcement(*member, payload, arrival);
      return;
    }
    std::string_view asset;
    std::uint32_t partition = 0;
    if (l.records.match(topic, asset, partition)) {
      alert_record(asset, payload, arrival);
      return;
    }
  }
  // twind's own messages, back from the broker: evidence for the check, not telemetry.
  if (l.publisher.echo(topic, payload)) return;
  if (options_.recorder != nullptr) options_.recorder->record(arrival, topic, payload);
  l.sink.message_at(arrival);
  l.engine.set_heard_until(l.heard_until);
  l.engine.on_message(topic, payload, arrival, l.sink);
}

void Daemon::connected(const event::Connected& c) {
  Loop& l = *loop_;
  log_line(LogLevel::info,
           l.connection.connected(l.engine.topics().size(), l.client.connected_uri()).text);
  l.publisher.connection_changed();
  if (l.ownership) {
    // While it was away the others may have taken its partitions: it starts again from none,
    // announces itself and decides once its announcement has come back. The twins it lets go
    // say their alerts' records once more, through the node it has now (the one it wrote them
    // through may have died with them); then it goes on as a new run, for whom those records
    // are another's, to settle like anyone else's.
    l.ownership->restart();
    apply_ownership();
    new_run();
  }
  publish_status(c.at);
}

// The paced messages last sent are all acknowledged: late, they are sent once more.
void Daemon::acknowledged(double now) {
  Loop& l = *loop_;
  const double after = now - l.flushed_at;
  const bool late = after >= kLateAcknowledgement;
  if (late) {
    spdlog::warn(
        "the broker acknowledged {} alert record(s) and alert(s) only {:.1f} s after they were "
        "sent: it may not have stored them; sending them once more",
        l.sink.unacknowledged(), after);
  }
  l.sink.acknowledged(late);
}

// A replica whose alert records queue up says so: its alerts wait with them.
void Daemon::note_records_waiting(double now) {
  Loop& l = *loop_;
  const std::size_t waiting = l.sink.records_waiting();
  if (l.records_lag_since < 0.0 && waiting >= kManyRecordsWaiting) {
    l.records_lag_since = now;
    l.records_sent = 0;
    spdlog::warn(
        "{} alert records wait to be sent, and the alerts behind them: the broker stores each "
        "before it reads on, so they go one at a time",
        waiting);
  } else if (l.records_lag_since >= 0.0 && waiting == 0) {
    spdlog::info("alert records all sent: {} in {:.1f} s", l.records_sent,
                 now - l.records_lag_since);
    l.records_lag_since = -1.0;
  }
}

// Whether silence now is the plants': a replica cut off from the broker hears nothing through no
// fault of theirs (and lets its twins go when it reconnects), so it judges no staleness
// meanwhile; a single twind does, as a dashboard of its states expects.
bool Daemon::hearing() const {
  return !loop_->ownership || loop_->client.connected();
}

void Daemon::announcement(std::string_view member, std::string_view payload, double now) {
  Loop& l = *loop_;
  core::Ownership& own = *l.ownership;
  const std::optional<core::MemberAnnouncement> a = parse_announcement(payload);
  if (!a) {
    spdlog::warn("cluster: the announcement of {} is not one; ignored", member);
    return;
  }
  if (member == own.self()) {
    // Its own, back; one of an earlier process of the same name is not.
    if (a->online && a->run == l.run_id) own.echoed(a->seq);
  } else {
    own.on_member(member, *a);
  }
  if (own.decide()) {
    apply_ownership();
    publish_status(now);
  }
}

void Daemon::new_run() {
  Loop& l = *loop_;
  std::random_device seed;
  l.run_id = (static_cast<std::uint64_t>(seed()) << 32U) ^ seed();
  l.sink.alert_records(l.records, l.config.cluster->partitions, l.config.cluster->member, l.run_id);
}

void Daemon::alert_record(std::string_view asset, std::string_view payload, double arrival) {
  Loop& l = *loop_;
  std::optional<AlertRecord> r = parse_alert_record(payload);
  if (!r) {
    spdlog::warn("cluster: the alert record of {} is not one; ignored", printable(asset));
    return;
  }
  // Its own, back (a record of an earlier process of the same name is not).
  if (r->member == l.ownership->self() && r->run == l.run_id) return;
  l.sink.message_at(arrival);
  l.engine.take_over(asset, std::move(r->alerts), arrival, l.sink);
}

void Daemon::apply_ownership() {
  Loop& l = *loop_;
  const core::Ownership& own = *l.ownership;
  std::vector<std::string> before = l.engine.topics();
  before.insert(before.end(), l.record_filters.begin(), l.record_filters.end());
  const std::size_t dropped = l.engine.set_partitions(own.subscribed(), own.held(), l.sink);
  // The publication check follows an asset it still holds: the states of one let go stop.
  if (dropped > 0 && !l.publisher.watched_asset().empty() &&
      l.engine.find(l.publisher.watched_asset()) == nullptr) {
    l.publisher.let_go_of_asset(l.engine.size() > 0 ? &l.engine.twin(0) : nullptr);
  }
  // The records of the alerts raised on the assets of the partitions it subscribes to: those
  // retained come with the subscription, before it holds the partition.
  l.record_filters.clear();
  for (std::uint32_t p = 0; p < own.subscribed().size(); ++p) {
    if (own.subscribed()[p]) l.record_filters.push_back(l.records.with("+", std::to_string(p)));
  }
  std::vector<std::string> after = l.engine.topics();
  after.insert(after.end(), l.record_filters.begin(), l.record_filters.end());
  std::vector<std::string> added;
  std::vector<std::string> removed;
  for (const std::string& t : after) {
    if (std::find(before.begin(), before.end(), t) == before.end()) added.push_back(t);
  }
  for (const std::string& t : before) {
    if (std::find(after.begin(), after.end(), t) == after.end()) removed.push_back(t);
  }
  if (!added.empty()) l.client.subscribe(added, l.inbound_qos);
  if (!removed.empty()) l.client.unsubscribe(removed);
  const auto list = [](const std::vector<bool>& v) {
    std::string out;
    for (std::size_t p = 0; p < v.size(); ++p) {
      if (v[p]) out += (out.empty() ? "" : ",") + std::to_string(p);
    }
    return out.empty() ? std::string("none") : out;
  };
  spdlog::info("cluster: {} of {} member(s) holds partitions {}, takes {}{}", own.self(),
               own.members().size(), list(own.held()), list(own.taking()),
               dropped > 0 ? fmt::format(" ({} twin(s) let go)", dropped) : std::string());
}

void Daemon::disconnected(const event::Disconnected& d) {
  Loop& l = *loop_;
  l.publisher.connection_changed();
  if (const auto line = l.connection.disconnected(d.cause, d.at)) log_line(line->level, line->text);
}

void Daemon::apply(config::Config& next, double now) {
  Loop& l = *loop_;
  // A replica's ownership, status topic and subscriptions are built on its cluster section.
  if (next.cluster != l.config.cluster) {
    spdlog::error(
        "reload refused, the running configuration stays: the cluster section changed (a "
        "replica's partitions, name and announcements change at a restart only)");
    ++l.counters.reloads_refused;
    take_snapshot(l.last_tick, false);
    return;
  }
  std::vector<std::string> changes;
  l.sink.at(now);
  try {
    changes = l.engine.reconfigure(next, now, l.sink);
  } catch (const std::exception& e) {
    spdlog::error("reload refused, the running configuration stays: {}", e.what());
    ++l.counters.reloads_refused;
    take_snapshot(l.last_tick, false);
    return;
  }
  if (next.broker != l.config.broker) {
    spdlog::warn("reload: broker settings changed; they take effect at the next restart");
  }
  for (const std::string& c : changes) spdlog::info("reload: {}", c);
  if (changes.empty()) spdlog::info("reload: nothing changed");
  // New topics are subscribed now; the connection is kept. Topics no longer configured stay
  // subscribed until the next restart and their messages are counted as unknown_topic.
  l.client.subscribe(l.engine.topics(), l.inbound_qos);
  l.ticks.reschedule(l.engine.tick_interval(), l.engine.slots(), now);
  l.config = std::move(next);
  ++l.counters.reloads;
  take_snapshot(l.last_tick, false);  // the tick in force, for /healthz
}

void Daemon::take_ticks(double now) {
  Loop& l = *loop_;
  const core::TickSchedule::Due due = l.ticks.take(now);
  l.counters.ticks_skipped += due.skipped;
  // Sub-ticks (tick_spread) each carry other assets: none is skipped within the latest period,
  // late ones go out late.
  if (due.end > due.first) {
    // Without plant-stamped input since the last look, the delay last measured, less the time
    // since: a queue drains at least as fast as the clock runs.
    const double delay = l.engine.take_input_delay();
    l.input_delay = std::isfinite(delay) ? std::max(0.0, delay)
                                         : std::max(0.0, l.input_delay - (now - l.delay_at));
    l.delay_at = now;
    note_lag(now, l.ticks.time(due.end - 1));
  }
  // What the engine has read covers the plants up to heard_until, and up to the input delay
  // before now: silence is judged there.
  const double judged_until = std::min(l.heard_until, now - l.input_delay);
  for (std::int64_t k = due.first; k < due.end; ++k) {
    const double t = l.ticks.time(k);
    l.sink.at(t);
    l.engine.tick(t, judged_until, l.sink);
    ++l.counters.ticks;
    l.last_tick = t;
    if (l.engine.slot_of(t) + 1 == l.engine.slots()) take_snapshot(t, true);
    if (options_.on_tick) options_.on_tick();
  }
  send_diagnoses();
}

// The lag at a tick: since the engine last had read all its input, since the tick fell due, or
// the delay of its freshest input (queued at the broker or in the socket). Past a tick period the
// daemon says it is behind (a warning, and `behind` on the status topic), and again when it has
// caught up: the backlog is its own, never the plants'. While behind, input may be lost on the
// way (a broker drops what a slow subscriber cannot take), and the twins restart after a gap
// instead of comparing across it.
void Daemon::note_lag(double now, double due) {
  Loop& l = *loop_;
  const double lag = std::max({0.0, now - l.heard_until, now - due, l.input_delay});
  l.counters.lag_seconds = lag;
  // Behind past a tick, caught up under half of one: no flapping on the edge.
  const bool behind = l.behind ? lag > 0.5 * l.config.tick : lag > l.config.tick;
  // While behind, fewer states: each asset's on one period in (lag in ticks, rounded up),
  // between 2 and kMaxStateStride, so that what twind sends shrinks as its backlog grows.
  l.engine.set_state_stride(behind ? static_cast<std::uint32_t>(std::clamp(
                                         std::ceil(lag / l.config.tick), 2.0, kMaxStateStride))
                                   : 1U);
  if (behind == l.behind) return;
  l.behind = behind;
  l.engine.set_input_lossy(behind);
  if (behind) {
    ++l.counters.behind_periods;
    spdlog::warn(
        "twind is {:.3f} s behind its input (its own backlog, not the plants'): staleness is "
        "judged on what it has read",
        lag);
  } else {
    spdlog::info("twind has caught up with its input");
  }
  publish_status(now);
}

// The retained status while running: `online`, or `behind` while the daemon lags its input; a
// replica's carries its announcement.
void Daemon::publish_status(double at) {
  Loop& l = *loop_;
  const char* state = l.behind ? "behind" : "online";
  if (l.ownership) {
    core::MemberAnnouncement a = l.ownership->announce();
    a.run = l.run_id;
    l.announced_at = at;
    l.publisher.publish(l.config.topics.status,
                        announcement_payload(state, l.ownership->self(), &a, at), 1, true, at);
    return;
  }
  l.publisher.publish(l.config.topics.status, status_payload(state, at), 1, true, at);
}

void Daemon::take_snapshot(double ts, bool period_complete) {
  Loop& l = *loop_;
  auto snap = std::make_shared<DaemonSnapshot>();
  snap->ts = ts;
  snap->tick = l.config.tick;
  // Between two periods (a reload) the states of the last complete one stay.
  snap->states = period_complete ? l.sink.take_states() : snapshot()->states;
  snap->connected = l.client.connected();
  snap->behind = l.behind;
  snap->counters = counters();
  snap->messages = l.engine.counters().messages;
  snap->alerts = l.engine.counters().alerts;
  snap->metrics = prometheus_text(l.engine, snap->counters, l.client.stats(), snap->connected);
  std::shared_ptr<const DaemonSnapshot> done = std::move(snap);
  const std::lock_guard lock(snapshot_mutex_);
  snapshot_.swap(done);  // the old one is released after the lock, with `done`
}

void Daemon::run() {
  if (driven_) {
    run_driven();
    return;
  }
  // Batches start at least kMinBatchGap apart: under a fleet's 20,000 messages a second the
  // engine wakes a thousand times a second for batches of twenty rather than twenty thousand
  // times for one; a message arriving alone, long after the last, is not delayed. Within a
  // batch the clock is read again every kCheckClockEvery events, so that ticks are not held up
  // behind a backlog.
  constexpr auto kMinBatchGap = std::chrono::milliseconds(1);
  constexpr std::size_t kCheckClockEvery = 1024;
  auto last_batch = std::chrono::steady_clock::now() - kMinBatchGap;
  do {
    if (loop_->batch.empty()) {
      std::this_thread::sleep_until(last_batch + kMinBatchGap);
      inbox_.wait(std::chrono::duration<double>(loop_->ticks.next() - options_.clock()));
      last_batch = std::chrono::steady_clock::now();
    }
  } while (poll(options_.clock(), kCheckClockEvery));
}

}  // namespace twind::app

namespace twind::app {

void Daemon::run_driven() {
  // The client's drive() reads and hands over the messages as they come, on this thread; it
  // returns at the next tick's time at the latest, and every kMaxWait so that a reload or a stop
  // posted by the signal thread is taken soon. Within a burst the clock is read again every
  // kCheckClockEvery messages, so that ticks are not held up behind a backlog.
  constexpr double kMaxWait = 0.02;
  constexpr std::size_t kCheckClockEvery = 1024;
  mqtt::Client& client = loop_->client;
  while (poll(options_.clock())) {
    const double wait = std::clamp(loop_->ticks.next() - options_.clock(), 0.0, kMaxWait);
    const std::size_t taken = client.drive(
        std::chrono::milliseconds(static_cast<long>(std::ceil(wait * 1000.0))), kCheckClockEvery);
    // Fewer than asked for: the client found nothing more to read.
    if (taken < kCheckClockEvery && hearing()) loop_->heard_until = options_.clock();
  }
}

}  // namespace twind::app
