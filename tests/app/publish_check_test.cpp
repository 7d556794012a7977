// The publication check's core: what counts as a message coming back, when a topic is reported as
// denied, and that a report is made once and withdrawn once.
#include "twind/app/publish_check.hpp"

#include <gtest/gtest.h>

namespace twind::app {
namespace {

using Findings = std::vector<PublishCheck::Finding>;

PublishCheck watching(std::initializer_list<const char*> topics) {
  PublishCheck c(5.0);
  for (const char* t : topics) c.watch(t);
  return c;
}

TEST(PublishCheck, AMessageThatComesBackConfirmsItsTopic) {
  PublishCheck c = watching({"twin/state"});
  c.on_published("twin/state", "s1", 100.0);
  c.on_received("twin/state", "s1");

  EXPECT_TRUE(c.poll(200.0).empty());
  EXPECT_EQ(c.denied(), 0U);
}

TEST(PublishCheck, NothingBackWithinTheTimeoutIsReportedOnceAsDenied) {
  PublishCheck c = watching({"twin/state", "twin/status"});
  c.on_published("twin/state", "s1", 100.0);
  c.on_published("twin/state", "s2", 100.5);

  EXPECT_TRUE(c.poll(105.0).empty());  // exactly the timeout: not yet
  EXPECT_EQ(c.poll(105.01), (Findings{{"twin/state", false}}));
  c.on_published("twin/state", "s3", 106.0);
  EXPECT_TRUE(c.poll(120.0).empty());  // reported already
  EXPECT_EQ(c.denied(), 1U);
}

TEST(PublishCheck, OnlyTwindsOwnPayloadConfirms) {
  PublishCheck c = watching({"twin/status"});
  c.on_published("twin/status", "{\"state\":\"online\",\"ts\":2}", 100.0);
  // The retained status of an earlier run, delivered on subscription, and another publisher.
  c.on_received("twin/status", "{\"state\":\"offline\",\"ts\":1}");
  c.on_received("twin/status", "something else");

  EXPECT_EQ(c.poll(106.0), (Findings{{"twin/status", false}}));
}

TEST(PublishCheck, ADeniedTopicThatComesBackIsReportedAsDeliveredOnce) {
  PublishCheck c = watching({"twin/alert"});
  c.on_published("twin/alert", "a1", 100.0);
  ASSERT_EQ(c.poll(106.0).size(), 1U);

  c.on_published("twin/alert", "a2", 110.0);
  c.on_received("twin/alert", "a2");

  EXPECT_EQ(c.poll(111.0), (Findings{{"twin/alert", true, 0.0, 110.0}}));
  EXPECT_TRUE(c.poll(112.0).empty());
  EXPECT_EQ(c.denied(), 0U);
}

TEST(PublishCheck, ResetForgetsPendingMessages) {
  PublishCheck c = watching({"twin/state"});
  c.on_published("twin/state", "s1", 100.0);
  c.reset();  // the connection dropped: s1 may never have reached the broker
  EXPECT_TRUE(c.poll(110.0).empty());

  c.on_published("twin/state", "s2", 110.0);
  c.on_received("twin/state", "s2");
  c.reset();  // a new connection is watched as the first was
  c.on_published("twin/state", "s3", 120.0);
  EXPECT_EQ(c.poll(126.0), (Findings{{"twin/state", false}}));
}

// A topic confirmed long ago is still watched: a broker may drop what it acknowledged at any
// time (a clustered one while it elects leaders), and the gap is given to be made good.
TEST(PublishCheck, AGapAfterConfirmationIsReportedWithTheTimeSpanInDoubt) {
  PublishCheck c = watching({"twin/state", "twin/status"});
  c.on_published("twin/status", "on", 100.0);
  c.on_received("twin/status", "on");
  for (int k = 0; k < 5; ++k) {
    const std::string s = "s" + std::to_string(k);
    c.on_published("twin/state", s, 101.0 + k);
    c.on_received("twin/state", s);
  }
  EXPECT_TRUE(c.poll(110.0).empty());
  // From 106 on nothing comes back: more than kMaxPending messages, the oldest of them timing.
  for (int k = 0; k < 12; ++k)
    c.on_published("twin/state", "g" + std::to_string(k), 106.0 + k * 0.5);
  EXPECT_EQ(c.poll(111.01), (Findings{{"twin/state", false}}));
  c.on_published("twin/state", "back", 120.0);
  c.on_published("twin/state", "after", 120.5);
  c.on_received("twin/state", "back");
  // In doubt: what followed the last message back before the gap (s4, at 105), up to the one
  // back now.
  EXPECT_EQ(c.poll(121.0), (Findings{{"twin/state", true, 105.0, 120.0}}));
  c.on_received("twin/state", "after");
  EXPECT_TRUE(c.poll(130.0).empty());
  EXPECT_EQ(c.denied(), 0U);
}

// Late messages are not missing ones: the newest published still confirm the topic after the
// cap on those remembered.
TEST(PublishCheck, OnlyTheNewestPendingAreRememberedAndAnyOneConfirms) {
  PublishCheck c = watching({"twin/state"});
  for (int k = 0; k < 20; ++k)
    c.on_published("twin/state", "s" + std::to_string(k), 100.0 + k * 0.1);
  c.on_received("twin/state", "s19");
  EXPECT_TRUE(c.poll(110.0).empty());
  EXPECT_EQ(c.denied(), 0U);
}

// A broker that acknowledges nothing (frozen, before the keepalive finds the connection lost) has
// not dropped what it has not taken: the wait starts again once it acknowledges.
TEST(PublishCheck, NothingIsJudgedWhileTheConnectionIsStalled) {
  PublishCheck c = watching({"twin/state"});
  c.on_published("twin/state", "s1", 100.0);
  c.stalled(103.0);
  c.stalled(104.0);
  EXPECT_TRUE(c.poll(108.0).empty());  // 8 s since s1, 4 since the stall
  EXPECT_EQ(c.poll(109.01), (Findings{{"twin/state", false}}));
}

TEST(PublishCheck, AWithdrawnPublicationIsNotWaitedFor) {
  PublishCheck c = watching({"twin/state"});
  c.on_published("twin/state", "s1", 100.0);
  c.withdraw("twin/state", "s1");  // the client refused it: it never left

  EXPECT_TRUE(c.poll(110.0).empty());
}

TEST(PublishCheck, UnwatchedTopicsAreIgnored) {
  PublishCheck c = watching({"twin/state"});
  c.on_published("plant/y", "1", 100.0);
  c.on_received("plant/y", "1");
  EXPECT_FALSE(c.watched("plant/y"));
  EXPECT_TRUE(c.watched("twin/state"));
  EXPECT_TRUE(c.poll(200.0).empty());
  c.watch("twin/state");  // idempotent
  EXPECT_EQ(c.topics().size(), 1U);
}

}  // namespace
}  // namespace twind::app
