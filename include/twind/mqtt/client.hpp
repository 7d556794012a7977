// The broker behind a small interface: the live daemon and twin-sim talk to a Client; the Paho
// adapter (make_paho_client() below, in src/mqtt/paho_client.cpp) is the real one, FakeBroker
// (fake.hpp) the in-memory one for unit tests. No Paho header here.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace twind::mqtt {

struct Tls {
  std::string ca_file;    ///< trust store for the broker's certificate
  std::string cert_file;  ///< client certificate (optional, with key_file)
  std::string key_file;
};

/// A message published by the broker on the client's behalf if the connection dies uncleanly.
struct Will {
  std::string topic;
  std::string payload;
  int qos = 1;
  bool retained = true;
};

struct ConnectOptions {
  std::string uri = "tcp://127.0.0.1:1883";
  /// Further nodes of the same broker cluster, after `uri`. Each attempt connects to one URI:
  /// they are tried in order, beginning with the one last connected to; a failed attempt or a
  /// lost connection moves on to the next one, and the backoff below applies only after a whole
  /// round of them failed (a dead node does not delay reaching a live one). Every URI follows
  /// the rules of `uri` (BrokerUri::parse, TLS), checked at construction, and the list is all TLS
  /// or all plaintext (std::invalid_argument otherwise): a fail-over never gives up TLS.
  std::vector<std::string> failover_uris;
  std::string client_id = "twind";
  std::chrono::seconds keepalive{30};
  bool clean_session = true;
  std::string username;
  std::string password;  ///< already resolved from file or environment; never logged
  std::optional<Tls> tls;
  std::optional<Will> will;
  /// Reconnect backoff: first retry after min_retry, doubling up to max_retry (with jitter).
  std::chrono::milliseconds min_retry{250};
  std::chrono::milliseconds max_retry{8000};
  /// Bound of the reliable (QoS >= 1) outbox: messages not yet acknowledged by the broker,
  /// kept across disconnections and sent again after a reconnect. Past it the oldest is dropped
  /// and counted (the driven client drops the oldest not yet written to the connection: one
  /// written stays until acknowledged).
  std::size_t max_outbox = 10000;
};

/// Events from the client. Called on the client's own threads: implementations must not block
/// (hand the work to another thread) and must not call stop() from inside.
class Handler {
 public:
  virtual void on_connected() = 0;
  virtual void on_disconnected(const std::string& cause) = 0;
  virtual void on_message(std::string_view topic, std::string_view payload) = 0;

 protected:
  ~Handler() = default;
};

struct ClientStats {
  std::uint64_t connects = 0;          ///< successful connections, the first one included
  std::uint64_t connect_failures = 0;  ///< attempts that failed
  std::uint64_t published = 0;         ///< messages handed to the broker connection
  std::uint64_t delivered = 0;         ///< QoS >= 1 messages acknowledged by the broker
  std::uint64_t dropped = 0;           ///< messages lost: QoS 0 while disconnected, outbox overflow
  std::uint64_t received = 0;
  std::size_t outbox = 0;  ///< QoS >= 1 messages awaiting acknowledgement now
  /// QoS 0 messages replaced, before they could be written, by a newer one on the same topic
  /// (a client that holds QoS 0 messages while the connection's send buffer is full).
  std::uint64_t superseded = 0;
  std::size_t waiting = 0;  ///< QoS 0 messages waiting for room in the send buffer now
};

/// An MQTT connection that keeps itself up.
///
/// Contract: start() returns at once and connects in the background, retrying with capped
/// exponential backoff for as long as the client runs, also after every later loss, and going
/// through ConnectOptions::failover_uris when there are any. After each (re)connection it
/// subscribes again to every topic filter given to subscribe() (and not since removed by
/// unsubscribe()) and then calls Handler::on_connected(); connected_uri() names the node. Every
/// on_disconnected() cause names the URI it is about. publish() never blocks and never throws. QoS
/// 0 messages published while disconnected are dropped (and counted); QoS >= 1 messages are kept in
/// the outbox until the broker acknowledges them, across disconnections, in order. A client may
/// hold QoS 0 messages that do not fit in the connection's send buffer, the newest of each topic
/// only, and write them (after any QoS >= 1 message) as room appears. All member functions are
/// thread-safe.
class Client {
 public:
  Client() = default;
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;
  virtual ~Client() = default;

  virtual void start(Handler& handler) = 0;
  /// Adds topic filters (subscribed now if connected, and after every reconnection).
  /// Throws std::invalid_argument for an invalid filter (valid_topic_filter() in topic.hpp) or a
  /// QoS outside 0..2; then none of `filters` is added.
  virtual void subscribe(const std::vector<std::string>& filters, int qos) = 0;
  /// Like subscribe(), for filters the client can do without (twind's watch on its own topics):
  /// a broker that refuses one of them in its SUBACK does not fail the connection; the filter is
  /// simply not subscribed on it.
  virtual void subscribe_optional(const std::vector<std::string>& filters, int qos) = 0;
  /// Removes topic filters from those subscribed after every reconnection and, if connected,
  /// unsubscribes them now (MQTT UNSUBSCRIBE, sent as subscribe() sends a SUBSCRIBE on a live
  /// connection; the broker may still deliver a message or two it routed before). A filter not
  /// subscribed is ignored; subscribing it again later works as the first time. Throws
  /// std::invalid_argument for an invalid filter; then none of `filters` is removed.
  virtual void unsubscribe(const std::vector<std::string>& filters) = 0;
  /// Returns false when the message was dropped: QoS 0 while disconnected, an invalid topic name
  /// or QoS, or after stop().
  virtual bool publish(std::string_view topic, std::string_view payload, int qos,
                       bool retained) = 0;
  [[nodiscard]] virtual bool connected() const = 0;
  /// The URI (as given in ConnectOptions: `uri` or one of `failover_uris`) of the connection
  /// now, or "" while disconnected. Read it in on_connected() to know which node was reached.
  [[nodiscard]] virtual std::string connected_uri() const = 0;
  [[nodiscard]] virtual ClientStats stats() const = 0;
  /// Publishes `last` (if any, e.g. the retained `offline` status) then waits up to `timeout`
  /// for the outbox to drain, and disconnects cleanly (so the broker does not publish the will).
  /// Returns whether everything was acknowledged in time. Idempotent.
  virtual bool stop(const std::optional<Will>& last, std::chrono::milliseconds timeout) = 0;

  /// Whether the client is driven by its owner's loop (make_paho_driven_client): it then makes
  /// every Handler call from inside drive(), on the owner's thread. Threaded clients (the
  /// default) return false and have no use for drive().
  [[nodiscard]] virtual bool driven() const { return false; }
  /// Driven clients: the connection's share of the owner's loop. Announces a connection made in
  /// the background (on_connected) or a failed attempt (on_disconnected), delivers the messages
  /// the broker has sent (at most `max_messages`; waiting up to `wait` for the first), keeps the
  /// connection alive and notices its loss. Returns the messages delivered.
  virtual std::size_t drive(std::chrono::milliseconds wait, std::size_t max_messages) {
    (void)wait;
    (void)max_messages;
    return 0;
  }
};

/// The Paho MQTT C++ implementation (MQTT 3.1.1). Throws std::invalid_argument for a URI that
/// BrokerUri::parse refuses (broker_uri.hpp), with its reason, and for `tls` with a plaintext
/// scheme: TLS is never given up for plaintext. An ssl/mqtts/wss URI without `tls` verifies the
/// broker against the system trust store; the certificate chain and the host name are verified.
///
/// Threads: one worker thread per client connects, subscribes, sends, and calls on_connected()
/// and on_disconnected(cause); on_message() runs on Paho's receive thread. A failed attempt is
/// reported as on_disconnected("connect to URI failed: ...") with Paho's reason (never the
/// password), a loss as on_disconnected("connection to URI lost..."). No callback follows stop().
///
/// Delivery is at least once: QoS >= 1 messages in flight when a connection drops are sent again
/// after the reconnection, so a subscriber may see duplicates (and, with clean_session = false,
/// Paho's own retransmission adds some). stop() outlasts `timeout` by at most ~3 s (the clean
/// disconnection from a hung broker); a pending connection attempt is abandoned. Destroying a
/// running client is stop(std::nullopt, 0 ms).
///
/// Paho C 1.3.12 connects a second client of the same process only after ~2 s
/// (eclipse-paho/paho.mqtt.c#1430); a single client connects at once.
[[nodiscard]] std::unique_ptr<Client> make_paho_client(const ConnectOptions& options);

/// The Paho MQTT C synchronous client (MQTTClient, MQTT 3.1.1), driven by its owner's thread:
/// no thread of Paho's, no hand-off per message. Same URI, TLS and delivery rules as
/// make_paho_client(), with these differences:
/// - publish(), drive() and stop() are called from one thread, the owner's (the daemon's engine
///   thread); subscribe(), subscribe_optional(), connected() and stats() from any thread;
/// - every Handler call happens inside drive(), and on_message() sees Paho's own buffers;
/// - one background thread of the client's own makes the connection attempts (Paho's connect
///   and subscribe block) and hands a connection over, subscribed, to the next drive();
/// - a QoS 0 message is dropped (and counted) when the socket's send buffer has no room, so that
///   a hung broker never blocks the owner; QoS >= 1 messages wait in the outbox then;
/// - stop() outlasts `timeout` by at most a connection attempt in progress (kConnectTimeout, 3 s).
[[nodiscard]] std::unique_ptr<Client> make_paho_driven_client(const ConnectOptions& options);

/// twind's own MQTT 3.1.1 client (native_client.cpp), driven by its owner's thread like
/// make_paho_driven_client(), with the same threads, URI, TLS and delivery rules, and these
/// differences:
/// - no WebSocket: a ws:// or wss:// URI is refused with std::invalid_argument;
/// - it reads whatever the socket holds at once and hands each message to on_message() as views
///   into its buffer; it writes QoS 0 messages in batches (at the end of drive(), or once 64 KiB
///   are queued), and a QoS >= 1 message at once, with the QoS 0 messages queued before it;
/// - "room" is its own bound of 1 MiB written but not yet taken by the kernel (on top of the
///   socket's send buffer): past it QoS 0 messages wait, the newest of each topic, and QoS >= 1
///   messages stay in the outbox;
/// - each step of a connection attempt (TCP, TLS, CONNACK, SUBACK) gives up after 3 s, and
///   stop() outlasts `timeout` by at most one such step.
[[nodiscard]] std::unique_ptr<Client> make_native_client(const ConnectOptions& options);

}  // namespace twind::mqtt
