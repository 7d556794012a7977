#include "detector_reader.hpp"

namespace twind::config::detail {

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

void read_diagnose(Reader& r, const Value& v, DiagnoseSpec& d) {
  if (!r.expect_map(v, "a mapping (enabled)")) return;
  const Fields f = r.fields(v, "assets[].diagnose");
  if (const Value* e = find(f, "enabled")) {
    if (const auto b = r.as_bool(*e)) d.enabled = *b;
  }
}

}  // namespace twind::config::detail
