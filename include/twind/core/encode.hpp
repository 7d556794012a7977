// The outbound payloads (docs/interfaces.md, "Outbound payloads"): `twin/state`, `twin/alert`,
// model changes and command replies, as compact JSON. Deterministic: the same twin and time give
// the same bytes.
#pragma once

#include <string>
#include <string_view>

#include "twind/core/engine.hpp"
#include "twind/core/twin.hpp"

namespace twind::core {

/// Appends the `twin/state` payload of `twin` as due at `ts` to `out`.
void encode_state(const AssetTwin& twin, double ts, std::string& out);

/// Appends the `twin/alert` payload of one transition to `out`.
void encode_alert(const AssetTwin& twin, const AlertEvent& event, std::string& out);

/// An alert's `alert_id`: `{asset}/{signal}/{id}/{since}`, since being the raise's event time in
/// whole milliseconds. The same on its raise and its clearing, and on the settling of it by
/// another replica (HandedAlert).
[[nodiscard]] std::string alert_id(std::string_view asset, std::string_view signal, AlertId id,
                                   double since);

/// Appends a replica's record of the alerts raised on `twin` and not cleared (its own and those
/// handed over to it), published retained on cluster.active_alerts at each change:
/// `{"asset","ts","member","run","active_alerts":[...]}`, the array as in `twin/state`.
void encode_active_alerts(const AssetTwin& twin, double ts, std::string_view member,
                          std::uint64_t run, std::string& out);

/// Appends the model-topic payload of one model change to `out`:
/// `{"asset", "ts", "cause", "model": {name, version}, "previous": {...}, "state"}`.
void encode_model_change(const AssetTwin& twin, const ModelChange& change, std::string& out);

/// The human line of a model change, for logs:
/// `pump7: model pump v3 -> pump v4 (command, state kept)`.
[[nodiscard]] std::string model_change_line(const AssetTwin& twin, const ModelChange& change);

/// Appends the diagnosis-topic payload of `report` to `out` (docs/interfaces.md, "Diagnosis").
void encode_diagnosis(const AssetTwin& twin, const DiagnosisReport& report, std::string& out);

/// The human line of a diagnosis, for logs:
/// `diagnosis plant: A[0][0] -1 -> -2.001 +-0.002 (pole -1 (time constant 1 s) -> ...)`.
[[nodiscard]] std::string diagnosis_line(const AssetTwin& twin, const DiagnosisReport& report);

/// Appends the trace object of one sample a twin accepted to `out` (docs/interfaces.md, "Trace
/// lines"): `{"asset","ts","signal","value"}` for an input; `{"asset","ts","signal","measured",
/// "predicted","residual","threshold","judged"}` for an output, `predicted` and `residual` null
/// when the sample was not compared, `threshold` null when the output has none.
void encode_trace(const AssetTwin& twin, const TraceSample& sample, std::string& out);

/// Appends a command's reply to `out` (schema: docs/commands.md).
void encode_reply(const CommandReply& reply, std::string& out);

/// The console form of an alert, as the seed example prints it:
/// `[t=3.06s] ALERT: divergence = 0.18 > 0.15 (plant/y)`; `t` is the time since the run began.
[[nodiscard]] std::string console_line(const AssetTwin& twin, const AlertEvent& event, double t);

/// The human line of an alert, also its "message": `divergence 0.183 > 0.15 on y`.
[[nodiscard]] std::string alert_message(const AssetTwin& twin, const AlertEvent& event);

}  // namespace twind::core
