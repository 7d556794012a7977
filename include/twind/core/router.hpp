// Routing: which twin and signal an inbound topic feeds. Single assets' topics are looked up in a
// hash map; templates' topics stay patterns (prefix{asset}suffix) matched when the map misses, and
// so does the command topic. Also the topic filters to subscribe to. No I/O, no allocation per
// message.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "twind/codec/payload.hpp"
#include "twind/core/asset.hpp"
#include "twind/core/fleet.hpp"

namespace twind::core {

/// Where one topic's values go: a twin, and the signal a bare value belongs to.
struct Route {
  static constexpr std::uint32_t kFrame = UINT32_MAX;
  std::uint32_t asset = 0;
  std::uint32_t signal = kFrame;  ///< kFrame: a frame topic, values are named by their keys
};

/// A topic holding {asset} once, as a whole level: prefix{asset}suffix; or, partitioned (a
/// cluster's inbound topics), prefix{partition}mid{asset}suffix.
struct Pattern {
  static constexpr std::uint32_t kNoPartition = UINT32_MAX;
  std::string prefix;
  std::string suffix;
  std::uint32_t entry = 0;               ///< the template (commands: unused)
  std::uint32_t signal = Route::kFrame;  ///< as in Route
  bool partitioned = false;
  std::string mid;  ///< partitioned: between {partition} and {asset}

  /// `topic` (holding {asset} once, and maybe {partition} once before it) split around them.
  static Pattern of(std::string_view topic, std::uint32_t entry, std::uint32_t signal);
  /// Whether `topic` is this pattern with a non-empty single level for {asset} (and a number for
  /// {partition}); `id` (and `partition`) get them.
  [[nodiscard]] bool match(std::string_view topic, std::string_view& id,
                           std::uint32_t& partition) const noexcept;
  /// The pattern with {asset} replaced by `level` (an id, or `+`), and {partition} by
  /// `partition`.
  [[nodiscard]] std::string with(std::string_view level, std::string_view partition = {}) const;
};

/// What an inbound topic that no single asset takes is.
struct TopicMatch {
  enum class Kind : std::uint8_t {
    unknown,  ///< nothing configured takes it
    command,  ///< a command to asset `id`
    pattern   ///< template `pattern->entry`'s topic for asset `id` (listed, discovered or new)
  };
  Kind kind = Kind::unknown;
  std::string_view id;  ///< views the topic
  const Pattern* pattern = nullptr;
  std::uint32_t partition = Pattern::kNoPartition;  ///< a partitioned pattern's
};

class Router {
 public:
  Router() = default;
  /// Routes for `fleet` as it stands: single assets' topics (each to its twins, by signal name),
  /// templates' topics, and the command topic pattern (none when `command_topic` is empty).
  /// Partitioned topics are subscribed for the partitions `subscribed` marks only.
  Router(const Fleet& fleet, std::string_view command_topic,
         const std::vector<bool>& subscribed = {});

  /// Where a single assets' topic goes: every (twin, signal) it feeds; empty for any other topic.
  /// Inline: the per-message path of single assets is this one hash lookup.
  [[nodiscard]] std::span<const Route> routes(std::string_view topic) const noexcept {
    const auto it = routes_.find(topic);
    return it == routes_.end() ? std::span<const Route>() : std::span<const Route>(it->second);
  }

  /// A topic that routes() does not know: the command topic first, then templates' topics in
  /// configuration order. Never allocates.
  [[nodiscard]] TopicMatch match(std::string_view topic) const noexcept;

  /// Topic filters to subscribe to, in a stable order: single assets' topics, templates' topics
  /// (with + for {asset} when they discover, else once per listed id), the command topic with +
  /// for {asset}.
  [[nodiscard]] const std::vector<std::string>& topics() const noexcept { return topics_; }

 private:
  std::unordered_map<std::string, std::vector<Route>, StringHash, std::equal_to<>> routes_;
  std::vector<Pattern> patterns_;  // templates', by entry
  std::optional<Pattern> command_;
  std::vector<std::string> topics_;
};

/// Whether the first message of an asset not seen before, on template topic `signal` (kFrame for
/// a frame topic), is worth a twin: at least one value the twin would accept (a known signal,
/// finite, within its bounds), so that noise on a template's topics does not fill the fleet.
[[nodiscard]] bool worth_a_twin(const AssetDef& def, std::uint32_t signal,
                                const codec::Payload& payload) noexcept;

}  // namespace twind::core
