// The engine: every asset's twin behind one message entry point. This is the functional core
// that both drivers (replay over a recording, live over MQTT) feed: topic + payload + arrival
// time in; alert transitions, states, model changes and command replies out through a Sink.
// No I/O and no clock. Its parts each have a file: the twins and their entries (fleet.hpp),
// routing (router.hpp), reload plans (reload.hpp), commands (commands.hpp); the engine wires
// them to its three entry points.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "twind/base/types.hpp"
#include "twind/codec/payload.hpp"
#include "twind/config/config.hpp"
#include "twind/core/diagnosis.hpp"
#include "twind/core/fleet.hpp"
#include "twind/core/reload.hpp"
#include "twind/core/router.hpp"
#include "twind/core/sink.hpp"
#include "twind/core/twin.hpp"

namespace twind::core {

/// One alert of another replica's record of an asset (cluster.active_alerts), by signal name.
struct HandedRecord {
  AlertId id = AlertId::divergence;
  std::string signal;
  double since = 0.0;
  Detector detector = Detector::threshold;
  friend bool operator==(const HandedRecord&, const HandedRecord&) = default;
};

class Engine {
 public:
  /// Builds every asset of a validated configuration (single assets, and the listed ids of
  /// templates); twins start waiting for data at `start`. Throws model::ModelError if a model
  /// cannot be built.
  Engine(const config::Config& config, double start);

  /// Swaps in a new validated configuration without losing what the twins know (plan_reload,
  /// then apply_reload). A twin whose entry (single asset or template) keeps its signals keeps
  /// its state, alerts and seq under the new settings; if the entry's model changed it takes the
  /// new one (state kept where the number of states agrees, see AssetTwin::swap_model) and the
  /// change goes to the sink. A model taken by command outlives a reload that leaves the entry's
  /// model as it was. A twin whose signals changed starts again; twins no longer configured are
  /// dropped; alerts either clears go to the sink. The tick, topics and max_payload_bytes take
  /// effect at once. Returns one line per change (ReloadPlan::changes), e.g.
  /// `plant: y.threshold 0.15 -> 0.2` or `tick 0.5 s -> 1 s`. Throws model::ModelError before
  /// changing anything if a new model cannot be built.
  std::vector<std::string> reconfigure(const config::Config& next, double now, Sink& sink);

  /// One inbound message: telemetry for a twin (making the twin first when its template
  /// discovers it) or a command. Decodes it, routes every value to its twin and integrates;
  /// alert transitions, model changes and replies go to the sink as they are decided. Never
  /// throws for any payload.
  void on_message(std::string_view topic, std::string_view payload, double arrival, Sink& sink);

  /// A tick at `now`, a multiple of tick_interval(): stale checks, then one state per asset due
  /// then, in configuration order (single assets and templates' ids as listed, then discovered
  /// assets in order of discovery). Without tick_spread every asset is due on every tick; with
  /// it, the period is cut into slots() sub-ticks and each asset is due on the one its id hashes
  /// to, once per period.
  void tick(double now, Sink& sink) { tick(now, now, sink); }
  /// The same, for a driver that may be behind its input: staleness is judged at `heard_until`
  /// (at most `now`), the last time the driver had read everything sent to it, so that a
  /// backlog of the driver's own is never taken for silent plants.
  void tick(double now, double heard_until, Sink& sink);

  /// Time between two calls of tick(): the configured tick, divided by slots().
  [[nodiscard]] double tick_interval() const noexcept {
    return settings_.tick / static_cast<double>(slots_);
  }
  /// Sub-ticks per period: 1 without tick_spread.
  [[nodiscard]] std::uint32_t slots() const noexcept { return slots_; }
  /// The sub-tick (0 .. slots()-1) that the tick at `now` is.
  [[nodiscard]] std::uint32_t slot_of(double now) const noexcept;

  /// Whether input may be being lost on the way (the driver is behind it): twins then restart
  /// from a measurement after a gap instead of comparing across it (AssetTwin, "Lost input"),
  /// no stale alert is raised, since a silence may be the loss, and samples older than
  /// shed_after() are shed.
  void set_input_lossy(bool lossy) noexcept { input_lossy_ = lossy; }
  /// The median delay (AssetTwin::input_delay) of the latest kDelaySamples plant-stamped samples
  /// accepted since the last call: how far behind its input the driver is. The input comes through
  /// one queue, so its samples share that delay; the median is not moved by a few plants whose
  /// clocks jumped. NaN when there were none.
  double take_input_delay();
  static constexpr std::size_t kDelaySamples = 64;
  /// While input is lossy, a plant-stamped sample delayed by more than this (two ticks) is shed:
  /// counted (Counters::shed) and dropped before it reaches its twin.
  [[nodiscard]] double shed_after() const noexcept { return 2.0 * settings_.tick; }
  /// The last time the driver had read everything sent to it (a live driver's; +infinity, the
  /// default, for one that reads as fast as it likes). A message's stale check, like a tick's,
  /// judges silence no later than this, so that a stretch in which the driver itself read
  /// nothing (its own backlog, or a loop held up) is never taken for silent plants.
  void set_heard_until(double t) noexcept { heard_until_ = t; }
  /// While the driver is behind, each twin's state goes out on one period in `stride` (>= 1;
  /// 1: every period), the twins taking turns so that every tick carries a share; the others are
  /// counted (Counters::states_thinned). Stale checks still run on every tick, and an alert
  /// never waits for a state.
  void set_state_stride(std::uint32_t stride) noexcept { state_stride_ = stride > 1 ? stride : 1U; }
  [[nodiscard]] std::uint32_t state_stride() const noexcept { return state_stride_; }

  /// Diagnosis (see core/diagnosis.hpp): after each tick, twins whose divergence alert is
  /// active and which have new samples, taking turns, have a job cut: their samples around the
  /// alert, to be explained by ident::diagnose (single-fault hypotheses, the onset searched from
  /// the first quarter of the samples before the raise up to it). At most kDiagnosesInFlight
  /// jobs are out at once, and a twin has one at most: under many alerts each is refreshed less
  /// often, never queued without bound. A result (on_diagnosis) goes to Sink::on_diagnosis when
  /// it is the first for that alert or when it moved: another hypothesis, explained or not, or an
  /// estimate that moved by more than half its 95 % interval and 1 % of the change it reports. A
  /// result for an alert that has cleared, or for a twin made again since, is dropped.
  ///
  /// By default each job is computed at once, within tick(), one per tick: replay's output is
  /// the same run to run. A driver that computes them elsewhere calls set_diagnosis_deferred()
  /// and takes them with take_diagnosis_jobs() after each tick.
  static constexpr std::size_t kDiagnosesInFlight = 2;
  void set_diagnosis_deferred(bool deferred) noexcept { diagnosis_deferred_ = deferred; }
  /// Moves the jobs cut since the last call to the back of `out`.
  void take_diagnosis_jobs(std::vector<DiagnosisJob>& out);
  /// A job's result, computed by run_diagnosis.
  void on_diagnosis(const DiagnosisResult& result, Sink& sink);
  /// Jobs cut and not yet answered.
  [[nodiscard]] std::size_t diagnoses_in_flight() const noexcept { return in_flight_; }

  [[nodiscard]] const Counters& counters() const noexcept { return counters_; }
  [[nodiscard]] std::size_t size() const noexcept { return fleet_.size(); }
  [[nodiscard]] const AssetTwin& twin(std::size_t i) const noexcept { return fleet_.twin(i); }
  /// The twin of asset `id`, or nullptr.
  [[nodiscard]] const AssetTwin* find(std::string_view id) const noexcept;
  /// Topic filters to subscribe to, in a stable order: single assets' topics, templates' topics
  /// (with + for {asset} when they discover), the command topic with + for {asset}.
  [[nodiscard]] const std::vector<std::string>& topics() const noexcept { return router_.topics(); }

  /// A replica's partitions (cluster.partitions; 0 when not a replica).
  [[nodiscard]] std::uint32_t partitions() const noexcept { return partitions_; }
  /// How many of them it holds.
  [[nodiscard]] std::size_t partitions_held() const noexcept;
  /// A replica's share (core::Ownership): the partitions whose topics to subscribe to (topics()
  /// then lists them) and those whose messages to process. The twins of partitions no longer
  /// held are dropped without a word (their new holder starts them again from the next
  /// measurements); messages of partitions subscribed but not held are counted (not_held) and
  /// left alone, as are commands to their assets. The sink hears of each dropped twin with
  /// alerts to settle (Sink::on_let_go). Returns how many twins were dropped.
  std::size_t set_partitions(const std::vector<bool>& subscribed, const std::vector<bool>& held,
                             Sink& sink);

  /// A replica: another replica's latest record of the alerts raised on asset `id` and not
  /// cleared (empty: none). Kept while `id`'s partition is subscribed to; once it is held, the
  /// asset's twin (when it has one, or as soon as it is made) takes the alerts over and settles
  /// them (AssetTwin::take_over); the sink hears of each change of what it has to settle
  /// (Sink::on_handed_over). Records of partitions not subscribed to are ignored. Returns whether
  /// the record was kept.
  bool take_over(std::string_view id, std::vector<HandedRecord> alerts, double now, Sink& sink);
  /// Records kept: those of assets of subscribed partitions that have no twin held here yet.
  [[nodiscard]] std::size_t handed_records() const noexcept { return book_.size(); }

 private:
  void add_twin(AssetTwin twin, std::uint32_t entry);
  void reject(std::string_view topic, Reject reason, double arrival, Sink& sink);
  void deliver(const Route& route, std::string_view topic, double arrival, Sink& sink);
  void offer(AssetTwin& twin, std::size_t signal, double value, double ts, double arrival,
             std::string_view topic, Sink& sink);
  void on_template_topic(const Pattern& pattern, std::string_view id, std::string_view topic,
                         std::string_view payload, double arrival, Sink& sink);
  void on_command(std::string_view asset, std::string_view payload, double arrival, Sink& sink);
  void set_schedule();
  // Hands the record of twin i's asset, if any, to the twin (a twin just made in a held
  // partition), and forgets it.
  void hand_over(std::size_t i, double now, Sink& sink);
  // Hands `alerts`, another replica's record, to `twin` to settle.
  void install(AssetTwin& twin, const std::vector<HandedRecord>& alerts, double now, Sink& sink);
  // Cuts twin's job (its key noted on the twin), or returns nullopt when there is nothing to
  // diagnose yet (no sample before the alert).
  std::optional<DiagnosisJob> cut_diagnosis(AssetTwin& twin, double now);
  void diagnose_due(double now, Sink& sink);
  // Whether any entry diagnoses its divergences (diagnosis_on_).
  void set_diagnosis();
  // The index k of the grid point k * tick_interval() nearest `now`.
  [[nodiscard]] long long tick_index(double now) const noexcept;

  EngineSettings settings_;
  std::uint32_t partitions_ = 0;  // a replica's cluster.partitions; 0: not a replica
  double handover_settle_ = 0.0;  // a replica's cluster.handover_settle
  std::vector<bool> subscribed_;  // by partition: subscribed to (held or being taken)
  std::vector<bool> held_;        // by partition: processed
  std::uint32_t slots_ = 1;
  std::vector<std::uint16_t> slot_;  // per twin: its sub-tick within the period
  Fleet fleet_;
  Router router_;
  codec::PayloadDecoder decoder_;
  codec::Payload payload_;
  Counters counters_;
  bool input_lossy_ = false;
  std::uint32_t state_stride_ = 1;
  double heard_until_ = std::numeric_limits<double>::infinity();
  std::vector<double> delays_;  // a sample of the input delays since take_input_delay()
  std::uint64_t delays_seen_ = 0;
  std::size_t diagnosis_turn_ = 0;  // the twin the next diagnosis scan starts at
  bool diagnosis_on_ = false;       // some entry has diagnose.enabled
  bool diagnosis_deferred_ = false;
  std::uint64_t diagnosis_keys_ = 0;  // the last key given to a job
  std::size_t in_flight_ = 0;
  std::vector<DiagnosisJob> jobs_;  // deferred: cut, not yet taken
  // A replica's: other replicas' records of the alerts they raised, by asset, for the assets of
  // the partitions it subscribes to (at most one per asset of those partitions).
  std::map<std::string, std::vector<HandedRecord>, std::less<>> book_;
};

}  // namespace twind::core
