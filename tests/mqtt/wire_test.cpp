// The MQTT 3.1.1 codec of the native client: packets as the specification lays them out
// (byte by byte for the small ones), read back from a buffer that holds several, one cut short,
// or garbage.
#include "twind/mqtt/internal/wire.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace twind::mqtt::wire {
namespace {

std::string bytes(std::initializer_list<int> b) {
  std::string s;
  for (const int x : b) s.push_back(static_cast<char>(x));
  return s;
}

TEST(Wire, ConnectIsLaidOutAsTheSpecificationSays) {
  std::string out;
  ConnectFields c;
  c.client_id = "tw";
  c.keepalive_s = 60;
  c.clean_session = true;
  c.username = "u";
  c.password = "p";
  c.will = WillFields{"s", "x", 1, true};
  append_connect(out, c);
  const std::string want = bytes({0x10, 26, 0, 4, 'M', 'Q', 'T', 'T', 4,
                                  // user, password, will retain, will QoS 1, will, clean session
                                  0x80 | 0x40 | 0x20 | 0x08 | 0x04 | 0x02, 0, 60, 0, 2, 't', 'w', 0,
                                  1, 's', 0, 1, 'x', 0, 1, 'u', 0, 1, 'p'});
  EXPECT_EQ(out, want);
}

TEST(Wire, ConnectWithoutCredentialsOrWillHasNeitherFlag) {
  std::string out;
  ConnectFields c;
  c.client_id = "a";
  c.keepalive_s = 5;
  c.clean_session = false;
  append_connect(out, c);
  EXPECT_EQ(out, bytes({0x10, 13, 0, 4, 'M', 'Q', 'T', 'T', 4, 0x00, 0, 5, 0, 1, 'a'}));
}

TEST(Wire, PublishRoundTripsAtEachQos) {
  for (int qos = 0; qos <= 2; ++qos) {
    std::string out;
    append_publish(out, "a/b", "payload", qos, qos == 1, qos == 2, 513);
    EXPECT_EQ(out.size(), publish_size(3, 7, qos));
    Packet p;
    std::size_t size = 0;
    ASSERT_EQ(next_packet(out, p, size), Parse::ok);
    EXPECT_EQ(size, out.size());
    EXPECT_EQ(p.type, Type::publish);
    Publish m;
    ASSERT_TRUE(read_publish(p, m));
    EXPECT_EQ(m.topic, "a/b");
    EXPECT_EQ(m.payload, "payload");
    EXPECT_EQ(m.qos, qos);
    EXPECT_EQ(m.retained, qos == 1);
    EXPECT_EQ(m.dup, qos == 2);
    EXPECT_EQ(m.id, qos > 0 ? 513 : 0);
  }
}

TEST(Wire, RemainingLengthTakesMoreBytesPast127) {
  for (const std::size_t payload : {124U, 125U, 16'380U, 16'381U, 2'097'148U, 2'097'149U}) {
    std::string out;
    append_publish(out, "t", std::string(payload, 'x'), 0, false, false, 0);
    // 2 + 1 bytes of topic: the remaining length is payload + 3.
    const std::size_t remaining = payload + 3;
    const std::size_t length_bytes = remaining < 128         ? 1
                                     : remaining < 16'384    ? 2
                                     : remaining < 2'097'152 ? 3
                                                             : 4;
    EXPECT_EQ(out.size(), 1 + length_bytes + remaining) << payload;
    EXPECT_EQ(out.size(), publish_size(1, payload, 0));
    Packet p;
    std::size_t size = 0;
    ASSERT_EQ(next_packet(out, p, size), Parse::ok) << payload;
    EXPECT_EQ(p.body.size(), remaining);
  }
}

TEST(Wire, SubscribeAcksAndControlPackets) {
  std::string out;
  append_subscribe(out, 7, {{"a/+", 1}, {"#", 0}});
  EXPECT_EQ(out, bytes({0x82, 12, 0, 7, 0, 3, 'a', '/', '+', 1, 0, 1, '#', 0}));
  out.clear();
  // MQTT 3.1.1 section 3.10: fixed header 0xA2, packet id, then the filters without a QoS.
  append_unsubscribe(out, 258, {"a/+", "#"});
  EXPECT_EQ(out, bytes({0xA2, 10, 1, 2, 0, 3, 'a', '/', '+', 0, 1, '#'}));
  out.clear();
  append_ack(out, Type::puback, 258);
  append_ack(out, Type::pubrel, 1);
  append_pingreq(out);
  append_disconnect(out);
  EXPECT_EQ(out, bytes({0x40, 2, 1, 2, 0x62, 2, 0, 1, 0xC0, 0, 0xE0, 0}));
}

TEST(Wire, SeveralPacketsInOneBufferAreReadInTurnAndACutOneWaits) {
  std::string in = bytes({0x20, 2, 0, 0});  // CONNACK, accepted
  in += bytes({0x90, 4, 0, 1, 1, 0x80});    // SUBACK 1: QoS 1 granted, then refused
  append_publish(in, "x", "1", 1, false, false, 9);
  in += bytes({0xD0, 0});         // PINGRESP
  in += bytes({0x30, 10, 0, 1});  // a PUBLISH cut short

  std::string_view rest = in;
  Packet p;
  std::size_t size = 0;
  ASSERT_EQ(next_packet(rest, p, size), Parse::ok);
  bool session = true;
  int rc = -1;
  ASSERT_TRUE(read_connack(p, session, rc));
  EXPECT_FALSE(session);
  EXPECT_EQ(rc, 0);
  rest.remove_prefix(size);
  ASSERT_EQ(next_packet(rest, p, size), Parse::ok);
  std::uint16_t id = 0;
  std::string_view codes;
  ASSERT_TRUE(read_suback(p, id, codes));
  EXPECT_EQ(id, 1);
  EXPECT_EQ(codes, bytes({1, 0x80}));
  rest.remove_prefix(size);
  ASSERT_EQ(next_packet(rest, p, size), Parse::ok);
  Publish m;
  ASSERT_TRUE(read_publish(p, m));
  EXPECT_EQ(m.id, 9);
  rest.remove_prefix(size);
  ASSERT_EQ(next_packet(rest, p, size), Parse::ok);
  EXPECT_EQ(p.type, Type::pingresp);
  rest.remove_prefix(size);
  EXPECT_EQ(next_packet(rest, p, size), Parse::incomplete);
  EXPECT_EQ(size, 12U);  // the whole packet's length, known from its header
}

TEST(Wire, MalformedInputIsRefusedNotRead) {
  Packet p;
  std::size_t size = 0;
  EXPECT_EQ(next_packet(bytes({0x00, 0}), p, size), Parse::malformed);  // type 0
  EXPECT_EQ(next_packet(bytes({0xF0, 0}), p, size), Parse::malformed);  // type 15
  EXPECT_EQ(next_packet(bytes({0x30, 0xFF, 0xFF, 0xFF, 0xFF, 1}), p, size), Parse::malformed);
  EXPECT_EQ(next_packet(bytes({0x30}), p, size), Parse::incomplete);
  EXPECT_EQ(next_packet(bytes({0x30, 0x80}), p, size), Parse::incomplete);

  // A parsed packet views the bytes it was read from: each input outlives its reading.
  Publish m;
  const std::string qos3 = bytes({0x36, 3, 0, 1, 'a'});
  ASSERT_EQ(next_packet(qos3, p, size), Parse::ok);
  EXPECT_FALSE(read_publish(p, m));
  const std::string long_topic = bytes({0x30, 3, 0, 9, 'a'});
  ASSERT_EQ(next_packet(long_topic, p, size), Parse::ok);
  EXPECT_FALSE(read_publish(p, m));
  const std::string qos1_without_id = bytes({0x32, 3, 0, 1, 'a'});
  ASSERT_EQ(next_packet(qos1_without_id, p, size), Parse::ok);
  EXPECT_FALSE(read_publish(p, m));
  std::uint16_t id = 0;
  const std::string short_puback = bytes({0x40, 1, 0});
  ASSERT_EQ(next_packet(short_puback, p, size), Parse::ok);
  EXPECT_FALSE(read_id(p, id));
}

}  // namespace
}  // namespace twind::mqtt::wire
