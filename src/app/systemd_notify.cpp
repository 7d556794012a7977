#include "twind/app/systemd_notify.hpp"

#include <systemd/sd-daemon.h>

#include <cstdint>
#include <exception>
#include <limits>
#include <string>

namespace twind::app {
namespace {

// unset_environment = 0: the variables must stay for later calls and for watchdog_interval().
bool send(const char* state) noexcept {
  return sd_notify(0, state) > 0;
}

}  // namespace

bool notify_ready() noexcept {
  return send("READY=1");
}

bool notify_stopping() noexcept {
  return send("STOPPING=1");
}

bool notify_reloading() noexcept {
  return send("RELOADING=1");
}

bool notify_watchdog() noexcept {
  return send("WATCHDOG=1");
}

bool notify_status(std::string_view text) noexcept {
  try {
    std::string state = "STATUS=";
    state.reserve(state.size() + text.size());
    for (const char c : text) {
      // The protocol is newline-separated assignments: a newline in the text would start one.
      state.push_back(c == '\n' || c == '\r' || c == '\0' ? ' ' : c);
    }
    return send(state.c_str());
  } catch (const std::exception&) {  // std::bad_alloc: a status is never worth a crash
    return false;
  }
}

std::optional<std::chrono::microseconds> watchdog_interval() noexcept {
  std::uint64_t usec = 0;
  // > 0: enabled for this process; 0: not enabled (or WATCHDOG_PID names another process);
  // < 0: malformed variables, which we treat as "off" rather than guess.
  if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return std::nullopt;
  using Rep = std::chrono::microseconds::rep;
  if (usec > static_cast<std::uint64_t>(std::numeric_limits<Rep>::max())) {
    return std::chrono::microseconds::max();  // ~292,000 years: "effectively never"
  }
  return std::chrono::microseconds(static_cast<Rep>(usec));
}

}  // namespace twind::app
