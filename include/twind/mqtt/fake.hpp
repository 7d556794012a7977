// An in-memory broker and its clients, for unit tests of the layers above the transport: the same
// Client contract as the Paho adapter, without a network, a clock or a thread of its own.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "twind/mqtt/client.hpp"

namespace twind::mqtt {

/// A message as the broker saw it.
struct FakeMessage {
  std::string topic;
  std::string payload;
  int qos = 0;
  bool retained = false;
  std::string from;  ///< the publisher's client id; empty for FakeBroker::publish()
};

class FakeClient;

/// An MQTT broker in memory: topic filters with `+` and `#` (topic_matches()), retained messages
/// (a retained message with an empty payload clears the topic's), wills published when a
/// connected client is killed, and a switch to take the broker down and up again.
///
/// Threading: everything is synchronous. Every call on the broker or on any of its clients is
/// serialised by one broker-wide recursive lock, and Handler callbacks run on the thread that
/// caused them, under that lock: on_message on the publisher's (or subscriber's, for retained
/// messages) thread, on_connected on the thread of start(), bring_up() or accept_connections(),
/// on_disconnected on the thread of take_down() or of a failing connection attempt. A handler may
/// call publish() and subscribe() (of any fake client) re-entrantly; it must not wait for another
/// thread that uses the fake, nor call stop(). No callback follows stop() or kill().
///
/// Reconnection: a started client that is not connected retries at once whenever the broker's
/// state changes (bring_up(), accept_connections()); there is no backoff timer. Each failed
/// attempt counts in connect_failures and is reported through on_disconnected(cause).
///
/// The broker and its clients share their state: either may be destroyed first.
class FakeBroker {
 public:
  /// `keep_retained`: retained messages survive take_down()/bring_up() (a broker with
  /// persistence); by default they are lost, like Mosquitto without persistence.
  explicit FakeBroker(bool keep_retained = false);
  FakeBroker(const FakeBroker&) = delete;
  FakeBroker& operator=(const FakeBroker&) = delete;
  ~FakeBroker();

  /// A new client of this broker; it connects on start().
  [[nodiscard]] std::unique_ptr<FakeClient> make_client(ConnectOptions options = {});

  /// Drops every connection (each client gets on_disconnected("broker down")); no wills are
  /// published, as when a broker process dies. Connection attempts fail until bring_up().
  void take_down();
  /// Accepts connections again and reconnects every started, not stopped, not killed client.
  void bring_up();
  [[nodiscard]] bool is_up() const;

  /// Makes every connection attempt fail with `cause` (e.g. a bad password) until
  /// accept_connections(). Established connections stay.
  void refuse_connections(std::string cause);
  void accept_connections();

  /// Messages that clients publish on topics matching `filter` are acknowledged and dropped, as
  /// by a broker whose ACL denies them (under MQTT 3.1.1 the publisher cannot be told).
  void deny_publish(std::string filter);
  /// Lifts every deny_publish(): messages are delivered again (an ACL changed, or a clustered
  /// broker's new leaders elected).
  void allow_publish();

  /// While held, the QoS >= 1 messages clients publish are delivered but not acknowledged: they
  /// stay in their publisher's outbox (ClientStats::outbox) until release_acks(), as with a
  /// broker that is slow to store them.
  void hold_acks();
  /// Acknowledges the messages held so far; later ones are held again unless `stop_holding`.
  void release_acks(bool stop_holding = false);

  /// Publishes as an external peer (no client id). Returns false (and drops it) when the broker
  /// is down or the topic name is invalid.
  bool publish(std::string_view topic, std::string_view payload, int qos = 0,
               bool retained = false);

  /// Every message the broker accepted, wills included, in order.
  [[nodiscard]] std::vector<FakeMessage> messages() const;
  /// The accepted messages whose topic matches `filter`.
  [[nodiscard]] std::vector<FakeMessage> messages_on(std::string_view filter) const;
  void clear_messages();
  /// The retained message of a topic, if any.
  [[nodiscard]] std::optional<FakeMessage> retained(std::string_view topic) const;
  [[nodiscard]] std::size_t connected_clients() const;

  struct State;  // shared with the clients; defined in fake.cpp

 private:
  std::shared_ptr<State> state_;
};

/// A Client of a FakeBroker. Same contract as the Paho client (client.hpp), synchronously:
/// publish() while connected delivers to the subscribers before it returns and a QoS >= 1 message
/// counts as acknowledged at once; QoS >= 1 messages published while disconnected wait in the
/// outbox (bounded by max_outbox, oldest dropped) and are delivered on the next connection,
/// before on_connected(). Retained messages matching a filter are delivered when it is
/// subscribed, also on every reconnection. Destroying a connected client disconnects it cleanly
/// (no will). One copy of a message per client, whatever number of its filters match.
class FakeClient final : public Client {
 public:
  FakeClient(std::shared_ptr<FakeBroker::State> state, ConnectOptions options);
  ~FakeClient() override;

  void start(Handler& handler) override;
  /// Throws std::invalid_argument for an invalid filter or a QoS outside 0..2.
  void subscribe(const std::vector<std::string>& filters, int qos) override;
  /// As subscribe(): the fake refuses no subscription.
  void subscribe_optional(const std::vector<std::string>& filters, int qos) override;
  /// Throws std::invalid_argument for an invalid filter. The broker stops delivering on the
  /// filters at once.
  void unsubscribe(const std::vector<std::string>& filters) override;
  /// Returns false (and counts a drop) also for an invalid topic name or QoS, and after stop() or
  /// kill().
  bool publish(std::string_view topic, std::string_view payload, int qos, bool retained) override;
  [[nodiscard]] bool connected() const override;
  /// ConnectOptions::uri while connected: the fake broker is every node at once.
  [[nodiscard]] std::string connected_uri() const override;
  [[nodiscard]] ClientStats stats() const override;
  /// Waits (up to `timeout`, for the broker to come up) for the outbox to drain; the client does
  /// not reconnect after it.
  bool stop(const std::optional<Will>& last, std::chrono::milliseconds timeout) override;

  /// The client vanishes as a killed process would: the connection drops uncleanly, the broker
  /// publishes the will (if the client was connected and has one), the handler hears nothing,
  /// and the client stays dead (publish() drops, no reconnection).
  void kill();

  [[nodiscard]] const ConnectOptions& options() const { return options_; }
  /// The filters given to subscribe() and not removed by unsubscribe(), with their QoS.
  [[nodiscard]] std::vector<std::pair<std::string, int>> filters() const;

 private:
  friend class FakeBroker;
  friend struct FakeBroker::State;

  void try_connect_locked();
  bool publish_locked(FakeMessage m);
  void acknowledge_locked();  // of a QoS >= 1 message delivered

  std::shared_ptr<FakeBroker::State> state_;
  const ConnectOptions options_;
  Handler* handler_ = nullptr;
  bool started_ = false;
  bool stopped_ = false;
  bool killed_ = false;
  bool connected_ = false;
  bool flushing_ = false;
  bool stop_result_ = false;
  std::vector<std::pair<std::string, int>> filters_;
  std::deque<FakeMessage> outbox_;  // in order
  std::size_t unacked_ = 0;         // delivered, acknowledgement held (hold_acks())
  ClientStats stats_;
};

}  // namespace twind::mqtt
