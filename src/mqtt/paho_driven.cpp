// The driven Paho adapter: Paho MQTT C's synchronous client (MQTTClient) without callbacks, so
// that Paho runs no thread of its own, worked by its owner's loop. The owner's thread reads and
// delivers the messages, publishes, and keeps the connection alive; a message costs no hand-off
// between threads, no wake-up and no copy. Paho's connect and subscribe block, so one thread of
// ours makes the connection attempts and hands a connection over, subscribed, through mu_.
//
// Who owns the MQTTClient handle: the connector thread while phase_ is `connecting` or `ready`,
// the owner's thread while it is `owned`. The phase changes under mu_ only.
#include <MQTTClient.h>
#include <linux/sock_diag.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "adapter_common.hpp"
#include "driven_common.hpp"
#include "nodelay.hpp"
#include "subscriptions.hpp"
#include "tls_probe.hpp"
#include "twind/mqtt/broker_uri.hpp"
#include "twind/mqtt/client.hpp"
#include "twind/mqtt/internal/backoff.hpp"
#include "twind/mqtt/topic.hpp"

namespace twind::mqtt {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Paho's connect (TCP, TLS and CONNACK) and subscribe give up after this; stop() may wait for
// an attempt in progress this long.
constexpr int kConnectTimeoutSeconds = 3;
constexpr unsigned long kCommandTimeoutMs = 3000;
// QoS >= 1 messages handed to Paho at once. Paho blocks a publish past its own in-flight limit,
// which is set above this, so that it never does.
constexpr int kMaxInflight = 1024;
constexpr int kPahoInflightLimit = kMaxInflight + 16;
// A message is written only when it fits whole in the socket's send buffer: after a partial
// write Paho blocks every publish, reading (and queueing without bound) all that arrives, until
// the broker has taken the rest. The kernel takes a write while the memory queued on the socket
// (data and per-packet overhead) is below the send buffer's size; the room counts each message
// at its size plus kPacketOverhead, and keeps kMinRoom free for what Paho writes by itself
// (acknowledgements, pings).
constexpr long kPacketOverhead = 1024;
constexpr long kMinRoom = 8 * 1024;
// The socket's receive buffer (the kernel doubles it for its overhead). TCP would let it grow to
// several megabytes, tens of seconds of input for a twin that cannot keep up; bounded, the
// backlog stays at the broker, which drops what a slow subscriber cannot take (mosquitto:
// max_queued_messages), and what twind reads stays about a second old at most.
constexpr int kReceiveBuffer = 1 << 20;
// While messages wait for room, the longest the owner's loop waits for input before it looks
// again at the send buffer.
constexpr milliseconds kRoomPoll{2};
// How often the acknowledgements of QoS >= 1 messages are collected while some are in flight.
constexpr milliseconds kSettleEvery{10};

// Paho C's return code in words, with the MQTT 3.1.1 CONNACK codes spelled out.
std::string describe(int rc) {
  const std::string connack = detail::connack_text(rc);
  if (!connack.empty()) return connack + " (CONNACK " + std::to_string(rc) + ")";
  const char* text = MQTTClient_strerror(rc);
  return std::string(text != nullptr ? text : "unknown error") + " (Paho error " +
         std::to_string(rc) + ")";
}

class PahoDrivenClient final : public Client {
 public:
  explicit PahoDrivenClient(const ConnectOptions& options);
  ~PahoDrivenClient() override;

  void start(Handler& handler) override;
  void subscribe(const std::vector<std::string>& filters, int qos) override;
  void subscribe_optional(const std::vector<std::string>& filters, int qos) override;
  void unsubscribe(const std::vector<std::string>& filters) override;
  bool publish(std::string_view topic, std::string_view payload, int qos, bool retained) override;
  [[nodiscard]] bool connected() const override { return up_.load(); }
  [[nodiscard]] std::string connected_uri() const override;
  [[nodiscard]] ClientStats stats() const override;
  bool stop(const std::optional<Will>& last, milliseconds timeout) override;
  [[nodiscard]] bool driven() const override { return true; }
  std::size_t drive(milliseconds wait, std::size_t max_messages) override;

 private:
  enum class Phase { connecting, ready, owned };
  struct Pending {
    std::string topic;
    std::string payload;
    int qos = 1;
    bool retained = false;
    MQTTClient_deliveryToken token = 0;  // Paho's, once handed to it
  };

  // Connector thread.
  void connector();
  // One attempt on brokers_ `at`: connect, find the socket, subscribe. Returns the cause of a
  // failure, or "".
  std::string attempt(std::size_t at);

  // Owner's thread.
  bool take_connection(bool announce);  // a `ready` connection becomes `owned`
  void lose(const std::string& cause, bool announce);
  void subscribe_new_filters();
  std::size_t receive(milliseconds wait, std::size_t max_messages, bool deliver);
  void send_pending();
  void send_waiting();
  bool hold(std::string_view topic, std::string_view payload, bool retained);
  // Writes a QoS 0 message (`topic` NUL-terminated), counted as published or dropped.
  bool write_qos0(const char* topic, std::string_view payload, bool retained);
  void forget_waiting();
  void settle(bool now);
  bool room(std::size_t bytes);
  // The room for a PUBLISH of `topic` and `payload` (with its header, at most 8 bytes here).
  bool room_for(std::string_view topic, std::string_view payload) {
    return room(topic.size() + payload.size() + 8);
  }
  // Whether a QoS >= 1 message waits for room in the send buffer (rather than for a place in
  // flight): QoS 0 messages then wait behind it.
  [[nodiscard]] bool reliable_needs_room() const noexcept {
    return needs_room_ && outbox_.size() > inflight_;
  }
  bool drop_oldest_reliable();

  const ConnectOptions options_;
  const detail::Brokers brokers_;
  MQTTClient handle_ = nullptr;
  Handler* handler_ = nullptr;

  // Shared, under mu_.
  mutable std::mutex mu_;
  std::condition_variable cv_;
  Phase phase_ = Phase::connecting;
  std::vector<std::string> causes_;  // failed attempts, for the owner to report
  detail::Subscriptions subs_;  // every connection's filters; `fresh`: to subscribe on the live one
  int socket_ = -1;             // found by the connector, used by the owner
  std::size_t ready_at_ = 0;    // the broker (brokers_) of the connection handed over
  std::string connected_uri_;   // while owned
  bool started_ = false;
  bool stopping_ = false;
  std::thread connector_;

  detail::Counters counters_;
  std::atomic<bool> up_{false};

  // The owner's.
  bool owned_ = false;
  std::string owned_uri_;       // the connection's broker, while owned
  int fd_ = -1;                 // the connection's socket, while owned (-1: unknown)
  std::deque<Pending> outbox_;  // QoS >= 1, in publish order, until acknowledged
  std::size_t inflight_ = 0;    // of outbox_, the ones handed to Paho: always its first ones
  std::vector<MQTTClient_deliveryToken> pending_tokens_;  // settle()'s, reused
  // QoS 0 messages that found no room: the newest of each topic, in the order the topics began
  // to wait. Written after the outbox, as room appears.
  detail::WaitingMessages waiting_{counters_};
  std::string topic_buf_;    // NUL-terminated topic for Paho, reused
  long budget_ = 0;          // bytes that may be written before the next look at the buffer
  bool needs_room_ = false;  // send_pending() last stopped for want of room (or a failed write)
  Clock::time_point last_settle_{};
  std::mutex stop_mu_;
  bool stopped_ = false;
  bool stop_result_ = false;
  // The connector's: OpenSSL's reason for the TLS failures since the last connection.
  std::optional<std::string> tls_reason_;
};

PahoDrivenClient::PahoDrivenClient(const ConnectOptions& options)
    : options_(options), brokers_(detail::checked_uris(options)) {
  MQTTClient_createOptions create = MQTTClient_createOptions_initializer;
  create.MQTTVersion = MQTTVERSION_3_1_1;
  const int rc = MQTTClient_createWithOptions(&handle_, brokers_.uris.front().paho_uri().c_str(),
                                              options_.client_id.c_str(),
                                              MQTTCLIENT_PERSISTENCE_NONE, nullptr, &create);
  if (rc != MQTTCLIENT_SUCCESS) {
    throw std::invalid_argument("broker URI \"" + options_.uri + "\": " + describe(rc));
  }
  MQTTClient_setCommandTimeout(handle_, kCommandTimeoutMs);
}

PahoDrivenClient::~PahoDrivenClient() {
  stop(std::nullopt, milliseconds(0));
  MQTTClient_destroy(&handle_);
}

void PahoDrivenClient::start(Handler& handler) {
  std::lock_guard lock(mu_);
  if (started_ || stopping_) return;
  handler_ = &handler;
  started_ = true;
  connector_ = std::thread([this] { connector(); });
}

void PahoDrivenClient::subscribe(const std::vector<std::string>& filters, int qos) {
  check_subscription(filters, qos);
  std::lock_guard lock(mu_);
  subs_.add(filters, qos);
}

void PahoDrivenClient::subscribe_optional(const std::vector<std::string>& filters, int qos) {
  check_subscription(filters, qos);
  {
    std::lock_guard lock(mu_);
    subs_.add_optional(filters);
  }
  subscribe(filters, qos);
}

void PahoDrivenClient::unsubscribe(const std::vector<std::string>& filters) {
  check_subscription(filters, 0);
  std::lock_guard lock(mu_);
  subs_.remove(filters);
}

std::string PahoDrivenClient::connected_uri() const {
  std::lock_guard lock(mu_);
  return connected_uri_;
}

ClientStats PahoDrivenClient::stats() const {
  return counters_.snapshot();
}

// ---- The connector thread ----------------------------------------------------------------------

void PahoDrivenClient::connector() {
  std::random_device seed;
  internal::Backoff backoff(options_.min_retry, options_.max_retry,
                            (static_cast<std::uint64_t>(seed()) << 32) ^ seed());
  detail::UriRotation rotation(brokers_.uris.size());
  std::unique_lock lk(mu_);
  while (!stopping_) {
    const std::size_t at = rotation.current();
    lk.unlock();
    const std::string cause = attempt(at);
    lk.lock();
    if (cause.empty()) {
      detail::Counters::add(counters_.connects);
      backoff.reset();
      rotation.connected();
      ready_at_ = at;
      if (stopping_) {
        // Made while stop() waited for this attempt: leave cleanly (no will).
        lk.unlock();
        MQTTClient_disconnect(handle_, 0);
        return;
      }
      phase_ = Phase::ready;
      cv_.notify_all();
      // The owner takes it, and hands it back after a loss.
      cv_.wait(lk, [&] { return stopping_ || phase_ == Phase::connecting; });
      if (stopping_) return;
    } else if (!stopping_) {
      detail::Counters::add(counters_.connect_failures);
      causes_.push_back(cause);
      cv_.notify_all();
    }
    // The next broker at once, unless every one has failed since the last connection.
    if (rotation.failed()) cv_.wait_for(lk, backoff.next(), [&] { return stopping_; });
  }
}

std::string PahoDrivenClient::attempt(std::size_t at) {
  const BrokerUri& uri = brokers_.uris[at];
  const std::string& text = brokers_.texts[at];
  MQTTClient_connectOptions o = MQTTClient_connectOptions_initializer;
  // One URI per attempt, so that the cause names it and the rotation is ours (UriRotation).
  char* server = const_cast<char*>(uri.paho_uri().c_str());  // Paho only reads it
  if (brokers_.uris.size() > 1) {
    o.serverURIs = &server;
    o.serverURIcount = 1;
  }
  o.keepAliveInterval = static_cast<int>(std::min<long long>(options_.keepalive.count(), INT_MAX));
  o.cleansession = options_.clean_session ? 1 : 0;
  o.reliable = 0;
  o.maxInflightMessages = kPahoInflightLimit;
  o.connectTimeout = kConnectTimeoutSeconds;
  o.retryInterval = 0;
  o.MQTTVersion = MQTTVERSION_3_1_1;
  if (!options_.username.empty()) o.username = options_.username.c_str();
  if (!options_.password.empty()) o.password = options_.password.c_str();
  MQTTClient_willOptions will = MQTTClient_willOptions_initializer;
  if (options_.will) {
    will.topicName = options_.will->topic.c_str();
    will.message = nullptr;
    will.payload.len = static_cast<int>(options_.will->payload.size());
    will.payload.data = options_.will->payload.data();
    will.qos = options_.will->qos;
    will.retained = options_.will->retained ? 1 : 0;
    o.will = &will;
  }
  MQTTClient_SSLOptions ssl = MQTTClient_SSLOptions_initializer;
  if (uri.tls()) {
    if (options_.tls) {
      if (!options_.tls->ca_file.empty()) ssl.trustStore = options_.tls->ca_file.c_str();
      if (!options_.tls->cert_file.empty()) ssl.keyStore = options_.tls->cert_file.c_str();
      if (!options_.tls->key_file.empty()) ssl.privateKey = options_.tls->key_file.c_str();
    }
    ssl.enableServerCertAuth = 1;
    ssl.verify = 1;  // the host name too, not only the chain
    o.ssl = &ssl;
  }

  // Paho does not say which socket is its own: the one to the broker's port that is new.
  std::vector<int> before;
  try {
    before = detail::sockets_to_port(uri.port());
  } catch (...) {  // NOLINT(bugprone-empty-catch): then the socket stays unknown
  }
  const int rc = MQTTClient_connect(handle_, &o);
  if (rc != MQTTCLIENT_SUCCESS) {
    std::string cause = "connect to " + text + " failed: " + describe(rc);
    if (uri.tls() && rc == MQTTCLIENT_FAILURE) {
      if (!tls_reason_) tls_reason_ = detail::diagnose_broker_tls(uri, options_.tls);
      if (!tls_reason_->empty()) cause += ": TLS: " + *tls_reason_;
    }
    return cause;
  }
  tls_reason_.reset();
  int socket = -1;
  try {
    std::vector<int> fresh;
    for (const int fd : detail::sockets_to_port(uri.port())) {
      if (std::find(before.begin(), before.end(), fd) == before.end()) fresh.push_back(fd);
    }
    if (fresh.size() == 1) socket = fresh.front();
  } catch (...) {  // NOLINT(bugprone-empty-catch): then the socket stays unknown
  }
  // Nagle's algorithm would hold an alert behind an unacknowledged PUBACK (see nodelay.hpp).
  if (socket >= 0) {
    detail::disable_nagle(socket);
    ::setsockopt(socket, SOL_SOCKET, SO_RCVBUF, &kReceiveBuffer, sizeof kReceiveBuffer);
  } else {
    detail::disable_nagle_to_port(uri.port());
  }

  std::vector<std::pair<std::string, int>> filters;
  std::vector<std::string> optional;
  {
    std::lock_guard lock(mu_);
    filters = subs_.all;
    optional = subs_.optional;
    subs_.fresh.clear();  // all of them are subscribed now
    socket_ = socket;
  }
  if (filters.empty()) return {};
  std::vector<char*> names;
  std::vector<int> qos;
  for (auto& [f, q] : filters) {
    names.push_back(f.data());
    qos.push_back(q);
  }
  const int src =
      MQTTClient_subscribeMany(handle_, static_cast<int>(names.size()), names.data(), qos.data());
  std::string cause;
  if (src != MQTTCLIENT_SUCCESS && src != 0x80) {
    cause = "subscribe on " + text + " failed: " + describe(src);
  } else {
    // Paho writes the granted QoS, or 0x80 for a refusal, back into `qos`.
    for (std::size_t i = 0; i < filters.size(); ++i) {
      const bool can_do_without =
          std::find(optional.begin(), optional.end(), filters[i].first) != optional.end();
      if (qos[i] >= 0x80 && !can_do_without) {
        cause = "subscribe on " + text + " failed: the broker refused \"" + filters[i].first + "\"";
        break;
      }
    }
  }
  if (!cause.empty()) MQTTClient_disconnect(handle_, 0);
  return cause;
}

// ---- The owner's thread ------------------------------------------------------------------------

std::size_t PahoDrivenClient::drive(milliseconds wait, std::size_t max_messages) {
  if (handler_ == nullptr) return 0;
  if (!owned_ && !take_connection(true)) {
    // Nothing to read: wait for a connection (or a failed attempt to report) or the deadline.
    std::unique_lock lk(mu_);
    cv_.wait_for(lk, wait, [&] { return stopping_ || phase_ == Phase::ready || !causes_.empty(); });
    lk.unlock();
    if (!take_connection(true)) return 0;
    wait = milliseconds(0);
  }
  subscribe_new_filters();
  // What Paho wrote by itself since the last look (acknowledgements) is in the buffer too.
  budget_ = 0;
  send_waiting();
  if (!waiting_.empty()) wait = std::min(wait, kRoomPoll);
  std::size_t n = 0;
  if (owned_) n = receive(wait, max_messages, true);
  if (owned_) settle(false);
  if (owned_) send_waiting();
  return n;
}

// Reports failed attempts, and takes a `ready` connection: the outbox goes out again, in order,
// before on_connected(). Returns whether the connection is the owner's.
bool PahoDrivenClient::take_connection(bool announce) {
  std::vector<std::string> causes;
  bool taken = false;
  {
    std::lock_guard lock(mu_);
    causes.swap(causes_);
    if (phase_ == Phase::ready && !stopping_) {
      phase_ = Phase::owned;
      fd_ = socket_;
      owned_uri_ = brokers_.texts[ready_at_];
      connected_uri_ = owned_uri_;
      taken = true;
    }
  }
  if (announce) {
    for (const std::string& c : causes) handler_->on_disconnected(c);
  }
  if (!taken) return owned_;
  owned_ = true;
  up_.store(true);
  budget_ = 0;
  last_settle_ = Clock::now();
  send_pending();
  if (announce) handler_->on_connected();
  return owned_;
}

// The connection is gone: what was in flight goes out again after the next one (at least once),
// and the connector takes the handle back.
void PahoDrivenClient::lose(const std::string& cause, bool announce) {
  owned_ = false;
  fd_ = -1;
  up_.store(false);
  inflight_ = 0;     // all of the outbox is unsent again
  forget_waiting();  // QoS 0: lost with the connection
  {
    std::lock_guard lock(mu_);
    socket_ = -1;
    connected_uri_.clear();
    phase_ = Phase::connecting;
  }
  cv_.notify_all();
  if (announce) handler_->on_disconnected(cause);
}

void PahoDrivenClient::subscribe_new_filters() {
  std::vector<std::string> gone;
  std::vector<std::pair<std::string, int>> fresh;
  {
    std::lock_guard lock(mu_);
    if (!owned_ || (subs_.fresh.empty() && subs_.gone.empty())) return;
    gone.swap(subs_.gone);
    fresh.swap(subs_.fresh);
  }
  if (!gone.empty()) {
    std::vector<char*> names;
    for (std::string& f : gone) names.push_back(f.data());
    // Blocks for the broker's UNSUBACK, as the subscribe below for its SUBACK; none of these
    // filters is subscribed again on a reconnection.
    MQTTClient_unsubscribeMany(handle_, static_cast<int>(names.size()), names.data());
  }
  if (fresh.empty()) return;
  std::vector<char*> names;
  std::vector<int> qos;
  for (auto& [f, q] : fresh) {
    names.push_back(f.data());
    qos.push_back(q);
  }
  // Blocks for the broker's answer; a failure is retried with every filter on reconnection.
  MQTTClient_subscribeMany(handle_, static_cast<int>(names.size()), names.data(), qos.data());
}

// Reads up to `max_messages`, waiting up to `wait` for the first, and hands each to the handler
// (`deliver`) or lets it go (during stop(): no Handler call follows it); notices a loss.
std::size_t PahoDrivenClient::receive(milliseconds wait, std::size_t max_messages, bool deliver) {
  std::size_t n = 0;
  auto timeout = static_cast<unsigned long>(std::max<milliseconds::rep>(wait.count(), 0));
  while (n < max_messages) {
    char* topic = nullptr;
    int topic_len = 0;
    MQTTClient_message* m = nullptr;
    const int rc = MQTTClient_receive(handle_, &topic, &topic_len, &m, timeout);
    timeout = 0;  // then only what is there already
    if (rc != MQTTCLIENT_SUCCESS && rc != MQTTCLIENT_TOPICNAME_TRUNCATED) {
      if (m != nullptr) MQTTClient_freeMessage(&m);
      if (topic != nullptr) MQTTClient_free(topic);
      lose("connection to " + owned_uri_ + " lost: " + describe(rc), deliver);
      break;
    }
    if (m == nullptr) {
      // Nothing more; Paho closes the connection itself when the keep-alive goes unanswered.
      if (MQTTClient_isConnected(handle_) == 0) {
        lose("connection to " + owned_uri_ + " lost: keep-alive unanswered or socket closed",
             deliver);
      }
      break;
    }
    ++n;
    if (deliver) {
      detail::Counters::add(counters_.received);
      const std::string_view t(topic, static_cast<std::size_t>(topic_len));
      const std::string_view p(static_cast<const char*>(m->payload),
                               static_cast<std::size_t>(std::max(m->payloadlen, 0)));
      try {
        handler_->on_message(t, p);
      } catch (...) {  // NOLINT(bugprone-empty-catch): the handler's to report; the loop goes on
      }
    }
    MQTTClient_freeMessage(&m);
    MQTTClient_free(topic);
  }
  return n;
}

// Whether a message of `bytes` fits whole in the socket's send buffer now. Looks at the buffer
// when the room seen at the last look is spent.
bool PahoDrivenClient::room(std::size_t bytes) {
  const int fd = fd_;
  if (fd < 0) return true;  // unknown: trust the buffer
  const long need = static_cast<long>(bytes) + kPacketOverhead;
  if (budget_ >= need) {
    budget_ -= need;
    return true;
  }
  std::uint32_t mem[SK_MEMINFO_VARS] = {};
  socklen_t len = sizeof mem;
  if (::getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mem, &len) != 0 ||
      len < (SK_MEMINFO_WMEM_QUEUED + 1) * sizeof mem[0]) {
    return true;
  }
  const long free_bytes = static_cast<long>(mem[SK_MEMINFO_SNDBUF]) -
                          static_cast<long>(mem[SK_MEMINFO_WMEM_QUEUED]) - kMinRoom;
  if (free_bytes < need) {
    budget_ = 0;
    return false;
  }
  budget_ = free_bytes - need;
  return true;
}

bool PahoDrivenClient::publish(std::string_view topic, std::string_view payload, int qos,
                               bool retained) {
  if (qos < 0 || qos > 2 || !valid_topic_name(topic) || stopped_ ||
      payload.size() > static_cast<std::size_t>(INT_MAX)) {
    detail::Counters::add(counters_.dropped);
    return false;
  }
  if (qos == 0) {
    if (!owned_) {
      detail::Counters::add(counters_.dropped);
      return false;
    }
    // Alerts first: a QoS 0 message waits while a QoS >= 1 one waits for room in the send
    // buffer (not while one waits for the broker's acknowledgements to free a place in flight:
    // states then go on), and behind those that wait already, so that each topic's messages keep
    // their order.
    if (outbox_.size() > inflight_ || !waiting_.empty()) send_waiting();
    if (reliable_needs_room() || !waiting_.empty() || !room_for(topic, payload)) {
      return hold(topic, payload, retained);
    }
    topic_buf_.assign(topic);
    return write_qos0(topic_buf_.c_str(), payload, retained);
  }
  if (options_.max_outbox == 0) {
    detail::Counters::add(counters_.dropped);
    return false;
  }
  if (outbox_.size() >= options_.max_outbox && !drop_oldest_reliable()) {
    detail::Counters::add(counters_.dropped);  // every message kept is in flight
    return false;
  }
  outbox_.push_back(Pending{std::string(topic), std::string(payload), qos, retained, 0});
  counters_.outbox.store(outbox_.size(), std::memory_order_relaxed);
  if (owned_) send_pending();
  return true;
}

// Hands the outbox's unsent messages to Paho, in order, while there is room.
void PahoDrivenClient::send_pending() {
  // The messages handed to Paho are the outbox's first inflight_ (sent in order, forgotten once
  // acknowledged, all unsent again after a loss): start after them.
  needs_room_ = false;
  for (auto it = outbox_.begin() + static_cast<std::ptrdiff_t>(inflight_); it != outbox_.end();
       ++it) {
    if (!owned_ || inflight_ >= static_cast<std::size_t>(kMaxInflight)) return;
    Pending& p = *it;
    MQTTClient_deliveryToken token = 0;
    if (!room_for(p.topic, p.payload) ||
        MQTTClient_publish(handle_, p.topic.c_str(), static_cast<int>(p.payload.size()),
                           p.payload.data(), p.qos, p.retained ? 1 : 0,
                           &token) != MQTTCLIENT_SUCCESS) {
      needs_room_ = true;  // tried again with the next send, or after a loss
      return;
    }
    p.token = token;
    ++inflight_;
    detail::Counters::add(counters_.published);
  }
}

// Keeps a QoS 0 message that found no room, replacing the one of its topic that still waits.
bool PahoDrivenClient::hold(std::string_view topic, std::string_view payload, bool retained) {
  return waiting_.hold(topic, payload, retained);
}

// Writes the waiting QoS 0 messages, oldest topic first, while there is room and no QoS >= 1
// message waits.
void PahoDrivenClient::send_waiting() {
  if (outbox_.size() > inflight_) send_pending();
  waiting_.drain([&](std::string_view topic, std::string_view payload, bool retained) {
    if (!owned_ || reliable_needs_room() || !room_for(topic, payload)) return false;
    topic_buf_.assign(topic);
    write_qos0(topic_buf_.c_str(), payload, retained);
    return true;
  });
}

bool PahoDrivenClient::write_qos0(const char* topic, std::string_view payload, bool retained) {
  if (MQTTClient_publish(handle_, topic, static_cast<int>(payload.size()), payload.data(), 0,
                         retained ? 1 : 0, nullptr) != MQTTCLIENT_SUCCESS) {
    detail::Counters::add(counters_.dropped);
    return false;
  }
  detail::Counters::add(counters_.published);
  return true;
}

void PahoDrivenClient::forget_waiting() {
  waiting_.forget();
}

// Forgets the messages the broker has acknowledged: those Paho no longer lists as pending.
void PahoDrivenClient::settle(bool now) {
  if (inflight_ == 0) {
    send_pending();
    return;
  }
  const auto t = Clock::now();
  if (!now && t - last_settle_ < kSettleEvery) return;
  last_settle_ = t;
  MQTTClient_deliveryToken* tokens = nullptr;
  if (MQTTClient_getPendingDeliveryTokens(handle_, &tokens) != MQTTCLIENT_SUCCESS) return;
  pending_tokens_.clear();
  for (const MQTTClient_deliveryToken* p = tokens; p != nullptr && *p != -1; ++p) {
    pending_tokens_.push_back(*p);
  }
  MQTTClient_free(tokens);
  std::sort(pending_tokens_.begin(), pending_tokens_.end());
  // One pass over the messages in flight (the outbox's first inflight_), keeping those Paho
  // still lists, in order.
  const auto in_flight_end = outbox_.begin() + static_cast<std::ptrdiff_t>(inflight_);
  const auto kept_end =
      std::stable_partition(outbox_.begin(), in_flight_end, [&](const Pending& p) {
        return std::binary_search(pending_tokens_.begin(), pending_tokens_.end(), p.token);
      });
  const auto acknowledged = static_cast<std::size_t>(in_flight_end - kept_end);
  outbox_.erase(kept_end, in_flight_end);
  inflight_ -= acknowledged;
  detail::Counters::add(counters_.delivered, acknowledged);
  counters_.outbox.store(outbox_.size(), std::memory_order_relaxed);
  send_pending();
}

// Drops the oldest message not yet handed to Paho: one in flight stays in Paho's own list until
// the broker acknowledges it, and forgetting it here would let Paho's count of messages in
// flight pass its limit, where its publish blocks. Returns false when all are in flight.
bool PahoDrivenClient::drop_oldest_reliable() {
  if (outbox_.size() <= inflight_) return false;
  outbox_.erase(outbox_.begin() + static_cast<std::ptrdiff_t>(inflight_));
  detail::Counters::add(counters_.dropped);
  return true;
}

bool PahoDrivenClient::stop(const std::optional<Will>& last, milliseconds timeout) {
  std::lock_guard stop_lock(stop_mu_);
  if (stopped_) return stop_result_;
  bool running = false;
  {
    std::lock_guard lock(mu_);
    running = started_;
  }
  if (running && last) publish(last->topic, last->payload, std::max(1, last->qos), last->retained);
  // Until the outbox is acknowledged or the deadline: a connection made meanwhile is taken
  // (silently: no Handler call follows stop()), and what arrives is read and let go.
  const auto deadline = Clock::now() + timeout;
  while (running && !outbox_.empty() && Clock::now() < deadline) {
    if (!owned_) {
      take_connection(false);
      if (!owned_) {
        std::unique_lock lk(mu_);
        cv_.wait_until(lk, std::min(deadline, Clock::now() + milliseconds(10)),
                       [&] { return phase_ == Phase::ready; });
        continue;
      }
    }
    receive(milliseconds(5), 1, false);
    if (owned_) settle(true);
  }
  const bool drained = outbox_.empty();
  forget_waiting();
  if (owned_) {
    // A clean DISCONNECT: the broker does not publish the will.
    MQTTClient_disconnect(handle_, 100);
    owned_ = false;
    up_.store(false);
    std::lock_guard lock(mu_);
    connected_uri_.clear();
  }
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (connector_.joinable()) connector_.join();
  {
    std::lock_guard lock(mu_);
    // A connection handed over but never taken.
    if (phase_ == Phase::ready) MQTTClient_disconnect(handle_, 0);
  }
  stopped_ = true;
  stop_result_ = drained;
  return drained;
}

}  // namespace

std::unique_ptr<Client> make_paho_driven_client(const ConnectOptions& options) {
  return std::make_unique<PahoDrivenClient>(options);
}

}  // namespace twind::mqtt
