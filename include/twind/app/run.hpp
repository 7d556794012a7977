// `twind run`: the daemon's process shell (signals, broker connection, HTTP, systemd).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "twind/app/http_server.hpp"
#include "twind/app/record_file.hpp"
#include "twind/config/config.hpp"
#include "twind/mqtt/client.hpp"

namespace twind::app {

struct DaemonSnapshot;

struct RunOptions {
  std::string config_path;
  std::string broker_override;                 ///< replaces broker.uri when set
  std::string member;                          ///< replaces cluster.member when set
  std::string http_listen = "127.0.0.1:9100";  ///< host:port for /state, /metrics, /healthz; "off"
  /// --http-history: states kept per asset for the dashboard's first draw (0: none).
  std::size_t http_history = 240;
  /// --http-token-file: every HTTP request but /healthz must carry the token in this file.
  std::string http_token_file;
  /// --record: every inbound message also goes to this recording (empty: none), rotated past
  /// record_max_bytes with record_keep older files kept.
  std::string record_path;
  std::uint64_t record_max_bytes = kDefaultRecordMaxBytes;
  unsigned record_keep = kDefaultRecordKeep;
};

/// Loads and validates a configuration file, logging every diagnostic; nullopt when it is
/// invalid (logged as "not starting" at the start, as a refused reload later).
[[nodiscard]] std::optional<config::Config> load_config(const std::string& path, bool at_start);
/// The password from broker.password_file or broker.password_env ("" for neither); nullopt,
/// logged, when it cannot be had. Never logged itself.
[[nodiscard]] std::optional<std::string> resolve_password(const config::BrokerSpec& broker);
/// Replaces broker.uri (and its fail-over list) with `--broker`'s: one URI or several separated by
/// commas, checked when the client is made.
void override_broker(config::BrokerSpec& broker, const std::string& list);
/// The retained `offline` status (a replica's names it), for the will and the clean stop.
[[nodiscard]] std::string offline_payload(const config::Config& c, double ts);
/// The connection the configuration's broker settings describe, with the daemon's will
/// (`offline`, retained, on topics.status).
[[nodiscard]] mqtt::ConnectOptions connect_options(const config::Config& c, std::string password);
/// The client broker.client names. Throws std::invalid_argument for a URI it cannot use.
[[nodiscard]] std::unique_ptr<mqtt::Client> make_client(const config::Config& c,
                                                        const mqtt::ConnectOptions& connect);

/// Runs until SIGINT or SIGTERM; SIGHUP reloads the configuration. Returns the exit code:
/// 0 after a clean stop, 1 on a runtime failure, 2 when it cannot start: a bad configuration,
/// an unreadable password, a bad --http value or broker URI, an HTTP address it cannot bind.
int run_daemon(const RunOptions& options);

/// What the HTTP endpoint shows of a daemon's snapshot when the clock reads `now` (the states
/// are shared, not copied). Healthy: connected to the broker, and the engine loop ticked within
/// the last 3 ticks + 1 s, by the tick in force.
[[nodiscard]] HttpSnapshot http_view(const std::shared_ptr<const DaemonSnapshot>& snapshot,
                                     double now);

}  // namespace twind::app
