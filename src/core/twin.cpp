#include "twind/core/twin.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

namespace twind::core {

namespace {

// Whether every value is finite and within kStateLimit; `magnitude` gets the first that is not
// (kStateLimit itself when it is not finite, since JSON has no infinity).
bool bounded(std::span<const double> v, double& magnitude) {
  for (const double x : v) {
    if (!std::isfinite(x)) {
      magnitude = AssetTwin::kStateLimit;
      return false;
    }
    if (std::abs(x) > AssetTwin::kStateLimit) {
      magnitude = std::abs(x);
      return false;
    }
  }
  return true;
}

}  // namespace

AssetTwin::AssetTwin(std::string id, std::shared_ptr<const AssetDef> def, double start)
    : id_(std::move(id)),
      def_(std::move(def)),
      x_(def_->model->states(), 0.0),
      u_(def_->n_inputs, 0.0),
      y_meas_(def_->n_outputs, 0.0),
      y_pred_(def_->n_outputs, 0.0),
      x_probe_(def_->model->states(), 0.0),
      y_probe_(def_->n_outputs, 0.0),
      signals_(def_->signals.size()),
      clocks_(def_->signals.size()),
      detectors_(def_->signals.size()) {
  if (def_->diagnose) recent_.reserve(kRecent);  // the ring allocates once, here
  // A signal that never arrives goes stale counting from the twin's start.
  for (auto& s : signals_) s.last_arrival = start;
}

std::optional<Reject> AssetTwin::on_sample(std::size_t signal, double value, double ts,
                                           double arrival, AlertSink& sink, bool input_lossy) {
  const SignalDef& sd = def_->signals[signal];
  if (!std::isfinite(value)) return Reject::not_finite;
  if (value < sd.min || value > sd.max) return Reject::out_of_bounds;
  if (!std::isfinite(ts)) return Reject::bad_timestamp;
  const bool on_arrival = ts == arrival;
  if (on_arrival) {
    // Stamped on arrival: placed on its source's rhythm (see ArrivalClock), never before a
    // sample the twin already holds.
    const double placed = clocks_[signal].stamp(arrival);
    ts = placed < t_latest_ && t_latest_ <= arrival ? t_latest_ : placed;
  }
  if (ts < t_latest_) return Reject::ts_backwards;
  t_latest_ = ts;
  latest_on_arrival_ = on_arrival;

  SignalView& sv = signals_[signal];
  sv.last_arrival = arrival;
  sv.on_arrival = on_arrival;
  const bool back_from_stale = sv.stale_active;
  // Stale is decided on the arrival clock, so the arrival (not the stamped ts) clears it.
  if (back_from_stale) end_stale(signal, arrival, 0.0, sd.stale_after, sink);
  if (!handed_.empty()) {
    if (const auto h = take_handed(AlertId::stale, signal)) {
      clear_handed(sink, {AlertId::stale, signal, false, arrival, 0.0, sd.stale_after,
                          def_->stale_severity, Detector::threshold, h->since, true});
    }
  }
  if (sv.has_value) {
    const double gap = ts - sv.event_time;
    if (input_lossy) {
      // A gap of unknown usual length may hide a loss too; the smallest gap seen is the best
      // guess at the usual one.
      lost_ = lost_ || sv.interval == 0.0 || gap > kLostGapFactor * sv.interval;
      if (gap > 0.0) sv.interval = sv.interval == 0.0 ? gap : std::min(sv.interval, gap);
    } else if (gap > 0.0) {
      constexpr double kWeight = 0.2;
      sv.interval = sv.interval == 0.0 ? gap : sv.interval + kWeight * (gap - sv.interval);
    }
  }
  if (!sv.has_value) ++seen_;
  sv.has_value = true;
  sv.value = value;
  sv.event_time = ts;
  remember(ts, signal, value);

  bool diverged = false;
  double magnitude = kStateLimit;
  if (initialised_ && ts > t_model_) {
    diverged = !def_->model->advance(x_, u_, ts - t_model_, memo_) || !bounded(x_, magnitude);
    t_model_ = ts;
  }

  const bool output = sd.role == Role::output;
  if (output) {
    y_meas_[sd.index] = value;
  } else {
    u_[sd.index] = value;
    t_input_ = ts;
    if (sink.traces()) trace(signal, false, sink);
  }

  if (diverged) {
    // An unstable model, or inputs it cannot take: never publish NaN or a runaway prediction.
    // Start again from the measurements and say so.
    if (output && sink.traces()) trace(signal, false, sink);
    on_model_diverged(ts, magnitude, sink);
    reinitialise();
    return std::nullopt;
  }
  if (!initialised_) {
    try_initialise(ts);
    if (output && sink.traces()) trace(signal, false, sink);
    return std::nullopt;
  }
  if (!output) return std::nullopt;
  if (back_from_stale) {
    reinitialise();  // from this measurement: see "Outages" in twin.hpp
  } else if (lost_) {
    ++reanchors_;
    reinitialise();  // from this measurement: see "Lost input" in twin.hpp
  } else if (provisional_) {
    reinitialise(true);  // the start holds from this measurement: see "Start" in twin.hpp
  } else {
    compare(signal, ts, sink);
    return std::nullopt;
  }
  if (sink.traces()) trace(signal, false, sink);
  return std::nullopt;
}

void AssetTwin::trace(std::size_t signal, bool compared, AlertSink& sink) const {
  const SignalView& sv = signals_[signal];
  TraceSample s;
  s.signal = signal;
  s.ts = sv.event_time;
  s.value = sv.value;
  if (compared) {
    s.compared = true;
    s.predicted = sv.predicted;
    s.residual = sv.residual;
    s.judged = sv.judged;
  }
  sink.on_trace(*this, s);
}

void AssetTwin::on_model_diverged(double ts, double magnitude, AlertSink& sink) {
  diverged_last_ = ts;
  bounded_run_ = 0;
  if (diverged_) return;
  diverged_ = true;
  diverged_since_ = ts;
  const auto h = take_handed(AlertId::model_diverged, def_->n_inputs);
  if (h) diverged_since_ = h->since;  // confirms it
  emit(sink, {AlertId::model_diverged, def_->n_inputs, true, ts, magnitude, kStateLimit,
              def_->severity, Detector::threshold, diverged_since_, h.has_value()});
}

void AssetTwin::clear_model_diverged(double ts, AlertSink& sink) {
  if (!diverged_) return;
  diverged_ = false;
  // Raised on event time, cleared on event time or (reload, rebaseline) the driver's clock: never
  // before it was raised.
  emit(sink, {AlertId::model_diverged, def_->n_inputs, false, std::max(ts, diverged_since_), 0.0,
              kStateLimit, def_->severity});
}

void AssetTwin::try_initialise(double ts, bool reanchor) {
  if (seen_ < signals_.size()) return;
  // A start from an output older than the latest input, or placed at an arrival while the model
  // moves, is replaced by the next output's, which holds (see "Start" in twin.hpp).
  bool old_output = false;
  for (std::size_t i = def_->n_inputs; i < signals_.size(); ++i) {
    old_output = old_output || signals_[i].event_time < t_input_;
  }
  def_->model->initial_state(y_meas_, u_, x_);
  memo_ = {};
  t_model_ = ts;
  initialised_ = true;
  provisional_ = !reanchor && (old_output || (latest_on_arrival_ && !at_rest()));
  // The outputs that started the twin are explained by construction (exactly where C has full
  // column rank); record that comparison so the state shows a prediction from the first tick.
  def_->model->output(x_, u_, y_pred_);
  for (std::size_t i = def_->n_inputs; i < signals_.size(); ++i) {
    SignalView& sv = signals_[i];
    const std::size_t j = def_->signals[i].index;
    sv.has_prediction = true;
    sv.judged = true;
    sv.predicted = y_pred_[j];
    sv.residual = y_meas_[j] - y_pred_[j];
  }
}

bool AssetTwin::probe_ahead(double seconds) {
  x_probe_.assign(x_.begin(), x_.end());  // no allocation once sized
  model::StepMemo memo;
  if (!def_->model->advance(x_probe_, u_, seconds, memo)) return false;
  def_->model->output(x_probe_, u_, y_probe_);
  return true;
}

bool AssetTwin::at_rest() {
  constexpr double kProbe = 1.0;      // seconds
  constexpr double kRounding = 1e-9;  // relative
  if (!probe_ahead(kProbe)) return false;
  def_->model->output(x_, u_, y_pred_);
  for (std::size_t j = 0; j < y_pred_.size(); ++j) {
    const double scale = std::max(1.0, std::abs(y_pred_[j]));
    if (!(std::abs(y_probe_[j] - y_pred_[j]) <= kRounding * scale)) return false;
  }
  return true;
}

bool AssetTwin::timing_known() const noexcept {
  for (std::size_t i = 0; i < signals_.size(); ++i) {
    if (signals_[i].on_arrival && !clocks_[i].regular()) return false;
  }
  return true;
}

double AssetTwin::timing_tolerance(const SignalDef& sd) const noexcept {
  double tolerance = std::numeric_limits<double>::infinity();
  if (sd.has_threshold) tolerance = kTimingShare * sd.threshold;
  if (sd.has_cusum) tolerance = std::min(tolerance, kTimingShare * sd.cusum_h * sd.cusum_sigma);
  return tolerance;
}

bool AssetTwin::drifts(std::size_t j, double tolerance) {
  if (!probe_ahead(kTimingProbe)) return true;
  return !(std::abs(y_probe_[j] - y_pred_[j]) <= tolerance);
}

void AssetTwin::compare(std::size_t signal, double ts, AlertSink& sink) {
  const SignalDef& sd = def_->signals[signal];
  SignalView& sv = signals_[signal];
  def_->model->output(x_, u_, y_pred_);
  if (double magnitude = kStateLimit; !bounded(y_pred_, magnitude)) {
    // The output map took the state or the inputs beyond bounds (an absurd input through D).
    if (sink.traces()) trace(signal, false, sink);
    on_model_diverged(ts, magnitude, sink);
    reinitialise();
    return;
  }
  if (diverged_ && ++bounded_run_ >= kDivergedClearSamples &&
      ts - diverged_last_ >= kDivergedClearSeconds) {
    clear_model_diverged(ts, sink);
  }
  sv.has_prediction = true;
  sv.predicted = y_pred_[sd.index];
  sv.residual = sv.value - sv.predicted;
  sv.judged = true;
  if (!sd.has_threshold && !sd.has_cusum) {
    if (sink.traces()) trace(signal, true, sink);
    return;
  }
  // Bare numbers of unknown lateness while the model moves: see "Timing of bare numbers".
  if (!timing_known() && drifts(sd.index, timing_tolerance(sd))) {
    sv.judged = false;
    ++unjudged_;
    if (sink.traces()) trace(signal, true, sink);
    return;
  }
  if (sink.traces()) trace(signal, true, sink);

  const DivergenceDetector::Settings settings{
      sd.has_threshold, sd.threshold,   sd.clear_threshold, def_->raise_after, def_->clear_after,
      sd.has_cusum,     sd.cusum_sigma, sd.cusum_k,         sd.cusum_h};
  const DivergenceDetector::Decision d = detectors_[signal].update(sv.residual, settings);
  switch (d.transition) {
    case Transition::raised: {
      sv.divergence_active = true;
      sv.divergence_since = ts;
      const auto h = take_handed(AlertId::divergence, signal);
      if (h) sv.divergence_since = h->since;  // confirms it
      hold(ts);
      sv.divergence_detector = d.by;
      emit(sink, {AlertId::divergence, signal, true, ts, d.value, d.threshold, def_->severity, d.by,
                  sv.divergence_since, h.has_value()});
      break;
    }
    case Transition::cleared:
      sv.divergence_active = false;
      emit(sink,
           {AlertId::divergence, signal, false, ts, d.value, d.threshold, def_->severity, d.by});
      release_if_calm();
      break;
    case Transition::none:
      break;
  }
  if (!handed_.empty()) settle_handed(signal, ts, sink);
}

void AssetTwin::rebind(std::shared_ptr<const AssetDef> def, double now, AlertSink& sink) {
  def_ = std::move(def);
  pending_key_ = 0;  // a job out was cut against the definition before
  if (!def_->diagnose) {
    std::vector<RecentSample>().swap(recent_);
    recent_head_ = 0;
    holding_ = false;
    following_ = {};
  } else if (recent_.capacity() < kRecent) {
    recent_.reserve(kRecent);
  }
  memo_ = {};  // it may point into the previous model instance's cache
  for (std::size_t i = 0; i < signals_.size(); ++i) {
    const SignalDef& sd = def_->signals[i];
    SignalView& sv = signals_[i];
    if (!sd.has_cusum) detectors_[i].reset_cusum();
    if (!sd.has_threshold && !sd.has_cusum) {
      if (sv.divergence_active) detectors_[i].reset();
      end_divergence(i, now, 0.0, sink);
    }
    if (sv.stale_active && sd.stale_after <= 0.0) {
      end_stale(i, now, now - sv.last_arrival, 0.0, sink);
    }
  }
}

bool AssetTwin::swap_model(std::shared_ptr<const AssetDef> def, double now, AlertSink& sink) {
  const bool keep = def->model->states() == x_.size();
  rebind(std::move(def), now, sink);
  if (!keep) reinitialise();
  return keep;
}

void AssetTwin::rebaseline(std::shared_ptr<const AssetDef> def, double now, AlertSink& sink) {
  rebind(std::move(def), now, sink);
  clear_model_diverged(now, sink);
  for (std::size_t i = 0; i < signals_.size(); ++i) {
    detectors_[i].reset();
    end_divergence(i, now, def_->signals[i].clear_threshold, sink);
  }
  for (std::size_t k = handed_.size(); k-- > 0;) {
    if (handed_[k].id == AlertId::stale) continue;
    const HandedAlert h = drop_handed(k);
    clear_handed(sink,
                 {h.id, h.signal, false, now, 0.0, 0.0, def_->severity, h.detector, h.since, true});
  }
  reinitialise();
}

void AssetTwin::clear_alerts(double now, AlertSink& sink) {
  clear_model_diverged(now, sink);
  for (std::size_t i = 0; i < signals_.size(); ++i) {
    const SignalDef& sd = def_->signals[i];
    SignalView& sv = signals_[i];
    detectors_[i].reset();
    end_divergence(i, now, sd.clear_threshold, sink);
    if (sv.stale_active) end_stale(i, now, now - sv.last_arrival, sd.stale_after, sink);
  }
  const std::vector<HandedAlert> handed = std::exchange(handed_, {});
  calm_.clear();
  for (const HandedAlert& h : handed) {
    clear_handed(sink, {h.id, h.signal, false, now, 0.0, 0.0,
                        h.id == AlertId::stale ? def_->stale_severity : def_->severity, h.detector,
                        h.since, true});
  }
}

bool AssetTwin::take_over(std::span<const HandedAlert> alerts, double now, AlertSink& sink,
                          double settle) {
  settle_ = settle;
  bool changed = false;
  std::vector<HandedAlert> next;
  for (const HandedAlert& a : alerts) {
    if (a.signal >= signals_.size()) continue;
    SignalView& sv = signals_[a.signal];
    std::optional<double> own;  // the since of this twin's alert of the same kind, if raised
    switch (a.id) {
      case AlertId::divergence:
        if (sv.divergence_active) own = sv.divergence_since;
        break;
      case AlertId::stale:
        if (sv.stale_active) own = sv.stale_since;
        break;
      case AlertId::model_diverged:
        if (diverged_) own = diverged_since_;
        break;
    }
    const Severity severity = a.id == AlertId::stale ? def_->stale_severity : def_->severity;
    if (!own) {
      next.push_back(a);
    } else if (a.since < *own) {
      // The record came after this twin raised the same alert itself: the older one, which
      // subscribers saw first, stands. The twin's own is cleared in its favour and the handed
      // one confirmed; from here on the twin's alert is the handed one.
      const SignalDef& sd = def_->signals[a.signal];
      AlertEvent confirm{a.id, a.signal, true, now, 0.0, 0.0, severity, a.detector, a.since, true};
      switch (a.id) {
        case AlertId::divergence:
          confirm.detector = sv.divergence_detector;
          confirm.value = confirm.detector == Detector::cusum ? detectors_[a.signal].cusum()
                                                              : std::abs(sv.residual);
          confirm.threshold = confirm.detector == Detector::cusum ? sd.cusum_h : sd.threshold;
          sv.divergence_since = a.since;
          break;
        case AlertId::stale:
          confirm.value = now - sv.last_arrival;
          confirm.threshold = sd.stale_after;
          sv.stale_since = a.since;
          break;
        case AlertId::model_diverged:
          confirm.value = kStateLimit;
          confirm.threshold = kStateLimit;
          diverged_since_ = a.since;
          break;
      }
      clear_handed(sink,
                   {a.id, a.signal, false, now, 0.0, 0.0, severity, confirm.detector, *own, true});
      sink.on_alert(*this, confirm);  // still one alert of this twin's: not counted again
      changed = true;
    } else if (*own != a.since) {
      // This twin's own alert is older: the handed one ends here, superseded.
      clear_handed(sink,
                   {a.id, a.signal, false, now, 0.0, 0.0, severity, a.detector, a.since, true});
    }  // else it is that very alert, confirmed already
  }
  if (next == handed_) return changed;
  std::vector<CalmRun> calm(next.size());
  for (std::size_t i = 0; i < next.size(); ++i) {
    const auto was = std::find(handed_.begin(), handed_.end(), next[i]);
    if (was != handed_.end()) calm[i] = calm_[static_cast<std::size_t>(was - handed_.begin())];
  }
  handed_ = std::move(next);
  calm_ = std::move(calm);
  return true;
}

std::optional<HandedAlert> AssetTwin::take_handed(AlertId id, std::size_t signal) {
  for (std::size_t k = 0; k < handed_.size(); ++k) {
    if (handed_[k].id == id && handed_[k].signal == signal) return drop_handed(k);
  }
  return std::nullopt;
}

HandedAlert AssetTwin::drop_handed(std::size_t k) {
  const HandedAlert h = handed_[k];
  handed_.erase(handed_.begin() + static_cast<std::ptrdiff_t>(k));
  calm_.erase(calm_.begin() + static_cast<std::ptrdiff_t>(k));
  return h;
}

void AssetTwin::clear_handed(AlertSink& sink, AlertEvent e) {
  e.raised = false;
  e.handed_over = true;
  sink.on_alert(*this, e);  // never counted in active_alerts_: this twin did not raise it
}

void AssetTwin::settle_handed(std::size_t signal, double ts, AlertSink& sink) {
  const SignalDef& sd = def_->signals[signal];
  const SignalView& sv = signals_[signal];
  const double magnitude = std::abs(sv.residual);
  const bool calm = (!sd.has_threshold || magnitude < sd.clear_threshold) &&
                    (!sd.has_cusum || detectors_[signal].cusum() == 0.0);
  for (std::size_t k = handed_.size(); k-- > 0;) {
    const HandedAlert h = handed_[k];
    std::uint32_t needed = 0;
    bool calm_here = calm;
    if (h.id == AlertId::divergence && h.signal == signal && !sv.divergence_active) {
      needed = static_cast<std::uint32_t>(std::max(def_->clear_after, 1));
    } else if (h.id == AlertId::model_diverged && !diverged_) {
      calm_here = true;  // a comparison within bounds
      needed = kDivergedClearSamples;
    } else {
      continue;
    }
    CalmRun& run = calm_[k];
    if (!calm_here) {
      run.count = 0;
      continue;
    }
    if (run.count++ == 0) run.since = ts;
    if (run.count < needed || ts - run.since < settle_) continue;
    drop_handed(k);
    const bool by_threshold = h.id == AlertId::divergence && h.detector == Detector::threshold;
    clear_handed(sink, {h.id, h.signal, false, ts, by_threshold ? magnitude : 0.0,
                        by_threshold                      ? sd.clear_threshold
                        : h.id == AlertId::model_diverged ? kStateLimit
                                                          : 0.0,
                        def_->severity, h.detector, h.since, true});
  }
}

double AssetTwin::input_delay(double transit, double ts) noexcept {
  const double creep = kTransitCreep * std::max(0.0, ts - transit_floor_ts_);
  // Infinity plus a creep stays infinity: an empty window stays empty.
  transit_floor_ += creep;
  transit_floor_before_ += creep;
  transit_floor_ts_ = std::max(transit_floor_ts_, ts);
  if (ts - transit_window_ts_ >= kTransitWindow) {
    // Two windows on, the one before knew nothing of now.
    transit_floor_before_ = ts - transit_window_ts_ < 2.0 * kTransitWindow
                                ? transit_floor_
                                : std::numeric_limits<double>::infinity();
    transit_floor_ = std::numeric_limits<double>::infinity();
    transit_window_ts_ = ts;
  }
  transit_floor_ = std::min(transit_floor_, transit);
  return transit - std::min(transit_floor_, transit_floor_before_);
}

void AssetTwin::heard(std::size_t signal, double arrival) noexcept {
  SignalView& sv = signals_[signal];
  sv.last_arrival = std::max(sv.last_arrival, arrival);
}

void AssetTwin::reinitialise(bool reanchor) {
  lost_ = false;
  for (DivergenceDetector& d : detectors_) d.reset_cusum();  // see "CUSUM" in twin.hpp
  x_.assign(def_->model->states(), 0.0);
  memo_ = {};
  initialised_ = false;
  // The latest measurements and held inputs stand at t_latest_; without them all, the twin waits
  // for the samples still missing, as at its start.
  if (seen_ == signals_.size()) try_initialise(t_latest_, reanchor);
}

void AssetTwin::check_stale(double now, AlertSink& sink) {
  for (std::size_t i = 0; i < signals_.size(); ++i) {
    const SignalDef& sd = def_->signals[i];
    SignalView& sv = signals_[i];
    if (sd.stale_after <= 0.0 || sv.stale_active) continue;
    const double silent = now - sv.last_arrival;
    if (silent > sd.stale_after) {
      sv.stale_active = true;
      sv.stale_since = now;
      const auto h = take_handed(AlertId::stale, i);
      if (h) sv.stale_since = h->since;  // confirms it
      ++stale_count_;
      emit(sink, {AlertId::stale, i, true, now, silent, sd.stale_after, def_->stale_severity,
                  Detector::threshold, sv.stale_since, h.has_value()});
    }
  }
}

void AssetTwin::end_stale(std::size_t signal, double now, double value, double threshold,
                          AlertSink& sink) {
  SignalView& sv = signals_[signal];
  sv.stale_active = false;
  --stale_count_;
  // A driver may hand over a sample that arrived just before a check it already ran: the alert
  // is never cleared before it was raised.
  const double ts = std::max(now, sv.stale_since);
  emit(sink, {AlertId::stale, signal, false, ts, value, threshold, def_->stale_severity});
}

void AssetTwin::end_divergence(std::size_t signal, double now, double threshold, AlertSink& sink) {
  SignalView& sv = signals_[signal];
  if (!sv.divergence_active) return;
  sv.divergence_active = false;
  release_if_calm();
  const double ts = std::max(now, sv.divergence_since);
  if (sv.divergence_detector == Detector::cusum) {
    emit(sink, {AlertId::divergence, signal, false, ts, detectors_[signal].cusum(), 0.0,
                def_->severity, Detector::cusum});
    return;
  }
  emit(sink, {AlertId::divergence, signal, false, ts, std::abs(sv.residual), threshold,
              def_->severity, Detector::threshold});
}

void AssetTwin::remember(double t, std::size_t signal, double value) {
  if (!def_->diagnose) return;
  const RecentSample r{t, value, static_cast<std::uint32_t>(signal)};
  if (holding_) {
    // Full: a change being followed (one found still moving) lets go of its oldest quarter, so
    // that it is followed as it stands now; any other window stands as it is, its onset and the
    // transient after it being what tells the hypotheses apart.
    if (recent_.size() >= kHeld) {
      if (!following_.after_onset) return;
      forget_oldest(kHeld / 4);
    }
    recent_.push_back(r);
    return;
  }
  if (recent_.size() < kRecent) {
    recent_.push_back(r);
    return;
  }
  recent_[recent_head_] = r;
  recent_head_ = (recent_head_ + 1) % kRecent;
}

void AssetTwin::hold(double alert_ts) {
  if (holding_ || !def_->diagnose) return;
  // The ring, oldest first, then everything from here on.
  std::rotate(recent_.begin(), recent_.begin() + static_cast<std::ptrdiff_t>(recent_head_),
              recent_.end());
  recent_head_ = 0;
  holding_ = true;
  alert_ts_ = alert_ts;
  diagnosed_size_ = 0;
  pending_key_ = 0;
  mark_ = {};
  following_ = {};
}

void AssetTwin::forget_oldest(std::size_t n) {
  n = std::min(n, recent_.size());
  recent_.erase(recent_.begin(), recent_.begin() + static_cast<std::ptrdiff_t>(n));
  diagnosed_size_ -= std::min(n, diagnosed_size_);
}

void AssetTwin::diagnosis_followed(config::HypothesisKind kind, std::string_view name,
                                   std::span<const double> noise, std::optional<double> onset,
                                   std::optional<double> moving_from) {
  if (!holding_) return;
  following_.known = true;
  following_.best_kind = kind;
  following_.best_name = name;
  if (following_.noise.empty()) following_.noise.assign(noise.begin(), noise.end());
  if (onset && !following_.after_onset) following_.onset = *onset;
  if (moving_from) {
    const auto first = std::lower_bound(recent_.begin(), recent_.end(), *moving_from,
                                        [](const RecentSample& s, double t) { return s.t < t; });
    forget_oldest(static_cast<std::size_t>(first - recent_.begin()));
    following_.after_onset = true;
  }
}

void AssetTwin::release_if_calm() {
  if (!holding_) return;
  for (const SignalView& sv : signals_) {
    if (sv.divergence_active) return;
  }
  holding_ = false;
  // The newest kRecent in a ring of their own: an alert's samples are not kept for ever.
  std::vector<RecentSample> ring;
  ring.reserve(kRecent);
  const std::size_t keep = std::min(recent_.size(), kRecent);
  ring.assign(recent_.end() - static_cast<std::ptrdiff_t>(keep), recent_.end());
  recent_.swap(ring);
  recent_head_ = 0;  // oldest first: the ring starts over at its front
  diagnosed_size_ = 0;
  pending_key_ = 0;
  following_ = {};
}

void AssetTwin::emit(AlertSink& sink, const AlertEvent& e) {
  if (e.raised) {
    ++active_alerts_;
  } else {
    --active_alerts_;
  }
  if (e.handed_over) {
    sink.on_alert(*this, e);
    return;
  }
  AlertEvent named = e;  // named by its raise
  if (e.raised) {
    named.since = e.ts;
  } else if (e.id == AlertId::divergence) {
    named.since = signals_[e.signal].divergence_since;
  } else if (e.id == AlertId::stale) {
    named.since = signals_[e.signal].stale_since;
  } else {
    named.since = diverged_since_;
  }
  sink.on_alert(*this, named);
}

Status AssetTwin::status() const noexcept {
  if (stale_count_ > 0) return Status::stale;
  if (!initialised_) return Status::starting;
  if (has_alerts_to_settle()) return Status::alert;
  return Status::ok;
}

std::optional<AssetTwin::Divergence> AssetTwin::divergence() const noexcept {
  std::optional<Divergence> best;
  double best_score = -1.0;
  for (std::size_t i = def_->n_inputs; i < signals_.size(); ++i) {
    const SignalView& sv = signals_[i];
    if (!sv.has_prediction || !sv.judged) continue;
    const SignalDef& sd = def_->signals[i];
    const double magnitude = std::abs(sv.residual);
    // Outputs with a threshold rank by how close they are to it; without one, by magnitude
    // (and after every thresholded output, which are the ones an operator configured to watch).
    const double score = sd.has_threshold ? magnitude / sd.threshold : magnitude;
    const bool better = !best || (sd.has_threshold && !best->has_threshold) ||
                        (sd.has_threshold == best->has_threshold && score > best_score);
    if (better) {
      best = Divergence{i, magnitude, sd.has_threshold, sd.threshold};
      best_score = score;
    }
  }
  return best;
}

}  // namespace twind::core
