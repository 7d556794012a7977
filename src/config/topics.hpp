// Internal to twind_config: the topic checks. twind's own topics (the `topics` section), the
// assets' inbound topics with `{asset}` where it belongs, and across them: no message may reach
// twind through two subscriptions or on a topic twind publishes to.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "reader.hpp"
#include "twind/config/config.hpp"

namespace twind::config::detail {

/// Whose inbound topic it is: a single asset's (`{asset}` stands for its id) or a template's
/// (`{asset}` stands for any of its assets' ids).
struct TopicScope {
  bool is_template = false;
  std::string id;  ///< a single asset's id
};

class TopicChecks {
 public:
  explicit TopicChecks(Reader& r) : r_(r) {}

  /// With a `cluster` section, a template's inbound topics must hold {partition} (and without
  /// one may not).
  void set_partitioned(bool partitioned) { partitioned_ = partitioned; }

  /// Reads `topics` (nullptr: absent) into `t`. With more than one asset (a template counts as
  /// two), state and alert default to per-asset topics and must hold {asset}.
  void read_section(const Value* v, std::size_t asset_count, TopicsSpec& t);

  /// A signal or frame topic as the asset will use it: checked, recorded for check_uses(), with
  /// {asset} replaced by a single asset's id; a template's keeps its {asset}.
  std::optional<std::string> inbound(const Value& at, const std::string& topic,
                                     const TopicScope& scope);

  /// Once every asset is read: refuses an inbound topic that overlaps an earlier one or one of
  /// twind's own (`topics`, with {asset} as each of `asset_ids` or, with `any_template`, any id).
  void check_uses(const TopicsSpec& topics, const std::map<std::string, std::string>& asset_ids,
                  bool any_template);

 private:
  struct TopicUse {
    std::string topic;  // a single asset's topic, or a template's pattern with {asset}
    Pos pos;
    std::string path;
  };
  // An outbound topic and the key that makes twind publish or subscribe there.
  using Outbound = std::vector<std::pair<std::string, std::string>>;

  void read_pattern(const Fields& f, std::string_view key, std::string& dst,
                    std::string_view example, bool required, std::size_t asset_count);
  void read_status(const Fields& f, std::string& dst);
  void check_distinct(const Fields& f, const TopicsSpec& t);
  [[nodiscard]] Outbound outbound(const TopicsSpec& topics,
                                  const std::map<std::string, std::string>& asset_ids,
                                  bool any_template) const;

  Reader& r_;
  std::vector<TopicUse> uses_;
  bool section_ok_ = true;  // twind's own topics were read, so inbound ones can be held to them
  bool partitioned_ = false;
};

}  // namespace twind::config::detail
