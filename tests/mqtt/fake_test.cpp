#include "twind/mqtt/fake.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <thread>

#include "recording_handler.hpp"

namespace twind::mqtt {
namespace {

using std::chrono::milliseconds;
using testing::Event;
using testing::RecordingHandler;

ConnectOptions options_with_will(std::string id) {
  ConnectOptions o;
  o.client_id = std::move(id);
  o.will = Will{"twin/status", "offline", 1, true};
  return o;
}

std::vector<std::string> payloads_of(const std::vector<FakeMessage>& messages) {
  std::vector<std::string> out;
  for (const FakeMessage& m : messages) out.push_back(m.payload);
  return out;
}

TEST(FakeBroker, PublishReachesOnlySubscribersWhoseFilterMatches) {
  FakeBroker broker;
  RecordingHandler plant_u;
  RecordingHandler all_y;
  auto a = broker.make_client();
  auto b = broker.make_client();
  a->subscribe({"plant/+/u"}, 0);
  b->subscribe({"plant/#"}, 0);
  a->start(plant_u);
  b->start(all_y);
  auto sut = broker.make_client();
  RecordingHandler publisher;
  sut->start(publisher);

  EXPECT_TRUE(sut->publish("plant/p1/u", "1", 0, false));
  EXPECT_TRUE(sut->publish("plant/p1/y", "2", 1, false));

  EXPECT_EQ(plant_u.payloads("plant/p1/u"), std::vector<std::string>{"1"});
  EXPECT_TRUE(plant_u.payloads("plant/p1/y").empty());
  EXPECT_EQ(all_y.payloads("plant/p1/u"), std::vector<std::string>{"1"});
  EXPECT_EQ(all_y.payloads("plant/p1/y"), std::vector<std::string>{"2"});
  EXPECT_TRUE(publisher.payloads("plant/p1/u").empty());
  EXPECT_EQ(sut->stats().published, 2U);
  EXPECT_EQ(sut->stats().delivered, 1U);
  EXPECT_EQ(all_y.count(Event::Kind::message), 2U);
  EXPECT_EQ(b->stats().received, 2U);
}

TEST(FakeBroker, OverlappingFiltersDeliverOneCopy) {
  FakeBroker broker;
  RecordingHandler handler;
  auto sut = broker.make_client();
  sut->subscribe({"a/#", "a/+", "a/b"}, 1);
  sut->start(handler);

  broker.publish("a/b", "x");

  EXPECT_EQ(handler.payloads("a/b").size(), 1U);
}

TEST(FakeBroker, StartWhileUpConnectsAndAnnouncesIt) {
  FakeBroker broker;
  RecordingHandler handler;
  auto sut = broker.make_client();

  sut->start(handler);

  EXPECT_TRUE(sut->connected());
  ASSERT_EQ(handler.events().size(), 1U);
  EXPECT_EQ(handler.events()[0].kind, Event::Kind::connected);
  EXPECT_EQ(sut->stats().connects, 1U);
  EXPECT_EQ(broker.connected_clients(), 1U);
}

TEST(FakeBroker, RetainedMessageReachesALaterSubscriber) {
  FakeBroker broker;
  ASSERT_TRUE(broker.publish("twin/status", "online", 1, true));
  RecordingHandler handler;
  auto sut = broker.make_client();
  sut->start(handler);

  sut->subscribe({"twin/#"}, 1);

  EXPECT_EQ(handler.payloads("twin/status"), std::vector<std::string>{"online"});
  ASSERT_TRUE(broker.retained("twin/status").has_value());
  EXPECT_EQ(broker.retained("twin/status")->payload, "online");
}

TEST(FakeBroker, EmptyRetainedPayloadClearsTheRetainedMessage) {
  FakeBroker broker;
  broker.publish("twin/status", "online", 1, true);

  broker.publish("twin/status", "", 1, true);

  EXPECT_FALSE(broker.retained("twin/status").has_value());
}

TEST(FakeBroker, RestartLosesRetainedMessagesUnlessKept) {
  FakeBroker volatile_broker;
  FakeBroker persistent_broker(true);
  for (FakeBroker* b : {&volatile_broker, &persistent_broker}) {
    b->publish("twin/status", "online", 1, true);
    b->take_down();
    b->bring_up();
  }

  EXPECT_FALSE(volatile_broker.retained("twin/status").has_value());
  EXPECT_TRUE(persistent_broker.retained("twin/status").has_value());
}

TEST(FakeBroker, HeldAcknowledgementsKeepQos1MessagesInTheOutboxButDeliverThem) {
  FakeBroker broker;
  RecordingHandler subscriber;
  auto sub = broker.make_client();
  sub->subscribe({"twin/#"}, 1);
  sub->start(subscriber);
  RecordingHandler handler;
  auto sut = broker.make_client();
  sut->start(handler);

  broker.hold_acks();
  EXPECT_TRUE(sut->publish("twin/alert", "1", 1, false));
  EXPECT_TRUE(sut->publish("twin/alert", "2", 1, false));
  EXPECT_TRUE(sut->publish("twin/state", "3", 0, false));
  EXPECT_EQ(subscriber.payloads("twin/alert"), (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(sut->stats().outbox, 2U);
  EXPECT_EQ(sut->stats().delivered, 0U);

  broker.release_acks();  // those two; the next is held again
  EXPECT_EQ(sut->stats().outbox, 0U);
  EXPECT_EQ(sut->stats().delivered, 2U);
  EXPECT_TRUE(sut->publish("twin/alert", "4", 1, false));
  EXPECT_EQ(sut->stats().outbox, 1U);

  broker.release_acks(true);
  EXPECT_TRUE(sut->publish("twin/alert", "5", 1, false));
  EXPECT_EQ(sut->stats().outbox, 0U);
  EXPECT_EQ(sut->stats().delivered, 4U);
}

TEST(FakeBroker, Qos0WhileDownIsDroppedAndCounted) {
  FakeBroker broker;
  RecordingHandler handler;
  auto sut = broker.make_client();
  sut->start(handler);
  broker.take_down();

  const bool accepted = sut->publish("twin/state", "{}", 0, false);

  EXPECT_FALSE(accepted);
  EXPECT_EQ(sut->stats().dropped, 1U);
  EXPECT_FALSE(sut->connected());
  ASSERT_EQ(handler.count(Event::Kind::disconnected), 1U);
  EXPECT_EQ(handler.events().back().text, "broker down");
}

TEST(FakeBroker, Qos1WhileDownIsDeliveredInOrderOnReconnectBeforeOnConnected) {
  FakeBroker broker;
  RecordingHandler handler;
  auto sut = broker.make_client();
  sut->start(handler);
  broker.take_down();
  ASSERT_TRUE(sut->publish("twin/alert", "a1", 1, false));
  ASSERT_TRUE(sut->publish("twin/alert", "a2", 1, false));
  ASSERT_TRUE(sut->publish("twin/alert", "a3", 1, false));
  const std::size_t outbox_while_down = sut->stats().outbox;

  broker.bring_up();

  EXPECT_EQ(outbox_while_down, 3U);
  EXPECT_EQ(payloads_of(broker.messages_on("twin/alert")),
            (std::vector<std::string>{"a1", "a2", "a3"}));
  EXPECT_EQ(sut->stats().outbox, 0U);
  EXPECT_EQ(sut->stats().delivered, 3U);
  EXPECT_EQ(sut->stats().connects, 2U);
  const auto events = handler.events();
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().kind, Event::Kind::connected);
}

TEST(FakeBroker, OnConnectedFollowsTheOutboxFlush) {
  FakeBroker broker;
  std::size_t messages_seen_at_connect = 0;
  struct Probe final : Handler {
    FakeBroker* broker;
    std::size_t* seen;
    void on_connected() override { *seen = broker->messages_on("x").size(); }
    void on_disconnected(const std::string&) override {}
    void on_message(std::string_view, std::string_view) override {}
  } probe;
  probe.broker = &broker;
  probe.seen = &messages_seen_at_connect;
  broker.take_down();
  auto sut = broker.make_client();
  sut->start(probe);
  sut->publish("x", "1", 1, false);
  sut->publish("x", "2", 1, false);

  broker.bring_up();

  EXPECT_EQ(messages_seen_at_connect, 2U);
}

TEST(FakeBroker, OutboxOverflowDropsTheOldestAndCountsIt) {
  FakeBroker broker;
  broker.take_down();
  ConnectOptions o;
  o.max_outbox = 2;
  auto sut = broker.make_client(o);
  RecordingHandler handler;
  sut->start(handler);

  sut->publish("t", "1", 1, false);
  sut->publish("t", "2", 1, false);
  sut->publish("t", "3", 1, false);
  broker.bring_up();

  EXPECT_EQ(payloads_of(broker.messages_on("t")), (std::vector<std::string>{"2", "3"}));
  EXPECT_EQ(sut->stats().dropped, 1U);
}

TEST(FakeBroker, SubscriptionsSurviveARestart) {
  FakeBroker broker;
  RecordingHandler handler;
  auto sut = broker.make_client();
  sut->subscribe({"cmd/#"}, 1);
  sut->start(handler);
  broker.take_down();
  broker.bring_up();

  broker.publish("cmd/reset", "1");

  EXPECT_EQ(handler.payloads("cmd/reset"), std::vector<std::string>{"1"});
  EXPECT_EQ(handler.count(Event::Kind::connected), 2U);
}

TEST(FakeBroker, UnsubscribedFilterIsNoLongerDeliveredNorResubscribed) {
  FakeBroker broker;
  RecordingHandler handler;
  auto sut = broker.make_client();
  sut->subscribe({"cmd/#", "cfg/#"}, 1);
  sut->start(handler);
  broker.publish("cmd/a", "before");

  sut->unsubscribe({"cmd/#", "never/subscribed"});
  broker.publish("cmd/a", "after");
  broker.publish("cfg/a", "kept");
  broker.take_down();
  broker.bring_up();
  broker.publish("cmd/a", "after-restart");
  broker.publish("cfg/a", "kept-after-restart");

  EXPECT_EQ(handler.payloads("cmd/a"), std::vector<std::string>{"before"});
  EXPECT_EQ(handler.payloads("cfg/a"), (std::vector<std::string>{"kept", "kept-after-restart"}));
  EXPECT_EQ(sut->filters(), (std::vector<std::pair<std::string, int>>{{"cfg/#", 1}}));
  EXPECT_THROW(sut->unsubscribe({"cfg/#", "bad/#/filter"}), std::invalid_argument);
  EXPECT_EQ(sut->filters().size(), 1U) << "an invalid filter removes none";

  sut->subscribe({"cmd/#"}, 0);
  broker.publish("cmd/a", "again");
  EXPECT_EQ(handler.payloads("cmd/a"), (std::vector<std::string>{"before", "again"}));
}

TEST(FakeBroker, ConnectedUriIsTheOptionsUriWhileConnected) {
  FakeBroker broker;
  RecordingHandler handler;
  ConnectOptions o;
  o.uri = "tcp://127.0.0.1:1884";
  auto sut = broker.make_client(o);
  EXPECT_EQ(sut->connected_uri(), "");
  sut->start(handler);
  EXPECT_EQ(sut->connected_uri(), "tcp://127.0.0.1:1884");
  broker.take_down();
  EXPECT_EQ(sut->connected_uri(), "");
}

TEST(FakeBroker, StartWhileDownFailsThenConnectsWhenTheBrokerComesUp) {
  FakeBroker broker;
  broker.take_down();
  RecordingHandler handler;
  auto sut = broker.make_client();

  sut->start(handler);
  const bool connected_while_down = sut->connected();
  broker.bring_up();

  EXPECT_FALSE(connected_while_down);
  EXPECT_TRUE(sut->connected());
  EXPECT_EQ(sut->stats().connect_failures, 1U);
  EXPECT_EQ(sut->stats().connects, 1U);
}

TEST(FakeBroker, RefusedConnectionReportsItsCause) {
  FakeBroker broker;
  broker.refuse_connections("bad user name or password");
  RecordingHandler handler;
  auto sut = broker.make_client();

  sut->start(handler);

  ASSERT_EQ(handler.count(Event::Kind::disconnected), 1U);
  EXPECT_NE(handler.events()[0].text.find("bad user name or password"), std::string::npos);
  broker.accept_connections();
  EXPECT_TRUE(sut->connected());
}

TEST(FakeBroker, KilledClientHasItsWillPublished) {
  FakeBroker broker;
  RecordingHandler handler;
  auto sut = broker.make_client(options_with_will("daemon"));
  sut->start(handler);

  sut->kill();

  const auto will = broker.messages_on("twin/status");
  ASSERT_EQ(will.size(), 1U);
  EXPECT_EQ(will[0].payload, "offline");
  EXPECT_EQ(will[0].from, "daemon");
  EXPECT_TRUE(will[0].retained);
  EXPECT_EQ(broker.retained("twin/status")->payload, "offline");
  EXPECT_FALSE(sut->connected());
  EXPECT_FALSE(sut->publish("x", "y", 0, false));
  EXPECT_EQ(handler.count(Event::Kind::disconnected), 0U);
}

TEST(FakeBroker, KilledClientStaysDeadAfterARestart) {
  FakeBroker broker;
  RecordingHandler handler;
  auto sut = broker.make_client();
  sut->start(handler);
  sut->kill();

  broker.take_down();
  broker.bring_up();

  EXPECT_FALSE(sut->connected());
  EXPECT_EQ(sut->stats().connects, 1U);
}

TEST(FakeBroker, StopPublishesLastAndNotTheWill) {
  FakeBroker broker;
  RecordingHandler handler;
  auto sut = broker.make_client(options_with_will("daemon"));
  sut->start(handler);

  const bool drained = sut->stop(Will{"twin/status", "stopped", 1, true}, milliseconds(100));

  EXPECT_TRUE(drained);
  EXPECT_EQ(payloads_of(broker.messages_on("twin/status")), std::vector<std::string>{"stopped"});
  EXPECT_FALSE(sut->connected());
  EXPECT_FALSE(sut->publish("x", "y", 1, false));
  EXPECT_TRUE(sut->stop(std::nullopt, milliseconds(0)));  // idempotent
}

TEST(FakeBroker, DestroyingAConnectedClientPublishesNoWill) {
  FakeBroker broker;
  RecordingHandler handler;
  auto sut = broker.make_client(options_with_will("daemon"));
  sut->start(handler);

  sut.reset();

  EXPECT_TRUE(broker.messages_on("twin/status").empty());
  EXPECT_EQ(broker.connected_clients(), 0U);
}

TEST(FakeBroker, StopWhileDownTimesOutWithTheOutboxUndelivered) {
  FakeBroker broker;
  RecordingHandler handler;
  auto sut = broker.make_client();
  sut->start(handler);
  broker.take_down();

  const bool drained = sut->stop(Will{"twin/status", "stopped", 1, true}, milliseconds(20));

  EXPECT_FALSE(drained);
  EXPECT_EQ(sut->stats().outbox, 1U);
}

TEST(FakeBroker, StopWaitsForABrokerThatComesBackInTime) {
  FakeBroker broker;
  RecordingHandler handler;
  auto sut = broker.make_client();
  sut->start(handler);
  broker.take_down();
  std::thread revive([&] {
    std::this_thread::sleep_for(milliseconds(50));
    broker.bring_up();
  });

  const bool drained = sut->stop(Will{"twin/status", "stopped", 1, true}, milliseconds(5000));
  revive.join();

  EXPECT_TRUE(drained);
  EXPECT_EQ(payloads_of(broker.messages_on("twin/status")), std::vector<std::string>{"stopped"});
}

TEST(FakeBroker, HandlerMayPublishFromOnMessage) {
  FakeBroker broker;
  RecordingHandler echo_handler;
  auto echo = broker.make_client();
  echo->subscribe({"ping"}, 0);
  echo->start(echo_handler);
  echo_handler.on_message_hook = [&](std::string_view, std::string_view payload) {
    echo->publish("pong", payload, 0, false);
  };
  RecordingHandler handler;
  auto sut = broker.make_client();
  sut->subscribe({"pong"}, 0);
  sut->start(handler);

  sut->publish("ping", "42", 0, false);

  EXPECT_EQ(handler.payloads("pong"), std::vector<std::string>{"42"});
}

TEST(FakeBroker, ClientOutlivingItsBrokerStaysUsable) {
  auto broker = std::make_unique<FakeBroker>();
  RecordingHandler handler;
  auto sut = broker->make_client();
  sut->start(handler);

  broker.reset();

  EXPECT_TRUE(sut->publish("a", "b", 0, false));
  EXPECT_TRUE(sut->stop(std::nullopt, milliseconds(0)));
}

TEST(FakeBroker, BrokerPublishIsRefusedWhileDown) {
  FakeBroker broker;
  broker.take_down();

  EXPECT_FALSE(broker.publish("a", "b"));
  EXPECT_TRUE(broker.messages().empty());
}

class FakeClientBadPublish : public ::testing::TestWithParam<std::pair<std::string, int>> {};

TEST_P(FakeClientBadPublish, IsDroppedAndCounted) {
  FakeBroker broker;
  RecordingHandler handler;
  auto sut = broker.make_client();
  sut->start(handler);

  const bool accepted = sut->publish(GetParam().first, "x", GetParam().second, false);

  EXPECT_FALSE(accepted);
  EXPECT_EQ(sut->stats().dropped, 1U);
  EXPECT_TRUE(broker.messages().empty());
}

INSTANTIATE_TEST_SUITE_P(BadTopicOrQos, FakeClientBadPublish,
                         ::testing::Values(std::pair<std::string, int>{"", 0},
                                           std::pair<std::string, int>{"a/+", 0},
                                           std::pair<std::string, int>{"a/#", 1},
                                           std::pair<std::string, int>{"a", -1},
                                           std::pair<std::string, int>{"a", 3}));

class FakeClientBadSubscribe
    : public ::testing::TestWithParam<std::pair<std::vector<std::string>, int>> {};

TEST_P(FakeClientBadSubscribe, Throws) {
  FakeBroker broker;
  auto sut = broker.make_client();

  EXPECT_THROW(sut->subscribe(GetParam().first, GetParam().second), std::invalid_argument);
  EXPECT_TRUE(sut->filters().empty());
}

INSTANTIATE_TEST_SUITE_P(BadFilterOrQos, FakeClientBadSubscribe,
                         ::testing::Values(std::pair<std::vector<std::string>, int>{{"a/#/b"}, 0},
                                           std::pair<std::vector<std::string>, int>{{"ok", "a+"},
                                                                                    0},
                                           std::pair<std::vector<std::string>, int>{{""}, 0},
                                           std::pair<std::vector<std::string>, int>{{"ok"}, 3}));

}  // namespace
}  // namespace twind::mqtt
