#include "signals_reader.hpp"

#include <map>
#include <string>
#include <utility>

#include "scalars.hpp"

namespace twind::config::detail {
namespace {

using Names = std::map<std::string, std::string>;  // name -> path of its first use

void read_name(Reader& r, const Fields& f, Names& names, SignalSpec& s) {
  const Value* e = find(f, "name");
  if (e == nullptr) return;
  const auto n = r.as_string(*e);
  if (!n) return;
  if (!is_identifier(*n)) {
    r.expected(*e, "a name of letters, digits and _ that does not start with a digit");
  } else if (*n == "ts" || *n == "value") {
    r.expected(*e, "a name other than ts and value (they are keys of the payload format)");
  } else if (const auto [it, fresh] = names.emplace(*n, e->path); !fresh) {
    r.expected(*e, "a name not already used in this asset (by " + it->second + ")");
  } else {
    s.name = *n;
  }
}

void read_bounds(Reader& r, const Fields& f, SignalSpec& s) {
  const Value* min = find(f, "min");
  const Value* max = find(f, "max");
  // Assigned rather than initialised from ?: which GCC 12 wrongly finds maybe-uninitialized.
  std::optional<double> lo;
  std::optional<double> hi;
  if (min != nullptr) lo = r.as_number(*min);
  if (max != nullptr) hi = r.as_number(*max);
  if (lo) s.min = *lo;
  if (hi) s.max = *hi;
  if (lo && hi && !(*lo < *hi)) {
    r.error(max->pos, max->path,
            "got " + max->node.Scalar() + ", expected a number > min (" + min->node.Scalar() + ")");
  }
}

// A threshold (`what`) > 0, on an output only.
std::optional<double> read_positive_on_output(Reader& r, const Value& e, std::string_view what,
                                              std::optional<Role> role) {
  const auto x = r.as_number(e);
  if (!x) return std::nullopt;
  if (role == Role::input) {
    r.error(e.key_pos, e.path,
            "got " + e.node.Scalar() + ", expected no " + std::string(what) +
                " on an input (only outputs are compared with the model)");
    return std::nullopt;
  }
  if (*x <= 0.0) {
    r.error(e.pos, e.path, "got " + e.node.Scalar() + ", expected a number > 0");
    return std::nullopt;
  }
  return x;
}

void read_thresholds(Reader& r, const Fields& f, std::optional<Role> role, SignalSpec& s) {
  const Value* thr = find(f, "threshold");
  const Value* clr = find(f, "clear_threshold");
  std::optional<double> threshold;
  std::optional<double> clear;
  if (thr != nullptr) threshold = read_positive_on_output(r, *thr, "threshold", role);
  if (clr != nullptr) {
    if (const auto x = read_positive_on_output(r, *clr, "clear_threshold", role)) {
      const std::string written = clr->node.Scalar();
      if (thr == nullptr) {
        r.error(clr->key_pos, clr->path,
                "got " + written + " without a threshold, expected a threshold as well");
      } else if (threshold && *x > *threshold) {
        r.error(clr->pos, clr->path,
                "got " + written + ", expected a number <= threshold (" + thr->node.Scalar() + ")");
      } else {
        clear = *x;
      }
    }
  }
  s.threshold = threshold;
  s.clear_threshold = clear ? clear : threshold;
}

// A number > 0 (`positive`) or >= 0.
std::optional<double> read_cusum_number(Reader& r, const Value& e, bool positive) {
  const auto x = r.as_number(e);
  if (!x) return std::nullopt;
  if (positive ? !(*x > 0.0) : !(*x >= 0.0)) {
    r.error(e.pos, e.path,
            "got " + e.node.Scalar() + ", expected a number " + (positive ? "> 0" : ">= 0"));
    return std::nullopt;
  }
  return x;
}

std::optional<CusumSpec> read_cusum(Reader& r, const Value& v) {
  if (!r.expect_map(v, "a mapping (sigma, k, h)")) return std::nullopt;
  const std::size_t errors_before = r.errors();
  const Fields f = r.fields(v, "assets[].signals[].cusum");
  CusumSpec c;
  if (const Value* e = find(f, "sigma")) {
    if (const auto x = read_cusum_number(r, *e, true)) c.sigma = *x;
  }
  if (const Value* e = find(f, "k")) {
    if (const auto x = read_cusum_number(r, *e, false)) c.k = *x;
  }
  if (const Value* e = find(f, "h")) {
    if (const auto x = read_cusum_number(r, *e, true)) c.h = *x;
  }
  if (r.errors() != errors_before) return std::nullopt;
  return c;
}

// detector and cusum: how an output's divergence alert is decided. The cusum mapping comes with
// detector: cusum and only with it.
void read_detector_choice(Reader& r, const Fields& f, const Value& signal, std::optional<Role> role,
                          SignalSpec& s) {
  const Value* det = find(f, "detector");
  const Value* cus = find(f, "cusum");
  if (role == Role::input) {
    for (const auto& [e, key] : {std::pair{det, "detector"}, std::pair{cus, "cusum"}}) {
      if (e == nullptr) continue;
      r.error(e->key_pos, e->path,
              "got " + got(e->node) + ", expected no " + key +
                  " on an input (only outputs are compared with the model)");
    }
    return;
  }
  std::optional<DetectorKind> kind = DetectorKind::threshold;
  if (det != nullptr) {
    kind = r.as_enum<DetectorKind>(
        *det, {{"threshold", DetectorKind::threshold}, {"cusum", DetectorKind::cusum}});
  }
  std::optional<CusumSpec> cusum;
  if (cus != nullptr) cusum = read_cusum(r, *cus);
  if (!kind) return;  // reported
  if (*kind == DetectorKind::cusum && cus == nullptr) {
    r.error(signal.pos, child_path(signal.path, "cusum"),
            "missing, expected a mapping (sigma, k, h) since detector is cusum");
    return;
  }
  if (*kind != DetectorKind::cusum && cus != nullptr) {
    r.error(cus->key_pos, cus->path,
            det == nullptr ? "got " + got(cus->node) +
                                 " without detector: cusum, expected detector: cusum "
                                 "as well"
                           : "got " + got(cus->node) + " with detector: " + det->node.Scalar() +
                                 ", expected detector: cusum (or no cusum)");
    return;
  }
  s.detector = *kind;
  s.cusum = cusum;
}

std::optional<Role> read_signal(Reader& r, TopicChecks& topics, const Value& v, bool has_frames,
                                const TopicScope& scope, Names& names, SignalSpec& s) {
  if (!r.expect_map(v, "a mapping (a signal: name, role, ...)")) return std::nullopt;
  const Fields f = r.fields(v, "assets[].signals[]");
  read_name(r, f, names, s);
  std::optional<Role> role;
  if (const Value* e = find(f, "role")) {
    role = r.as_enum<Role>(*e, {{"input", Role::input}, {"output", Role::output}});
  }
  s.role = role.value_or(Role::input);
  if (const Value* e = find(f, "topic")) {
    if (const auto t = r.as_string(*e)) {
      if (auto topic = topics.inbound(*e, *t, scope)) s.topic = std::move(*topic);
    }
  } else if (!has_frames) {
    r.error(v.pos, child_path(v.path, "topic"),
            "missing, expected a topic since the asset has no frames to carry this signal");
  }
  read_bounds(r, f, s);
  read_thresholds(r, f, role, s);
  read_detector_choice(r, f, v, role, s);
  if (const Value* e = find(f, "stale_after")) {
    if (const auto d = r.as_duration(*e)) s.stale_after = *d;
  }
  return role;
}

}  // namespace

SignalsInfo read_signals(Reader& r, TopicChecks& topics, const Value& v, bool has_frames,
                         const TopicScope& scope) {
  SignalsInfo si;
  si.where = v;
  if (!r.expect_list(v, "a list of signals")) return si;
  if (v.node.size() == 0) {
    r.expected(v, "at least one input and one output signal");
    return si;
  }
  si.roles_known = true;
  Names names;
  for (std::size_t i = 0; i < v.node.size(); ++i) {
    SignalSpec s;
    const auto role = read_signal(r, topics, element(v, i), has_frames, scope, names, s);
    if (!role) {
      si.roles_known = false;
    } else {
      (*role == Role::input ? si.inputs : si.outputs).push_back(std::move(s));
    }
  }
  if (si.roles_known && (si.inputs.empty() || si.outputs.empty())) {
    r.error(v.pos, v.path,
            "got " + plural(si.inputs.size(), "input") + " and " +
                plural(si.outputs.size(), "output") +
                ", expected at least one input and one output");
  }
  return si;
}

}  // namespace twind::config::detail
