#include "detector_reader.hpp"

#include <map>
#include <string>

#include "twind/config/hypotheses.hpp"

namespace twind::config::detail {
namespace {

// The names of the hypotheses to weigh: a non-empty list, each name once and, with the model
// known, naming one of its entries or one of the signals.
void read_hypotheses(Reader& r, const Value& v, const ModelSpec* model,
                     const std::vector<SignalSpec>& signals, std::vector<std::string>& out) {
  if (!r.expect_list(v, "a list of hypothesis names, like [\"A[0][0]\", output_gain(y)]")) return;
  if (v.node.size() == 0) {
    r.expected(v, "at least one name (omit the key for the default set)");
    return;
  }
  std::map<std::string, std::string> seen;  // name -> path of its first use
  for (std::size_t i = 0; i < v.node.size(); ++i) {
    const Value item = element(v, i);
    if (item.node.IsSequence()) {
      // A flow list reads `[A[0][0]]` as lists within the list.
      r.expected(item, "a name (quote a name with brackets in a flow list: \"A[0][0]\")");
      continue;
    }
    const auto name = r.as_string(item);
    if (!name) continue;
    if (const auto [it, fresh] = seen.emplace(*name, item.path); !fresh) {
      r.expected(item, "a name not already listed (by " + it->second + ")");
      continue;
    }
    if (model == nullptr || find_hypothesis(*model, signals, *name)) {
      out.push_back(*name);
    } else {
      const bool rated = model->kind == ModelKind::rotating_machine && *name == "rpm_rated";
      r.expected(item, hypothesis_choices(*model, signals) +
                           (rated ? " (rpm_rated is a reference, not a property that wears)" : ""));
    }
  }
}

}  // namespace

void read_detector(Reader& r, const Value& v, DetectorSpec& d) {
  if (!r.expect_map(v, "a mapping (raise_after, clear_after, severity, stale_severity)")) return;
  const Fields f = r.fields(v, "assets[].detector");
  if (const Value* e = find(f, "raise_after")) {
    if (const auto n = r.as_integer(*e, 1, 1000000)) d.raise_after = static_cast<int>(*n);
  }
  if (const Value* e = find(f, "clear_after")) {
    if (const auto n = r.as_integer(*e, 1, 1000000)) d.clear_after = static_cast<int>(*n);
  }
  const Choices<Severity> severities{
      {"info", Severity::info}, {"warning", Severity::warning}, {"critical", Severity::critical}};
  if (const Value* e = find(f, "severity")) {
    if (const auto s = r.as_enum<Severity>(*e, severities)) d.severity = *s;
  }
  if (const Value* e = find(f, "stale_severity")) {
    if (const auto s = r.as_enum<Severity>(*e, severities)) d.stale_severity = *s;
  }
}

void read_diagnose(Reader& r, const Value& v, const ModelSpec* model,
                   const std::vector<SignalSpec>& signals, DiagnoseSpec& d) {
  if (!r.expect_map(v, "a mapping (enabled, hypotheses)")) return;
  const Fields f = r.fields(v, "assets[].diagnose");
  if (const Value* e = find(f, "enabled")) {
    if (const auto b = r.as_bool(*e)) d.enabled = *b;
  }
  if (const Value* e = find(f, "hypotheses")) read_hypotheses(r, *e, model, signals, d.hypotheses);
}

}  // namespace twind::config::detail
