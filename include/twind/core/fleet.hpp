// The running twins and the configuration entries they were made from: what the engine's parts
// (routing, reload, commands) work on. No I/O and no clock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "twind/config/config.hpp"
#include "twind/core/asset.hpp"
#include "twind/core/twin.hpp"

namespace twind::core {

/// Lets a map keyed by std::string be searched with a std::string_view, without a copy.
struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept {
    return std::hash<std::string_view>{}(s);
  }
};

/// One entry of a configuration (a single asset or a template), compiled.
struct Entry {
  config::AssetSpec spec;
  /// What its twins run; a command to the whole template replaces it (and spec.model with it).
  std::shared_ptr<const AssetDef> def;
  std::size_t discovered = 0;  ///< templates: twins made by discovery, bounded by max_assets
};

/// Compiles every entry of a validated configuration. Throws model::ModelError as compile_asset
/// does.
[[nodiscard]] std::vector<Entry> build_entries(const config::Config& config);

/// The twins, in order: single assets and templates' listed ids as configured, then discovered
/// assets in order of discovery. Each twin belongs to one entry; ids are unique.
class Fleet {
 public:
  Fleet() = default;
  /// The entries without twins yet.
  explicit Fleet(std::vector<Entry> entries) : entries_(std::move(entries)) {}
  /// The entries with the twins the configuration lists (single assets, templates' ids), which
  /// start waiting for data at `start`.
  Fleet(std::vector<Entry> entries, double start);

  /// Appends `twin` as a twin of entry `entry` and returns it. Precondition: its id is new.
  AssetTwin& add(AssetTwin twin, std::uint32_t entry);

  [[nodiscard]] std::size_t size() const noexcept { return twins_.size(); }
  [[nodiscard]] AssetTwin& twin(std::size_t i) noexcept { return twins_[i]; }
  [[nodiscard]] const AssetTwin& twin(std::size_t i) const noexcept { return twins_[i]; }
  /// The entry twin `i` belongs to.
  [[nodiscard]] std::uint32_t entry_of(std::size_t i) const noexcept { return entry_of_[i]; }
  [[nodiscard]] Entry& entry(std::uint32_t e) noexcept { return entries_[e]; }
  [[nodiscard]] const Entry& entry(std::uint32_t e) const noexcept { return entries_[e]; }
  [[nodiscard]] std::span<const Entry> entries() const noexcept { return entries_; }
  /// The position of the twin of asset `id`.
  [[nodiscard]] std::optional<std::uint32_t> index_of(std::string_view id) const noexcept {
    const auto it = index_.find(id);
    return it == index_.end() ? std::nullopt : std::optional<std::uint32_t>(it->second);
  }

 private:
  std::vector<Entry> entries_;
  std::vector<AssetTwin> twins_;
  std::vector<std::uint32_t> entry_of_;                                                // per twin
  std::unordered_map<std::string, std::uint32_t, StringHash, std::equal_to<>> index_;  // id -> twin
};

}  // namespace twind::core
