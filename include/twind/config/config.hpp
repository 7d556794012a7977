// The validated configuration as plain structs: what `twind check` accepts and what the daemon
// and replay build their twins from. No yaml-cpp here; see loader.hpp for parsing.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "twind/base/types.hpp"
#include "twind/model/linear.hpp"
#include "twind/model/rotating_machine.hpp"

namespace twind::config {

enum class ModelKind { state_space, transfer_function, rotating_machine };
enum class Domain { continuous, discrete };

/// The most states a linear model may have: every sample of every asset advances the state through
/// a matrix exponential of this order (a transfer function of order n has n states). Plant models
/// that twin a machine have a handful; far more is a mistake, and costs cubic time at load.
inline constexpr std::size_t kMaxStates = 64;

struct ModelSpec {
  model::ModelId id;  ///< name and version, reported in twin/state
  ModelKind kind = ModelKind::state_space;
  Domain domain = Domain::continuous;
  double dt = 0.0;               ///< seconds; discrete state space only
  model::Matrix a, b, c, d;      ///< state space
  std::vector<double> num, den;  ///< transfer function (SISO, continuous)
  /// rotating_machine: inputs (speed command rpm, load fraction), outputs (rpm, temperature degC,
  /// vibration mm/s), in the order of the asset's signals.
  model::RotatingMachineParams machine;
  friend bool operator==(const ModelSpec&, const ModelSpec&) = default;
};

/// How an output's divergence alert is decided: by its threshold alone, or by a CUSUM of its
/// residual as well (docs/interfaces.md, "CUSUM").
enum class DetectorKind { threshold, cusum };

/// An output's two-sided CUSUM, in units of `sigma`.
struct CusumSpec {
  double sigma = 1.0;  ///< the residual's noise standard deviation, in the signal's unit; > 0
  double k = 0.5;      ///< allowance per sample, in sigma: half the smallest shift to detect; >= 0
  double h = 1.0;      ///< decision limit, in sigma; > 0
  friend bool operator==(const CusumSpec&, const CusumSpec&) = default;
};

struct SignalSpec {
  std::string name;
  Role role = Role::input;
  std::string topic;  ///< may be empty when the signal only arrives in frames
  double min = -1e300;
  double max = 1e300;
  /// Outputs: |residual| above `threshold` raises the divergence alert; below `clear_threshold`
  /// (<= threshold; defaults to threshold) clears it. Unset: no divergence alert on this output.
  std::optional<double> threshold;
  std::optional<double> clear_threshold;
  /// Seconds without a sample after which the signal is stale. Unset: never stale.
  std::optional<double> stale_after;
  /// Outputs: `cusum` adds a CUSUM of the residual to the threshold (either raises the alert);
  /// `cusum` is set exactly when `detector` is cusum.
  DetectorKind detector = DetectorKind::threshold;
  std::optional<CusumSpec> cusum;
  friend bool operator==(const SignalSpec&, const SignalSpec&) = default;
};

struct DetectorSpec {
  int raise_after = 1;                     ///< consecutive samples above threshold to raise
  int clear_after = 1;                     ///< consecutive samples below clear threshold to clear
  Severity severity = Severity::critical;  ///< divergence alerts
  Severity stale_severity = Severity::warning;  ///< stale alerts
  friend bool operator==(const DetectorSpec&, const DetectorSpec&) = default;
};

/// What a divergence alert is followed by (docs/interfaces.md, "Diagnosis").
struct DiagnoseSpec {
  /// Put each divergence down to the single change that explains it best, on twin/diagnosis.
  bool enabled = true;
  /// The hypotheses weighed, by name (hypotheses.hpp), in this order; empty: the default set.
  std::vector<std::string> hypotheses;
  friend bool operator==(const DiagnoseSpec&, const DiagnoseSpec&) = default;
};

/// One entry of `assets`: a single asset (`id`) or a template (`template_name`) for a family of
/// identical assets whose topics contain `{asset}` as a whole level.
struct AssetSpec {
  std::string id;                 ///< a single asset; empty for a template
  std::string template_name;      ///< a template; empty for a single asset
  std::vector<std::string> ids;   ///< template: the assets made at start
  bool discover = false;          ///< template: also make assets that appear on its topics
  std::size_t max_assets = 1000;  ///< template with discover: most assets discovery makes
  ModelSpec model;
  /// Inputs in model order (columns of B), then outputs in model order (rows of C) — the
  /// loader keeps the file's order within each role.
  std::vector<SignalSpec> signals;
  std::vector<std::string> frame_topics;  ///< topics carrying frames for this asset
  DetectorSpec detector;
  DiagnoseSpec diagnose;
  [[nodiscard]] bool is_template() const noexcept { return !template_name.empty(); }
  friend bool operator==(const AssetSpec&, const AssetSpec&) = default;
};

struct TlsSpec {
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  friend bool operator==(const TlsSpec&, const TlsSpec&) = default;
};

struct BrokerSpec {
  std::string uri = "tcp://127.0.0.1:1883";
  /// Further nodes of the broker's cluster, after `uri` (broker.uri given as a list): the client
  /// fails over to them in turn (mqtt::ConnectOptions::failover_uris).
  std::vector<std::string> failover_uris;
  std::string client_id = "twind";
  double keepalive = 30.0;  ///< seconds
  bool clean_session = true;
  std::string username;
  std::string password_file;  ///< read once at start-up (first line); never logged
  std::string password_env;   ///< name of an environment variable holding the password
  std::optional<TlsSpec> tls;
  /// Watch twind's own status topic and one asset's state and alert topics, and report messages
  /// the broker acknowledges but never delivers (an ACL denying them).
  bool check_publish = true;
  /// How the connection is worked: by Paho's own threads (`threaded`, Paho C++'s asynchronous
  /// client), or by the engine's thread (`driven`, Paho C's synchronous client; `native`,
  /// twind's own MQTT 3.1.1 client).
  enum class Client { threaded, driven, native };
  Client client = Client::driven;
  friend bool operator==(const BrokerSpec&, const BrokerSpec&) = default;
};

struct TopicsSpec {
  std::string state = "twin/state";  ///< may contain {asset}
  std::string alert = "twin/alert";  ///< may contain {asset}
  std::string status = "twin/status";
  std::string model = "twin/{asset}/model";  ///< model changes; contains {asset}
  std::string diagnosis = "twin/diagnosis";  ///< what a divergence is put down to; may hold {asset}
  /// Commands in; replies go to the same topic + "/reply". Empty: commands disabled.
  std::string command = "twin/{asset}/cmd";
  friend bool operator==(const TopicsSpec&, const TopicsSpec&) = default;
};

/// Replicas sharing a fleet through a broker that partitions the inbound topics (a NATS cluster's
/// subject mapping): each replica owns some partitions and subscribes to those only.
struct ClusterSpec {
  /// How many partitions the broker's mapping makes (its `partition(N, ...)`): an asset's
  /// partition is FNV-1a (32 bits) of its id modulo this, as the broker computes it.
  std::uint32_t partitions = 0;
  /// This replica's name, unique among the replicas; `twind run --member` overrides it. Empty:
  /// the host name.
  std::string member;
  /// Each replica's retained announcement (its status: online with the partitions it holds, or
  /// offline in its last will), with {member} as a whole level.
  std::string members = "twin/members/{member}";
  /// Each asset's record of the alerts raised on it and not cleared, retained, written by the
  /// replica that holds it and read by the next one (docs/scaling.md, "Alerts across a
  /// hand-over"), with {partition} and then {asset} as whole levels.
  std::string active_alerts = "twin/active_alerts/{partition}/{asset}";
  /// Seconds of event time a twin that took an asset over must have agreed with it, comparison
  /// after comparison, before it clears a divergence or model_diverged alert handed over with it:
  /// a twin started from the measurements agrees with them at first, worn machine or not.
  double handover_settle = 10.0;
  friend bool operator==(const ClusterSpec&, const ClusterSpec&) = default;
};

struct Config {
  std::string source;  ///< the file it was read from
  double tick = 0.5;   ///< seconds between twin/state publications
  /// Spread the assets' ticks over the period (each asset at its own stable offset) instead of
  /// publishing every asset's state at once on the tick.
  bool tick_spread = false;
  std::size_t max_payload_bytes = 64 * 1024;
  BrokerSpec broker;
  TopicsSpec topics;
  std::vector<AssetSpec> assets;
  std::optional<ClusterSpec> cluster;  ///< a replica of a cluster; none: twind alone
  friend bool operator==(const Config&, const Config&) = default;
};

/// Whether `text` may name an asset: 1 to 64 of [A-Za-z0-9_.-]. The validator applies it to the
/// file's ids and the engine to ids discovered in topics.
[[nodiscard]] bool is_asset_id(std::string_view text) noexcept;

/// Whether `text` may name a replica (cluster.member, --member): 1 to 64 of [A-Za-z0-9_-]. No `.`:
/// NATS's MQTT listener closes a connection that publishes a topic holding one.
[[nodiscard]] bool is_member_name(std::string_view text) noexcept;

/// The reply topic of a command topic.
[[nodiscard]] inline std::string reply_topic(std::string_view command_topic) {
  return std::string(command_topic) + "/reply";
}

}  // namespace twind::config
