// One asset's twin: the event-time engine of docs/interfaces.md ("Timing").
// Pure: no I/O, no clock. Time is handed in with every call; results go to an AlertSink.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "twind/base/types.hpp"
#include "twind/config/hypotheses.hpp"
#include "twind/core/arrival_clock.hpp"
#include "twind/core/asset.hpp"
#include "twind/core/detector.hpp"

namespace twind::core {

class AssetTwin;

/// One alert transition, decided on the sample (or check) that crossed the threshold.
struct AlertEvent {
  AlertId id = AlertId::divergence;
  std::size_t signal = 0;  ///< index into AssetDef::signals
  bool raised = true;      ///< false: cleared
  /// Divergence: event time of the deciding sample. Stale (arrival clock): the check's time when
  /// raised, the arrival of the sample that ended the silence when cleared.
  double ts = 0.0;
  /// Divergence: |residual|, or the CUSUM's max(S+, S-) when `detector` is cusum. Stale: seconds
  /// since the last sample.
  double value = 0.0;
  /// The threshold crossed (clear threshold when cleared): for the CUSUM h when raised, 0 when
  /// cleared.
  double threshold = 0.0;
  Severity severity = Severity::critical;
  /// Divergence: the detector that raised the alert (also on its clearing).
  Detector detector = Detector::threshold;
  /// The event time of the alert's raise (the raise's `ts`; on its clearing, the raise's): with
  /// the asset, signal and id, what names the alert (its `alert_id`). 0: the twin fills it in.
  double since = 0.0;
  /// The transition settles an alert another replica raised on this asset before its partition
  /// was handed over (see HandedAlert): a `cleared`, or a `raised` that confirms it.
  bool handed_over = false;
};

/// An alert that another replica raised on this asset and had not cleared when the asset's
/// partition changed hands (a replica of a cluster: docs/scaling.md). The twin that takes the
/// asset over settles it by its own judgement, under the same alert id (the same since):
/// divergence: confirmed by a raise of its own on the signal, cleared once clear_after judged
/// comparisons in a row are within the clear threshold (and the CUSUM at 0); stale: cleared by
/// a sample of the signal, confirmed when it finds the signal stale too; model_diverged:
/// confirmed if its model diverges, cleared after kDivergedClearSamples comparisons within
/// bounds.
struct HandedAlert {
  AlertId id = AlertId::divergence;
  std::size_t signal = 0;  ///< index into AssetDef::signals
  double since = 0.0;      ///< the raise's event time
  Detector detector = Detector::threshold;
  friend bool operator==(const HandedAlert&, const HandedAlert&) = default;
};

/// One sample a twin accepted, as it took it: what a trace of the twin shows (`twind replay
/// --trace`).
struct TraceSample {
  std::size_t signal = 0;  ///< index into AssetDef::signals
  double ts = 0.0;         ///< its event time, as placed (see ArrivalClock)
  double value = 0.0;
  /// Outputs: compared with the prediction at `ts`. False when the twin started or restarted
  /// from this measurement instead (or is still waiting for a signal), and for inputs.
  bool compared = false;
  double predicted = 0.0;  ///< when compared
  double residual = 0.0;   ///< when compared: value - predicted
  /// When compared: the comparison counts for the divergence detector (see "Timing of bare
  /// numbers" in AssetTwin).
  bool judged = false;
};

/// Receives alert transitions as they are decided. Called synchronously on the caller's thread.
class AlertSink {
 public:
  virtual void on_alert(const AssetTwin& twin, const AlertEvent& event) = 0;
  /// Every sample a twin accepts, an output's with its comparison, before the alerts it decides;
  /// called only while traces() is true, so that a sink that does not trace costs the twin a
  /// test of a flag per sample.
  virtual void on_trace(const AssetTwin& twin, const TraceSample& sample) {
    (void)twin;
    (void)sample;
  }
  [[nodiscard]] bool traces() const noexcept { return traces_; }

 protected:
  ~AlertSink() = default;
  void set_traces(bool on) noexcept { traces_ = on; }

 private:
  bool traces_ = false;
};

/// Per-signal view of a twin, for encoders and tests.
struct SignalView {
  bool has_value = false;
  double value = 0.0;  ///< last accepted measurement
  bool has_prediction = false;
  double predicted = 0.0;  ///< outputs: model prediction at the measurement's event time
  double residual = 0.0;   ///< outputs: value - predicted
  double last_arrival = 0.0;
  double event_time = 0.0;  ///< event time of the last accepted value
  bool divergence_active = false;
  double divergence_since = 0.0;
  Detector divergence_detector = Detector::threshold;  ///< what raised the active alert
  bool stale_active = false;
  double stale_since = 0.0;
  /// Typical event time between two of its samples, learnt while no input may have been lost
  /// (0 until two have been seen).
  double interval = 0.0;
  /// The latest value was stamped on its arrival (it came without ts).
  bool on_arrival = false;
  /// Outputs: the latest comparison was judged by the divergence detector (see "Timing of bare
  /// numbers"); an unjudged residual is shown but ranks in no divergence.
  bool judged = true;
};

/// One accepted sample as the twin took it (its event time, after placement), kept for the
/// diagnosis of a divergence.
struct RecentSample {
  double t = 0.0;
  double value = 0.0;
  std::uint32_t signal = 0;
};

/// What the twin last said of a divergence's cause (see Engine, "Diagnosis").
struct DiagnosisMark {
  bool any = false;
  bool explained = false;
  std::string kind;  ///< parameter, output_gain, output_bias or input_gain
  std::string name;
  double estimate = 0.0;
  double ci95 = 0.0;
  bool drifting = false;
  /// The model with the change in place, when the change is one of the model's (or an input
  /// gain of a linear model): what `rebaseline` with `identified` adopts.
  std::optional<config::ModelSpec> identified;
};

/// The twin of one asset.
///
/// Event time: the model state x stands at time t_model. A sample at ts >= t_model first
/// advances x to ts with the inputs held since their last samples (zero-order hold), then:
/// an input sample replaces the held input; an output sample is compared with the prediction at
/// ts and feeds that output's divergence detector. Samples with ts < the latest accepted ts are
/// refused (ts_backwards). The state is initialised by least squares from the latest outputs as
/// soon as every input and every output has been seen once; until then the status is `starting`.
///
/// Start: the state computed from the outputs is the plant's state at their event time, carried
/// forward from there with the inputs held. Two kinds of start cannot vouch for that time; they
/// are provisional, and the next output sample starts the twin again (from that measurement and
/// the inputs held) instead of being compared, as after an outage. The start after it holds.
///  - An output older than the latest input (a first y whose u was lost, so that the next
///    sample's u completes the set; a y that arrives before the u of its own instant): the state
///    is as old as the time between them, and the inputs the plant held meanwhile are unknown.
///  - A start on a sample whose event time is its arrival (no ts), while the model moves (its
///    outputs under the held inputs are not at rest): the state is placed at the arrival, later
///    than the measurement by a delay the twin cannot know, and that error in its starting time
///    stays in the state (not cancelled, as a late sample's is by the next one) until the plant
///    forgets its initial state, showing as divergence. The first samples of a stream are the
///    likeliest to be late: they come with a connection, a subscription, a start of twind or the
///    discovery of a fleet, all at once. A model at rest has the same state at any time near its
///    start: that start holds.
/// An input and an output of the same event time (one frame, stamped values of one instant) are
/// of one instant, not of the first kind.
///
/// Outages: an output that comes back after going stale restarts the twin from that measurement
/// (and the inputs held), as at its start, instead of being compared. Whatever silenced it (a
/// broker or network outage, most often) may have silenced the inputs too, and a prediction made
/// on inputs held through the gap says nothing of the machine: the outage raises stale alerts,
/// never a false divergence. Gaps shorter than stale_after are integrated with the inputs held.
///
/// Lost input: while the driver says input may have been lost (twind behind its input, with
/// the broker dropping what it cannot deliver), a sample that comes more than
/// kLostGapFactor times its signal's usual interval after the previous one (or after a gap whose
/// usual length is not known yet) marks a gap, and the twin's next output restarts it from that
/// measurement, as after an outage, instead of being compared: a prediction made across samples
/// that never reached twind says nothing of the machine. Consecutive samples are still compared,
/// so a real fault is still seen. The driver judges no silence meanwhile (Engine).
///
/// Timing of bare numbers: a sample stamped on its arrival carries every delay on its way into
/// the model's time (ArrivalClock places late samples back on their source's rhythm once it has
/// learnt it). While some signal of the twin stamped on arrival has no rhythm learnt (the first
/// samples of a run, or after a sample later than half a period), nothing tells how late its
/// samples are, and a timing error of e moves the comparison by e times the output's rate of
/// change. Such a comparison is judged only where the model is close enough to rest that a
/// timing error of up to kTimingProbe moves the prediction by less than kTimingShare of the
/// threshold; otherwise its residual is shown but not judged (unjudged()). A twin thus never
/// raises a divergence that the lateness of its own clock could explain, and judges again once
/// the rhythm is learnt (four intervals).
///
/// CUSUM: an output with detector cusum also accumulates its judged residuals in a two-sided
/// CUSUM (DivergenceDetector), whose evidence concerns the state it was compared against: it is
/// forgotten (S+ = S- = 0) whenever the state starts again from the measurements (outage, lost
/// input, model diverged, provisional start, a model swap that cannot keep the state,
/// rebaseline) and when a reload removes the CUSUM. A reload that keeps it, and a model swap
/// that keeps the state, keep the evidence too, as they keep the alerts. Its comparisons are
/// judged (see "Timing of bare numbers") only where a timing error of kTimingProbe moves the
/// prediction by less than kTimingShare of h sigma as well.
///
/// Not thread-safe: one thread owns a twin.
class AssetTwin {
 public:
  /// `start` is the time the twin starts waiting for data (arrival clock): a signal with
  /// stale_after that never arrives becomes stale at start + stale_after.
  AssetTwin(std::string id, std::shared_ptr<const AssetDef> def, double start);

  /// The per-sample path: validates the value against the signal's bounds and the event time
  /// against the twin's, then integrates. Returns the reason when the sample is refused (the
  /// twin is then untouched); alerts decided by the sample go to `sink` before it returns.
  /// `input_lossy`: samples before this one may have been lost on the way (see "Lost input").
  std::optional<Reject> on_sample(std::size_t signal, double value, double ts, double arrival,
                                  AlertSink& sink, bool input_lossy = false);

  /// The delay of a plant-stamped sample (arrival - ts = `transit`) beyond the smallest this
  /// asset's samples have shown lately, which absorbs the offset between the plant's clock and
  /// twind's. What is left is time spent in queues: the broker's and twind's.
  /// "Lately" is the last kTransitWindow to 2 x kTransitWindow seconds of event time (the smallest
  /// of the current window and the one before), each smallest figure creeping up by
  /// kTransitCreep per second meanwhile: an offset that grows (the plant's clock set back, or a
  /// clock drifting) is taken in within two windows, and a queue is told from it by not standing
  /// still: a backlog of twind's own drains once twind sheds it, so a delay that stands for two
  /// windows is an offset. (A floor that only crept, by 1 ms a second, took a plant's clock set
  /// back by 20 s for a 20 s backlog for 5 hours, and twind shed all its input meanwhile.)
  double input_delay(double transit, double ts) noexcept;
  /// A sample of `signal` arrived and was shed unprocessed (Engine: too old while input is
  /// lossy): the plant is not silent, so its staleness counts from here. A stale signal stays
  /// stale until a sample is taken.
  void heard(std::size_t signal, double arrival) noexcept;
  static constexpr double kLostGapFactor = 1.5;
  static constexpr double kTransitCreep = 0.001;
  static constexpr double kTransitWindow = 10.0;  // seconds of event time
  /// Times the twin restarted from a measurement after input it may have lost.
  [[nodiscard]] std::uint64_t reanchors() const noexcept { return reanchors_; }
  /// Comparisons left unjudged because their timing was unknown (see "Timing of bare numbers").
  [[nodiscard]] std::uint64_t unjudged() const noexcept { return unjudged_; }
  static constexpr double kTimingProbe = 1.0;   // seconds
  static constexpr double kTimingShare = 0.05;  // of the threshold

  /// Raises stale alerts for signals whose last arrival is more than stale_after before `now`
  /// (arrival clock). Called on every tick and before each message to the asset.
  void check_stale(double now, AlertSink& sink);

  /// Takes a new definition of the same asset (new thresholds, bounds, stale limits, topics) and
  /// keeps everything the twin knows: model state, held inputs, measurements, active alerts and
  /// seq. Precondition: `def` has the same signals (names, roles, order) and a model of the same
  /// dimensions. An alert whose condition the new definition no longer watches (threshold or
  /// stale_after removed) is cleared through `sink`, at time `now`.
  void rebind(std::shared_ptr<const AssetDef> def, double now, AlertSink& sink);

  /// Runs another model on the same signals (`def` differs from the present definition at most in
  /// its model and settings). When the new model has as many states as the old one the state is
  /// kept (the models describe the same machine); otherwise it is re-initialised from the latest
  /// measurements, or waits for them. Alerts stay as they are: the next samples decide them.
  /// Returns whether the state was kept.
  bool swap_model(std::shared_ptr<const AssetDef> def, double now, AlertSink& sink);

  /// Accepts the plant's present behaviour as nominal: takes `def` (same signals), clears every
  /// divergence alert at `now`, forgets the detectors' runs and re-initialises the state from the
  /// latest measurements.
  void rebaseline(std::shared_ptr<const AssetDef> def, double now, AlertSink& sink);

  /// Clears every active alert at `now` (the twin is going away, or starts again), handed-over
  /// ones too.
  void clear_alerts(double now, AlertSink& sink);

  /// Alerts another replica raised on this asset and has not cleared, as its latest record says
  /// (`alerts`: the whole record; empty: none), for this twin to settle (see HandedAlert). They
  /// replace those handed over before and not yet settled. Where this twin has raised the same
  /// alert itself (same id and signal) the older of the two stands: a handed one raised before
  /// the twin's own is confirmed at once and the twin's own cleared in its favour (both with
  /// value and threshold 0 on the clearing), the twin's alert then going on under the handed
  /// one's id; a handed one raised after it is cleared as superseded. Returns whether the alerts
  /// waiting to be settled, or the ids of the twin's own, changed.
  /// `settle`: the event time for which a handed divergence or model_diverged alert must have
  /// been calm, comparison after comparison, on top of their count, before it is cleared.
  bool take_over(std::span<const HandedAlert> alerts, double now, AlertSink& sink,
                 double settle = 0.0);
  /// Handed-over alerts not settled yet.
  [[nodiscard]] std::span<const HandedAlert> handed_over() const noexcept { return handed_; }

  /// Numbers the next state publication: 1 on the first call, then 2, 3, ...
  std::uint64_t next_seq() noexcept { return ++seq_; }
  /// The number of the latest state publication (0 before the first).
  [[nodiscard]] std::uint64_t seq() const noexcept { return seq_; }

  /// The asset's id, reported in every message and substituted for {asset} in its topics.
  [[nodiscard]] const std::string& id() const noexcept { return id_; }
  /// `pattern` (one of the definition's topics) for this asset.
  [[nodiscard]] std::string topic(std::string_view pattern) const {
    return expand_topic(pattern, id_);
  }
  [[nodiscard]] const AssetDef& def() const noexcept { return *def_; }
  [[nodiscard]] const std::shared_ptr<const AssetDef>& def_ptr() const noexcept { return def_; }
  [[nodiscard]] Status status() const noexcept;
  [[nodiscard]] bool initialised() const noexcept { return initialised_; }
  [[nodiscard]] double model_time() const noexcept { return t_model_; }
  [[nodiscard]] std::span<const double> state() const noexcept { return x_; }
  [[nodiscard]] const SignalView& signal(std::size_t i) const noexcept { return signals_[i]; }
  /// Signal i's divergence detector (outputs), for its CUSUM statistics.
  [[nodiscard]] const DivergenceDetector& detector(std::size_t i) const noexcept {
    return detectors_[i];
  }
  [[nodiscard]] std::size_t active_alerts() const noexcept { return active_alerts_; }
  /// Alerts raised, or handed over and not settled: what an alert record of the asset lists.
  [[nodiscard]] bool has_alerts_to_settle() const noexcept {
    return active_alerts_ > 0 || !handed_.empty();
  }
  /// Diagnosis: the latest kRecent accepted samples are kept in a ring; from the raise of a
  /// divergence alert on, every sample is kept until no divergence is active any more, so that
  /// the samples around the fault (the onset before the raise) can be explained, up to kHeld.
  /// A diagnosis that found the change still moving lets go of the samples before its latest
  /// estimate (the onset with them); from then on the change is followed as it stands now, and
  /// a full window lets go of its oldest quarter. Any other full window stands as it is.
  static constexpr std::size_t kRecent = 64;
  static constexpr std::size_t kHeld = 2048;
  /// What the diagnoses of one alert carry from one to the next.
  struct Following {
    bool known = false;         ///< a diagnosis with a best change has come back
    bool after_onset = false;   ///< the window has let go of the onset: the change is in place
    double onset = 0.0;         ///< the change's onset, from the last window that held it
    std::vector<double> noise;  ///< the residuals' noise per output, as first judged
    /// The latest best hypothesis: it stays the best until another explains the samples
    /// better than chance would (ident::DiagnoseOptions::incumbent).
    config::HypothesisKind best_kind = config::HypothesisKind::parameter;
    std::string best_name;
  };
  [[nodiscard]] const Following& diagnosis_following() const noexcept { return following_; }
  /// A diagnosis came back with a best change: its noise, its onset (when its window held it),
  /// and, when it found the change still moving, where its latest estimate starts (the samples
  /// before that are let go).
  void diagnosis_followed(config::HypothesisKind kind, std::string_view name,
                          std::span<const double> noise, std::optional<double> onset,
                          std::optional<double> moving_from);
  /// A divergence alert is active and its samples are kept.
  [[nodiscard]] bool diagnosing() const noexcept { return holding_; }
  /// While diagnosing(): the kept samples, oldest first.
  [[nodiscard]] std::span<const RecentSample> recent() const noexcept { return recent_; }
  /// The event time of the divergence alert being diagnosed.
  [[nodiscard]] double diagnosis_alert() const noexcept { return alert_ts_; }
  /// Diagnosing, no job out, and enough new samples to look at: the first time any, then half
  /// as many again as were looked at last (at least 8). An estimate's interval narrows with the
  /// square root of its samples, so steps in proportion catch every move that matters while the
  /// work over a long alert stays proportional to its window, not to its square.
  [[nodiscard]] bool diagnosis_due() const noexcept {
    if (!holding_ || pending_key_ != 0) return false;
    if (diagnosed_size_ == 0) return !recent_.empty();
    // ... or the window is full (kHeld), and its last samples have not been looked at.
    return recent_.size() >= diagnosed_size_ + std::max<std::size_t>(8, diagnosed_size_ / 2) ||
           (recent_.size() == kHeld && diagnosed_size_ < kHeld);
  }
  /// A job for the samples kept so far is out, numbered `key` (> 0).
  void diagnosis_sent(std::uint64_t key) noexcept {
    diagnosed_size_ = recent_.size();
    pending_key_ = key;
  }
  /// The job out for the alert being diagnosed (0: none). A new alert, or its end, forgets it:
  /// a result that comes back for it is not this twin's any more.
  [[nodiscard]] std::uint64_t diagnosis_pending() const noexcept { return pending_key_; }
  /// The job's result came back; `mark`: what is said of the samples now.
  void diagnosed(DiagnosisMark mark) {
    pending_key_ = 0;
    mark_ = std::move(mark);
  }
  [[nodiscard]] const DiagnosisMark& diagnosis_mark() const noexcept { return mark_; }

  /// Whether the model_diverged alert is active, and since when.
  [[nodiscard]] bool model_diverged() const noexcept { return diverged_; }
  [[nodiscard]] double model_diverged_since() const noexcept { return diverged_since_; }

  /// Largest magnitude a state or prediction may reach before the model counts as diverged: far
  /// beyond any physical signal in any unit twind is used with, far below overflow.
  static constexpr double kStateLimit = 1e12;
  /// A model_diverged alert clears once the re-initialised model has stayed within bounds for
  /// this many output comparisons and this much event time, so a model that explodes again and
  /// again keeps its alert raised instead of flapping.
  static constexpr std::uint32_t kDivergedClearSamples = 10;
  static constexpr double kDivergedClearSeconds = 10.0;

  /// The divergence figure of the asset: the output with the largest |residual| relative to its
  /// threshold (or the largest |residual| where no output has a threshold). Empty before any
  /// comparison.
  struct Divergence {
    std::size_t signal = 0;
    double value = 0.0;
    bool has_threshold = false;
    double threshold = 0.0;
  };
  [[nodiscard]] std::optional<Divergence> divergence() const noexcept;

 private:
  // `reanchor`: the start replaces a provisional one (see "Start" above).
  void try_initialise(double ts, bool reanchor = false);
  void reinitialise(bool reanchor = false);
  // Advances a copy of the state `seconds` ahead under the held inputs (x_probe_) and takes its
  // outputs (y_probe_). False when the model cannot get there.
  [[nodiscard]] bool probe_ahead(double seconds);
  // Whether the model's outputs stay where they are, within rounding, over the next second under
  // the held inputs.
  [[nodiscard]] bool at_rest();
  // Whether every signal stamped on arrival keeps a rhythm its clock has learnt.
  [[nodiscard]] bool timing_known() const noexcept;
  // Whether output j's prediction moves by more than `tolerance` over the next kTimingProbe
  // seconds under the held inputs (y_pred_ holds the prediction now).
  [[nodiscard]] bool drifts(std::size_t j, double tolerance);
  // How far a timing error may move output `sd`'s prediction for its comparison to be judged:
  // kTimingShare of its threshold and of its CUSUM's h sigma, whichever is smaller.
  [[nodiscard]] double timing_tolerance(const SignalDef& sd) const noexcept;
  void on_model_diverged(double ts, double magnitude, AlertSink& sink);
  void clear_model_diverged(double ts, AlertSink& sink);
  void compare(std::size_t signal, double ts, AlertSink& sink);
  // Hands signal's latest sample to sink.on_trace (callers test sink.traces() first).
  void trace(std::size_t signal, bool compared, AlertSink& sink) const;
  // Clears signal's stale alert at `now` (arrival clock), or at its raise if that was later.
  void end_stale(std::size_t signal, double now, double value, double threshold, AlertSink& sink);
  // Clears signal's divergence alert, if raised, at `now`, or at its raise if that was later: a
  // reload or rebaseline clears it on the driver's clock, while it was raised on event time,
  // which may lead that clock.
  void end_divergence(std::size_t signal, double now, double threshold, AlertSink& sink);
  void emit(AlertSink& sink, const AlertEvent& e);
  // Takes the handed-over alert `id` on `signal` out of those waiting, if there is one.
  std::optional<HandedAlert> take_handed(AlertId id, std::size_t signal);
  // Takes handed_[k] (and its calm run) out of those waiting.
  HandedAlert drop_handed(std::size_t k);
  // Publishes the clearing of a handed-over alert (not counted among this twin's own).
  void clear_handed(AlertSink& sink, AlertEvent e);
  // After a judged comparison of output `signal`: counts it towards clearing handed-over
  // divergence and model_diverged alerts.
  void settle_handed(std::size_t signal, double ts, AlertSink& sink);
  void remember(double t, std::size_t signal, double value);
  void hold(double alert_ts);
  // Back to the ring once no divergence is active.
  void release_if_calm();

  std::string id_;
  std::shared_ptr<const AssetDef> def_;
  std::vector<double> x_;        // model state at t_model_
  std::vector<double> u_;        // held inputs
  std::vector<double> y_meas_;   // latest measured outputs
  std::vector<double> y_pred_;   // scratch for predictions
  std::vector<double> x_probe_;  // scratch for probe_ahead()
  std::vector<double> y_probe_;
  std::vector<SignalView> signals_;
  std::vector<ArrivalClock> clocks_;           // one per signal, for samples stamped on arrival
  std::vector<DivergenceDetector> detectors_;  // one per signal (used by outputs)
  model::StepMemo memo_;
  double t_model_ = 0.0;
  double t_latest_ = -std::numeric_limits<double>::infinity();
  double t_input_ = -std::numeric_limits<double>::infinity();  // latest input sample's event time
  std::uint64_t seq_ = 0;
  std::size_t seen_ = 0;  // signals seen at least once
  std::size_t active_alerts_ = 0;
  std::size_t stale_count_ = 0;
  bool initialised_ = false;
  bool provisional_ = false;        // the next output starts the twin again ("Start" above)
  bool latest_on_arrival_ = false;  // the latest sample's event time is its arrival
  bool diverged_ = false;           // model_diverged alert active
  double diverged_since_ = 0.0;
  double diverged_last_ = 0.0;     // event time of the latest divergence
  std::uint32_t bounded_run_ = 0;  // comparisons within bounds since then
  bool lost_ = false;              // a sample may have been lost since the last comparison
  std::uint64_t reanchors_ = 0;
  std::uint64_t unjudged_ = 0;
  std::vector<RecentSample> recent_;  // a ring of kRecent (oldest at recent_head_), or held
  std::size_t recent_head_ = 0;
  bool holding_ = false;
  double alert_ts_ = 0.0;
  std::size_t diagnosed_size_ = 0;
  std::uint64_t pending_key_ = 0;
  DiagnosisMark mark_;
  Following following_;
  std::vector<HandedAlert> handed_;  // see HandedAlert
  // By handed_ entry: the calm comparisons in a row towards its clearing, and the first one's ts.
  struct CalmRun {
    std::uint32_t count = 0;
    double since = 0.0;
  };
  std::vector<CalmRun> calm_;
  double settle_ = 0.0;  // take_over()'s
  // Lets go of the oldest `n` kept samples while diagnosing.
  void forget_oldest(std::size_t n);
  // The smallest transit of the current window (since transit_window_ts_) and of the one before.
  double transit_floor_ = std::numeric_limits<double>::infinity();
  double transit_floor_before_ = std::numeric_limits<double>::infinity();
  double transit_floor_ts_ = 0.0;
  double transit_window_ts_ = -std::numeric_limits<double>::infinity();
};

}  // namespace twind::core
