#include "twind/core/fleet.hpp"

#include <utility>

namespace twind::core {

std::vector<Entry> build_entries(const config::Config& config) {
  std::vector<Entry> entries;
  entries.reserve(config.assets.size());
  for (const config::AssetSpec& spec : config.assets) {
    entries.push_back(Entry{spec, compile_asset(spec, config.topics), 0});
  }
  return entries;
}

Fleet::Fleet(std::vector<Entry> entries, double start) : entries_(std::move(entries)) {
  for (std::uint32_t e = 0; e < entries_.size(); ++e) {
    const Entry& entry = entries_[e];
    if (!entry.spec.is_template()) {
      add(AssetTwin(entry.spec.id, entry.def, start), e);
    } else {
      for (const std::string& id : entry.spec.ids) add(AssetTwin(id, entry.def, start), e);
    }
  }
}

AssetTwin& Fleet::add(AssetTwin twin, std::uint32_t entry) {
  index_.emplace(twin.id(), static_cast<std::uint32_t>(twins_.size()));
  entry_of_.push_back(entry);
  return twins_.emplace_back(std::move(twin));
}

}  // namespace twind::core
