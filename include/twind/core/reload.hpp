// Reloading a configuration into a running engine: first a plan, computed from the running fleet
// and the next configuration alone (nothing changes, no twin is stepped), then its application.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "twind/config/config.hpp"
#include "twind/core/fleet.hpp"
#include "twind/core/sink.hpp"

namespace twind::core {

/// The engine-wide settings of a configuration (beside its entries).
struct EngineSettings {
  double tick = 0.5;
  bool tick_spread = false;
  std::size_t max_payload_bytes = 64 * 1024;
  config::TopicsSpec topics;

  static EngineSettings of(const config::Config& config);
};

/// What a reload does to one twin of the next configuration.
enum class TwinFate : std::uint8_t {
  start,             ///< a new twin (a new entry or id, or an id that moved to another entry)
  restart,           ///< its entry's signals changed: the running twin clears its alerts and goes,
                     ///< a new one starts
  rebind,            ///< same signals and model: new settings, everything the twin knows kept
  rebind_own_model,  ///< as rebind, keeping the model the twin took by command
  swap_model,        ///< its entry's model changed: the twin takes it (AssetTwin::swap_model)
};

[[nodiscard]] std::string_view to_string(TwinFate fate) noexcept;

struct PlannedTwin {
  std::string id;
  std::uint32_t entry = 0;            ///< in the next configuration
  std::optional<std::uint32_t> from;  ///< the running twin it continues or replaces (not start)
  TwinFate fate = TwinFate::start;
};

struct ReloadPlan {
  /// The next fleet, in order: single assets and templates' listed ids as configured, then the
  /// discovered twins kept (those whose template still discovers, in order of discovery, within
  /// its max_assets).
  std::vector<PlannedTwin> twins;
  /// Running twins that no planned twin continues or replaces (their alerts clear): removed,
  /// beyond their template's limit or no longer discovered, or their id moved to another entry.
  std::vector<std::uint32_t> dropped;
  std::vector<std::size_t> discovered;  ///< per next entry: the discovered twins it keeps
  /// One line per change, in this order: per next entry `plant: added`, `plant: new signals; ...`,
  /// `plant: model m v1 -> m v2`, `plant: y.threshold 0.15 -> 0.2` (every setting that changed);
  /// then `plant: removed` per single asset gone, `template t: 2 asset(s) removed`; then the
  /// engine-wide settings: `max_payload_bytes 65536 -> 1024`, `tick 0.5 s -> 1 s`,
  /// `tick_spread false -> true`, `topics.state twin/state -> twin/{asset}/state` (each topic).
  std::vector<std::string> changes;
};

/// Plans a reload of `next` (the next configuration's entries, compiled, and its settings) into
/// `running`. Pure: reads only its arguments, steps no twin.
[[nodiscard]] ReloadPlan plan_reload(const Fleet& running, const EngineSettings& running_settings,
                                     std::span<const Entry> next,
                                     const EngineSettings& next_settings);

/// Carries out `plan` (made from `fleet` and `next`): `fleet` becomes the next fleet. Kept twins
/// keep their state, alerts and seq under their new definition; alerts that the new definition
/// no longer watches, and those of twins that go or start again, clear at `now` through `sink`.
/// Model changes go to `sink` once the next fleet is in place. Counts alerts and model changes.
void apply_reload(Fleet& fleet, const ReloadPlan& plan, std::vector<Entry> next, double now,
                  Sink& sink, Counters& counters);

}  // namespace twind::core
