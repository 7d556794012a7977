// The systemd service-manager protocol (sd_notify(3)) for `twind run` under a Type=notify unit:
// readiness, stopping, reloading, free-form status and watchdog keep-alives. A thin wrapper over
// libsystemd, so abstract sockets and the $NOTIFY_SOCKET edge cases are handled by the packaged
// implementation.
//
// Outside systemd ($NOTIFY_SOCKET unset, as in Docker or a shell) every notify_* call is a no-op
// that returns false; callers never need to check where they run. All functions are thread-safe
// (each call sends one datagram and keeps no state) and never throw.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace twind::app {

/// Sends "READY=1": start-up is complete (configuration read, broker client created). systemd
/// holds units ordered After= this one until then. Returns true when a message was sent, false
/// when $NOTIFY_SOCKET is unset or the send failed.
bool notify_ready() noexcept;

/// Sends "STOPPING=1": shutdown has begun (first thing on SIGTERM). Returns as notify_ready().
bool notify_stopping() noexcept;

/// Sends "RELOADING=1": a reload (SIGHUP) has begun; send notify_ready() when it is done.
/// Returns as notify_ready().
bool notify_reloading() noexcept;

/// Sends "WATCHDOG=1": the main loop is alive. Call it at least every watchdog_interval() / 2.
/// Returns as notify_ready().
bool notify_watchdog() noexcept;

/// Sends "STATUS=<text>", shown by `systemctl status`. Line breaks in `text` are sent as spaces,
/// so a status can never smuggle in another assignment such as "READY=1". Returns as
/// notify_ready().
bool notify_status(std::string_view text) noexcept;

/// The watchdog interval systemd expects pings within (WatchdogSec= of the unit, passed as
/// $WATCHDOG_USEC), or nullopt when the watchdog is off for this process: $WATCHDOG_USEC unset,
/// zero or malformed, or $WATCHDOG_PID set to another process's id (the variables were inherited
/// rather than meant for us). Reads the environment on every call.
std::optional<std::chrono::microseconds> watchdog_interval() noexcept;

}  // namespace twind::app
