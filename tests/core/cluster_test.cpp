// Replicas sharing partitions (core::Ownership): the partition of an asset as NATS computes it,
// an even split, and the hand-over protocol under every order the broker may deliver
// announcements in: never two members processing one partition, and in the end every partition
// processed by the one it belongs to.
#include "twind/core/cluster.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "../support/recording_sink.hpp"
#include "twind/config/loader.hpp"
#include "twind/core/engine.hpp"

namespace twind::core {
namespace {

// Observed with nats-server 2.9.10 and the mapping "plant.*.frame" ->
// "twin_in.{{partition(3,1)}}.plant.{{wildcard(1)}}.frame": plant/a1/frame came out on
// twin_in/1/plant/a1/frame, and so on (tests/cluster checks many more against the real server).
TEST(PartitionOf, IsTheBrokersMapping) {
  const std::map<std::string, std::uint32_t> seen{{"a1", 1}, {"a2", 0}, {"a3", 2},
                                                  {"a4", 0}, {"a5", 2}, {"a6", 1}};
  for (const auto& [id, p] : seen) EXPECT_EQ(partition_of(id, 3), p) << id;
  EXPECT_EQ(partition_of("anything", 1), 0u);
}

// A member alone holds every partition once two of its announcements have come back: the first
// (it knows then who else there is: no one), the one saying it takes them all.
TEST(Ownership, AMemberAloneHoldsEveryPartitionOnceItsAnnouncementsCameBack) {
  Ownership sut("r1", 6);
  EXPECT_EQ(sut.announce().seq, 1u);
  EXPECT_FALSE(sut.decide());  // its announcement has not come back: it knows no one yet
  sut.echoed(1);
  EXPECT_TRUE(sut.decide());
  EXPECT_EQ(std::count(sut.taking().begin(), sut.taking().end(), true), 6);
  const MemberAnnouncement taking = sut.announce();
  EXPECT_EQ(taking.taking.size(), 6u);
  EXPECT_FALSE(sut.decide());  // not before `taking` came back
  sut.echoed(taking.seq);
  EXPECT_TRUE(sut.decide());
  EXPECT_EQ(std::count(sut.held().begin(), sut.held().end(), true), 6);
  EXPECT_FALSE(sut.decide());  // nothing new
}

// The split is even: with partitions a multiple of the members, exactly; otherwise within one
// partition of ceil(partitions / members).
TEST(Ownership, TheLoadSplitsEvenly) {
  for (const std::uint32_t partitions : {3U, 30U, 60U, 7U, 100U}) {
    for (const std::size_t n : {1U, 2U, 3U, 5U}) {
      Ownership sut("replica-0", partitions);
      for (std::size_t i = 1; i < n; ++i) {
        sut.on_member("replica-" + std::to_string(i), {true, 1, 0, {}, {}});
      }
      sut.decide();
      std::map<std::string, std::uint32_t> load;
      for (std::uint32_t p = 0; p < partitions; ++p) ++load[sut.owner(p)];
      ASSERT_EQ(load.size(), std::min<std::size_t>(n, partitions)) << partitions << " " << n;
      const std::size_t cap = (partitions + n - 1) / n;
      for (const auto& [m, l] : load) {
        EXPECT_LE(l, cap) << partitions << " " << n << " " << m;
        if (partitions % n == 0) {
          EXPECT_EQ(l, partitions / n) << partitions << " " << n;
        }
      }
    }
  }
}

// A member that leaves moves its own partitions and few others.
TEST(Ownership, AMemberLeavingMovesLittleBesidesItsOwn) {
  Ownership three("a", 60);
  three.on_member("b", {true, 1, 0, {}, {}});
  three.on_member("c", {true, 1, 0, {}, {}});
  three.decide();
  Ownership two("a", 60);
  two.on_member("b", {true, 1, 0, {}, {}});
  two.decide();
  int moved = 0;
  for (std::uint32_t p = 0; p < 60; ++p) {
    if (three.owner(p) != "c" && three.owner(p) != two.owner(p)) ++moved;
  }
  EXPECT_LE(moved, 10);  // of the 40 that were a's and b's
}

// Members exchanging announcements through a broker that keeps each one's latest (retained) and
// delivers every announcement to every member, the sender included, in one order (as one
// Mosquitto does), the members reading at their own pace, in a random interleaving.
class Cluster {
 public:
  explicit Cluster(std::uint32_t partitions, unsigned seed) : partitions_(partitions), rng_(seed) {}

  void join(const std::string& name) {
    members_[name] = std::make_unique<Ownership>(name, partitions_);
    cursor_[name] = log_.size();
    // Subscribed: the retained announcements first; then it announces itself.
    for (const auto& [other, a] : retained_) members_[name]->on_member(other, a);
    publish(name);
  }

  // kill -9: its last will (offline) is published for it.
  void kill(const std::string& name) {
    members_.erase(name);
    cursor_.erase(name);
    retained_[name] = MemberAnnouncement{};
    log_.push_back({name, MemberAnnouncement{}});
  }

  // Delivers the next announcement to one member; false when every member has read everything.
  bool step() {
    std::vector<std::string> behind;
    for (const auto& [name, at] : cursor_) {
      if (at < log_.size()) behind.push_back(name);
    }
    if (behind.empty()) return false;
    const std::string& name =
        behind[std::uniform_int_distribution<std::size_t>(0, behind.size() - 1)(rng_)];
    const auto& [from, a] = log_[cursor_[name]++];
    Ownership& m = *members_.at(name);
    if (from == name) {
      m.echoed(a.seq);
    } else {
      m.on_member(from, a);
    }
    if (m.decide()) publish(name);
    return true;
  }

  // Runs until everything is read, checking after every delivery that no partition is held twice.
  void settle() {
    check_exclusive();
    for (int i = 0; i < 1000000 && step(); ++i) check_exclusive();
  }

  void check_exclusive() const {
    for (std::uint32_t p = 0; p < partitions_; ++p) {
      int holders = 0;
      for (const auto& [name, m] : members_) holders += m->held()[p] ? 1 : 0;
      ASSERT_LE(holders, 1) << "partition " << p << " held twice";
    }
  }

  // Every partition held by one member, the one all agree it belongs to; none taking.
  void check_settled() const {
    for (std::uint32_t p = 0; p < partitions_; ++p) {
      std::set<std::string> owners;
      std::vector<std::string> holders;
      for (const auto& [name, m] : members_) {
        owners.insert(m->owner(p));
        if (m->held()[p]) holders.push_back(name);
        EXPECT_FALSE(m->taking()[p]) << name << " still taking " << p;
      }
      ASSERT_EQ(owners.size(), 1u) << "members disagree on partition " << p;
      ASSERT_EQ(holders.size(), 1u) << "partition " << p;
      EXPECT_EQ(holders.front(), *owners.begin());
    }
  }

  [[nodiscard]] std::size_t held_by(const std::string& name) const {
    const auto& h = members_.at(name)->held();
    return static_cast<std::size_t>(std::count(h.begin(), h.end(), true));
  }

 private:
  void publish(const std::string& name) {
    const MemberAnnouncement a = members_.at(name)->announce();
    retained_[name] = a;
    log_.push_back({name, a});
  }

  std::uint32_t partitions_;
  std::mt19937 rng_;
  std::map<std::string, std::unique_ptr<Ownership>> members_;
  std::map<std::string, std::size_t> cursor_;  // the next announcement each member reads
  std::map<std::string, MemberAnnouncement> retained_;
  std::vector<std::pair<std::string, MemberAnnouncement>> log_;
};

TEST(Ownership, JoinsAndDeathsNeverLetTwoMembersHoldOnePartition) {
  for (unsigned seed = 1; seed <= 200; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    Cluster c(30, seed);
    c.join("r1");
    c.settle();
    c.check_settled();
    EXPECT_EQ(c.held_by("r1"), 30u);
    c.join("r2");
    c.join("r3");  // before r2's hand-over is done
    c.settle();
    c.check_settled();
    for (const char* r : {"r1", "r2", "r3"}) EXPECT_EQ(c.held_by(r), 10u) << r;
    c.kill("r2");
    c.settle();
    c.check_settled();
    EXPECT_EQ(c.held_by("r1") + c.held_by("r3"), 30u);
    c.join("r2");  // back, under the same name
    c.join("r4");
    c.kill("r1");  // while the others hand over
    c.settle();
    c.check_settled();
    for (const char* r : {"r2", "r3", "r4"}) EXPECT_EQ(c.held_by(r), 10u) << r;
    if (HasFatalFailure()) return;
  }
}

// A member reconnecting starts from nothing held and takes its share back from whoever took it.
TEST(Ownership, AMemberReconnectingStartsFromNothingAndTakesItsShareBack) {
  Ownership sut("r1", 6);
  sut.on_member("r2", {true, 1, 0, {}, {}});
  sut.echoed(sut.announce().seq);
  sut.decide();
  sut.echoed(sut.announce().seq);
  sut.decide();
  const std::vector<bool> mine = sut.held();
  ASSERT_EQ(std::count(mine.begin(), mine.end(), true), 3);
  sut.restart();
  EXPECT_EQ(std::count(sut.held().begin(), sut.held().end(), true), 0);
  const std::uint64_t hello = sut.announce().seq;
  EXPECT_FALSE(sut.decide());  // its announcement has not come back yet
  // Meanwhile r2 took everything (r1's will had fired).
  sut.on_member("r2", {true, 5, 0, {0, 1, 2, 3, 4, 5}, {}});
  sut.echoed(hello);
  EXPECT_TRUE(sut.decide());
  EXPECT_EQ(std::count(sut.held().begin(), sut.held().end(), true), 0);  // r2 holds them
  EXPECT_EQ(sut.taking(), mine);
  sut.echoed(sut.announce().seq);
  EXPECT_FALSE(sut.decide());  // r2 still holds them
  // r2 lets go of r1's share.
  std::vector<std::uint32_t> r2_keeps;
  for (std::uint32_t p = 0; p < 6; ++p) {
    if (!mine[p]) r2_keeps.push_back(p);
  }
  sut.on_member("r2", {true, 6, 0, r2_keeps, {}});
  EXPECT_TRUE(sut.decide());
  EXPECT_EQ(sut.held(), mine);
}

}  // namespace
}  // namespace twind::core

namespace twind::core {
namespace {

// A replica's engine: the share it holds of a partitioned fleet.
config::Config replica_config() {
  const config::LoadResult r = config::load_string(R"(
cluster: {partitions: 3, member: r1}
assets:
  - template: plant
    discover: true
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input}
      - {name: y, role: output, threshold: 0.15}
    frames:
      - twin_in/{partition}/plant/{asset}/frame
)",
                                                   "replica.yaml");
  EXPECT_TRUE(r.ok());
  return *r.config;
}

std::string topic_of(const std::string& id) {
  return "twin_in/" + std::to_string(partition_of(id, 3)) + "/plant/" + id + "/frame";
}

TEST(ReplicaEngine, SubscribesToItsShareProcessesWhatItHoldsAndLetsGoOfTheRest) {
  Engine sut(replica_config(), 0.0);
  testing::CollectingSink sink;
  EXPECT_EQ(sut.partitions(), 3u);
  // Nothing held yet: only the command topic.
  EXPECT_EQ(sut.topics(), std::vector<std::string>{"twin/+/cmd"});
  EXPECT_EQ(sut.set_partitions({true, true, false}, {true, false, false}, sink), 0u);
  EXPECT_EQ(sut.topics(), (std::vector<std::string>{"twin_in/0/plant/+/frame",
                                                    "twin_in/1/plant/+/frame", "twin/+/cmd"}));
  const std::vector<std::string> ids{"a1", "a2", "a3", "a4", "a5", "a6"};  // 1 0 2 0 2 1
  const auto feed = [&](double t) {
    for (const std::string& id : ids) {
      sut.on_message(topic_of(id), R"({"ts": )" + std::to_string(t) + R"(, "u": 1, "y": 0})", t,
                     sink);
    }
  };
  feed(1.0);
  // Partition 0 held: a2 and a4; partition 1 taken, not held: counted; partition 2 not even
  // subscribed (a broker would not deliver it): not held either.
  EXPECT_EQ(sut.size(), 2u);
  EXPECT_EQ(sut.counters().not_held, 4u);
  EXPECT_EQ(sut.partitions_held(), 1u);
  // Taking more keeps the twins it has.
  EXPECT_EQ(sut.set_partitions({true, true, true}, {true, true, true}, sink), 0u);
  feed(1.1);
  EXPECT_EQ(sut.size(), 6u);
  ASSERT_NE(sut.find("a2"), nullptr);
  EXPECT_EQ(sut.find("a2")->signal(1).event_time, 1.1);
  // Letting go of partition 1 drops a1 and a6; the others go on.
  EXPECT_EQ(sut.set_partitions({true, false, true}, {true, false, true}, sink), 2u);
  EXPECT_EQ(sut.find("a1"), nullptr);
  EXPECT_EQ(sut.find("a6"), nullptr);
  feed(1.2);
  EXPECT_EQ(sut.size(), 4u);
  EXPECT_EQ(sut.find("a5")->signal(1).event_time, 1.2);
  sut.tick(1.5, sink);  // every remaining twin ticks
  // A command to an asset of a partition it does not hold is its holder's to answer.
  const std::size_t replies = sink.replies.size();
  sut.on_message("twin/a1/cmd", R"({"cmd": "status"})", 1.3, sink);
  EXPECT_EQ(sink.replies.size(), replies);
  sut.on_message("twin/a2/cmd", R"({"cmd": "status"})", 1.3, sink);
  EXPECT_EQ(sink.replies.size(), replies + 1);
}

// A topic whose partition is not its asset's: the broker partitions otherwise than the file says.
TEST(ReplicaEngine, AnAssetOnAnotherPartitionIsRefusedAsWrongPartition) {
  Engine sut(replica_config(), 0.0);
  testing::CollectingSink sink;
  sut.set_partitions({true, true, true}, {true, true, true}, sink);
  sut.on_message("twin_in/0/plant/a1/frame", R"({"ts": 1, "u": 1, "y": 0})", 1.0, sink);
  sut.on_message("twin_in/7/plant/a1/frame", R"({"ts": 1, "u": 1, "y": 0})", 1.0, sink);
  EXPECT_EQ(sut.counters().rejected[static_cast<std::size_t>(Reject::wrong_partition)], 2u);
  EXPECT_EQ(sut.size(), 0u);
}

// Alerts across a hand-over: records kept for the partitions subscribed to, handed to the twins
// held (the twin's part: handover_test.cpp).
constexpr double kRaisedBefore = 100.25;  // the other replica's raise
const std::vector<HandedRecord> kRecord{{AlertId::divergence, "y", kRaisedBefore}};

TEST(HandOverEngine, ARecordWaitsForTheTwinAndIsHandedToItWhenItIsMade) {
  Engine sut(replica_config(), 0.0);
  testing::CollectingSink sink;
  const std::uint32_t p = partition_of("a1", 3);
  std::vector<bool> taking(3, false);
  taking[p] = true;
  sut.set_partitions(taking, std::vector<bool>(3, false), sink);  // subscribed, not held yet
  EXPECT_TRUE(sut.take_over("a1", kRecord, 1.0, sink));
  EXPECT_EQ(sut.handed_records(), 1u);
  EXPECT_EQ(sut.size(), 0u);

  sut.set_partitions(taking, taking, sink);  // held
  sut.on_message(topic_of("a1"), R"({"ts": 2, "u": 1, "y": 1})", 2.0, sink);

  ASSERT_NE(sut.find("a1"), nullptr);
  ASSERT_EQ(sut.find("a1")->handed_over().size(), 1u);
  EXPECT_EQ(sut.find("a1")->handed_over()[0].since, kRaisedBefore);
  EXPECT_EQ(sink.handed, std::vector<std::string>{"a1"});
  EXPECT_EQ(sut.handed_records(), 0u);  // the twin has it now
  // Started from its first frame, it says alert until it has settled what it was handed.
  EXPECT_EQ(sut.find("a1")->status(), Status::alert);
}

TEST(HandOverEngine, ARecordForAHeldTwinIsHandedAtOnceAndAnEmptyOneWithdrawsIt) {
  Engine sut(replica_config(), 0.0);
  testing::CollectingSink sink;
  sut.set_partitions({true, true, true}, {true, true, true}, sink);
  sut.on_message(topic_of("a1"), R"({"ts": 2, "u": 1, "y": 1})", 2.0, sink);
  ASSERT_NE(sut.find("a1"), nullptr);

  sut.take_over("a1", kRecord, 2.1, sink);
  EXPECT_EQ(sut.find("a1")->handed_over().size(), 1u);
  sut.take_over("a1", {}, 2.2, sink);
  EXPECT_TRUE(sut.find("a1")->handed_over().empty());
  EXPECT_EQ(sut.handed_records(), 0u);
  EXPECT_EQ(sink.handed, (std::vector<std::string>{"a1", "a1"}));
}

// A twin let go with alerts to settle says so (its record, said once more by the daemon); one
// with none does not.
TEST(HandOverEngine, TwinsLetGoWithAlertsRaisedOrHandedOverAreReportedAndNoOther) {
  Engine sut(replica_config(), 0.0);
  testing::CollectingSink sink;
  sut.set_partitions({true, true, true}, {true, true, true}, sink);
  for (const char* id : {"a1", "a3", "a5", "a6"}) {  // partitions 1, 2, 2, 1
    sut.on_message(topic_of(id), R"({"ts": 1, "u": 0, "y": 0})", 1.0, sink);
  }
  sut.on_message(topic_of("a1"), R"({"ts": 1.5, "u": 0, "y": 50})", 1.5, sink);  // raised
  sut.take_over("a5", kRecord, 1.5, sink);                                       // handed
  ASSERT_EQ(sut.find("a1")->active_alerts(), 1u);
  ASSERT_EQ(sut.find("a5")->handed_over().size(), 1u);
  EXPECT_EQ(sut.set_partitions({true, false, true}, {true, false, true}, sink), 2u);
  EXPECT_EQ(sink.let_go, std::vector<std::string>{"a1"});  // not a6: nothing raised
  EXPECT_EQ(sut.set_partitions({true, false, false}, {true, false, false}, sink), 2u);
  EXPECT_EQ(sink.let_go, (std::vector<std::string>{"a1", "a5"}));  // not a3
}

TEST(HandOverEngine, RecordsOfPartitionsNotSubscribedToAreIgnoredAndLetGoWithThem) {
  Engine sut(replica_config(), 0.0);
  testing::CollectingSink sink;
  const std::uint32_t p = partition_of("a1", 3);
  std::vector<bool> none(3, false);
  EXPECT_FALSE(sut.take_over("a1", kRecord, 1.0, sink));
  std::vector<bool> taking(3, false);
  taking[p] = true;
  sut.set_partitions(taking, none, sink);
  EXPECT_TRUE(sut.take_over("a1", kRecord, 1.0, sink));
  EXPECT_EQ(sut.handed_records(), 1u);
  sut.set_partitions(none, none, sink);
  EXPECT_EQ(sut.handed_records(), 0u);
}

}  // namespace
}  // namespace twind::core
