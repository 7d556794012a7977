// A replica's identity and announcements on the wire (app/cluster_link).
#include "twind/app/cluster_link.hpp"

#include <gtest/gtest.h>

#include "../support/fixtures.hpp"
#include "../support/recording_sink.hpp"
#include "twind/app/publisher.hpp"
#include "twind/core/encode.hpp"

namespace twind::app {
namespace {

config::Config replica_config() {
  config::Config c = testing::fleet_config();
  c.cluster = config::ClusterSpec{3, "", "twind/members/{member}"};
  return c;
}

TEST(ClusterLink, AMemberGetsItsOwnClientIdAndStatusTopic) {
  config::Config c = replica_config();
  c.broker.client_id = "twind";
  ASSERT_EQ(resolve_member(c, "replica-2"), "");
  EXPECT_EQ(c.cluster->member, "replica-2");
  EXPECT_EQ(c.broker.client_id, "twind-replica-2");
  EXPECT_EQ(c.topics.status, "twind/members/replica-2");

  config::Config d = replica_config();
  d.cluster->member = "r9";
  d.broker.client_id = "plant-{member}-twin";
  ASSERT_EQ(resolve_member(d, ""), "");
  EXPECT_EQ(d.broker.client_id, "plant-r9-twin");

  config::Config bad = replica_config();
  EXPECT_NE(resolve_member(bad, "a.b"), "");
  config::Config alone = testing::fleet_config();
  EXPECT_NE(resolve_member(alone, "r1"), "");  // --member without a cluster
  EXPECT_EQ(resolve_member(alone, ""), "");
}

TEST(ClusterLink, MembersAreReadFromTheirTopic) {
  const std::string pattern = "twind/members/{member}";
  EXPECT_EQ(members_filter(pattern), "twind/members/+");
  EXPECT_EQ(member_of(pattern, "twind/members/r1"), "r1");
  EXPECT_FALSE(member_of(pattern, "twind/members/"));
  EXPECT_FALSE(member_of(pattern, "twind/members/a/b"));
  EXPECT_FALSE(member_of(pattern, "twin/p1/state"));
}

TEST(ClusterLink, AnAnnouncementReadsBackAsWritten) {
  core::MemberAnnouncement a{true, 7, 12345678901234567890ULL, {0, 2}, {5}};
  const auto back = parse_announcement(announcement_payload("behind", "r1", &a, 1.5));
  ASSERT_TRUE(back);
  EXPECT_TRUE(back->online);
  EXPECT_EQ(back->seq, 7u);
  EXPECT_EQ(back->run, a.run);
  EXPECT_EQ(back->holds, a.holds);
  EXPECT_EQ(back->taking, a.taking);
  // Offline (the last will), and a cleared retained message, are gone; anything else is none.
  const auto offline = parse_announcement(announcement_payload("offline", "r1", nullptr, 0.0));
  ASSERT_TRUE(offline);
  EXPECT_FALSE(offline->online);
  ASSERT_TRUE(parse_announcement(""));
  EXPECT_FALSE(parse_announcement("")->online);
  EXPECT_FALSE(parse_announcement("{\"state\": 3}"));
  EXPECT_FALSE(parse_announcement("not json"));
}

TEST(ClusterLink, AnAlertRecordReadsBackAsWritten) {
  const config::Config c = testing::seed_config();
  core::AssetTwin twin(c.assets[0].id, core::compile_asset(c.assets[0], c.topics), 0.0);
  testing::CollectingSink sink;
  twin.take_over(
      std::vector<core::HandedAlert>{{AlertId::divergence, 1, 12.5, core::Detector::cusum},
                                     {AlertId::stale, 0, 13.0}},
      14.0, sink);
  std::string payload;
  core::encode_active_alerts(twin, 14.0, "replica-2", 18446744073709551557ULL, payload);

  const std::optional<AlertRecord> r = parse_alert_record(payload);

  ASSERT_TRUE(r) << payload;
  EXPECT_EQ(r->member, "replica-2");
  EXPECT_EQ(r->run, 18446744073709551557ULL);  // all 64 bits
  EXPECT_EQ(r->alerts, (std::vector<core::HandedRecord>{
                           {AlertId::divergence, "y", 12.5, core::Detector::cusum},
                           {AlertId::stale, "u", 13.0, core::Detector::threshold}}));
}

TEST(ClusterLink, AnEmptyAlertRecordHasNoAlertsAndAnyOtherPayloadIsNone) {
  const std::optional<AlertRecord> cleared = parse_alert_record("");
  ASSERT_TRUE(cleared);
  EXPECT_TRUE(cleared->alerts.empty());
  EXPECT_FALSE(parse_alert_record("not json"));
  EXPECT_FALSE(parse_alert_record(R"({"member":"r1"})"));
  EXPECT_FALSE(parse_alert_record(R"({"member":"r1","active_alerts":[{"id":"stale"}]})"));
  // An id of a later version is left for it to settle.
  const auto later = parse_alert_record(
      R"({"member":"r1","active_alerts":[{"id":"drift","signal":"y","since":1}]})");
  ASSERT_TRUE(later);
  EXPECT_TRUE(later->alerts.empty());
}

// A Publisher that keeps what it is handed.
class Kept final : public Publisher {
 public:
  struct Message {
    std::string topic;
    std::string payload;
    int qos = 0;
    bool retained = false;
  };
  bool publish(std::string_view topic, std::string_view payload, int qos, bool retained,
               double) override {
    messages.push_back({std::string(topic), std::string(payload), qos, retained});
    return true;
  }
  void log(LineKind, LogLevel, const std::string&) override {}
  std::vector<Message> messages;
};

// The seed's twin and a replica's PublishingSink (replica-1, run 42, 7 partitions) into `out`.
struct AlertRecordSink : ::testing::Test {
  config::Config c = testing::seed_config();
  core::AssetTwin twin{c.assets[0].id, core::compile_asset(c.assets[0], c.topics), 0.0};
  Kept out;
  PublishingSink sut{out};
  AlertRecordSink() {
    sut.alert_records(core::Pattern::of("twin/active_alerts/{partition}/{asset}", 0, 0), 7,
                      "replica-1", 42);
  }
};

TEST_F(AlertRecordSink, EachAlertTransitionRewritesTheAssetsRetainedRecordOnItsPartitionsTopic) {
  const std::string topic =
      "twin/active_alerts/" + std::to_string(core::partition_of("plant", 7)) + "/plant";

  twin.take_over(std::vector<core::HandedAlert>{{AlertId::stale, 1, 12.5}}, 14.0, sut);
  ASSERT_EQ(out.messages.size(), 0u);  // take_over is no transition; the engine says the rest
  sut.on_handed_over(twin);
  ASSERT_EQ(out.messages.size(), 1u);
  EXPECT_EQ(out.messages[0].topic, topic);
  EXPECT_EQ(out.messages[0].qos, 1);
  EXPECT_TRUE(out.messages[0].retained);
  const std::optional<AlertRecord> r = parse_alert_record(out.messages[0].payload);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->member, "replica-1");
  EXPECT_EQ(r->run, 42u);
  ASSERT_EQ(r->alerts.size(), 1u);

  // A sample of y clears the handed stale alert: the alert, then the record, empty: none left.
  ASSERT_FALSE(twin.on_sample(1, 1.0, 15.0, 15.0, sut).has_value());
  ASSERT_EQ(out.messages.size(), 3u);
  EXPECT_EQ(out.messages[1].topic, "twin/alert");
  EXPECT_EQ(out.messages[2].topic, topic);
  EXPECT_TRUE(out.messages[2].retained);
  EXPECT_EQ(out.messages[2].payload, "");
}

// A twin let go with an alert to settle says its record once more, as its last transition did.
TEST_F(AlertRecordSink, ATwinLetGoSaysItsRecordAgain) {
  twin.take_over(std::vector<core::HandedAlert>{{AlertId::stale, 1, 12.5}}, 14.0, sut);
  sut.on_handed_over(twin);
  sut.on_let_go(twin);
  ASSERT_EQ(out.messages.size(), 2u);
  EXPECT_EQ(out.messages[1].topic, out.messages[0].topic);
  EXPECT_EQ(out.messages[1].payload, out.messages[0].payload);
  EXPECT_EQ(out.messages[1].qos, 1);
  EXPECT_TRUE(out.messages[1].retained);
}

// Paced, records and alerts wait until flushed, in order, a record at a time; a newer record of an
// asset replaces its waiting one while no alert of the asset follows it, and a clearing goes
// before the record that no longer lists it.
TEST_F(AlertRecordSink, PacedRecordsWaitTheLatestOfAnAssetAndAClearingGoesBeforeItsRecord) {
  core::AssetTwin other{"plant-2", core::compile_asset(c.assets[0], c.topics), 0.0};
  sut.pace_records(true);
  twin.take_over(std::vector<core::HandedAlert>{{AlertId::stale, 1, 12.5}}, 14.0, sut);
  sut.on_handed_over(twin);
  sut.on_handed_over(twin);  // replaces the first
  other.take_over(std::vector<core::HandedAlert>{{AlertId::stale, 1, 12.5}}, 14.0, sut);
  sut.on_handed_over(other);
  ASSERT_TRUE(out.messages.empty());
  EXPECT_EQ(sut.records_waiting(), 2U);
  EXPECT_EQ(sut.records_superseded(), 1U);

  // A sample of y clears the first twin's handed alert: the clearing, then its empty record.
  ASSERT_FALSE(twin.on_sample(1, 1.0, 15.0, 15.0, sut).has_value());
  EXPECT_TRUE(out.messages.empty());
  EXPECT_EQ(sut.records_waiting(), 3U);
  EXPECT_EQ(sut.messages_waiting(), 4U);

  EXPECT_EQ(sut.flush_records(1), 1U);  // up to the second record
  ASSERT_EQ(out.messages.size(), 1U);
  EXPECT_TRUE(out.messages[0].topic.ends_with("/plant")) << out.messages[0].topic;
  EXPECT_TRUE(out.messages[0].retained);
  EXPECT_EQ(out.messages[0].qos, 1);
  const std::optional<AlertRecord> first = parse_alert_record(out.messages[0].payload);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->alerts.size(), 1U);

  EXPECT_EQ(sut.flush_records(5), 2U);
  ASSERT_EQ(out.messages.size(), 4U);
  EXPECT_TRUE(out.messages[1].topic.ends_with("/plant-2")) << out.messages[1].topic;
  EXPECT_EQ(out.messages[2].topic, "twin/alert");
  EXPECT_NE(out.messages[2].payload.find(R"("state":"cleared")"), std::string::npos);
  EXPECT_EQ(out.messages[2].qos, 1);
  EXPECT_FALSE(out.messages[2].retained);
  EXPECT_TRUE(out.messages[3].topic.ends_with("/plant")) << out.messages[3].topic;
  EXPECT_EQ(out.messages[3].payload, "");
  EXPECT_TRUE(out.messages[3].retained);
  EXPECT_EQ(sut.records_waiting(), 0U);
  EXPECT_EQ(sut.messages_waiting(), 0U);
  EXPECT_EQ(sut.flush_records(5), 0U);
}

// A late acknowledgement (a broker's store may have given up meanwhile): what the last flush
// sent waits again, ahead of what was decided after it and in its order; a timely one lets it go.
TEST_F(AlertRecordSink, MessagesAcknowledgedLateWaitAgainAheadOfTheRestInTheirOrder) {
  sut.pace_records(true);
  twin.take_over(std::vector<core::HandedAlert>{{AlertId::stale, 1, 12.5}}, 14.0, sut);
  sut.on_handed_over(twin);  // the record listing the handed stale alert
  EXPECT_EQ(sut.flush_records(1), 1U);
  ASSERT_EQ(out.messages.size(), 1U);
  const auto first = out.messages[0];
  EXPECT_EQ(sut.unacknowledged(), 1U);
  // Decided while it awaits its acknowledgement: the clearing, then the empty record.
  ASSERT_FALSE(twin.on_sample(1, 1.0, 15.0, 15.0, sut).has_value());
  EXPECT_EQ(sut.messages_waiting(), 2U);

  sut.acknowledged(true);
  EXPECT_EQ(sut.unacknowledged(), 0U);
  EXPECT_EQ(sut.resent(), 1U);
  EXPECT_EQ(sut.messages_waiting(), 3U);
  EXPECT_EQ(sut.records_waiting(), 2U);
  // A newer record of the asset replaces the one waiting behind the clearing, not the one sent
  // again.
  sut.on_handed_over(twin);
  EXPECT_EQ(sut.records_superseded(), 1U);
  EXPECT_EQ(sut.messages_waiting(), 3U);

  EXPECT_EQ(sut.flush_records(1), 1U);  // the record again, and the clearing up to the next
  ASSERT_EQ(out.messages.size(), 3U);
  EXPECT_EQ(out.messages[1].topic, first.topic);
  EXPECT_EQ(out.messages[1].payload, first.payload);
  EXPECT_TRUE(out.messages[1].retained);
  EXPECT_EQ(out.messages[2].topic, "twin/alert");
  EXPECT_NE(out.messages[2].payload.find(R"("state":"cleared")"), std::string::npos);
  EXPECT_EQ(sut.unacknowledged(), 2U);
  sut.acknowledged(false);
  EXPECT_EQ(sut.flush_records(1), 1U);
  ASSERT_EQ(out.messages.size(), 4U);
  EXPECT_EQ(out.messages[3].topic, first.topic);
  EXPECT_EQ(out.messages[3].payload, "");
  sut.acknowledged(false);
  EXPECT_EQ(sut.resent(), 1U);
  EXPECT_EQ(sut.messages_waiting(), 0U);
  EXPECT_EQ(sut.records_waiting(), 0U);
  EXPECT_EQ(sut.flush_records(1), 0U);
}

// What waits is bounded: beyond kMaxWaiting messages the oldest goes, counted.
TEST_F(AlertRecordSink, AtMostKMaxWaitingMessagesWaitTheOldestDroppedAndCounted) {
  sut.pace_records(true);
  // Each round queues a clearing and a record (the handed record replaces the last round's).
  const std::size_t rounds = PublishingSink::kMaxWaiting / 2 + 2;
  for (std::size_t k = 0; k < rounds; ++k) {
    const auto i = static_cast<double>(k);
    twin.take_over(std::vector<core::HandedAlert>{{AlertId::stale, 1, 12.5 + i}}, 14.0 + i, sut);
    sut.on_handed_over(twin);
    ASSERT_FALSE(twin.on_sample(1, 1.0, 14.5 + i, 14.5 + i, sut).has_value());  // cleared
  }
  const std::size_t queued = 1 + 2 * rounds;
  EXPECT_EQ(sut.messages_waiting(), PublishingSink::kMaxWaiting);
  EXPECT_EQ(sut.waiting_dropped(), queued - PublishingSink::kMaxWaiting);
  EXPECT_EQ(sut.flush_records(1), 1U);
  ASSERT_GE(out.messages.size(), 1U);
  // The first left is a clearing of a later round: the oldest went.
  EXPECT_EQ(out.messages[0].topic, "twin/alert");
  EXPECT_EQ(out.messages[0].payload.find("/stale/12500\""), std::string::npos);
}

}  // namespace
}  // namespace twind::app
