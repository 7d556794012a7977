// Paho C 1.3.12 leaves Nagle's algorithm on for its socket and has no hook to change that. With
// it on, a small PUBLISH written while an earlier small packet (a PUBACK) is unacknowledged waits
// for the broker's delayed ACK: every QoS 1 alert then arrives ~40 ms late (measured:
// bench/live_latency.sh). So after each connection the adapter finds its socket to the broker
// among the process's descriptors and sets TCP_NODELAY on it.
#pragma once

#include <vector>

namespace twind::mqtt::detail {

/// Sets TCP_NODELAY on every connected TCP socket of this process whose peer port is `port`.
/// Returns how many sockets it set. Never throws; failures are ignored (latency, not safety).
int disable_nagle_to_port(int port) noexcept;

/// This process's connected TCP sockets whose peer port is `port`.
std::vector<int> sockets_to_port(int port);

/// Sets TCP_NODELAY on `fd`; false if it could not.
bool disable_nagle(int fd) noexcept;

}  // namespace twind::mqtt::detail
