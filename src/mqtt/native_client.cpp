// twind's own MQTT 3.1.1 client, driven by its owner's loop (make_native_client in client.hpp).
//
// Why it exists: both Paho clients cost more CPU per message than the broker that routes it.
// Paho C reads every packet with three system calls (the header byte, the length, the rest),
// writes every packet with one, and takes a mutex at each of its functions' entries and exits
// (its stack tracing is compiled in). This client reads whatever the socket holds into one
// buffer (one recv for many packets), parses the packets in place (a message reaches the handler
// as views into that buffer: no copy, no allocation), and writes what was published since the
// last write in one send. A QoS >= 1 message is written at once, with whatever QoS 0 messages
// are queued before it, so an alert never waits for a batch.
//
// Threads: one thread of ours makes the connection attempts (blocking, each step bounded by
// kStepTimeout): TCP, TLS, CONNECT and CONNACK, SUBSCRIBE and SUBACK. It hands a connection
// over, subscribed, with the bytes it read past the SUBACK, through mu_; from then on the owner's
// thread alone reads and writes it, until it is lost and handed back.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <climits>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <deque>
#include <memory>
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
#include "subscriptions.hpp"
#include "tls_probe.hpp"
#include "twind/mqtt/broker_uri.hpp"
#include "twind/mqtt/client.hpp"
#include "twind/mqtt/internal/backoff.hpp"
#include "twind/mqtt/internal/wire.hpp"
#include "twind/mqtt/topic.hpp"

namespace twind::mqtt {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Each step of a connection attempt (TCP connect, TLS handshake, CONNACK, SUBACK) gives up
// after this; stop() may wait for an attempt in progress about this long.
constexpr milliseconds kStepTimeout{3000};
// QoS >= 1 messages written and not yet acknowledged, at most (further ones wait in the outbox).
constexpr std::size_t kMaxInflight = 1024;
// Bytes asked of the socket per read.
constexpr std::size_t kReadChunk = 64 * 1024;
// Bytes published but not yet taken by the kernel, at most: past it, QoS 0 messages wait (the
// newest of each topic) and QoS >= 1 ones stay in the outbox. With the kernel's own send buffer,
// this bounds what a hung broker makes twind hold.
constexpr std::size_t kOutLimit = 1024 * 1024;
// Reads that found messages start at least this far apart while messages keep coming (see
// drive()).
constexpr milliseconds kReadGap{2};
// QoS 0 messages queued past this are written without waiting for the end of the batch.
constexpr std::size_t kFlushAt = 64 * 1024;
// The socket's receive buffer, as for the driven Paho client: the backlog of a twin that cannot
// keep up stays at the broker, which drops what a slow subscriber cannot take.
constexpr int kReceiveBuffer = 1 << 20;
// While messages wait for room, the longest the owner's loop waits for input before it looks
// again at the send buffer.
constexpr milliseconds kRoomPoll{2};

std::string errno_text(int e) {
  return std::strerror(e);
}

// OpenSSL's queued errors in words (the last one), then cleared.
std::string openssl_text() {
  std::string text;
  while (const unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    text = buf;
  }
  return text.empty() ? "unknown TLS error" : text;
}

bool is_ip_literal(const std::string& host) {
  in6_addr a6{};
  in_addr a4{};
  return ::inet_pton(AF_INET, host.c_str(), &a4) == 1 ||
         ::inet_pton(AF_INET6, host.c_str(), &a6) == 1;
}

// Bytes read from the connection and not yet parsed: [begin, end) of a buffer that grows to
// hold the largest packet seen.
class InBuffer {
 public:
  InBuffer() = default;
  InBuffer(const InBuffer&) = delete;
  InBuffer& operator=(const InBuffer&) = delete;
  // A moved-from buffer is empty and has no room, ready to grow again.
  InBuffer(InBuffer&& o) noexcept
      : data_(std::move(o.data_)),
        cap_(std::exchange(o.cap_, 0)),
        begin_(std::exchange(o.begin_, 0)),
        end_(std::exchange(o.end_, 0)) {}
  InBuffer& operator=(InBuffer&& o) noexcept {
    data_ = std::move(o.data_);
    cap_ = std::exchange(o.cap_, 0);
    begin_ = std::exchange(o.begin_, 0);
    end_ = std::exchange(o.end_, 0);
    return *this;
  }
  ~InBuffer() = default;

  [[nodiscard]] std::string_view view() const noexcept {
    return {data_.get() + begin_, end_ - begin_};
  }
  void consume(std::size_t n) noexcept {
    begin_ += n;
    if (begin_ == end_) begin_ = end_ = 0;
  }
  // Room for at least `want` bytes after end(); the unparsed bytes are kept.
  char* space(std::size_t want) {
    if (cap_ - end_ >= want) return data_.get() + end_;
    const std::size_t used = end_ - begin_;
    if (cap_ - used >= want && begin_ > 0) {
      std::memmove(data_.get(), data_.get() + begin_, used);
    } else {
      const std::size_t cap = std::max(cap_ * 2, used + want);
      auto grown = std::make_unique_for_overwrite<char[]>(cap);
      if (used > 0) std::memcpy(grown.get(), data_.get() + begin_, used);
      data_ = std::move(grown);
      cap_ = cap;
    }
    begin_ = 0;
    end_ = used;
    return data_.get() + end_;
  }
  void commit(std::size_t n) noexcept { end_ += n; }
  void clear() noexcept { begin_ = end_ = 0; }

 private:
  std::unique_ptr<char[]> data_;
  std::size_t cap_ = 0;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
};

// One connection to the broker: a socket, TLS over it or not, and what was read from it.
class Connection {
 public:
  Connection() = default;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  Connection(Connection&& o) noexcept { *this = std::move(o); }
  Connection& operator=(Connection&& o) noexcept {
    if (this != &o) {
      close();
      fd_ = std::exchange(o.fd_, -1);
      ssl_ = std::exchange(o.ssl_, nullptr);
      in = std::move(o.in);
    }
    return *this;
  }
  ~Connection() { close(); }

  [[nodiscard]] bool open() const noexcept { return fd_ >= 0; }
  [[nodiscard]] int fd() const noexcept { return fd_; }
  void adopt(int fd) {
    close();
    fd_ = fd;
  }
  void set_tls(SSL* ssl) noexcept { ssl_ = ssl; }
  [[nodiscard]] SSL* tls() const noexcept { return ssl_; }
  // Whether TLS holds decrypted bytes that the socket will not signal again.
  [[nodiscard]] bool buffered() const noexcept { return ssl_ != nullptr && SSL_pending(ssl_) > 0; }

  // Reads what the connection holds, up to kReadChunk, into `in`. Returns the bytes read, 0 when
  // nothing is there now (or a blocking read timed out), -1 when the connection is closed or
  // failed (with `cause`).
  long fill(std::string& cause) {
    char* at = in.space(kReadChunk);
    if (ssl_ != nullptr) {
      ERR_clear_error();
      const int r = SSL_read(ssl_, at, static_cast<int>(kReadChunk));
      if (r > 0) {
        in.commit(static_cast<std::size_t>(r));
        return r;
      }
      const int e = SSL_get_error(ssl_, r);
      if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return 0;
      if (e == SSL_ERROR_ZERO_RETURN) {
        cause = "closed by the broker";
      } else if (e == SSL_ERROR_SYSCALL && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        return 0;
      } else {
        cause =
            e == SSL_ERROR_SYSCALL && r == 0 ? "closed by the broker" : "TLS: " + openssl_text();
      }
      return -1;
    }
    const ssize_t r = ::recv(fd_, at, kReadChunk, 0);
    if (r > 0) {
      in.commit(static_cast<std::size_t>(r));
      return r;
    }
    if (r == 0) {
      cause = "closed by the broker";
      return -1;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return 0;
    cause = errno_text(errno);
    return -1;
  }

  // Writes up to `n` bytes. Returns the bytes taken (0: none now), -1 on failure (with `cause`).
  long write(const char* data, std::size_t n, std::string& cause) {
    if (n == 0) return 0;
    if (ssl_ != nullptr) {
      ERR_clear_error();
      const int r = SSL_write(ssl_, data, static_cast<int>(std::min<std::size_t>(n, INT_MAX)));
      if (r > 0) return r;
      const int e = SSL_get_error(ssl_, r);
      if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return 0;
      cause = "TLS: " + openssl_text();
      return -1;
    }
    const ssize_t r = ::send(fd_, data, n, MSG_NOSIGNAL);
    if (r >= 0) return r;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return 0;
    cause = errno_text(errno);
    return -1;
  }

  void close() noexcept {
    if (ssl_ != nullptr) {
      SSL_free(ssl_);
      ssl_ = nullptr;
    }
    if (fd_ >= 0) {
      ::close(fd_);
      fd_ = -1;
    }
    in.clear();
  }

  InBuffer in;

 private:
  int fd_ = -1;
  SSL* ssl_ = nullptr;
};

// A DISCONNECT, so that the broker does not publish the will, then the connection closed. One
// attempt at the write: a full send buffer (a hung broker) is not waited for.
void disconnect_cleanly(Connection& conn) {
  std::string bytes;
  wire::append_disconnect(bytes);
  std::string cause;
  conn.write(bytes.data(), bytes.size(), cause);
  conn.close();
}

class NativeClient final : public Client {
 public:
  explicit NativeClient(const ConnectOptions& options);
  ~NativeClient() override;

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
    bool sent_before = false;  // written on an earlier connection: DUP when written again
    std::uint16_t id = 0;      // while in flight
  };

  // Connector thread.
  void connector();
  // One attempt on brokers_ `at`. Returns the cause of a failure, or "" with `conn` connected
  // and subscribed.
  std::string attempt(std::size_t at, Connection& conn);
  static std::string open_socket(const BrokerUri& uri, Connection& conn);
  std::string handshake(const BrokerUri& uri, Connection& conn);
  // Reads (blocking, bounded by the socket's timeout) until a packet of `type` is at the front
  // of conn.in; packets before it are kept in `early`. Returns a failure's cause, or "".
  std::string await(Connection& conn, wire::Type type, std::string& early, wire::Packet& p,
                    std::size_t& size);
  std::string write_all(Connection& conn, std::string_view bytes);

  // Owner's thread.
  bool take_connection(bool announce);
  void lose(const std::string& cause, bool announce);
  void subscribe_new_filters();
  std::size_t receive(milliseconds wait, std::size_t max_messages, bool deliver);
  // Handles the packets in the buffer, delivering at most `limit` messages.
  std::size_t parse(std::size_t limit, bool deliver);
  bool wait_readable(milliseconds wait);
  void acknowledge(std::uint16_t id);
  void keepalive(Clock::time_point now);
  void flush();
  void send_pending();
  void send_waiting();
  bool hold(std::string_view topic, std::string_view payload, bool retained);
  void forget_waiting();
  std::uint16_t next_id();
  [[nodiscard]] std::size_t unwritten() const noexcept { return out_.size() - out_at_; }
  [[nodiscard]] bool room(std::size_t bytes) const noexcept {
    return unwritten() + bytes <= kOutLimit;
  }
  [[nodiscard]] bool reliable_needs_room() const noexcept {
    return needs_room_ && outbox_.size() > inflight_;
  }
  bool drop_oldest_reliable();

  const ConnectOptions options_;
  const detail::Brokers brokers_;
  Handler* handler_ = nullptr;

  // Shared, under mu_.
  mutable std::mutex mu_;
  std::condition_variable cv_;
  Phase phase_ = Phase::connecting;
  Connection ready_;                 // handed over by the connector
  std::size_t ready_at_ = 0;         // its broker (brokers_)
  std::string connected_uri_;        // while owned
  std::vector<std::string> causes_;  // failed attempts, for the owner to report
  detail::Subscriptions subs_;
  bool started_ = false;
  bool stopping_ = false;
  std::thread connector_;
  std::atomic<bool> abort_{false};  // the connector gives up its attempt

  detail::Counters counters_;
  std::atomic<bool> up_{false};

  // The owner's.
  bool owned_ = false;
  std::string owned_uri_;  // the connection's broker, while owned
  Connection conn_;
  std::string broken_;  // why the connection failed, noticed where it cannot be reported
  std::string out_;     // packets not yet taken by the kernel, from out_at_
  std::size_t out_at_ = 0;
  std::deque<Pending> outbox_;  // QoS >= 1, in publish order, until acknowledged
  std::size_t inflight_ = 0;    // of outbox_, the ones written on this connection: its first
  std::vector<bool> id_used_ = std::vector<bool>(65536, false);
  std::vector<bool> qos2_in_ = std::vector<bool>(65536, false);  // received, awaiting PUBREL
  std::uint16_t last_id_ = 0;
  detail::WaitingMessages waiting_{counters_};
  bool needs_room_ = false;
  Clock::time_point last_sent_{};
  Clock::time_point last_heard_{};
  Clock::time_point last_read_{};  // the end of the latest drive()'s reading
  bool read_some_ = false;         // that reading found messages, and no backlog
  std::optional<Clock::time_point> ping_sent_;
  std::mutex stop_mu_;
  bool stopped_ = false;
  bool stop_result_ = false;
  // The connector's: the reason for the TLS failures since the last connection.
  std::optional<std::string> tls_reason_;
};

NativeClient::NativeClient(const ConnectOptions& options)
    : options_(options), brokers_(detail::checked_uris(options)) {
  for (std::size_t i = 0; i < brokers_.uris.size(); ++i) {
    const BrokerUri::Scheme scheme = brokers_.uris[i].scheme();
    if (scheme == BrokerUri::Scheme::ws || scheme == BrokerUri::Scheme::wss) {
      throw std::invalid_argument("broker URI \"" + brokers_.texts[i] +
                                  "\": the native client speaks MQTT over TCP and TLS, not over "
                                  "WebSocket (use the driven or threaded client)");
    }
  }
}

NativeClient::~NativeClient() {
  stop(std::nullopt, milliseconds(0));
}

void NativeClient::start(Handler& handler) {
  std::lock_guard lock(mu_);
  if (started_ || stopping_) return;
  handler_ = &handler;
  started_ = true;
  connector_ = std::thread([this] { connector(); });
}

void NativeClient::subscribe(const std::vector<std::string>& filters, int qos) {
  check_subscription(filters, qos);
  std::lock_guard lock(mu_);
  subs_.add(filters, qos);
}

void NativeClient::subscribe_optional(const std::vector<std::string>& filters, int qos) {
  check_subscription(filters, qos);
  {
    std::lock_guard lock(mu_);
    subs_.add_optional(filters);
  }
  subscribe(filters, qos);
}

void NativeClient::unsubscribe(const std::vector<std::string>& filters) {
  check_subscription(filters, 0);
  std::lock_guard lock(mu_);
  subs_.remove(filters);
}

std::string NativeClient::connected_uri() const {
  std::lock_guard lock(mu_);
  return connected_uri_;
}

ClientStats NativeClient::stats() const {
  return counters_.snapshot();
}

// ---- The connector thread ----------------------------------------------------------------------

void NativeClient::connector() {
  std::random_device seed;
  internal::Backoff backoff(options_.min_retry, options_.max_retry,
                            (static_cast<std::uint64_t>(seed()) << 32) ^ seed());
  detail::UriRotation rotation(brokers_.uris.size());
  std::unique_lock lk(mu_);
  while (!stopping_) {
    const std::size_t at = rotation.current();
    lk.unlock();
    Connection conn;
    const std::string cause = attempt(at, conn);
    lk.lock();
    if (cause.empty()) {
      detail::Counters::add(counters_.connects);
      backoff.reset();
      rotation.connected();
      ready_at_ = at;
      if (stopping_) {
        // Made while stop() waited for this attempt: leave cleanly (no will).
        lk.unlock();
        disconnect_cleanly(conn);
        return;
      }
      ready_ = std::move(conn);
      phase_ = Phase::ready;
      cv_.notify_all();
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

std::string NativeClient::attempt(std::size_t broker, Connection& conn) {
  const BrokerUri& uri = brokers_.uris[broker];
  const std::string& text = brokers_.texts[broker];
  const std::string prefix = "connect to " + text + " failed: ";
  std::string cause = open_socket(uri, conn);
  if (!cause.empty()) return prefix + cause;
  if (uri.tls()) {
    cause = handshake(uri, conn);
    if (!cause.empty()) return prefix + cause;
  }
  std::string early;  // packets read before the one awaited, for the owner
  std::string bytes;
  wire::ConnectFields c;
  c.client_id = options_.client_id;
  c.keepalive_s =
      static_cast<std::uint16_t>(std::clamp<long long>(options_.keepalive.count(), 0, 65535));
  c.clean_session = options_.clean_session;
  c.username = options_.username;
  c.password = options_.password;
  if (options_.will) {
    c.will = wire::WillFields{options_.will->topic, options_.will->payload, options_.will->qos,
                              options_.will->retained};
  }
  wire::append_connect(bytes, c);
  cause = write_all(conn, bytes);
  wire::Packet p;
  std::size_t size = 0;
  if (cause.empty()) cause = await(conn, wire::Type::connack, early, p, size);
  if (!cause.empty()) {
    if (uri.tls()) {
      if (!tls_reason_) tls_reason_ = detail::diagnose_broker_tls(uri, options_.tls);
      if (!tls_reason_->empty()) cause += ": TLS: " + *tls_reason_;
    }
    return prefix + cause;
  }
  bool session_present = false;
  int rc = 0;
  if (!wire::read_connack(p, session_present, rc)) return prefix + "malformed CONNACK";
  conn.in.consume(size);
  if (rc != 0) {
    const std::string refusal = detail::connack_text(rc);
    return prefix + (refusal.empty() ? "CONNACK " + std::to_string(rc)
                                     : refusal + " (CONNACK " + std::to_string(rc) + ")");
  }
  tls_reason_.reset();

  std::vector<std::pair<std::string, int>> filters;
  std::vector<std::string> optional;
  {
    std::lock_guard lock(mu_);
    filters = subs_.all;
    optional = subs_.optional;
    subs_.fresh.clear();  // all of them are subscribed now
  }
  if (!filters.empty()) {
    bytes.clear();
    wire::append_subscribe(bytes, 1, filters);
    cause = write_all(conn, bytes);
    if (cause.empty()) cause = await(conn, wire::Type::suback, early, p, size);
    if (!cause.empty()) return "subscribe on " + text + " failed: " + cause;
    std::uint16_t id = 0;
    std::string_view codes;
    if (!wire::read_suback(p, id, codes) || codes.size() != filters.size()) {
      return "subscribe on " + text + " failed: malformed SUBACK";
    }
    for (std::size_t i = 0; i < filters.size(); ++i) {
      const bool can_do_without =
          std::find(optional.begin(), optional.end(), filters[i].first) != optional.end();
      if (static_cast<unsigned char>(codes[i]) >= 0x80 && !can_do_without) {
        return "subscribe on " + text + " failed: the broker refused \"" + filters[i].first + "\"";
      }
    }
    conn.in.consume(size);
  }
  // What came before the SUBACK goes first, then what came after it.
  if (!early.empty()) {
    const std::string rest(conn.in.view());
    conn.in.clear();
    char* at = conn.in.space(early.size() + rest.size());
    std::memcpy(at, early.data(), early.size());
    std::memcpy(at + early.size(), rest.data(), rest.size());
    conn.in.commit(early.size() + rest.size());
  }
  // From now on the owner's loop reads and writes without blocking.
  const int flags = ::fcntl(conn.fd(), F_GETFL, 0);
  ::fcntl(conn.fd(), F_SETFL, flags | O_NONBLOCK);
  timeval none{};
  ::setsockopt(conn.fd(), SOL_SOCKET, SO_RCVTIMEO, &none, sizeof none);
  ::setsockopt(conn.fd(), SOL_SOCKET, SO_SNDTIMEO, &none, sizeof none);
  return {};
}

std::string NativeClient::open_socket(const BrokerUri& uri, Connection& conn) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_family = AF_UNSPEC;
  addrinfo* found = nullptr;
  const int g =
      ::getaddrinfo(uri.host().c_str(), std::to_string(uri.port()).c_str(), &hints, &found);
  if (g != 0) return "cannot resolve \"" + uri.host() + "\": " + ::gai_strerror(g);
  const std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> list(found, &::freeaddrinfo);
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(kStepTimeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((kStepTimeout.count() % 1000) * 1000);
  std::string cause = "no address";
  for (const addrinfo* a = found; a != nullptr; a = a->ai_next) {
    const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) {
      cause = errno_text(errno);
      continue;
    }
    // Bounds the connect (SO_SNDTIMEO) and every blocking read and write of the attempt.
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (::connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
      const int one = 1;
      // Nagle's algorithm would hold an alert behind an unacknowledged packet.
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &kReceiveBuffer, sizeof kReceiveBuffer);
      conn.adopt(fd);
      return {};
    }
    cause = errno == EINPROGRESS || errno == EAGAIN ? "timed out" : errno_text(errno);
    ::close(fd);
  }
  return cause;
}

std::string NativeClient::handshake(const BrokerUri& uri, Connection& conn) {
  const std::unique_ptr<SSL_CTX, decltype(&::SSL_CTX_free)> ctx(SSL_CTX_new(TLS_client_method()),
                                                                &::SSL_CTX_free);
  if (!ctx) return "TLS: " + openssl_text();
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  const std::optional<Tls>& tls = options_.tls;
  const bool ca = tls && !tls->ca_file.empty();
  if ((ca ? SSL_CTX_load_verify_locations(ctx.get(), tls->ca_file.c_str(), nullptr)
          : SSL_CTX_set_default_verify_paths(ctx.get())) != 1) {
    return "TLS: cannot load the trust store" + (ca ? " " + tls->ca_file : std::string()) + ": " +
           openssl_text();
  }
  if (tls && !tls->cert_file.empty()) {
    if (SSL_CTX_use_certificate_chain_file(ctx.get(), tls->cert_file.c_str()) != 1 ||
        SSL_CTX_use_PrivateKey_file(
            ctx.get(), (tls->key_file.empty() ? tls->cert_file : tls->key_file).c_str(),
            SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx.get()) != 1) {
      return "TLS: cannot use the client certificate " + tls->cert_file + ": " + openssl_text();
    }
  }
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  SSL_CTX_set_mode(ctx.get(), SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL* ssl = SSL_new(ctx.get());
  if (ssl == nullptr) return "TLS: " + openssl_text();
  conn.set_tls(ssl);  // freed with the connection
  SSL_set_fd(ssl, conn.fd());
  const std::string& host = uri.host();
  if (is_ip_literal(host)) {
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str());
  } else {
    // SSL_set_tlsext_host_name() is a macro with an old-style cast.
    SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
             const_cast<char*>(host.c_str()));
    SSL_set1_host(ssl, host.c_str());
  }
  ERR_clear_error();
  if (SSL_connect(ssl) == 1) return {};
  const long verify = SSL_get_verify_result(ssl);
  std::string reason;
  if (verify != X509_V_OK) {
    reason = std::string("certificate verify failed: ") + X509_verify_cert_error_string(verify);
  } else {
    reason = detail::diagnose_broker_tls(uri, options_.tls);
    if (reason.empty()) reason = openssl_text();
  }
  tls_reason_ = reason;
  return "TLS: " + reason;
}

std::string NativeClient::write_all(Connection& conn, std::string_view bytes) {
  std::string cause;
  while (!bytes.empty()) {
    if (abort_.load()) return "stopped";
    const long n = conn.write(bytes.data(), bytes.size(), cause);
    if (n < 0) return cause;
    if (n == 0) return "timed out writing";
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

std::string NativeClient::await(Connection& conn, wire::Type type, std::string& early,
                                wire::Packet& p, std::size_t& size) {
  const auto deadline = Clock::now() + kStepTimeout;
  std::string cause;
  while (true) {
    switch (wire::next_packet(conn.in.view(), p, size)) {
      case wire::Parse::ok:
        if (p.type == type) return {};
        early.append(conn.in.view().substr(0, size));
        conn.in.consume(size);
        continue;
      case wire::Parse::malformed:
        return "malformed packet from the broker";
      case wire::Parse::incomplete:
        break;
    }
    if (abort_.load()) return "stopped";
    if (Clock::now() >= deadline)
      return "no answer within " + std::to_string(kStepTimeout.count()) + " ms";
    const long n = conn.fill(cause);
    if (n < 0) return cause;
    if (n == 0 && !conn.buffered()) {
      return "no answer within " + std::to_string(kStepTimeout.count()) + " ms";
    }
  }
}

// ---- The owner's thread ------------------------------------------------------------------------

std::size_t NativeClient::drive(milliseconds wait, std::size_t max_messages) {
  if (handler_ == nullptr) return 0;
  if (!owned_ && !take_connection(true)) {
    std::unique_lock lk(mu_);
    cv_.wait_for(lk, wait, [&] { return stopping_ || phase_ == Phase::ready || !causes_.empty(); });
    lk.unlock();
    if (!take_connection(true)) return 0;
    wait = milliseconds(0);
  }
  subscribe_new_filters();
  send_waiting();
  flush();
  if (!waiting_.empty()) wait = std::min(wait, kRoomPoll);
  // Under a fleet's thousands of messages a second, one wake-up and one recv per message cost
  // more than the message itself: after a read that found messages (and no backlog), the next
  // waits for the end of kReadGap, then takes all that came meanwhile. The loop wakes about 500
  // times a second for a few messages each (at 1,000 assets, a third less CPU per message). A
  // message that comes alone after a quiet spell is read at once; one that comes during the gap
  // waits up to kReadGap, which adds to its latency and, for a value without ts, to the error of
  // its arrival stamp. The pause comes after the flush above (what the owner published goes out
  // first) and never outlasts `wait` (the owner's next tick).
  if (read_some_ && owned_ && broken_.empty()) {
    const Clock::time_point now = Clock::now();
    const Clock::time_point until = std::min(last_read_ + kReadGap, now + wait);
    if (until > now) {
      std::this_thread::sleep_until(until);
      wait = std::max(milliseconds(0), wait - std::chrono::ceil<milliseconds>(until - now));
    }
  }
  std::size_t n = 0;
  if (owned_ && broken_.empty()) {
    n = receive(wait, max_messages, true);
    read_some_ = n > 0 && n < max_messages;
    last_read_ = Clock::now();
  }
  if (owned_ && broken_.empty()) {
    send_pending();
    send_waiting();
    keepalive(Clock::now());
    flush();
  }
  if (owned_ && !broken_.empty()) lose("connection to " + owned_uri_ + " lost: " + broken_, true);
  return n;
}

bool NativeClient::take_connection(bool announce) {
  std::vector<std::string> causes;
  bool taken = false;
  {
    std::lock_guard lock(mu_);
    causes.swap(causes_);
    if (phase_ == Phase::ready && !stopping_) {
      phase_ = Phase::owned;
      conn_ = std::move(ready_);
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
  broken_.clear();
  up_.store(true);
  last_sent_ = last_heard_ = Clock::now();
  ping_sent_.reset();
  send_pending();
  flush();
  if (announce) handler_->on_connected();
  return owned_;
}

void NativeClient::lose(const std::string& cause, bool announce) {
  owned_ = false;
  up_.store(false);
  conn_.close();
  broken_.clear();
  out_.clear();
  out_at_ = 0;
  for (std::size_t i = 0; i < inflight_; ++i) {
    id_used_[outbox_[i].id] = false;
    outbox_[i].sent_before = true;
  }
  inflight_ = 0;  // all of the outbox is unsent again
  std::fill(qos2_in_.begin(), qos2_in_.end(), false);
  std::fill(id_used_.begin(), id_used_.end(), false);
  needs_room_ = false;
  forget_waiting();  // QoS 0: lost with the connection
  {
    std::lock_guard lock(mu_);
    connected_uri_.clear();
    phase_ = Phase::connecting;
  }
  cv_.notify_all();
  if (announce) handler_->on_disconnected(cause);
}

std::uint16_t NativeClient::next_id() {
  // At most kMaxInflight + a few SUBSCRIBEs are in use: a free one is near.
  do {
    last_id_ = static_cast<std::uint16_t>(last_id_ + 1);
  } while (last_id_ == 0 || id_used_[last_id_]);
  id_used_[last_id_] = true;
  return last_id_;
}

void NativeClient::subscribe_new_filters() {
  std::vector<std::string> gone;
  std::vector<std::pair<std::string, int>> fresh;
  {
    std::lock_guard lock(mu_);
    if (!owned_ || (subs_.fresh.empty() && subs_.gone.empty())) return;
    gone.swap(subs_.gone);
    fresh.swap(subs_.fresh);
  }
  // The UNSUBACK frees its id (parse()); none of these filters is subscribed on a reconnection.
  if (!gone.empty()) wire::append_unsubscribe(out_, next_id(), gone);
  // The SUBACK frees the id (parse()); a refusal is tried again with every filter on the next
  // connection.
  if (!fresh.empty()) wire::append_subscribe(out_, next_id(), fresh);
  flush();
}

std::size_t NativeClient::receive(milliseconds wait, std::size_t max_messages, bool deliver) {
  std::size_t n = 0;
  bool polled = false;
  bool more = false;  // the last read filled its chunk: the socket may hold more
  while (owned_ && broken_.empty()) {
    n += parse(max_messages - n, deliver);
    if (n >= max_messages || !broken_.empty()) break;
    if (!more && !conn_.buffered()) {
      if (polled || n > 0) break;
      polled = true;
      if (!wait_readable(wait)) break;
    }
    const long r = conn_.fill(broken_);
    if (r < 0) break;
    more = static_cast<std::size_t>(r) == kReadChunk;
    if (r > 0) last_heard_ = Clock::now();
  }
  return n;
}

bool NativeClient::wait_readable(milliseconds wait) {
  pollfd p{conn_.fd(), POLLIN, 0};
  if (unwritten() > 0) p.events |= POLLOUT;
  const int r =
      ::poll(&p, 1, static_cast<int>(std::clamp<milliseconds::rep>(wait.count(), 0, INT_MAX)));
  if (r <= 0) return false;
  if ((p.revents & POLLOUT) != 0) flush();
  return (p.revents & (POLLIN | POLLHUP | POLLERR)) != 0;
}

std::size_t NativeClient::parse(std::size_t limit, bool deliver) {
  std::size_t n = 0;
  while (n < limit) {
    wire::Packet p;
    std::size_t size = 0;
    const wire::Parse r = wire::next_packet(conn_.in.view(), p, size);
    if (r == wire::Parse::incomplete) break;
    if (r == wire::Parse::malformed) {
      broken_ = "malformed packet from the broker";
      break;
    }
    std::uint16_t id = 0;
    switch (p.type) {
      case wire::Type::publish: {
        wire::Publish m;
        if (!wire::read_publish(p, m)) {
          broken_ = "malformed PUBLISH from the broker";
          return n;
        }
        const bool fresh = m.qos < 2 || !qos2_in_[m.id];
        if (fresh) {
          ++n;
          if (deliver) {
            detail::Counters::add(counters_.received);
            try {
              handler_->on_message(m.topic, m.payload);
            } catch (...) {  // NOLINT(bugprone-empty-catch): the handler's to report
            }
          }
        }
        if (m.qos == 1) wire::append_ack(out_, wire::Type::puback, m.id);
        if (m.qos == 2) {
          qos2_in_[m.id] = true;
          wire::append_ack(out_, wire::Type::pubrec, m.id);
        }
        break;
      }
      case wire::Type::puback:
      case wire::Type::pubcomp:
        if (wire::read_id(p, id)) acknowledge(id);
        break;
      case wire::Type::pubrec:
        if (wire::read_id(p, id)) wire::append_ack(out_, wire::Type::pubrel, id);
        break;
      case wire::Type::pubrel:
        if (wire::read_id(p, id)) {
          qos2_in_[id] = false;
          wire::append_ack(out_, wire::Type::pubcomp, id);
        }
        break;
      case wire::Type::suback: {
        std::string_view codes;
        if (wire::read_suback(p, id, codes)) id_used_[id] = false;
        break;
      }
      case wire::Type::unsuback:
        if (wire::read_id(p, id)) id_used_[id] = false;
        break;
      case wire::Type::pingresp:
        ping_sent_.reset();
        break;
      default:
        break;  // nothing else is sent to a client
    }
    conn_.in.consume(size);
  }
  return n;
}

// The broker has taken message `id`: it leaves the outbox. Acknowledgements come in order, so
// the message is almost always the first in flight.
void NativeClient::acknowledge(std::uint16_t id) {
  for (std::size_t i = 0; i < inflight_; ++i) {
    if (outbox_[i].id != id) continue;
    outbox_.erase(outbox_.begin() + static_cast<std::ptrdiff_t>(i));
    --inflight_;
    id_used_[id] = false;
    detail::Counters::add(counters_.delivered);
    counters_.outbox.store(outbox_.size(), std::memory_order_relaxed);
    return;
  }
}

// MQTT's keep-alive: a PINGREQ when nothing was sent or heard for the keep-alive interval, and
// the connection declared lost when its PINGRESP does not come within another.
void NativeClient::keepalive(Clock::time_point now) {
  const auto interval = std::chrono::duration_cast<Clock::duration>(options_.keepalive);
  if (interval.count() <= 0) return;
  if (ping_sent_) {
    if (now - *ping_sent_ >= interval) broken_ = "keep-alive unanswered";
    return;
  }
  if (now - last_sent_ >= interval || now - last_heard_ >= interval) {
    wire::append_pingreq(out_);
    ping_sent_ = now;
  }
}

void NativeClient::flush() {
  if (!owned_ || !broken_.empty()) return;
  while (unwritten() > 0) {
    const long n = conn_.write(out_.data() + out_at_, unwritten(), broken_);
    if (n <= 0) break;
    out_at_ += static_cast<std::size_t>(n);
    last_sent_ = Clock::now();
  }
  if (out_at_ == out_.size()) {
    out_.clear();
    out_at_ = 0;
  } else if (out_at_ >= kFlushAt && out_at_ * 2 >= out_.size()) {
    out_.erase(0, out_at_);
    out_at_ = 0;
  }
}

bool NativeClient::publish(std::string_view topic, std::string_view payload, int qos,
                           bool retained) {
  if (qos < 0 || qos > 2 || !valid_topic_name(topic) || stopped_ ||
      wire::publish_size(topic.size(), payload.size(), qos) > wire::kMaxRemaining) {
    detail::Counters::add(counters_.dropped);
    return false;
  }
  if (qos == 0) {
    if (!owned_ || !broken_.empty()) {
      detail::Counters::add(counters_.dropped);
      return false;
    }
    // As in the driven Paho client: a QoS 0 message waits behind a QoS >= 1 one that waits for
    // room, and behind those that wait already, so that each topic's messages keep their order.
    if (outbox_.size() > inflight_ || !waiting_.empty()) send_waiting();
    if (reliable_needs_room() || !waiting_.empty() ||
        !room(wire::publish_size(topic.size(), payload.size(), 0))) {
      return hold(topic, payload, retained);
    }
    wire::append_publish(out_, topic, payload, 0, retained, false, 0);
    detail::Counters::add(counters_.published);
    if (unwritten() >= kFlushAt) flush();
    return true;
  }
  if (options_.max_outbox == 0) {
    detail::Counters::add(counters_.dropped);
    return false;
  }
  if (outbox_.size() >= options_.max_outbox && !drop_oldest_reliable()) {
    detail::Counters::add(counters_.dropped);
    return false;
  }
  outbox_.push_back(Pending{std::string(topic), std::string(payload), qos, retained, false, 0});
  counters_.outbox.store(outbox_.size(), std::memory_order_relaxed);
  if (owned_ && broken_.empty()) {
    send_pending();
    flush();  // at once, with the QoS 0 messages queued before it
  }
  return true;
}

void NativeClient::send_pending() {
  needs_room_ = false;
  if (!owned_ || !broken_.empty()) return;
  for (auto it = outbox_.begin() + static_cast<std::ptrdiff_t>(inflight_); it != outbox_.end();
       ++it) {
    if (inflight_ >= kMaxInflight) return;
    Pending& p = *it;
    if (!room(wire::publish_size(p.topic.size(), p.payload.size(), p.qos))) {
      needs_room_ = true;
      return;
    }
    p.id = next_id();
    wire::append_publish(out_, p.topic, p.payload, p.qos, p.retained, p.sent_before, p.id);
    ++inflight_;
    detail::Counters::add(counters_.published);
  }
}

bool NativeClient::hold(std::string_view topic, std::string_view payload, bool retained) {
  return waiting_.hold(topic, payload, retained);
}

void NativeClient::send_waiting() {
  if (outbox_.size() > inflight_) send_pending();
  waiting_.drain([&](std::string_view topic, std::string_view payload, bool retained) {
    if (!owned_ || !broken_.empty() || reliable_needs_room()) return false;
    const std::size_t size = wire::publish_size(topic.size(), payload.size(), 0);
    if (!room(size)) flush();
    if (!room(size)) return false;
    wire::append_publish(out_, topic, payload, 0, retained, false, 0);
    detail::Counters::add(counters_.published);
    return true;
  });
}

void NativeClient::forget_waiting() {
  waiting_.forget();
}

// Drops the oldest message not yet written on this connection. Returns false when all are.
bool NativeClient::drop_oldest_reliable() {
  if (outbox_.size() <= inflight_) return false;
  outbox_.erase(outbox_.begin() + static_cast<std::ptrdiff_t>(inflight_));
  detail::Counters::add(counters_.dropped);
  return true;
}

bool NativeClient::stop(const std::optional<Will>& last, milliseconds timeout) {
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
    flush();
    if (broken_.empty()) receive(milliseconds(5), 64, false);
    if (broken_.empty()) {
      send_pending();
      flush();
    }
    if (!broken_.empty()) lose(broken_, false);
  }
  const bool drained = outbox_.empty();
  forget_waiting();
  if (owned_) {
    // A clean DISCONNECT: the broker does not publish the will.
    if (broken_.empty()) {
      wire::append_disconnect(out_);
      const auto give_up = Clock::now() + milliseconds(100);
      while (unwritten() > 0 && broken_.empty() && Clock::now() < give_up) {
        flush();
        if (unwritten() > 0) {
          pollfd p{conn_.fd(), POLLOUT, 0};
          ::poll(&p, 1, 10);
        }
      }
    }
    conn_.close();
    owned_ = false;
    up_.store(false);
  }
  {
    std::lock_guard lock(mu_);
    connected_uri_.clear();
    stopping_ = true;
  }
  abort_.store(true);
  cv_.notify_all();
  if (connector_.joinable()) connector_.join();
  {
    std::lock_guard lock(mu_);
    if (ready_.open()) disconnect_cleanly(ready_);  // handed over but never taken
  }
  stopped_ = true;
  stop_result_ = drained;
  return drained;
}

}  // namespace

std::unique_ptr<Client> make_native_client(const ConnectOptions& options) {
  return std::make_unique<NativeClient>(options);
}

}  // namespace twind::mqtt
