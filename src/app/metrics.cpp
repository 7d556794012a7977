#include "twind/app/metrics.hpp"

#include <array>
#include <cstdio>
#include <string_view>

// Under a sanitizer the sanitizer's allocator serves malloc, and glibc's statistics see none of it.
#if defined(__GLIBC__) && !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
#define TWIND_HEAP_STATS 1
#include <malloc.h>
#endif
#include <unistd.h>

#include "twind/core/engine.hpp"
#include "twind/json/writer.hpp"

namespace twind::app {
namespace {

// Prometheus label values escape backslash, double quote and newline.
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

class Exposition {
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
    json::append_number(out_, v);
    out_ += '\n';
  }
  void counter(std::string_view name, std::string_view help, std::uint64_t v) {
    family(name, "counter", help);
    sample(name, static_cast<double>(v));
  }
  void gauge(std::string_view name, std::string_view help, double v) {
    family(name, "gauge", help);
    sample(name, v);
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

constexpr std::array kStatuses{Status::starting, Status::ok, Status::alert, Status::stale};

void engine_series(const core::Engine& engine, Exposition& m) {
  const core::Counters& c = engine.counters();
  m.counter("twind_messages_total", "Inbound messages offered to the twins.", c.messages);
  m.counter("twind_values_total", "Values accepted by a twin.", c.values);
  m.family("twind_rejected_total", "counter", "Inbound messages or values refused, by reason.");
  for (std::size_t i = 0; i < kRejectKinds; ++i) {
    m.sample("twind_rejected_total", static_cast<double>(c.rejected[i]),
             "reason=\"" + std::string(to_string(static_cast<Reject>(i))) + "\"");
  }
  m.counter("twind_states_total", "twin/state messages produced.", c.states);
  if (engine.partitions() > 0) {
    m.gauge("twind_cluster_partitions", "A replica's partitions (cluster.partitions).",
            static_cast<double>(engine.partitions()));
    m.gauge("twind_cluster_partitions_held",
            "Partitions this replica holds: it twins their assets.",
            static_cast<double>(engine.partitions_held()));
    m.counter("twind_cluster_not_held_total",
              "Messages of partitions this replica subscribes to but does not hold (while taking "
              "or letting go), and commands to assets of partitions it does not hold.",
              c.not_held);
  }
  m.counter("twind_alerts_total", "Alert transitions produced.", c.alerts);
}

void record_series(const RecorderStats& r, Exposition& m) {
  m.counter("twind_record_lines_total", "Inbound messages written to the recording (--record).",
            r.lines);
  m.counter("twind_record_dropped_total",
            "Inbound messages not recorded because the recording's writer fell behind (its queue "
            "was full); the twin had them all.",
            r.dropped);
  m.counter("twind_record_errors_total",
            "Inbound messages not recorded because writing the recording failed (a full disk); "
            "the twin had them all.",
            r.errors);
  m.counter("twind_record_rotations_total", "Recording files rotated for their size limit.",
            r.rotations);
  m.gauge("twind_record_failing", "1 while the recording's last write failed.",
          r.failing ? 1.0 : 0.0);
}

void driver_series(const DaemonCounters& d, Exposition& m) {
  m.counter("twind_ticks_total", "Ticks taken.", d.ticks);
  m.counter("twind_ticks_skipped_total", "Ticks skipped because the loop fell behind.",
            d.ticks_skipped);
  m.counter("twind_inbox_dropped_total", "Telemetry dropped because the engine fell behind.",
            d.inbox_dropped);
  m.counter("twind_publish_failed_total", "States or alerts the MQTT client refused.",
            d.publish_failed);
  m.counter("twind_reloads_total", "Configurations reloaded.", d.reloads);
  m.counter("twind_reloads_refused_total", "Configurations refused on reload.", d.reloads_refused);
  m.gauge("twind_lag_seconds",
          "How far twind is behind its input at the last tick: time since it last had read "
          "everything the broker had sent it, since its last tick fell due, or the delay of its "
          "plant-stamped input (the broker's queue for it). twind's own backlog, not the "
          "plants'.",
          d.lag_seconds);
  m.counter("twind_behind_total", "Times the lag went past a tick period.", d.behind_periods);
  m.counter("twind_clock_steps_total",
            "Steps of the system clock seen (set by NTP or by hand); twind's clock does not step "
            "but follows at 1 ms per second.",
            d.clock.steps);
  m.gauge("twind_clock_offset_seconds",
          "The system clock minus twind's: what remains of its steps, taken in at 1 ms per second.",
          d.clock.offset);
  if (d.recording) record_series(d.record, m);
  m.gauge("twind_publish_denied_topics",
          "Watched topics (broker.check_publish) whose messages the broker acknowledged but never "
          "delivered back: an ACL denying twind's publications.",
          static_cast<double>(d.publish_denied_topics));
  m.counter("twind_publish_republished_total",
            "QoS 1 messages (alerts, diagnoses, model changes, replies) published once more "
            "because the broker had acknowledged and not delivered what twind published when "
            "they went out (broker.check_publish).",
            d.publish_republished);
  m.gauge("twind_cluster_records_waiting",
          "A replica's alert records (cluster.active_alerts) waiting to be sent: they go out one "
          "at a time, each once no QoS 1 message awaits the broker's acknowledgement, and its "
          "alerts with them, in order.",
          static_cast<double>(d.records_waiting));
  m.counter("twind_cluster_records_superseded_total",
            "Alert records replaced by a newer record of their asset while they waited.",
            d.records_superseded);
  m.counter("twind_cluster_resent_total",
            "Alert records and alerts sent once more because the broker acknowledged them 2 s or "
            "more after they were sent: a broker whose store gave up meanwhile may not have kept "
            "them.",
            d.records_resent);
  m.counter("twind_cluster_waiting_dropped_total",
            "Alert records and alerts dropped while they waited to be sent: beyond 65,536 waiting, "
            "the oldest.",
            d.waiting_dropped);
}

void client_series(const mqtt::ClientStats& cs, bool connected, Exposition& m) {
  m.gauge("twind_mqtt_connected", "1 while connected to the broker.", connected ? 1.0 : 0.0);
  m.counter("twind_mqtt_connects_total", "Successful broker connections.", cs.connects);
  m.counter("twind_mqtt_connect_failures_total", "Failed connection attempts.",
            cs.connect_failures);
  m.counter("twind_mqtt_published_total", "Messages handed to the broker connection.",
            cs.published);
  m.counter("twind_mqtt_delivered_total", "QoS 1 messages acknowledged by the broker.",
            cs.delivered);
  m.counter("twind_mqtt_dropped_total",
            "Outbound messages lost (QoS 0 while "
            "disconnected, outbox overflow).",
            cs.dropped);
  m.counter("twind_mqtt_received_total", "Messages received from the broker.", cs.received);
  m.gauge("twind_mqtt_outbox", "QoS 1 messages awaiting acknowledgement.",
          static_cast<double>(cs.outbox));
  m.counter("twind_mqtt_superseded_total",
            "States not sent because a newer one of the same topic replaced them while the "
            "connection's send buffer was full.",
            cs.superseded);
  m.gauge("twind_mqtt_waiting", "States waiting for room in the connection's send buffer.",
          static_cast<double>(cs.waiting));
}

void asset_series(const core::Engine& engine, Exposition& m) {
  std::array<std::size_t, kStatuses.size()> by_status{};
  for (std::size_t i = 0; i < engine.size(); ++i) {
    ++by_status[static_cast<std::size_t>(engine.twin(i).status())];
  }
  m.family("twind_assets", "gauge", "Assets by status.");
  for (Status s : kStatuses) {
    m.sample("twind_assets", static_cast<double>(by_status[static_cast<std::size_t>(s)]),
             "status=\"" + std::string(to_string(s)) + "\"");
  }
  const core::Counters& c = engine.counters();
  m.counter("twind_assets_discovered_total", "Assets made by discovery.", c.discovered);
  m.counter("twind_commands_total", "Commands received (each answered).", c.commands);
  m.counter("twind_commands_refused_total", "Commands refused.", c.commands_refused);
  m.counter("twind_model_changes_total", "Model swaps (reload, command, rebaseline).",
            c.model_changes);
  m.counter("twind_reanchored_total",
            "Twins restarted from a measurement after a gap in input that twind, behind it, may "
            "have lost on the way.",
            c.reanchored);
  m.counter("twind_comparisons_unjudged_total",
            "Comparisons of values stamped on their arrival (no ts) shown but not judged: their "
            "signal's rhythm not yet learnt, while the model moved.",
            c.unjudged);
  m.counter("twind_shed_total",
            "Values dropped unprocessed while twind was behind its input: those older than two "
            "ticks (their plant's stamp against their arrival), so that the twins catch up with "
            "the freshest input.",
            c.shed);
  m.counter("twind_states_thinned_total",
            "States not published while twind was behind its input (each asset's state goes out "
            "on one tick in 2 to 8, more of them the further behind), so that what it has to "
            "send shrinks while the backlog drains.",
            c.states_thinned);
}

void per_asset_series(const core::Engine& engine, Exposition& m) {
  m.family("twind_asset_status", "gauge", "1 for the asset's current status.");
  for (std::size_t i = 0; i < engine.size(); ++i) {
    const core::AssetTwin& t = engine.twin(i);
    for (Status s : kStatuses) {
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
  m.family("twind_asset_cusum", "gauge",
           "max(S+, S-) of the CUSUM of each output with detector cusum, in units of its sigma; "
           "its divergence alert is raised above h (see twin/state).");
  for (std::size_t i = 0; i < engine.size(); ++i) {
    const core::AssetTwin& t = engine.twin(i);
    const core::AssetDef& def = t.def();
    for (std::size_t j = def.n_inputs; j < def.signals.size(); ++j) {
      if (!def.signals[j].has_cusum) continue;
      m.sample("twind_asset_cusum", t.detector(j).cusum(),
               "asset=\"" + label(t.id()) + "\",signal=\"" + label(def.signals[j].name) + "\"");
    }
  }
}

// The process's memory: what the kernel maps (resident, from /proc/self/statm) and what the
// allocator has handed out and not had back (glibc's mallinfo2, all arenas). The second is exact
// and does not move when the allocator returns free pages or keeps them, so that a leak shows in
// it long before it shows in the first.
void process_series(Exposition& m) {
  long pages = 0;
  long resident = 0;
  if (std::FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = -1;
    std::fclose(f);
    if (resident >= 0) {
      m.gauge("process_resident_memory_bytes", "Resident memory size in bytes.",
              static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE)));
    }
  }
#if defined(TWIND_HEAP_STATS)
  const struct mallinfo2 mi = mallinfo2();
  m.gauge("twind_heap_bytes",
          "Heap memory in use: bytes allocated and not yet freed (glibc mallinfo2: uordblks + "
          "hblkhd), free pages the allocator keeps not counted.",
          static_cast<double>(mi.uordblks + mi.hblkhd));
#endif
}

}  // namespace

std::string prometheus_text(const core::Engine& engine, const DaemonCounters& daemon,
                            const mqtt::ClientStats& client, bool connected) {
  Exposition m;
  engine_series(engine, m);
  driver_series(daemon, m);
  client_series(client, connected, m);
  asset_series(engine, m);
  if (engine.size() <= kPerAssetSeriesLimit) per_asset_series(engine, m);
  process_series(m);
  return m.take();
}

}  // namespace twind::app
