// The Paho adapter against a real Mosquitto on a free loopback port, observed by an independent
// Paho peer (support/subscriber.hpp). Every wait is bounded; each test takes a few seconds.
#include <gtest/gtest.h>

#include <csignal>
#include <string>
#include <thread>

#include "recording_handler.hpp"
#include "support/mosquitto.hpp"
#include "support/pki.hpp"
#include "support/process.hpp"
#include "support/subscriber.hpp"
#include "twind/mqtt/client.hpp"

namespace twind::mqtt {
namespace {

using namespace std::chrono_literals;
using testing::Event;
using testing::RecordingHandler;
using twind::testing::Mosquitto;
using twind::testing::MosquittoOptions;
using twind::testing::Process;
using twind::testing::ProcessOptions;
using twind::testing::Received;
using twind::testing::Subscriber;

ConnectOptions options_for(const std::string& uri, const std::string& id) {
  ConnectOptions o;
  o.uri = uri;
  o.client_id = id;
  o.keepalive = 5s;
  o.min_retry = 100ms;
  o.max_retry = 500ms;
  return o;
}

// Polls `done` every 10 ms for up to `timeout`.
template <class Pred>
bool eventually(Pred done, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

// A broker with its plaintext listener plus two TLS listeners: one presenting the certificate
// for 127.0.0.1, one the certificate for another host.
struct TlsBroker {
  twind::testing::TestPki pki;
  int good_port = Mosquitto::free_port();
  int other_port = Mosquitto::free_port();
  std::unique_ptr<Mosquitto> broker;

  void start() {
    pki.make();
    MosquittoOptions o;
    o.extra_config = {"listener " + std::to_string(good_port) + " 127.0.0.1",
                      "certfile " + pki.server_cert,
                      "keyfile " + pki.server_key,
                      "listener " + std::to_string(other_port) + " 127.0.0.1",
                      "certfile " + pki.other_cert,
                      "keyfile " + pki.other_key};
    broker = std::make_unique<Mosquitto>(o);
    // The fixture waits for the plaintext port only.
    ASSERT_TRUE(eventually([&] { return Mosquitto::accepts(good_port); }, 5s)) << broker->log();
    ASSERT_TRUE(eventually([&] { return Mosquitto::accepts(other_port); }, 5s)) << broker->log();
  }
};

TEST(PahoIntegration, PublishAndSubscribeRoundTripThroughTheBroker) {
  Mosquitto broker;
  Subscriber peer(broker.uri(), {"out/#"});
  RecordingHandler handler;
  auto sut = make_paho_client(options_for(broker.uri(), "round-trip"));
  sut->subscribe({"in/#"}, 1);
  sut->start(handler);
  ASSERT_TRUE(handler.wait_for_count(Event::Kind::connected, 1, 5s)) << broker.log();

  EXPECT_TRUE(sut->publish("out/state", "q0", 0, false));
  EXPECT_TRUE(sut->publish("out/alert", "q1", 1, false));
  EXPECT_TRUE(sut->publish("out/status", "online", 1, true));
  peer.publish("in/cmd", "hello", 1);

  ASSERT_TRUE(peer.wait_for_count("out/status", 1, 5s));
  EXPECT_EQ(peer.payloads("out/state"), std::vector<std::string>{"q0"});
  EXPECT_EQ(peer.payloads("out/alert"), std::vector<std::string>{"q1"});
  ASSERT_TRUE(handler.wait_for_count(Event::Kind::message, 1, 5s));
  EXPECT_EQ(handler.payloads("in/cmd"), std::vector<std::string>{"hello"});
  Subscriber late(broker.uri(), {"out/status"});
  ASSERT_TRUE(late.wait_for_count("out/status", 1, 5s));
  EXPECT_TRUE(late.messages()[0].retained);
  ASSERT_TRUE(eventually([&] { return sut->stats().outbox == 0; }, 5s));
  const ClientStats stats = sut->stats();
  EXPECT_EQ(stats.connects, 1U);
  EXPECT_EQ(stats.published, 3U);
  EXPECT_EQ(stats.delivered, 2U);
  EXPECT_EQ(stats.received, 1U);
  EXPECT_EQ(stats.dropped, 0U);
  EXPECT_TRUE(sut->stop(std::nullopt, 2s));
}

TEST(PahoIntegration, BrokerAbsentAtStartIsConnectedWhenItAppears) {
  MosquittoOptions absent;
  absent.start = false;
  Mosquitto broker(absent);
  RecordingHandler handler;
  auto sut = make_paho_client(options_for(broker.uri(), "late-broker"));
  sut->subscribe({"in/#"}, 1);
  sut->start(handler);
  ASSERT_TRUE(handler.wait_for_count(Event::Kind::disconnected, 2, 5s));
  EXPECT_FALSE(sut->connected());

  broker.start();

  ASSERT_TRUE(handler.wait_for_count(Event::Kind::connected, 1, 5s)) << broker.log();
  EXPECT_TRUE(sut->connected());
  EXPECT_GE(sut->stats().connect_failures, 2U);
  EXPECT_EQ(sut->stats().connects, 1U);
  const std::string cause = handler.events().front().text;
  EXPECT_NE(cause.find(broker.uri()), std::string::npos) << cause;
  Subscriber peer(broker.uri(), {});
  peer.publish("in/x", "after", 1);
  EXPECT_TRUE(handler.wait_for_count(Event::Kind::message, 1, 5s));
}

TEST(PahoIntegration, BrokerKilledAndRestartedIsReconnectedAndResubscribed) {
  Mosquitto broker;
  RecordingHandler handler;
  auto sut = make_paho_client(options_for(broker.uri(), "resubscribe"));
  sut->subscribe({"cmd/#"}, 1);
  sut->start(handler);
  ASSERT_TRUE(handler.wait_for_count(Event::Kind::connected, 1, 5s)) << broker.log();

  broker.kill9();
  ASSERT_TRUE(eventually([&] { return !sut->connected(); }, 5s));
  broker.start();
  ASSERT_TRUE(handler.wait_for_count(Event::Kind::connected, 2, 8s)) << broker.log();
  Subscriber peer(broker.uri(), {});
  peer.publish("cmd/go", "after-restart", 1);

  ASSERT_TRUE(handler.wait_for_count(Event::Kind::message, 1, 5s));
  EXPECT_EQ(handler.payloads("cmd/go"), std::vector<std::string>{"after-restart"});
  EXPECT_EQ(sut->stats().connects, 2U);
  EXPECT_GE(handler.count(Event::Kind::disconnected), 1U);
}

TEST(PahoIntegration, Qos1PublishedDuringAnOutageIsDeliveredInOrderAfterIt) {
  Mosquitto broker;
  RecordingHandler handler;
  ConnectOptions o = options_for(broker.uri(), "outage");
  // A first retry >= 1.2 s after the loss leaves time to restart the broker and subscribe the
  // observer before the client comes back.
  o.min_retry = 1500ms;
  o.max_retry = 3000ms;
  auto sut = make_paho_client(o);
  sut->start(handler);
  ASSERT_TRUE(handler.wait_for_count(Event::Kind::connected, 1, 5s)) << broker.log();
  broker.kill9();
  ASSERT_TRUE(eventually([&] { return !sut->connected(); }, 5s));

  const bool q1a = sut->publish("out/alert", "o1", 1, false);
  const bool q0 = sut->publish("out/state", "lost", 0, false);
  const bool q1b = sut->publish("out/alert", "o2", 1, false);
  const bool q1c = sut->publish("out/alert", "o3", 1, false);
  broker.start();
  Subscriber observer(broker.uri(), {"out/#"});
  ASSERT_FALSE(sut->connected()) << "the client came back before the observer subscribed";

  ASSERT_TRUE(observer.wait_for_count("out/alert", 3, 8s)) << broker.log();
  EXPECT_TRUE(q1a && q1b && q1c);
  EXPECT_FALSE(q0);
  EXPECT_EQ(observer.payloads("out/alert"), (std::vector<std::string>{"o1", "o2", "o3"}));
  EXPECT_TRUE(observer.payloads("out/state").empty());
  ASSERT_TRUE(eventually([&] { return sut->stats().outbox == 0; }, 5s));
  EXPECT_EQ(sut->stats().dropped, 1U);
  EXPECT_EQ(sut->stats().delivered, 3U);
}

TEST(PahoIntegration, BurstOfQos1MessagesIsDeliveredCompletelyAndInOrder) {
  // Mosquitto would drop what exceeds 1000 messages queued for the slower subscriber.
  MosquittoOptions unbounded;
  unbounded.extra_config = {"max_queued_messages 0"};
  Mosquitto broker(unbounded);
  Subscriber peer(broker.uri(), {"burst"});
  RecordingHandler handler;
  auto sut = make_paho_client(options_for(broker.uri(), "burst"));
  sut->start(handler);
  ASSERT_TRUE(handler.wait_for_count(Event::Kind::connected, 1, 5s)) << broker.log();
  constexpr int kCount = 5000;  // 50 times Paho's default buffer of 100

  bool all_accepted = true;
  for (int i = 0; i < kCount; ++i) {
    all_accepted = sut->publish("burst", std::to_string(i), 1, false) && all_accepted;
  }

  EXPECT_TRUE(all_accepted);
  ASSERT_TRUE(peer.wait_for_count("burst", kCount, 10s)) << peer.messages().size();
  const auto got = peer.payloads("burst");
  bool in_order = true;
  for (int i = 0; i < kCount; ++i)
    in_order = in_order && got[static_cast<std::size_t>(i)] == std::to_string(i);
  EXPECT_TRUE(in_order);
  ASSERT_TRUE(eventually([&] { return sut->stats().outbox == 0; }, 5s));
  EXPECT_EQ(sut->stats().delivered, static_cast<std::uint64_t>(kCount));
  EXPECT_EQ(sut->stats().dropped, 0U);
}

TEST(PahoIntegration, KilledProcessHasItsWillPublishedByTheBroker) {
  Mosquitto broker;
  Subscriber peer(broker.uri(), {"will/#"});
  Process child({TWIND_MQTT_WILL_CHILD, broker.uri(), "will-child", "will/status", "gone"});
  ASSERT_TRUE(child.wait_for_line("^connected", 5s))
      << child.stdout_text() << child.stderr_text() << broker.log();

  child.signal(SIGKILL);
  const auto status = child.wait_exit(5s);

  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->signal, SIGKILL);
  ASSERT_TRUE(peer.wait_for_count("will/status", 1, 5s)) << broker.log();
  EXPECT_EQ(peer.payloads("will/status"), std::vector<std::string>{"gone"});
  Subscriber late(broker.uri(), {"will/status"});
  ASSERT_TRUE(late.wait_for_count("will/status", 1, 5s));
  EXPECT_TRUE(late.messages()[0].retained);
}

TEST(PahoIntegration, StopPublishesLastAndDisconnectsWithoutTheWill) {
  Mosquitto broker;
  Subscriber peer(broker.uri(), {"status/#"});
  RecordingHandler handler;
  ConnectOptions o = options_for(broker.uri(), "stopper");
  o.will = Will{"status/daemon", "will-offline", 1, true};
  auto sut = make_paho_client(o);
  sut->start(handler);
  ASSERT_TRUE(handler.wait_for_count(Event::Kind::connected, 1, 5s)) << broker.log();
  sut->publish("status/daemon", "online", 1, true);

  const bool drained = sut->stop(Will{"status/daemon", "stopped", 1, true}, 2s);

  EXPECT_TRUE(drained);
  EXPECT_FALSE(sut->connected());
  ASSERT_TRUE(peer.wait_for_count("status/daemon", 2, 5s));
  // A will would follow the disconnection at once; give it ample time to show up.
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(peer.payloads("status/daemon"), (std::vector<std::string>{"online", "stopped"}));
  Subscriber late(broker.uri(), {"status/daemon"});
  ASSERT_TRUE(late.wait_for_count("status/daemon", 1, 5s));
  EXPECT_EQ(late.payloads("status/daemon"), std::vector<std::string>{"stopped"});
  EXPECT_TRUE(sut->stop(std::nullopt, 0ms));  // idempotent: the first result
}

TEST(PahoIntegration, StopIsBoundedWhileTheBrokerHangs) {
  Mosquitto broker;
  RecordingHandler handler;
  auto sut = make_paho_client(options_for(broker.uri(), "hung"));
  sut->start(handler);
  ASSERT_TRUE(handler.wait_for_count(Event::Kind::connected, 1, 5s)) << broker.log();
  broker.pause();
  sut->publish("out/alert", "unacknowledged", 1, false);

  const auto t0 = std::chrono::steady_clock::now();
  const bool drained = sut->stop(std::nullopt, 300ms);
  const auto elapsed = std::chrono::steady_clock::now() - t0;
  broker.resume();

  EXPECT_FALSE(drained);
  EXPECT_LT(elapsed, 4s);
}

TEST(PahoIntegration, StopDuringAConnectionAttemptToAHungBrokerIsPrompt) {
  Mosquitto broker;
  broker.pause();  // the kernel still accepts the TCP connection; no CONNACK ever comes
  RecordingHandler handler;
  auto sut = make_paho_client(options_for(broker.uri(), "connecting"));
  sut->start(handler);
  std::this_thread::sleep_for(300ms);

  const auto t0 = std::chrono::steady_clock::now();
  sut->stop(std::nullopt, 100ms);
  const auto elapsed = std::chrono::steady_clock::now() - t0;
  sut.reset();
  broker.resume();

  EXPECT_LT(elapsed, 1s);
  EXPECT_EQ(handler.count(Event::Kind::connected), 0U);
}

TEST(PahoIntegration, TlsUriAgainstAPlaintextListenerNeverConnects) {
  Mosquitto broker;
  RecordingHandler handler;
  auto sut = make_paho_client(
      options_for("ssl://127.0.0.1:" + std::to_string(broker.port()), "tls-to-plain"));

  sut->start(handler);
  const bool failed = handler.wait_for_count(Event::Kind::disconnected, 2, 10s);

  EXPECT_TRUE(failed);
  EXPECT_EQ(sut->stats().connects, 0U);
  EXPECT_EQ(handler.count(Event::Kind::connected), 0U);
  sut->stop(std::nullopt, 0ms);
}

TEST(PahoIntegration, CredentialsAreSentAndABadPasswordIsReportedWithoutIt) {
  twind::testing::TempDir dir("twind-passwd");
  const std::string passwd = dir.path() + "/passwd";
  Process make_passwd({"mosquitto_passwd", "-b", "-c", passwd, "twind", "right-secret"});
  const auto made = make_passwd.wait_exit(10s);
  ASSERT_TRUE(made && made->exited && made->code == 0) << make_passwd.stderr_text();
  MosquittoOptions secured;
  secured.allow_anonymous = false;
  secured.extra_config = {"password_file " + passwd};
  Mosquitto broker(secured);
  RecordingHandler refused;
  RecordingHandler accepted;
  ConnectOptions bad = options_for(broker.uri(), "bad-password");
  bad.username = "twind";
  bad.password = "wrong-secret";
  ConnectOptions good = options_for(broker.uri(), "good-password");
  good.username = "twind";
  good.password = "right-secret";
  auto bad_client = make_paho_client(bad);
  auto good_client = make_paho_client(good);

  bad_client->start(refused);
  good_client->start(accepted);

  ASSERT_TRUE(refused.wait_for_count(Event::Kind::disconnected, 1, 5s)) << broker.log();
  const std::string cause = refused.events().front().text;
  EXPECT_NE(cause.find("refused"), std::string::npos) << cause;
  EXPECT_EQ(cause.find("wrong-secret"), std::string::npos) << cause;
  EXPECT_FALSE(bad_client->connected());
  EXPECT_TRUE(accepted.wait_for_count(Event::Kind::connected, 1, 5s)) << broker.log();
}

TEST(PahoIntegration, TlsWithTheBrokersCaConnectsAndDelivers) {
  TlsBroker tls;
  ASSERT_NO_FATAL_FAILURE(tls.start());
  Subscriber peer(tls.broker->uri(), {"secure/#"});
  RecordingHandler handler;
  ConnectOptions o = options_for("ssl://127.0.0.1:" + std::to_string(tls.good_port), "tls-good");
  o.tls = Tls{tls.pki.ca, "", ""};
  auto sut = make_paho_client(o);

  sut->start(handler);

  ASSERT_TRUE(handler.wait_for_count(Event::Kind::connected, 1, 8s)) << tls.broker->log();
  EXPECT_TRUE(sut->publish("secure/x", "over-tls", 1, false));
  ASSERT_TRUE(peer.wait_for_count("secure/x", 1, 5s));
  EXPECT_EQ(peer.payloads("secure/x"), std::vector<std::string>{"over-tls"});
}

TEST(PahoIntegration, TlsWithoutTheCaRefusesTheUnknownIssuer) {
  TlsBroker tls;
  ASSERT_NO_FATAL_FAILURE(tls.start());
  RecordingHandler handler;
  // No Tls options: the system trust store, which does not know the test CA.
  auto sut = make_paho_client(
      options_for("ssl://127.0.0.1:" + std::to_string(tls.good_port), "tls-unknown-ca"));

  sut->start(handler);
  const bool failed = handler.wait_for_count(Event::Kind::disconnected, 2, 10s);

  EXPECT_TRUE(failed);
  EXPECT_EQ(sut->stats().connects, 0U);
  // The cause carries OpenSSL's reason (tls_probe.hpp), not only Paho's return code.
  const std::string cause = handler.events().front().text;
  EXPECT_NE(cause.find("TLS: certificate verify failed: unable to get local issuer certificate"),
            std::string::npos)
      << cause;
  sut->stop(std::nullopt, 0ms);
}

TEST(PahoIntegration, TlsRefusesACertificateIssuedForAnotherHost) {
  TlsBroker tls;
  ASSERT_NO_FATAL_FAILURE(tls.start());
  RecordingHandler handler;
  ConnectOptions o =
      options_for("ssl://127.0.0.1:" + std::to_string(tls.other_port), "tls-other-host");
  o.tls = Tls{tls.pki.ca, "", ""};
  auto sut = make_paho_client(o);

  sut->start(handler);
  const bool failed = handler.wait_for_count(Event::Kind::disconnected, 2, 10s);

  EXPECT_TRUE(failed);
  EXPECT_EQ(sut->stats().connects, 0U);
  // The cause carries OpenSSL's reason (tls_probe.hpp), not only Paho's return code.
  const std::string cause = handler.events().front().text;
  EXPECT_NE(cause.find("TLS: certificate verify failed: IP address mismatch"), std::string::npos)
      << cause;
  sut->stop(std::nullopt, 0ms);
}

}  // namespace
}  // namespace twind::mqtt
