// A replica's link to the others (docs/scaling.md): its name, its announcement on the broker
// (the status message of a replica, retained, with its last will) and the others' as read back.
// The decisions are core::Ownership's; this is their wording on the wire.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "twind/config/config.hpp"
#include "twind/core/cluster.hpp"
#include "twind/core/engine.hpp"

namespace twind::app {

/// Settles a replica's identity in `c` (nothing without c.cluster): the member's name (`member`
/// if given, else cluster.member, else the host name up to its first dot), the client id
/// (broker.client_id with {member} replaced, or followed by "-" and the member: the broker allows
/// one connection per client id across the cluster), and the status topic (cluster.members with
/// {member} replaced). Returns what is wrong, or "".
[[nodiscard]] std::string resolve_member(config::Config& c, const std::string& member);

/// cluster.members with `+` for {member}: every replica's announcement.
[[nodiscard]] std::string members_filter(const std::string& pattern);
/// The member a topic matching members_filter() names; nullopt for another topic.
[[nodiscard]] std::optional<std::string_view> member_of(const std::string& pattern,
                                                        std::string_view topic);

/// A replica's status payload: state (online, behind, offline), its name, version and time, and
/// while not offline its announcement (seq, holds, taking).
[[nodiscard]] std::string announcement_payload(std::string_view state, std::string_view member,
                                               const core::MemberAnnouncement* a, double ts);
/// Reads an announcement: offline (or an empty retained payload) gives online = false; nullopt
/// for a payload that is none.
[[nodiscard]] std::optional<core::MemberAnnouncement> parse_announcement(std::string_view payload);

/// A replica's record of the alerts raised on one asset (cluster.active_alerts,
/// core::encode_active_alerts).
struct AlertRecord {
  std::string member;
  std::uint64_t run = 0;
  std::vector<core::HandedRecord> alerts;
};
/// Reads a record: an empty payload (a cleared retained record) gives one with no alerts and no
/// member; nullopt for a payload that is none. Entries of unknown ids are left out.
[[nodiscard]] std::optional<AlertRecord> parse_alert_record(std::string_view payload);

}  // namespace twind::app
