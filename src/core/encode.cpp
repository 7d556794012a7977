#include "twind/core/encode.hpp"

#include <array>
#include <charconv>
#include <cmath>

#include "twind/json/writer.hpp"

namespace twind::core {
namespace {

// Three significant digits: enough to read an alert at a glance; the exact figures travel in
// "value" and "threshold".
void append_short(std::string& out, double v, int digits = 3) {
  std::array<char, 32> buf{};
  const auto r =
      std::to_chars(buf.data(), buf.data() + buf.size(), v, std::chars_format::general, digits);
  out.append(buf.data(), r.ptr);
}

// An estimate's 95 % interval as [lo, hi].
void write_interval(json::Writer& w, double estimate, double half_width) {
  w.begin_array();
  w.value(estimate - half_width);
  w.value(estimate + half_width);
  w.end_array();
}

void write_optional(json::Writer& w, bool has, double v) {
  if (has) {
    w.value(v);
  } else {
    w.null();
  }
}

// An output's "measured", "predicted" and "residual", each null where it is not known.
void write_comparison(json::Writer& w, bool has_value, double value, bool has_prediction,
                      double predicted, double residual) {
  w.key("measured");
  write_optional(w, has_value, value);
  w.key("predicted");
  write_optional(w, has_prediction, predicted);
  w.key("residual");
  write_optional(w, has_prediction, residual);
}

}  // namespace

namespace {

void write_active_alert(json::Writer& w, const AssetTwin& twin, AlertId id, std::size_t signal,
                        double since, Detector detector, bool handed_over) {
  const AssetDef& def = twin.def();
  w.begin_object();
  w.key("id").value(to_string(id));
  w.key("signal").value(def.signals[signal].name);
  w.key("severity").value(to_string(id == AlertId::stale ? def.stale_severity : def.severity));
  w.key("since").value(since);
  w.key("alert_id").value(alert_id(twin.id(), def.signals[signal].name, id, since));
  if (id == AlertId::divergence) w.key("detector").value(to_string(detector));
  if (handed_over) w.key("handed_over").value(true);
  w.end_object();
}

// `active_alerts`: the twin's own, the same order on every tick (model_diverged, then by
// signal, divergence before stale), then those handed over to it and not settled yet.
void write_active_alerts(json::Writer& w, const AssetTwin& twin) {
  const AssetDef& def = twin.def();
  w.key("active_alerts").begin_array();
  if (twin.model_diverged()) {
    write_active_alert(w, twin, AlertId::model_diverged, def.n_inputs, twin.model_diverged_since(),
                       Detector::threshold, false);
  }
  for (std::size_t i = 0; i < def.signals.size(); ++i) {
    const SignalView& sv = twin.signal(i);
    if (sv.divergence_active) {
      write_active_alert(w, twin, AlertId::divergence, i, sv.divergence_since,
                         sv.divergence_detector, false);
    }
    if (sv.stale_active) {
      write_active_alert(w, twin, AlertId::stale, i, sv.stale_since, Detector::threshold, false);
    }
  }
  for (const HandedAlert& h : twin.handed_over()) {
    write_active_alert(w, twin, h.id, h.signal, h.since, h.detector, true);
  }
  w.end_array();
}

}  // namespace

std::string alert_id(std::string_view asset, std::string_view signal, AlertId id, double since) {
  std::string out;
  out.reserve(asset.size() + signal.size() + 32);
  out += asset;
  out += '/';
  out += signal;
  out += '/';
  out += to_string(id);
  out += '/';
  out += std::to_string(std::llround(since * 1000.0));
  return out;
}

void encode_active_alerts(const AssetTwin& twin, double ts, std::string_view member,
                          std::uint64_t run, std::string& out) {
  json::Writer w(out);
  w.begin_object();
  w.key("asset").value(twin.id());
  w.key("ts").value(ts);
  w.key("member").value(member);
  w.key("run").value(run);
  write_active_alerts(w, twin);
  w.end_object();
}

void encode_state(const AssetTwin& twin, double ts, std::string& out) {
  const AssetDef& def = twin.def();
  json::Writer w(out);
  w.begin_object();
  w.key("asset").value(twin.id());
  w.key("seq").value(static_cast<std::uint64_t>(twin.seq()));
  w.key("ts").value(ts);
  w.key("model").begin_object();
  w.key("name").value(def.model_id.name);
  w.key("version").value(def.model_id.version);
  w.end_object();

  w.key("signals").begin_object();
  for (std::size_t i = 0; i < def.signals.size(); ++i) {
    const SignalDef& sd = def.signals[i];
    const SignalView& sv = twin.signal(i);
    w.key(sd.name).begin_object();
    if (sd.role == Role::input) {
      w.key("value");
      write_optional(w, sv.has_value, sv.value);
    } else {
      write_comparison(w, sv.has_value, sv.value, sv.has_prediction, sv.predicted, sv.residual);
      if (sd.has_cusum) {
        const DivergenceDetector& d = twin.detector(i);
        w.key("cusum").begin_object();
        w.key("pos").value(d.cusum_pos());
        w.key("neg").value(d.cusum_neg());
        w.key("h").value(sd.cusum_h);
        w.end_object();
      }
    }
    w.end_object();
  }
  w.end_object();

  const auto divergence = twin.divergence();
  w.key("divergence");
  write_optional(w, divergence.has_value(), divergence ? divergence->value : 0.0);
  w.key("threshold");
  write_optional(w, divergence && divergence->has_threshold,
                 divergence ? divergence->threshold : 0.0);
  w.key("status").value(to_string(twin.status()));

  write_active_alerts(w, twin);
  // The divergence's cause as last published (topics.diagnosis), while the alert lasts.
  if (const DiagnosisMark& m = twin.diagnosis_mark(); twin.diagnosing() && m.any) {
    w.key("diagnosis").begin_object();
    w.key("kind").value(m.kind);
    w.key("name").value(m.name);
    w.key("estimate").value(m.estimate);
    w.key("ci95");
    write_interval(w, m.estimate, m.ci95);
    w.key("explained").value(m.explained);
    w.end_object();
  }
  w.end_object();
}

namespace {

std::string fixed2(double v) {
  std::array<char, 48> buf{};
  const auto r = std::to_chars(buf.data(), buf.data() + buf.size(), v, std::chars_format::fixed, 2);
  return {buf.data(), r.ptr};
}

}  // namespace

std::string console_line(const AssetTwin& twin, const AlertEvent& e, double t) {
  if (e.id == AlertId::model_diverged) {
    return "[t=" + fixed2(t) + "s] " + (e.raised ? "ALERT: " : "cleared: ") +
           alert_message(twin, e) + " (" + twin.id() + ")";
  }
  const bool divergence = e.id == AlertId::divergence;
  std::string s = "[t=" + fixed2(t) + "s] " + (e.raised ? "ALERT: " : "cleared: ");
  const bool cusum = divergence && e.detector == Detector::cusum;
  s += std::string(cusum ? "cusum" : to_string(e.id)) + " = " + fixed2(e.value) +
       (divergence ? "" : " s");
  s += e.raised ? " > " : " < ";
  s += fixed2(e.threshold) + (divergence ? "" : " s");
  s += " (" + twin.id() + "/" + twin.def().signals[e.signal].name + ")";
  return s;
}

std::string alert_message(const AssetTwin& twin, const AlertEvent& e) {
  const std::string& signal = twin.def().signals[e.signal].name;
  std::string m;
  if (e.handed_over && !e.raised && e.value == 0.0 && e.threshold == 0.0 &&
      !(e.id == AlertId::divergence && e.detector == Detector::cusum)) {
    // Cleared as superseded (AssetTwin::take_over), by a reload or a rebaseline.
    return "handed over, cleared: " + std::string(to_string(e.id)) + " on " + signal;
  }
  if (e.handed_over) m = e.raised ? "handed over, confirmed: " : "handed over, cleared: ";
  if (e.id == AlertId::model_diverged) {
    if (e.raised) {
      m += "model state beyond ";
      append_short(m, e.threshold);
      m += ": re-initialised from the measurements";
    } else {
      m += "model back within bounds";
    }
  } else if (e.id == AlertId::divergence && e.detector == Detector::cusum) {
    if (e.raised) {
      m += "cusum ";
      append_short(m, e.value);
      m += " > ";
      append_short(m, e.threshold);
      m += " on ";
    } else {
      m += "cusum back to 0 on ";
    }
    m += signal;
  } else if (e.id == AlertId::divergence) {
    m += "divergence ";
    append_short(m, e.value);
    m += e.raised ? " > " : " < ";
    append_short(m, e.threshold);
    m += " on ";
    m += signal;
  } else if (e.raised) {
    m += "no " + signal + " for ";
    append_short(m, e.value);
    m += " s (stale after ";
    append_short(m, e.threshold);
    m += " s)";
  } else {
    m += signal + " arriving again";
  }
  return m;
}

void encode_alert(const AssetTwin& twin, const AlertEvent& e, std::string& out) {
  const AssetDef& def = twin.def();
  json::Writer w(out);
  w.begin_object();
  w.key("asset").value(twin.id());
  w.key("ts").value(e.ts);
  w.key("id").value(to_string(e.id));
  w.key("alert_id").value(alert_id(twin.id(), def.signals[e.signal].name, e.id, e.since));
  w.key("signal").value(def.signals[e.signal].name);
  w.key("state").value(e.raised ? "raised" : "cleared");
  if (e.handed_over) w.key("handed_over").value(true);
  w.key("severity").value(to_string(e.severity));
  w.key("value").value(e.value);
  w.key("threshold").value(e.threshold);
  if (e.id == AlertId::divergence) w.key("detector").value(to_string(e.detector));
  w.key("message").value(alert_message(twin, e));
  w.end_object();
}

namespace {

void write_model(json::Writer& w, std::string_view key, const model::ModelId& id) {
  w.key(key).begin_object();
  w.key("name").value(id.name);
  w.key("version").value(id.version);
  w.end_object();
}

}  // namespace

namespace {

void write_finding(json::Writer& w, std::string_view key, const DiagnosisReport::Finding& f) {
  w.key(key).begin_object();
  w.key("kind").value(f.kind);
  w.key("name").value(f.name);
  w.key("nominal").value(f.nominal);
  w.key("estimate").value(f.estimate);
  w.key("ci95");
  write_interval(w, f.estimate, f.ci95);
  w.key("onset").value(f.onset);
  w.end_object();
}

}  // namespace

namespace {

void write_physical(json::Writer& w, std::string_view key, const ident::Physical& p) {
  w.key(key).begin_object();
  w.key("poles").begin_array();
  for (const ident::Physical::Pole& pole : p.poles) {
    w.begin_object().key("re").value(pole.re).key("im").value(pole.im).end_object();
  }
  w.end_array();
  // One per pole, slowest first; null for a pole that is not stable.
  w.key("time_constants").begin_array();
  for (const ident::Physical::Pole& pole : p.poles) {
    const double tc = pole.time_constant();
    if (std::isfinite(tc)) {
      w.value(tc);
    } else {
      w.null();
    }
  }
  w.end_array();
  w.key("dc_gains").begin_array();
  for (const ident::Physical::DcGain& g : p.dc_gains) {
    w.begin_object().key("input").value(g.input).key("output").value(g.output);
    w.key("gain").value(g.gain).end_object();
  }
  w.end_array();
  w.end_object();
}

// Two decimals where that reads well (-1.00, 0.51), three significant digits elsewhere.
void append_number(std::string& out, double v) {
  const double a = std::abs(v);
  if (a == 0.0 || (a >= 0.01 && a < 1e4)) {
    out += fixed2(v);
  } else {
    append_short(out, v, 3);
  }
}

// `1.00 s` or `1.00, 0.25 s`: the time constants of the stable poles.
std::string time_constants(const ident::Physical& p) {
  std::string out;
  for (const ident::Physical::Pole& pole : p.poles) {
    if (!std::isfinite(pole.time_constant())) continue;
    if (!out.empty()) out += ", ";
    append_number(out, pole.time_constant());
  }
  return out.empty() ? "none" : out + " s";
}

// What the change means for the machine: its time constants, or else its DC gains.
std::string physical_change(const ident::Physical& before, const ident::Physical& after) {
  const std::string tb = time_constants(before);
  const std::string ta = time_constants(after);
  if (tb != ta) {
    std::size_t stable = 0;
    for (const auto& pole : before.poles) stable += std::isfinite(pole.time_constant()) ? 1U : 0U;
    return std::string(stable > 1 ? "time constants " : "time constant ") + tb + " -> " + ta;
  }
  std::string out;
  for (std::size_t i = 0; i < before.dc_gains.size() && i < after.dc_gains.size(); ++i) {
    const auto& b = before.dc_gains[i];
    const auto& a = after.dc_gains[i];
    if (fixed2(b.gain) == fixed2(a.gain)) continue;
    if (!out.empty()) out += ", ";
    out += "DC gain " + b.input + " -> " + b.output + " ";
    append_number(out, b.gain);
    out += " -> ";
    append_number(out, a.gain);
  }
  return out;
}

}  // namespace

void encode_diagnosis(const AssetTwin& twin, const DiagnosisReport& r, std::string& out) {
  json::Writer w(out);
  w.begin_object();
  w.key("asset").value(twin.id());
  w.key("ts").value(r.ts);
  w.key("alert_ts").value(r.alert_ts);
  w.key("samples").value(static_cast<std::uint64_t>(r.samples));
  w.key("explained").value(r.explained);
  if (r.best) write_finding(w, "best", *r.best);
  if (r.runner_up) write_finding(w, "runner_up", *r.runner_up);
  w.key("margin").value(r.margin);
  w.key("drifting").value(r.drifting);
  w.key("since").value(r.since);
  if (r.before) {
    w.key("physical").begin_object();
    write_physical(w, "before", *r.before);
    if (r.after) write_physical(w, "after", *r.after);
    w.end_object();
  }
  w.end_object();
}

std::string diagnosis_line(const AssetTwin& twin, const DiagnosisReport& r) {
  std::string line = "diagnosis " + twin.id() + ": ";
  if (!r.best) return line + "nothing to say";
  const DiagnosisReport::Finding& b = *r.best;
  line += (b.kind == "parameter" ? b.name : b.name + " " + b.kind) + " ";
  append_number(line, b.nominal);
  line += " -> ";
  append_number(line, b.estimate);
  line += " \u00b1";
  append_number(line, b.ci95);
  if (r.before && r.after) {
    if (const std::string c = physical_change(*r.before, *r.after); !c.empty()) {
      line += " (" + c + ")";
    }
  }
  if (r.drifting) line += ", still moving";
  if (!r.explained) line += "; no single change explains the samples";
  return line;
}

void encode_model_change(const AssetTwin& twin, const ModelChange& change, std::string& out) {
  json::Writer w(out);
  w.begin_object();
  w.key("asset").value(twin.id());
  w.key("ts").value(change.ts);
  w.key("cause").value(to_string(change.cause));
  write_model(w, "model", change.after);
  write_model(w, "previous", change.before);
  w.key("state").value(change.state_kept ? "kept" : "reinitialised");
  w.end_object();
}

std::string model_change_line(const AssetTwin& twin, const ModelChange& change) {
  return twin.id() + ": model " + change.before.name + " v" + change.before.version + " -> " +
         change.after.name + " v" + change.after.version + " (" +
         std::string(to_string(change.cause)) +
         (change.state_kept ? ", state kept)" : ", re-initialised)");
}

void encode_trace(const AssetTwin& twin, const TraceSample& sample, std::string& out) {
  const SignalDef& sd = twin.def().signals[sample.signal];
  json::Writer w(out);
  w.begin_object();
  w.key("asset").value(twin.id());
  w.key("ts").value(sample.ts);
  w.key("signal").value(sd.name);
  if (sd.role == Role::input) {
    w.key("value").value(sample.value);
  } else {
    write_comparison(w, true, sample.value, sample.compared, sample.predicted, sample.residual);
    w.key("threshold");
    write_optional(w, sd.has_threshold, sd.threshold);
    w.key("judged").value(sample.compared && sample.judged);
  }
  w.end_object();
}

void encode_reply(const CommandReply& reply, std::string& out) {
  json::Writer w(out);
  w.begin_object();
  w.key("asset").value(reply.asset);
  w.key("id").value(reply.request_id);
  w.key("command").value(reply.command);
  w.key("ts").value(reply.ts);
  w.key("ok").value(reply.ok);
  if (!reply.ok) {
    w.key("error").value(reply.error);
  } else {
    write_model(w, "model", reply.model);
    if (reply.previous) write_model(w, "previous", *reply.previous);
    if (reply.state_kept) w.key("state").value(*reply.state_kept ? "kept" : "reinitialised");
    if (reply.adopted) {
      w.key("identified").begin_object();
      w.key("kind").value(reply.adopted->kind);
      w.key("name").value(reply.adopted->name);
      w.key("estimate").value(reply.adopted->estimate);
      w.end_object();
    }
    if (reply.command != "get_model")
      w.key("assets").value(static_cast<std::uint64_t>(reply.assets));
    w.key("status").value(to_string(reply.status));
  }
  w.end_object();
}

}  // namespace twind::core
