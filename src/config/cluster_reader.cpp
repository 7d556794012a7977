#include "cluster_reader.hpp"

#include <string>

#include "scalars.hpp"

namespace twind::config::detail {

std::optional<ClusterSpec> read_cluster(Reader& r, const Value& v) {
  if (!r.expect_map(v, "a mapping (partitions, member, members, active_alerts, handover_settle)")) {
    return std::nullopt;
  }
  const std::size_t errors_before = r.errors();
  const Fields f = r.fields(v, "cluster");
  ClusterSpec c;
  if (const Value* e = find(f, "partitions")) {
    if (const auto n = r.as_integer(*e, 1, kMaxPartitions)) {
      c.partitions = static_cast<std::uint32_t>(*n);
    }
  }  // else reported by fields(): the key table says it is required
  if (const Value* e = find(f, "member")) {
    if (const auto s = r.as_string(*e)) {
      if (!s->empty() && !is_member_name(*s)) {
        r.expected(*e, "a name of 1 to 64 letters, digits, _ and - (it is a topic level)");
      } else {
        c.member = *s;
      }
    }
  }
  if (const Value* e = find(f, "members")) {
    if (const auto s = r.as_string(*e)) {
      if (const auto problem = topic_problem(*s)) {
        r.expected(*e, *problem);
      } else if (!is_member_pattern(*s)) {
        r.expected(*e,
                   "a topic with {member} once, as a whole level and its only placeholder, like "
                   "twin/members/{member}");
      } else {
        c.members = *s;
      }
    }
  }
  if (const Value* e = find(f, "active_alerts")) {
    if (const auto s = r.as_string(*e)) {
      if (const auto problem = topic_problem(*s)) {
        r.expected(*e, *problem);
      } else if (!is_partitioned_pattern(*s)) {
        r.expected(*e,
                   "a topic with {partition} and then {asset}, each once as a whole level, like "
                   "twin/active_alerts/{partition}/{asset}");
      } else {
        c.active_alerts = *s;
      }
    }
  }
  if (const Value* e = find(f, "handover_settle")) {
    if (const auto d = r.as_duration(*e)) {
      if (*d < 0.0 || *d > 3600.0) {
        r.expected(*e, "a duration from 0s to 1h");
      } else {
        c.handover_settle = *d;
      }
    }
  }
  if (r.errors() != errors_before) return std::nullopt;
  return c;
}

}  // namespace twind::config::detail
