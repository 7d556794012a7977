#include "twind/app/fit.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "twind/codec/payload.hpp"
#include "twind/codec/recording.hpp"
#include "twind/config/edit.hpp"
#include "twind/config/hypotheses.hpp"
#include "twind/config/loader.hpp"
#include "twind/core/asset.hpp"
#include "twind/core/fleet.hpp"
#include "twind/core/router.hpp"
#include "twind/ident/calibrate.hpp"

namespace twind::app {
namespace {

constexpr int kOk = 0;
constexpr int kFailure = 1;
constexpr int kBadUsage = 2;

std::string num(double v, int digits = 5) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*g", digits, v);
  return buf;
}

// Where a topic's values go: an entry, an asset, a signal (or a frame).
struct Destination {
  std::size_t entry = 0;
  std::string_view id;
  std::uint32_t signal = core::Route::kFrame;
};

std::vector<std::string> report_lines(const config::AssetSpec& spec, const std::string& name,
                                      const ident::FitResult& r) {
  const ident::FitReport& rep = r.report;
  std::vector<std::string> out;
  std::string assets;
  for (const std::string& a : rep.assets) assets += (assets.empty() ? "" : ", ") + a;
  out.push_back("twind fit: " + name + " from " + assets + ", model " + r.model.id.name +
                " version " + r.model.id.version + " (was " + spec.model.id.version + ")");
  out.push_back(rep.method);
  out.push_back("estimation " + num(rep.split - rep.start, 4) + " s, hold-out " +
                num(rep.end - rep.split, 4) + " s, " + std::to_string(rep.iterations) +
                " iterations");
  for (const ident::Parameter& p : rep.parameters) {
    std::string line = "  " + p.name + " = " + num(p.value, 6);
    if (p.held) {
      line += " (held)";
    } else {
      line += " +- " + num(p.ci95, 2) + " (95 %; started from " + num(p.start, 4) + ")";
    }
    if (!p.unit.empty()) line += " [" + p.unit + "]";
    out.push_back(line);
  }
  std::vector<std::string> ins;
  std::vector<std::string> outs;
  for (const auto& s : spec.signals) (s.role == Role::input ? ins : outs).push_back(s.name);
  if (const std::string phys = ident::physical_summary(r.model, ins, outs); !phys.empty()) {
    out.push_back("  " + phys);
  }
  for (const ident::OutputFit& o : rep.outputs) {
    out.push_back("  output " + o.signal + ": residual noise " + num(o.noise, 3) +
                  " (measurement noise " + num(o.noise_floor, 3) + "), hold-out rms " +
                  num(o.holdout_rms, 3) + ", NRMSE " + num(o.holdout_nrmse, 3) + " %, largest " +
                  num(o.holdout_max, 3) + " at t=" + num(o.holdout_max_t, 13) +
                  "; a sample every " + num(o.interval, 3) + " s");
  }
  for (const ident::Excitation& e : rep.inputs) {
    out.push_back("  input " + e.signal + ": " + num(e.min, 4) + " to " + num(e.max, 4) + ", std " +
                  num(e.stddev, 3) + ", " + std::to_string(e.changes) + " changes");
  }
  return out;
}

// The asset's output signals with detection calibrated from the fit's residuals; report lines.
std::vector<config::SignalSpec> calibrated_signals(const config::AssetSpec& spec,
                                                   const ident::FitResult& r,
                                                   const FitOptions& options,
                                                   std::vector<std::string>& lines) {
  std::vector<config::SignalSpec> out;
  std::size_t j = 0;
  for (const config::SignalSpec& s : spec.signals) {
    if (s.role != Role::output) continue;
    const std::vector<double>& res = r.residuals[j];
    const double rate = r.rates[j];
    ++j;
    if (res.size() < 2 || !(rate > 0.0)) continue;
    // The asset's budget, shared evenly by its outputs and, on each, by the two detectors
    // that raise the same alert.
    const double budget = options.false_alarms_per_year / (2.0 * double(r.residuals.size()));
    const ident::Calibration c = ident::calibrate(res, rate, budget, options.cusum_k);
    config::SignalSpec n = s;
    if (s.threshold && s.clear_threshold) {
      n.clear_threshold = c.threshold * (*s.clear_threshold / *s.threshold);
    } else {
      n.clear_threshold.reset();
    }
    n.threshold = c.threshold;
    n.detector = config::DetectorKind::cusum;
    n.cusum = config::CusumSpec{c.sigma, c.k, c.h};
    out.push_back(n);
    lines.push_back("  detection " + s.name + ": threshold " + num(c.threshold, 4) +
                    (s.threshold ? " (was " + num(*s.threshold, 4) + ")" : "") + ", cusum sigma " +
                    num(c.sigma, 4) + " k " + num(c.k, 3) + " h " + num(c.h, 4) + ", each for " +
                    num(budget, 3) + " false alarm(s) a year at " + num(rate, 4) +
                    " samples/s; the largest |residual| of the recording " + num(c.max_abs, 3) +
                    ", the largest CUSUM " + num(c.max_statistic, 3));
  }
  return out;
}

}  // namespace

RecordedAssets read_recording(const config::Config& config, std::istream& in) {
  RecordedAssets out;
  // The engine's own routing: the twins of single assets and templates' listed ids, whose
  // routes the Router keeps, and the templates' patterns for any other id.
  const core::Fleet fleet(core::build_entries(config), 0.0);
  const core::Router router(fleet, {});
  std::vector<Destination> destinations;
  codec::RecordingParser parser;
  codec::RecordLine rec;
  codec::PayloadDecoder decoder(config.max_payload_bytes);
  codec::Payload payload;
  std::string line;
  std::map<std::string, double, std::less<>> latest;  // per asset
  while (std::getline(in, line)) {
    ++out.lines;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    if (!parser.parse(line, rec)) {
      ++out.bad_lines;
      continue;
    }
    destinations.clear();
    for (const core::Route& r : router.routes(rec.topic)) {
      destinations.push_back({fleet.entry_of(r.asset), fleet.twin(r.asset).id(), r.signal});
    }
    if (destinations.empty()) {
      const core::TopicMatch m = router.match(rec.topic);
      if (m.kind == core::TopicMatch::Kind::pattern && config::is_asset_id(m.id)) {
        destinations.push_back({m.pattern->entry, m.id, m.pattern->signal});
      }
    }
    if (destinations.empty()) {
      ++out.unrouted;
      continue;
    }
    if (!decoder.decode(rec.payload, payload)) {
      ++out.refused;
      continue;
    }
    const double t = payload.has_ts ? payload.ts : rec.t;
    for (const Destination& dest : destinations) {
      const core::AssetDef& def = *fleet.entry(static_cast<std::uint32_t>(dest.entry)).def;
      auto [it, fresh] = out.assets.try_emplace(std::string(dest.id));
      RecordedAssets::Asset& asset = it->second;
      if (fresh) {
        asset.entry = dest.entry;
        asset.series.asset = dest.id;
      }
      double& last = latest.try_emplace(std::string(dest.id), -1e300).first->second;
      if (t < last) {
        ++out.refused;  // the twin refuses a sample older than the asset's latest
        continue;
      }
      for (const codec::Field& f : payload.fields) {
        std::size_t signal = dest.signal;
        if (signal == core::Route::kFrame) {
          signal = def.find_signal(f.name);
          if (signal == def.signals.size()) continue;  // a member that is no signal
        } else if (!f.name.empty()) {
          continue;
        }
        const core::SignalDef& s = def.signals[signal];
        if (f.value < s.min || f.value > s.max) {
          ++out.refused;
          continue;
        }
        asset.series.samples.push_back({t, static_cast<std::uint32_t>(signal), f.value});
        last = t;
      }
    }
  }
  return out;
}

int run_fit(const FitOptions& options, std::ostream& yaml, std::ostream& report) {
  config::LoadResult loaded = config::load_file(options.config_path);
  for (const config::Diagnostic& d : loaded.diagnostics) report << d.str() << '\n';
  if (!loaded.config) return kBadUsage;
  const config::Config& config = *loaded.config;

  std::ifstream in(options.input, std::ios::binary);
  if (!in) {
    report << "twind fit: cannot read recording " << options.input << '\n';
    return kFailure;
  }
  RecordedAssets recorded = read_recording(config, in);
  if (recorded.lines > 0 && recorded.bad_lines == recorded.lines) {
    report << "twind fit: " << options.input << ": no line is a recording line\n";
    return kBadUsage;
  }
  for (const std::string& id : options.assets) {
    if (recorded.assets.count(id) == 0) {
      report << "twind fit: asset " << id << ": no samples in " << options.input
             << " (is it recorded, and does the configuration read its topics?)\n";
      return kBadUsage;
    }
  }
  // The series of each entry: the assets asked for, or all recorded.
  std::map<std::size_t, std::vector<ident::Series>> by_entry;
  for (auto& [id, asset] : recorded.assets) {
    const bool wanted =
        options.assets.empty() ||
        std::find(options.assets.begin(), options.assets.end(), id) != options.assets.end();
    if (wanted) by_entry[asset.entry].push_back(std::move(asset.series));
  }
  if (by_entry.empty()) {
    report << "twind fit: " << options.input << " holds no sample of any asset of "
           << options.config_path << " (" << recorded.unrouted << " messages on other topics)\n";
    return kBadUsage;
  }

  ident::FitOptions fo;
  fo.order = options.order;
  fo.holdout = options.holdout;
  std::vector<config::AssetEdit> edits;
  for (const auto& [entry, series] : by_entry) {
    const config::AssetSpec& spec = config.assets[entry];
    const std::string name = spec.is_template() ? spec.template_name : spec.id;
    ident::FitResult r;
    try {
      r = ident::fit(spec, series, fo);
    } catch (const ident::FitError& e) {
      report << "twind fit: " << name << ": " << e.what() << '\n';
      return kBadUsage;
    }
    // The hypotheses the file lists name entries of its model: a fit of another order may not
    // have them, and the rewritten file would not load.
    for (const std::string& h : spec.diagnose.hypotheses) {
      if (config::find_hypothesis(r.model, spec.signals, h)) continue;
      report << "twind fit: " << name << ": diagnose.hypotheses lists " << h
             << ", which the fitted model has not (it has "
             << config::hypothesis_choices(r.model, spec.signals)
             << "): fit with the configuration's order, or change the list\n";
      return kBadUsage;
    }
    std::vector<std::string> lines = report_lines(spec, name, r);
    config::AssetEdit edit;
    edit.name = name;
    edit.model = r.model;
    if (options.calibrate) edit.signals = calibrated_signals(spec, r, options, lines);
    for (const std::string& l : lines) report << l << '\n';
    edit.comments = std::move(lines);
    edits.push_back(std::move(edit));
  }

  std::ostringstream text;
  {
    std::ifstream source(options.config_path, std::ios::binary);
    text << source.rdbuf();
  }
  std::string rewritten;
  try {
    rewritten = config::edit_configuration(text.str(), edits);
  } catch (const config::EditError& e) {
    report << "twind fit: cannot rewrite " << options.config_path << ": " << e.what() << '\n';
    return kFailure;
  }
  // What is written must load as it would be checked: a failure here is twind's own bug.
  const config::LoadResult check =
      config::load_string(rewritten, options.output.empty() ? "<output>" : options.output);
  if (!check.config) {
    for (const config::Diagnostic& d : check.diagnostics) report << d.str() << '\n';
    report << "twind fit: the rewritten configuration does not load (a bug): not written\n";
    return kFailure;
  }
  if (options.output.empty()) {
    yaml << rewritten;
    return yaml ? kOk : kFailure;
  }
  std::ofstream out(options.output, std::ios::binary | std::ios::trunc);
  out << rewritten;
  out.close();
  if (!out) {
    report << "twind fit: cannot write " << options.output << '\n';
    return kFailure;
  }
  report << "twind fit: wrote " << options.output << '\n';
  return kOk;
}

}  // namespace twind::app
