// `twind run`: the daemon's process shell (signals, broker connection, HTTP, systemd).
#pragma once

#include <string>

namespace twind::app {

struct RunOptions {
  std::string config_path;
  std::string broker_override;                 ///< replaces broker.uri when set
  std::string http_listen = "127.0.0.1:9100";  ///< host:port for /state, /metrics, /healthz; "off"
};

/// Runs until SIGINT or SIGTERM; SIGHUP reloads the configuration. Returns the exit code:
/// 0 after a clean stop, 1 on a runtime failure, 2 for a bad configuration at start.
int run_daemon(const RunOptions& options);

}  // namespace twind::app
