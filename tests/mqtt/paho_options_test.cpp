// The Paho adapter without a broker: URI checks and what publish() does before a connection.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "recording_handler.hpp"
#include "twind/mqtt/client.hpp"

namespace twind::mqtt {
namespace {

using std::chrono::milliseconds;

class PahoUnusableUri : public ::testing::TestWithParam<std::string> {};

TEST_P(PahoUnusableUri, IsRefusedWithInvalidArgument) {
  ConnectOptions o;
  o.uri = GetParam();

  EXPECT_THROW((void)make_paho_client(o), std::invalid_argument);
}

INSTANTIATE_TEST_SUITE_P(BadUris, PahoUnusableUri,
                         ::testing::Values("", "127.0.0.1:1883", "://127.0.0.1:1883",
                                           "http://127.0.0.1:1883", "tcp://", "tcp://:1883",
                                           "udp://127.0.0.1:1883", "tcp://127.0.0.1:99999",
                                           "tcp://127.0.0.1:1883/mqtt", "tcp://::1:1883",
                                           "tcp://broker name:1883"));

TEST(PahoClient, AnUnusableUriIsRefusedWithTheReason) {
  ConnectOptions o;
  o.uri = "tcp://127.0.0.1:0";

  try {
    (void)make_paho_client(o);
    FAIL() << "accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "broker URI \"tcp://127.0.0.1:0\": expected a port from 1 to 65535");
  }
}

class PahoUsableUri : public ::testing::TestWithParam<std::string> {};

TEST_P(PahoUsableUri, IsAccepted) {
  ConnectOptions o;
  o.uri = GetParam();

  EXPECT_NO_THROW((void)make_paho_client(o));
}

INSTANTIATE_TEST_SUITE_P(GoodUris, PahoUsableUri,
                         ::testing::Values("tcp://127.0.0.1:1883", "mqtt://localhost:1883",
                                           "ssl://broker.example:8883",
                                           "mqtts://broker.example:8883", "TCP://127.0.0.1:1",
                                           "tcp://[::1]:1883", "ws://broker.example:9001/mqtt",
                                           "WSS://broker.example/mqtt"));

TEST(PahoClient, TlsSettingsWithAPlaintextUriAreRefused) {
  ConnectOptions o;
  o.uri = "tcp://127.0.0.1:1883";
  o.tls = Tls{"/etc/ssl/certs/ca-certificates.crt", "", ""};

  EXPECT_THROW((void)make_paho_client(o), std::invalid_argument);
}

TEST(PahoClient, BeforeStartQos1IsKeptAndQos0IsDropped) {
  ConnectOptions o;
  o.uri = "tcp://127.0.0.1:1";
  auto sut = make_paho_client(o);

  const bool reliable = sut->publish("twin/alert", "a", 1, false);
  const bool best_effort = sut->publish("twin/state", "s", 0, false);

  EXPECT_TRUE(reliable);
  EXPECT_FALSE(best_effort);
  EXPECT_EQ(sut->stats().outbox, 1U);
  EXPECT_EQ(sut->stats().dropped, 1U);
  EXPECT_FALSE(sut->connected());
}

TEST(PahoClient, OutboxOverflowDropsTheOldest) {
  ConnectOptions o;
  o.uri = "tcp://127.0.0.1:1";
  o.max_outbox = 3;
  auto sut = make_paho_client(o);

  for (int i = 0; i < 5; ++i) sut->publish("t", std::to_string(i), 1, false);

  EXPECT_EQ(sut->stats().outbox, 3U);
  EXPECT_EQ(sut->stats().dropped, 2U);
}

TEST(PahoClient, StopOfAnUnstartedClientReportsTheUndeliveredOutbox) {
  ConnectOptions o;
  o.uri = "tcp://127.0.0.1:1";
  auto sut = make_paho_client(o);
  sut->publish("t", "x", 1, false);

  const bool drained = sut->stop(std::nullopt, milliseconds(0));

  EXPECT_FALSE(drained);
  EXPECT_FALSE(sut->publish("t", "y", 1, false));
}

TEST(PahoClient, InvalidTopicOrQosIsDroppedWithoutThrowing) {
  ConnectOptions o;
  o.uri = "tcp://127.0.0.1:1";
  auto sut = make_paho_client(o);

  EXPECT_FALSE(sut->publish("a/+", "x", 1, false));
  EXPECT_FALSE(sut->publish("a", "x", 7, false));
  EXPECT_EQ(sut->stats().dropped, 2U);
  EXPECT_EQ(sut->stats().outbox, 0U);
}

TEST(PahoClient, InvalidFilterIsRefusedWithInvalidArgument) {
  ConnectOptions o;
  o.uri = "tcp://127.0.0.1:1";
  auto sut = make_paho_client(o);

  EXPECT_THROW(sut->subscribe({"a/#/b"}, 1), std::invalid_argument);
  EXPECT_THROW(sut->subscribe({"a"}, 3), std::invalid_argument);
}

TEST(PahoClient, UnreachableBrokerIsRetriedAndReportedWithItsCause) {
  ConnectOptions o;
  o.uri = "tcp://127.0.0.1:1";  // nothing listens on port 1
  o.min_retry = milliseconds(20);
  o.max_retry = milliseconds(40);
  o.password = "hunter2-secret";
  testing::RecordingHandler handler;
  auto sut = make_paho_client(o);

  sut->start(handler);
  const bool retried =
      handler.wait_for_count(testing::Event::Kind::disconnected, 3, milliseconds(5000));
  sut->stop(std::nullopt, milliseconds(0));

  ASSERT_TRUE(retried);
  const std::string cause = handler.events().front().text;
  EXPECT_NE(cause.find("tcp://127.0.0.1:1"), std::string::npos) << cause;
  EXPECT_EQ(cause.find("hunter2"), std::string::npos) << cause;
  EXPECT_GE(sut->stats().connect_failures, 3U);
  EXPECT_EQ(sut->stats().connects, 0U);
}

}  // namespace
}  // namespace twind::mqtt
