// The one table of configuration keys. The validator takes from it which keys each mapping
// allows and which are required (default `required`); docs/configuration.md is rendered from it,
// and a test keeps the two equal.
#include <string>
#include <vector>

#include "twind/config/loader.hpp"

namespace twind::config {

const std::vector<KeyDoc>& key_table() {
  static const std::vector<KeyDoc> table{
      // path, type, default, meaning, rule
      {"tick", "duration", "500ms", "Time between two `twin/state` publications of each asset.",
       "> 0"},
      {"tick_spread", "boolean", "false",
       "Give each asset its own fixed offset within the tick (from a hash of its id), so a fleet's "
       "states go out evenly over the period instead of all at once on the tick; each asset still "
       "publishes once per tick, with `ts` its own due time. For fleets of thousands of assets, "
       "where a burst of states would queue behind one another.",
       "true or false"},
      {"max_payload_bytes", "integer", "65536",
       "Inbound payloads longer than this are rejected (counted, never parsed).",
       "16 to 16777216 (16 MiB)"},
      {"broker", "mapping", "(all defaults)", "The MQTT broker twind connects to.", ""},
      {"broker.uri", "string or list of strings", "tcp://127.0.0.1:1883",
       "Broker address; `twind run --broker` overrides it. A list names the nodes of a broker "
       "cluster: twind connects to one at a time, in order, moves on to the next when an attempt "
       "fails or the connection is lost (at once: the backoff only follows a whole round of "
       "failures), and subscribes and sends its pending alerts there as after any reconnection.",
       "`scheme://host[:port]`, scheme tcp, ssl, mqtt, mqtts, ws or wss (a path only for ws/wss); "
       "IPv6 hosts in brackets; a list is not empty and is all TLS or all plaintext"},
      {"broker.client_id", "string", "twind",
       "MQTT client identifier; two clients with the same id disconnect each other.", "non-empty"},
      {"broker.keepalive", "duration", "30s",
       "MQTT keep-alive: the broker drops the connection (and publishes the last will) after "
       "1.5 times this without traffic.",
       "whole seconds, 1s to 65535s"},
      {"broker.clean_session", "boolean", "true",
       "Start every connection with a clean session (no queued messages from before).",
       "true or false"},
      {"broker.check_publish", "boolean", "true",
       "Subscribe to twind's own status topic and to one asset's state and alert topics, and "
       "log an error when what twind publishes there does not come back within 5 s: a broker "
       "whose ACL denies a publication still acknowledges it under MQTT 3.1.1, and a clustered "
       "one may drop what it acknowledged while it elects leaders. When they come back, the "
       "alerts, diagnoses and replies of the gap are published once more. The check needs "
       "read access to those topics; turn it off where twind may only write them.",
       "true or false"},
      {"broker.client", "string", "driven",
       "How the connection is worked: `driven`, by the engine's own thread (Paho C's synchronous "
       "client: no hand-off between threads, about two thirds of the CPU per message; a state "
       "that does not fit in the socket's send buffer waits, the newest of each topic only, and "
       "an alert goes before it); `threaded`, by "
       "Paho's own threads (Paho C++'s asynchronous client: a receive and a send thread, a "
       "hand-off to the engine per message); `native`, by the engine's own thread with twind's "
       "own MQTT 3.1.1 client (one read for many messages, one write for a batch of states: "
       "about a third of the driven client's CPU per message; no WebSocket). Takes effect at "
       "start.",
       "threaded, driven or native"},
      {"broker.username", "string", "(none)", "User name sent to the broker.", ""},
      {"broker.password_file", "string", "(none)",
       "File holding the password (first line), read once at start-up (a reload does not read it "
       "again); never logged.",
       "needs username; not with password_env"},
      {"broker.password_env", "string", "(none)",
       "Name of an environment variable holding the password, read once at start-up.",
       "`[A-Za-z_][A-Za-z0-9_]*`; needs username; not with password_file"},
      {"broker.tls", "mapping", "(none: no TLS)",
       "TLS settings; use them with an ssl://, mqtts:// or wss:// URI.", ""},
      {"broker.tls.ca_file", "string", "required",
       "PEM file of the certificate authorities trusted to sign the broker's certificate.",
       "non-empty"},
      {"broker.tls.cert_file", "string", "(none)", "PEM client certificate, for mutual TLS.",
       "together with key_file"},
      {"broker.tls.key_file", "string", "(none)", "PEM private key of cert_file.",
       "together with cert_file"},
      {"cluster", "mapping", "(none: twind alone)",
       "Make this twind a replica sharing a fleet with others through a broker that partitions "
       "the inbound topics (a NATS cluster's subject mapping; docs/scaling.md). Each replica "
       "owns some partitions, subscribes to those only, and hands them over when replicas join "
       "or leave.",
       "every asset a template with discover: true whose inbound topics hold {partition}"},
      {"cluster.partitions", "integer", "required",
       "How many partitions the broker's mapping makes (its `partition(N, ...)`). An asset's "
       "partition is FNV-1a (32 bits) of its id modulo N, as NATS computes it.",
       "1 to 4096; equal to the broker's"},
      {"cluster.member", "string", "(the host name)",
       "This replica's name; `twind run --member` overrides it.",
       "1 to 64 of [A-Za-z0-9_-]; unique among the replicas"},
      {"cluster.members", "string", "twin/members/{member}",
       "Each replica's retained announcement (online with the partitions it holds; offline in "
       "its last will), read by every replica to agree on who owns what. Replaces topics.status "
       "for a replica.",
       "no + or #; `{member}` once, as a whole level"},
      {"cluster.active_alerts", "string", "twin/active_alerts/{partition}/{asset}",
       "Each asset's record of the alerts raised on it and not cleared (retained): written by "
       "the replica that holds the asset at each change, read by the one that takes it over, "
       "which settles them (docs/scaling.md).",
       "no + or #; `{partition}` and then `{asset}`, each once as a whole level"},
      {"cluster.handover_settle", "duration", "10s",
       "How long a twin that took an asset over must agree with it, comparison after comparison "
       "(event time), before it clears a divergence or model_diverged alert handed over with it: "
       "a twin started from the measurements agrees with them at first, worn machine or not. "
       "Give slow models (a thermal time constant of minutes) about three of their time "
       "constants.",
       "0s to 1h"},
      {"topics", "mapping", "(all defaults)", "Topics twind publishes to.", ""},
      {"topics.state", "string",
       "twin/state (twin/{asset}/state with several assets or a template)",
       "Every tick, each asset's measured and predicted signals, residuals and status.",
       "no + or #; `{asset}` (as a whole level) is replaced by the asset id and is required with "
       "several assets or a template"},
      {"topics.alert", "string",
       "twin/alert (twin/{asset}/alert with several assets or a template)",
       "Alert transitions (raised, cleared).",
       "no + or #; `{asset}` (as a whole level) is replaced by the asset id and is required with "
       "several assets or a template"},
      {"topics.diagnosis", "string",
       "twin/diagnosis (twin/{asset}/diagnosis with several assets or a template)",
       "What a divergence is put down to: the single change (a model parameter, a sensor's gain "
       "or bias, an actuator's gain) that explains the samples around it best, when first known "
       "and whenever it moves. QoS 1.",
       "no + or #; `{asset}` (as a whole level) is replaced by the asset id and is required with "
       "several assets or a template"},
      {"topics.status", "string", "twin/status",
       "Retained online/offline status of the daemon (offline is the last will).",
       "no + or #, no `{asset}`"},
      {"topics.model", "string", "twin/{asset}/model",
       "Every change of an asset's model (reload, command, rebaseline): what ran before, what "
       "runs now and whether the twin kept its state. QoS 1.",
       "no + or #; `{asset}` as one whole level"},
      {"topics.command", "string", "twin/{asset}/cmd",
       "Commands to one asset (JSON; see docs/commands.md); each is answered on the same topic "
       "followed by `/reply`. `off` disables commands.",
       "no + or #; `{asset}` as one whole level (twind subscribes with `+` in its place); or "
       "`off`"},
      {"assets", "list of mappings", "required",
       "The twinned assets, one model each: single assets (`id`) and templates for families of "
       "identical assets (`template`).",
       "at least one"},
      {"assets[].id", "string", "required (or template)",
       "Asset name, reported in `twin/state` and `twin/alert` and substituted for `{asset}` (also "
       "in this asset's own topics).",
       "1 to 64 of `[A-Za-z0-9_.-]`, unique; not with template"},
      {"assets[].template", "string", "(none)",
       "Makes the entry a template: one definition for a family of assets, whose topics contain "
       "`{asset}` where the asset id goes (e.g. `plant/{asset}/y`).",
       "1 to 64 of `[A-Za-z0-9_.-]`, unique among templates; not with id"},
      {"assets[].ids", "list of strings", "(none)", "Template: the assets made from it at start.",
       "template only; each a valid asset id, unique in the file"},
      {"assets[].discover", "boolean", "false",
       "Template: also make a twin for every new asset id that appears in its topics (twind "
       "subscribes with `+` in place of `{asset}`), on that asset's first valid message.",
       "template only; a template needs ids, discover or both"},
      {"assets[].max_assets", "integer", "1000",
       "Template with discover: the most assets discovery may create; messages for further ids are "
       "refused (counted as `asset_limit`).",
       "template only; 1 to 1000000"},
      {"assets[].model", "mapping", "required",
       "The asset's model: linear time-invariant (state_space, transfer_function) or a rotating "
       "machine.",
       ""},
      {"assets[].model.name", "string", "required", "Model name, reported in `twin/state`.",
       "non-empty"},
      {"assets[].model.version", "scalar", "required",
       "Model version, reported in `twin/state`; kept as written (`3` and `\"3\"` are both "
       "`3`).",
       "non-empty"},
      {"assets[].model.kind", "state_space, transfer_function or rotating_machine", "state_space",
       "How the model is written.", ""},
      {"assets[].model.domain", "continuous or discrete", "continuous",
       "Continuous time (x' = Ax + Bu) or discrete time (x[k+1] = Ax[k] + Bu[k]).",
       "discrete only for state_space; not for rotating_machine"},
      {"assets[].model.dt", "duration", "required when discrete",
       "Sample time of a discrete model.", "> 0; only when discrete"},
      {"assets[].model.A", "matrix", "required for state_space",
       "State matrix: a list of rows of numbers, like `[[-1, 0], [0, -2]]`.",
       "n x n, 1 <= n <= 64; finite numbers"},
      {"assets[].model.B", "matrix", "required for state_space",
       "Input matrix; column j belongs to the j-th input signal.",
       "n x m, m = number of input signals"},
      {"assets[].model.C", "matrix", "required for state_space",
       "Output matrix; row i belongs to the i-th output signal.",
       "p x n, p = number of output signals"},
      {"assets[].model.D", "matrix", "zeros", "Feedthrough matrix.", "p x m"},
      {"assets[].model.num", "list of numbers", "required for transfer_function",
       "Numerator coefficients, highest power of s first.",
       "non-empty, finite; no longer than den (proper)"},
      {"assets[].model.den", "list of numbers", "required for transfer_function",
       "Denominator coefficients, highest power of s first (`[1, 1]` is s + 1).",
       "2 to 65 (order at most 64), finite, den[0] != 0; every num and den coefficient / den[0] "
       "finite"},
      {"assets[].model.parameters", "mapping", "(all defaults)",
       "Physical parameters of a rotating_machine model (inputs: speed command in rpm, load "
       "fraction; outputs: rpm, temperature in degC, vibration in mm/s). The defaults describe a "
       "small pump that settles at 1500 rpm, 65 degC and 2.1 mm/s at command 1500 rpm, load 0.5.",
       "only for rotating_machine; tau_mech and r_th * c_th at most a factor 1e5 apart"},
      {"assets[].model.parameters.tau_mech", "duration", "2s",
       "Mechanical time constant of the speed loop: d(rpm)/dt = (command - rpm) / tau_mech.",
       "> 0"},
      {"assets[].model.parameters.rpm_rated", "number", "1500",
       "Rated speed in rpm, the reference speed of the loss model.", "> 0"},
      {"assets[].model.parameters.p_idle", "number", "100",
       "Losses in W independent of speed and load.", ">= 0"},
      {"assets[].model.parameters.k_speed", "number", "300",
       "Speed-dependent losses in W at rated speed and load 0.5: P = p_idle + k_speed * "
       "(rpm / rpm_rated)^2 * (0.5 + load).",
       ">= 0"},
      {"assets[].model.parameters.r_th", "number", "0.1",
       "Thermal resistance, winding to ambient, in K/W.", "> 0"},
      {"assets[].model.parameters.c_th", "number", "6000",
       "Thermal capacity of the machine in J/K: c_th * dT/dt = P - (T - t_ambient) / r_th.", "> 0"},
      {"assets[].model.parameters.t_ambient", "number", "25", "Ambient temperature in degC.",
       "> -273.15"},
      {"assets[].model.parameters.v_base", "number", "0.3",
       "Vibration velocity in mm/s at standstill (floor, bearings).", ">= 0"},
      {"assets[].model.parameters.k_imb", "number", "0.8",
       "Imbalance vibration in mm/s per (1000 rpm)^2: v = v_base + k_imb * (rpm / 1000)^2.",
       ">= 0"},
      {"assets[].signals", "list of mappings", "required",
       "The asset's signals. Inputs map to B's columns and outputs to C's rows, each in file "
       "order.",
       "at least one input and one output; exactly one of each for a transfer_function; for a "
       "rotating_machine exactly 2 inputs (speed command, load) and 3 outputs (rpm, temperature, "
       "vibration), in that order"},
      {"assets[].signals[].name", "string", "required",
       "Signal name, also its key in frames and in `twin/state`.",
       "`[A-Za-z_][A-Za-z0-9_]*`, unique in the asset, not `ts` or `value`"},
      {"assets[].signals[].role", "input or output", "required",
       "Inputs drive the model; outputs are predicted and compared with their measurements.", ""},
      {"assets[].signals[].topic", "string", "(none: frames only)",
       "Topic carrying this signal alone (`2.97` or `{\"value\": 2.97, \"ts\": ...}`).",
       "no + or #; no topic matched by another (templates' `{asset}` matches any id); in a "
       "template `{asset}` once, as a whole level (with cluster, after `{partition}`, also once "
       "as a whole level); required when the asset has no frames"},
      {"assets[].signals[].min", "number", "(no bound)",
       "Values below are rejected as out of bounds.", "finite; < max"},
      {"assets[].signals[].max", "number", "(no bound)",
       "Values above are rejected as out of bounds.", "finite; > min"},
      {"assets[].signals[].threshold", "number", "(none: no divergence alert)",
       "A divergence alert is raised when |measured - predicted| exceeds it.", "outputs only; > 0"},
      {"assets[].signals[].clear_threshold", "number", "threshold",
       "The divergence alert clears when |measured - predicted| falls below it.",
       "outputs only; needs threshold; > 0 and <= threshold"},
      {"assets[].signals[].detector", "threshold or cusum", "threshold",
       "How the output's divergence alert is decided: `threshold` by |measured - predicted| "
       "against `threshold` alone; `cusum` also by a two-sided CUSUM of the residual (see "
       "`cusum`), which sees small persistent faults no threshold does. With both, either "
       "raises the one divergence alert.",
       "outputs only; cusum needs the cusum mapping"},
      {"assets[].signals[].cusum", "mapping", "(none)",
       "The output's CUSUM: z = residual / sigma; S+ = min(2h, max(0, S+ + z - k)), S- = min(2h, "
       "max(0, S- - z - k)) at every judged comparison; the divergence alert is raised when "
       "max(S+, S-) > h and may clear once it is back to 0.",
       "outputs only; required with detector: cusum, refused without it"},
      {"assets[].signals[].cusum.sigma", "number", "required",
       "Standard deviation of the residual's noise while the plant is healthy, in the signal's "
       "unit.",
       "> 0"},
      {"assets[].signals[].cusum.k", "number", "0.5",
       "Allowance per sample, in units of sigma: half the smallest persistent shift to detect.",
       ">= 0"},
      {"assets[].signals[].cusum.h", "number", "required",
       "Decision limit, in units of sigma: larger means fewer false alarms and later detection "
       "(a shift of d sigma is seen after about h / (d - k) samples).",
       "> 0"},
      {"assets[].signals[].stale_after", "duration", "(none: never stale)",
       "Time without a sample after which the signal is stale (status `stale`, alert `stale`).",
       "> 0"},
      {"assets[].frames", "list of strings", "(none)",
       "Topics carrying frames of this asset: `{\"ts\": ..., \"<signal>\": value, ...}`.",
       "no + or #; no topic matched by another; in a template `{asset}` once, as a whole level "
       "(with cluster, after `{partition}`, also once as a whole level)"},
      {"assets[].detector", "mapping", "(all defaults)", "How alerts are raised and cleared.", ""},
      {"assets[].detector.raise_after", "integer", "1",
       "Consecutive samples above the threshold needed to raise a divergence alert.",
       "1 to 1000000"},
      {"assets[].detector.clear_after", "integer", "1",
       "Consecutive samples below the clear threshold needed to clear it.", "1 to 1000000"},
      {"assets[].detector.severity", "info, warning or critical", "critical",
       "Severity of divergence alerts.", ""},
      {"assets[].detector.stale_severity", "info, warning or critical", "warning",
       "Severity of stale alerts.", ""},
      {"assets[].diagnose", "mapping", "(all defaults)",
       "What follows a divergence alert: its cause, on `topics.diagnosis`.", ""},
      {"assets[].diagnose.enabled", "boolean", "true",
       "Put each divergence alert down to the single change that explains the samples around it "
       "best (an entry of A or B, a coefficient, a machine parameter, a sensor's gain or bias, an "
       "actuator's gain), with its size and a 95 % interval, refined while the alert lasts. The "
       "twin keeps its latest 64 samples (1.5 KB), and while in alert all of them, up to 2048 "
       "(48 KB). The live daemon computes diagnoses on a thread of its own, two at a time at "
       "most, so that no tick waits for one; replay computes one per tick, in order.",
       "true or false"},
      {"assets[].diagnose.hypotheses", "list of strings", "(the default set)",
       "The changes the diagnosis weighs, in this order, in place of the default set (each "
       "non-zero entry of A and B, each coefficient of num and den but den[0], each machine "
       "parameter but rpm_rated, each output's gain and bias, each input's gain), named as the "
       "diagnosis reports them: `A[i][j]`, `B[i][j]` (a zero entry too: that coupling may "
       "appear), `num[k]`, `den[k]`, a machine parameter (`tau_mech`, ...), and "
       "`output_gain(NAME)`, `output_bias(NAME)` for an output, `input_gain(NAME)` for an input. "
       "In a flow list quote the names with brackets: `[\"A[0][0]\", output_gain(y)]`.",
       "at least one, each once; entries within the model's dimensions, den[k] with k >= 1, not "
       "rpm_rated (a reference, not a property that wears); signals of the asset in their role"},
  };
  return table;
}

std::string key_table_markdown() {
  // Pipes would end a cell early; everything else in the table is Markdown already.
  const auto cell = [](const std::string& s) {
    std::string out;
    for (const char c : s) {
      if (c == '|') out += '\\';
      out += c;
    }
    return out;
  };
  std::string md = "| Key | Type | Default | Meaning | Rule |\n| --- | --- | --- | --- | --- |\n";
  for (const KeyDoc& k : key_table()) {
    md += "| `" + k.path + "` | " + cell(k.type) + " | " + cell(k.default_value) + " | " +
          cell(k.meaning) + " | " + cell(k.rule) + " |\n";
  }
  return md;
}

}  // namespace twind::config
