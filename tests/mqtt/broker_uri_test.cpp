// The broker URI as every part of twind reads it: `twind check` (its refusals are the `expected`
// half of the configuration's messages, tests/config/loader_test.cpp), the Paho adapter, the TLS
// probe's host and the TCP_NODELAY fix's port.
#include "twind/mqtt/broker_uri.hpp"

#include <gtest/gtest.h>

#include <ostream>
#include <string>

namespace twind::mqtt {
namespace {

struct GoodUri {
  std::string text;
  std::string scheme;
  std::string host;
  int port;
  std::string path;
  bool tls;
  std::string paho_uri;
};

std::ostream& operator<<(std::ostream& os, const GoodUri& g) {
  return os << g.text;
}

class BrokerUriGood : public ::testing::TestWithParam<GoodUri> {};

TEST_P(BrokerUriGood, IsReadIntoItsParts) {
  const GoodUri& want = GetParam();

  const ParsedBrokerUri sut = BrokerUri::parse(want.text);

  ASSERT_TRUE(sut.uri.has_value()) << "refused, expected " << sut.expected;
  EXPECT_EQ(sut.expected, "");
  EXPECT_EQ(sut.uri->scheme_name(), want.scheme);
  EXPECT_EQ(sut.uri->host(), want.host);
  EXPECT_EQ(sut.uri->port(), want.port);
  EXPECT_EQ(sut.uri->path(), want.path);
  EXPECT_EQ(sut.uri->tls(), want.tls);
  EXPECT_EQ(sut.uri->paho_uri(), want.paho_uri);
}

INSTANTIATE_TEST_SUITE_P(
    Table, BrokerUriGood,
    ::testing::Values(
        GoodUri{"tcp://127.0.0.1:1883", "tcp", "127.0.0.1", 1883, "", false,
                "tcp://127.0.0.1:1883"},
        // A port given wins over the scheme's default.
        GoodUri{"tcp://127.0.0.1:18830", "tcp", "127.0.0.1", 18830, "", false,
                "tcp://127.0.0.1:18830"},
        GoodUri{"ssl://[::1]:8884", "ssl", "::1", 8884, "", true, "ssl://[::1]:8884"},
        GoodUri{"ws://broker:9001/mqtt", "ws", "broker", 9001, "/mqtt", false,
                "ws://broker:9001/mqtt"},
        // Each scheme's default port.
        GoodUri{"tcp://broker", "tcp", "broker", 1883, "", false, "tcp://broker"},
        GoodUri{"mqtt://localhost", "mqtt", "localhost", 1883, "", false, "mqtt://localhost"},
        GoodUri{"ssl://broker.example", "ssl", "broker.example", 8883, "", true,
                "ssl://broker.example"},
        GoodUri{"mqtts://broker.plant.example", "mqtts", "broker.plant.example", 8883, "", true,
                "mqtts://broker.plant.example"},
        GoodUri{"ws://broker", "ws", "broker", 80, "", false, "ws://broker"},
        GoodUri{"wss://[::1]/mqtt", "wss", "::1", 443, "/mqtt", true, "wss://[::1]/mqtt"},
        GoodUri{"wss://broker.example:443/mqtt", "wss", "broker.example", 443, "/mqtt", true,
                "wss://broker.example:443/mqtt"},
        GoodUri{"tcp://[::1]", "tcp", "::1", 1883, "", false, "tcp://[::1]"},
        GoodUri{"ws://broker/", "ws", "broker", 80, "/", false, "ws://broker/"},
        // The port's bounds, and leading zeros (decimal, as Paho reads them).
        GoodUri{"tcp://broker:1", "tcp", "broker", 1, "", false, "tcp://broker:1"},
        GoodUri{"tcp://broker:65535", "tcp", "broker", 65535, "", false, "tcp://broker:65535"},
        GoodUri{"tcp://broker:01883", "tcp", "broker", 1883, "", false, "tcp://broker:01883"},
        // Schemes in any case; Paho is given the lower-case one. The scheme decides the default
        // port and TLS whatever its case.
        GoodUri{"TCP://127.0.0.1:1", "tcp", "127.0.0.1", 1, "", false, "tcp://127.0.0.1:1"},
        GoodUri{"Mqtts://Broker.Example", "mqtts", "Broker.Example", 8883, "", true,
                "mqtts://Broker.Example"},
        GoodUri{"WSS://broker/MQTT", "wss", "broker", 443, "/MQTT", true, "wss://broker/MQTT"}));

struct BadUri {
  std::string text;
  std::string expected;
};

std::ostream& operator<<(std::ostream& os, const BadUri& b) {
  return os << b.text;
}

class BrokerUriBad : public ::testing::TestWithParam<BadUri> {};

TEST_P(BrokerUriBad, IsRefusedWithWhatWasExpected) {
  const BadUri& bad = GetParam();

  const ParsedBrokerUri sut = BrokerUri::parse(bad.text);

  EXPECT_FALSE(sut.uri.has_value()) << "accepted as " << sut.uri->paho_uri();
  EXPECT_EQ(sut.expected, bad.expected);
}

const std::string kNoScheme =
    "a URI like tcp://127.0.0.1:1883 (scheme tcp, ssl, mqtt, mqtts, ws or wss)";
const std::string kUnknownScheme =
    "a URI with the scheme tcp://, ssl://, mqtt://, mqtts://, ws:// or wss://";
const std::string kBadPort = "a port from 1 to 65535";

INSTANTIATE_TEST_SUITE_P(
    Table, BrokerUriBad,
    ::testing::Values(
        BadUri{"", kNoScheme}, BadUri{"broker:1883", kNoScheme},
        BadUri{"127.0.0.1:1883", kNoScheme}, BadUri{"tcp:/broker", kNoScheme},
        BadUri{"://127.0.0.1:1883", kUnknownScheme},
        BadUri{"http://127.0.0.1:1883", kUnknownScheme},
        BadUri{"udp://127.0.0.1:1883", kUnknownScheme},
        BadUri{" tcp://127.0.0.1:1883", kUnknownScheme},
        BadUri{"tcp://", "a host name or address after tcp://"},
        BadUri{"tcp://:1883", "a host name or address after tcp://"},
        BadUri{"SSL://:8883", "a host name or address after SSL://"},
        BadUri{"tcp://[]:1883", "a host name or address after tcp://"},
        BadUri{"ws:///mqtt", "a host name or address after ws://"},
        BadUri{"tcp://broker name", "a URI without spaces"},
        BadUri{"tcp://broker\n", "a URI without spaces"},
        BadUri{std::string("tcp://broker\0evil", 17), "a URI without control characters"},
        BadUri{"tcp://broker\x7f", "a URI without control characters"},
        BadUri{"tcp://broker:1883/mqtt",
               "no path after the host (only ws:// and wss:// URIs have one)"},
        BadUri{"mqtts://broker/", "no path after the host (only ws:// and wss:// URIs have one)"},
        BadUri{"tcp:///", "no path after the host (only ws:// and wss:// URIs have one)"},
        BadUri{"tcp://[::1:1883", "a closing ] after the IPv6 address"},
        BadUri{"tcp://[::1]1883", "nothing but :port after the IPv6 address"},
        BadUri{"tcp://::1:1883", "an IPv6 address in brackets, like tcp://[::1]:1883"},
        BadUri{"tcp://broker:0", kBadPort}, BadUri{"tcp://broker:99999", kBadPort},
        BadUri{"tcp://broker:65536", kBadPort}, BadUri{"tcp://broker:", kBadPort},
        BadUri{"tcp://[::1]:", kBadPort}, BadUri{"tcp://broker:12abc", kBadPort},
        BadUri{"tcp://broker:+1883", kBadPort}, BadUri{"tcp://broker:-1", kBadPort},
        BadUri{"tcp://broker:18446744073709551617", kBadPort}));

}  // namespace
}  // namespace twind::mqtt
