// Replicas sharing a fleet: which partition an asset is in, and which replica owns which
// partition. Pure: what the replicas announce comes in, what this one should subscribe to and
// process goes out; the daemon carries the announcements over the broker.
//
// Ownership is rendezvous hashing with bounded loads: the pairs (member, partition) are taken in
// the order of their scores, each partition going to the first member that still has room (at
// most ceil(partitions / members) each), so that the load splits evenly (exactly, when the
// partitions are a multiple of the members) where plain rendezvous hashing of a few partitions
// over a few members is lopsided. Every replica computes it alike from the same member list, and
// a member that joins or leaves moves few partitions besides those it takes or held.
//
// Hand-over is make-before-break. The member a partition should go to subscribes first and says
// so (`taking`); the member holding it lets it go (unsubscribes, drops its twins) once it sees
// that, and says so; the taker then holds it and processes its messages, its twins starting from
// the next measurements as at start-up. A taker holds a partition only once its own `taking`
// announcement has come back through the broker and no other member says it holds or takes it:
// with a broker that delivers every announcement to every member in one order (one Mosquitto; a
// NATS cluster's nodes do so for causally related messages), of two members taking one partition
// the later waits, so no two members ever process one partition. The gap is about two trips
// through the broker. A member that dies holds nothing once its last will (`offline`) arrives,
// and its partitions go to the others.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace twind::core {

/// The partition of asset `id` among `partitions`: FNV-1a (32 bits) of the id, modulo, as NATS's
/// subject mapping `partition(N, ...)` computes it for one token.
[[nodiscard]] std::uint32_t partition_of(std::string_view id, std::uint32_t partitions) noexcept;

/// Member `member`'s rendezvous score for partition `p`.
[[nodiscard]] std::uint64_t rendezvous_score(std::string_view member, std::uint32_t p) noexcept;

/// What a member says of itself (its retained announcement).
struct MemberAnnouncement {
  bool online = false;
  std::uint64_t seq = 0;              ///< counts the member's announcements
  std::uint64_t run = 0;              ///< the member's process (random): tells its own apart
  std::vector<std::uint32_t> holds;   ///< partitions it processes
  std::vector<std::uint32_t> taking;  ///< partitions it has subscribed to, waiting to hold them
};

class Ownership {
 public:
  Ownership(std::string self, std::uint32_t partitions);

  /// Another member's announcement (this member's own is ignored). An offline one, or an empty
  /// retained payload, removes it.
  void on_member(std::string_view member, MemberAnnouncement announcement);
  /// A new connection: this member starts again from nothing held (while it was away the others
  /// may have taken its partitions) and forgets the others (their retained announcements come
  /// again). It then announces itself (announce()) and decides nothing until that announcement
  /// has come back (echoed()): the retained ones, delivered on subscribing, are in by then.
  void restart();
  /// This member's announcement number `seq` came back through the broker.
  void echoed(std::uint64_t seq) noexcept { echoed_ = std::max(echoed_, seq); }
  [[nodiscard]] bool is_synced() const noexcept { return echoed_ >= restart_seq_; }

  /// Takes the steps the announcements allow (none before is_synced()). Returns whether what
  /// this member holds or takes changed: then announce(), subscribe and apply.
  bool decide();

  /// The live member partition `p` belongs to (as of the last decide()).
  [[nodiscard]] const std::string& owner(std::uint32_t p) const { return owner_[p]; }
  [[nodiscard]] const std::vector<bool>& held() const noexcept { return held_; }
  [[nodiscard]] const std::vector<bool>& taking() const noexcept { return taking_; }
  /// held or taking: what to subscribe to.
  [[nodiscard]] std::vector<bool> subscribed() const;
  [[nodiscard]] std::uint32_t partitions() const noexcept { return partitions_; }
  [[nodiscard]] const std::string& self() const noexcept { return self_; }
  /// Live members, this one included, by name.
  [[nodiscard]] std::vector<std::string> members() const;
  /// This member's next announcement (numbered), to publish.
  [[nodiscard]] MemberAnnouncement announce();

 private:
  [[nodiscard]] bool lists(const std::string& member, std::uint32_t p, bool taking_too) const;
  void assign();

  std::string self_;
  std::uint32_t partitions_;
  std::map<std::string, MemberAnnouncement, std::less<>> others_;  // online ones only
  std::vector<std::string> owner_;                                 // by partition
  std::vector<bool> held_;
  std::vector<bool> taking_;
  std::vector<std::uint64_t> taking_since_;  // the announcement that first said so
  std::uint64_t seq_ = 0;                    // announcements made
  std::uint64_t echoed_ = 0;                 // the latest that came back
  std::uint64_t restart_seq_ = 1;            // the first announcement since the last restart()
};

}  // namespace twind::core
