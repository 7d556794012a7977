// One asset's twin: the event-time engine of CONTRACT.md ("Timing semantics").
// Pure: no I/O, no clock. Time is handed in with every call; results go to an AlertSink.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "twind/core/asset.hpp"
#include "twind/core/detector.hpp"
#include "twind/core/types.hpp"

namespace twind::core {

class AssetTwin;

/// One alert transition, decided on the sample (or check) that crossed the threshold.
struct AlertEvent {
  AlertId id = AlertId::divergence;
  std::size_t signal = 0;  ///< index into AssetDef::signals
  bool raised = true;      ///< false: cleared
  double ts = 0.0;         ///< event time of the deciding sample (stale: the check time)
  double value = 0.0;      ///< |residual| for divergence, seconds since last sample for stale
  double threshold = 0.0;  ///< the threshold crossed (clear threshold when cleared)
  Severity severity = Severity::critical;
};

/// Receives alert transitions as they are decided. Called synchronously on the caller's thread.
class AlertSink {
 public:
  virtual void on_alert(const AssetTwin& twin, const AlertEvent& event) = 0;

 protected:
  ~AlertSink() = default;
};

/// Per-signal view of a twin, for encoders and tests.
struct SignalView {
  bool has_value = false;
  double value = 0.0;  ///< last accepted measurement
  bool has_prediction = false;
  double predicted = 0.0;  ///< outputs: model prediction at the measurement's event time
  double residual = 0.0;   ///< outputs: value - predicted
  double last_arrival = 0.0;
  bool divergence_active = false;
  double divergence_since = 0.0;
  bool stale_active = false;
  double stale_since = 0.0;
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
/// Outages: an output that comes back after going stale restarts the twin from that measurement
/// (and the inputs held), as at its start, instead of being compared. Whatever silenced it (a
/// broker or network outage, most often) may have silenced the inputs too, and a prediction made
/// on inputs held through the gap says nothing of the machine: the outage raises stale alerts,
/// never a false divergence. Gaps shorter than stale_after are integrated with the inputs held.
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
  std::optional<Reject> on_sample(std::size_t signal, double value, double ts, double arrival,
                                  AlertSink& sink);

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

  /// Clears every active alert at `now` (the twin is going away, or starts again).
  void clear_alerts(double now, AlertSink& sink);

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
  [[nodiscard]] std::size_t active_alerts() const noexcept { return active_alerts_; }
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
  void try_initialise(double ts);
  void reinitialise();
  void on_model_diverged(double ts, double magnitude, AlertSink& sink);
  void clear_model_diverged(double ts, AlertSink& sink);
  void compare(std::size_t signal, double ts, AlertSink& sink);
  void emit(AlertSink& sink, const AlertEvent& e);

  std::string id_;
  std::shared_ptr<const AssetDef> def_;
  std::vector<double> x_;       // model state at t_model_
  std::vector<double> u_;       // held inputs
  std::vector<double> y_meas_;  // latest measured outputs
  std::vector<double> y_pred_;  // scratch for predictions
  std::vector<SignalView> signals_;
  std::vector<HysteresisDetector> detectors_;  // one per signal (used by outputs)
  model::StepMemo memo_;
  double t_model_ = 0.0;
  double t_latest_ = -std::numeric_limits<double>::infinity();
  std::uint64_t seq_ = 0;
  std::size_t seen_ = 0;  // signals seen at least once
  std::size_t active_alerts_ = 0;
  std::size_t stale_count_ = 0;
  bool initialised_ = false;
  bool diverged_ = false;  // model_diverged alert active
  double diverged_since_ = 0.0;
  double diverged_last_ = 0.0;     // event time of the latest divergence
  std::uint32_t bounded_run_ = 0;  // comparisons within bounds since then
};

}  // namespace twind::core
