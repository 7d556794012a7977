// `twind run`: the daemon's process shell (signals, broker connection, HTTP, systemd).
#pragma once

#include <memory>
#include <string>

#include "twind/app/http_server.hpp"

namespace twind::app {

struct DaemonSnapshot;

struct RunOptions {
  std::string config_path;
  std::string broker_override;                 ///< replaces broker.uri when set
  std::string http_listen = "127.0.0.1:9100";  ///< host:port for /state, /metrics, /healthz; "off"
};

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
