// The vocabulary every layer shares (signal roles, rejection reasons, alert ids, statuses): the
// bottom of the layer graph, light enough to include anywhere.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace twind {

/// Whether a signal drives the model (input, a column of B) or is predicted by it
/// (output, a row of C).
enum class Role : std::uint8_t { input, output };

/// How urgent an alert is; carried verbatim into `twin/alert`.
enum class Severity : std::uint8_t { info, warning, critical };

/// Why an inbound message (or one value in it) was refused. Every reason is counted.
enum class Reject : std::uint8_t {
  malformed,        ///< not JSON, or not one of the accepted payload shapes
  not_finite,       ///< NaN, infinity, or a number too large for a double
  out_of_bounds,    ///< outside the signal's configured [min, max]
  oversize,         ///< longer than the configured payload limit
  unknown_topic,    ///< no configured signal or frame listens on the topic
  unknown_signal,   ///< a frame member that names no signal of the asset
  ts_backwards,     ///< event time earlier than what the twin already integrated to
  bad_timestamp,    ///< `ts` present but not a finite, positive number
  asset_limit,      ///< a new asset on a template's topic, but discovery reached max_assets
  bad_asset,        ///< a template's topic naming an invalid id, or one used by another asset
  wrong_partition,  ///< a partitioned topic whose partition is not its asset's: cluster.partitions
                    ///< differs from the broker's mapping
  // A new reason goes here, before nothing: kRejectKinds counts up to the last one.
};
/// How many reasons there are: the size of every per-reason counter array. The static_assert
/// after to_string() below fails the build when a reason is added after wrong_partition without
/// moving this count.
inline constexpr std::size_t kRejectKinds = static_cast<std::size_t>(Reject::wrong_partition) + 1;

/// The condition an alert names (`"id"` in `twin/alert`).
enum class AlertId : std::uint8_t {
  divergence,      ///< |measured - predicted| of an output crossed its threshold
  stale,           ///< a signal has not arrived within its stale_after
  model_diverged,  ///< the model's state left its bounds (not finite, or |x| > 1e12):
                   ///< re-initialised
};

/// An asset's summary status in `twin/state`.
enum class Status : std::uint8_t { starting, ok, alert, stale };

constexpr std::string_view to_string(Role r) noexcept {
  return r == Role::input ? "input" : "output";
}

constexpr std::string_view to_string(Severity s) noexcept {
  switch (s) {
    case Severity::info:
      return "info";
    case Severity::warning:
      return "warning";
    case Severity::critical:
      return "critical";
  }
  return "critical";
}

constexpr std::string_view to_string(AlertId a) noexcept {
  switch (a) {
    case AlertId::divergence:
      return "divergence";
    case AlertId::stale:
      return "stale";
    case AlertId::model_diverged:
      return "model_diverged";
  }
  return "divergence";
}

constexpr std::string_view to_string(Status s) noexcept {
  switch (s) {
    case Status::starting:
      return "starting";
    case Status::ok:
      return "ok";
    case Status::alert:
      return "alert";
    case Status::stale:
      return "stale";
  }
  return "starting";
}

constexpr std::string_view to_string(Reject r) noexcept {
  switch (r) {
    case Reject::malformed:
      return "malformed";
    case Reject::not_finite:
      return "not_finite";
    case Reject::out_of_bounds:
      return "out_of_bounds";
    case Reject::oversize:
      return "oversize";
    case Reject::unknown_topic:
      return "unknown_topic";
    case Reject::unknown_signal:
      return "unknown_signal";
    case Reject::ts_backwards:
      return "ts_backwards";
    case Reject::bad_timestamp:
      return "bad_timestamp";
    case Reject::asset_limit:
      return "asset_limit";
    case Reject::bad_asset:
      return "bad_asset";
    case Reject::wrong_partition:
      return "wrong_partition";
  }
  return {};
}

// Every reason below kRejectKinds has a name (the switch above names every enumerator, or
// -Wswitch fails the build), and the value just past it is no reason at all.
static_assert(
    [] {
      for (std::size_t i = 0; i < kRejectKinds; ++i) {
        if (to_string(static_cast<Reject>(i)).empty()) return false;
      }
      return to_string(static_cast<Reject>(kRejectKinds)).empty();
    }(),
    "kRejectKinds must count every Reject: update it when a reason is added");

}  // namespace twind
