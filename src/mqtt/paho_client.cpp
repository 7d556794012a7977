// The Paho MQTT C++ adapter. One worker thread owns the connection: it connects, subscribes,
// sends, and is the only thread that calls into Paho, so that no lock of ours is ever held while
// Paho runs and Paho's callbacks (which take our lock) cannot deadlock against us.
#include <mqtt/async_client.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <iterator>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>

#include "adapter_common.hpp"
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

// Paho enforces the connect timeout itself; our wait on the token is a little longer so that its
// own verdict (with its reason) normally arrives first.
constexpr std::chrono::seconds kConnectTimeout{10};
constexpr std::chrono::seconds kTokenWaitMargin{2};
constexpr milliseconds kBackpressureRetry{5};
constexpr milliseconds kStopPoll{50};
constexpr milliseconds kLossConfirmation{200};
constexpr std::size_t kSendBatch = 256;

// Paho's return code and message, with the MQTT 3.1.1 CONNACK codes spelled out. Never holds a
// password: Paho's messages do not carry the connect options.
std::string describe(const ::mqtt::exception& e) {
  const int rc = e.get_return_code();
  const std::string connack = detail::connack_text(rc);
  if (!connack.empty()) return connack + " (CONNACK " + std::to_string(rc) + ")";
  std::string text = e.get_message();
  if (text.empty()) text = ::mqtt::exception::error_str(rc);
  if (text.empty()) text = "unknown error";
  return text + " (Paho error " + std::to_string(rc) + ")";
}

void* to_context(std::uint64_t attempt) {
  return reinterpret_cast<void*>(static_cast<std::uintptr_t>(attempt));
}

std::uint64_t from_context(void* context) {
  return static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(context));
}

class PahoClient final : public Client {
 public:
  explicit PahoClient(const ConnectOptions& options);
  ~PahoClient() override;

  void start(Handler& handler) override;
  void subscribe(const std::vector<std::string>& filters, int qos) override;
  void subscribe_optional(const std::vector<std::string>& filters, int qos) override;
  void unsubscribe(const std::vector<std::string>& filters) override;
  bool publish(std::string_view topic, std::string_view payload, int qos, bool retained) override;
  [[nodiscard]] bool connected() const override { return connected_.load(); }
  [[nodiscard]] std::string connected_uri() const override;
  [[nodiscard]] ClientStats stats() const override;
  bool stop(const std::optional<Will>& last, milliseconds timeout) override;

 private:
  struct Entry {
    ::mqtt::const_message_ptr msg;
    std::uint64_t attempt = 0;  // key in attempts_ while in flight; 0 when not sent
  };
  using Queue = std::map<std::uint64_t, Entry>;  // by sequence number: the publish order

  class DeliveryListener final : public ::mqtt::iaction_listener {
   public:
    explicit DeliveryListener(PahoClient& owner) : owner_(owner) {}
    void on_success(const ::mqtt::token& tok) override { owner_.on_delivery(tok, true); }
    void on_failure(const ::mqtt::token& tok) override { owner_.on_delivery(tok, false); }

   private:
    PahoClient& owner_;
  };

  enum class Wait { done, timed_out, stopped };

  // Worker thread.
  void run();
  // Waits for `tok` in slices, so that stop() is not held up; throws what the token throws.
  Wait await(::mqtt::token& tok, milliseconds limit);
  bool connect_and_subscribe(std::string& cause);
  // One round of serve_connection(): what was taken from the queue, and how sending it went.
  struct Batch {
    std::vector<std::string> unsubs;
    std::vector<std::pair<std::string, int>> subs;
    std::vector<std::pair<std::uint64_t, Entry>> entries;  // sequence number, entry
  };
  struct Sent {
    std::size_t count = 0;                // entries handed over (or refused for good)
    std::vector<std::size_t> unsendable;  // of those, the ones Paho refused for good
    bool backpressure = false;            // Paho's buffer was full
    std::string suspect_cause;            // not empty: a publish failed as if disconnected
  };
  void serve_connection(std::unique_lock<std::mutex>& lk);
  bool confirm_loss(std::unique_lock<std::mutex>& lk);
  Batch take_batch(bool whole_queue);
  Sent send_batch(const Batch& batch);
  void settle_batch(Batch& batch, const Sent& sent);
  void wait_for_work(std::unique_lock<std::mutex>& lk, const Sent& sent);
  std::string handle_loss();
  void disconnect_cleanly(milliseconds timeout);

  // Paho's threads.
  void on_delivery(const ::mqtt::token& tok, bool ok);
  void on_connection_lost(const std::string& cause);

  // With mu_ held.
  [[nodiscard]] std::size_t outbox_size() const { return inflight_.size() + reliable_queued_; }
  void drop_oldest_reliable();
  void notify_if_drained();

  const ConnectOptions options_;
  const detail::Brokers brokers_;
  // The broker of the attempt or connection (brokers_): written by the worker under mu_.
  std::size_t at_ = 0;
  ::mqtt::connect_options connect_options_;
  const std::size_t max_qos0_queued_;
  Handler* handler_ = nullptr;

  mutable std::mutex mu_;
  std::condition_variable work_cv_;     // wakes the worker
  std::condition_variable drained_cv_;  // wakes stop()
  Queue queue_;                         // to be sent
  Queue inflight_;                      // QoS >= 1, sent, awaiting the broker's acknowledgement
  std::unordered_map<std::uint64_t, std::uint64_t> attempts_;  // attempt -> sequence number
  std::size_t reliable_queued_ = 0;
  std::size_t qos0_queued_ = 0;
  std::uint64_t next_seq_ = 1;
  std::uint64_t next_attempt_ = 1;
  detail::Subscriptions subs_;  // every connection's filters; `fresh`: to subscribe on the live one
  bool started_ = false;
  bool stopping_ = false;
  bool stopped_ = false;
  bool stop_result_ = false;
  bool lost_ = false;
  std::string lost_cause_;
  std::string connected_uri_;  // while connected_
  ClientStats stats_;
  std::atomic<bool> connected_{false};
  std::atomic<std::uint64_t> received_{0};

  // OpenSSL's reason for the TLS failures since the last connection (tls_probe.hpp): found once,
  // on the first failure, and repeated in the cause of the later ones. Worker thread only.
  std::optional<std::string> tls_reason_;

  std::mutex message_mu_;
  bool deliver_messages_ = true;  // guarded by message_mu_
  std::mutex stop_mu_;            // serialises stop()
  std::thread worker_;
  DeliveryListener listener_{*this};
  std::unique_ptr<::mqtt::async_client> cli_;
};

PahoClient::PahoClient(const ConnectOptions& options)
    : options_(options),
      brokers_(detail::checked_uris(options)),
      max_qos0_queued_(std::max<std::size_t>(options.max_outbox, 1000)) {
  // Everything we may hand to Paho at once: the outbox, the QoS 0 queue and a few subscribes.
  // Paho's default of 100 makes bursts fail with -12 even while connected.
  const std::size_t buffered = options_.max_outbox + max_qos0_queued_ + 64;
  const int max_buffered = static_cast<int>(std::min<std::size_t>(buffered, INT_MAX));
  // No send_while_disconnected: our outbox holds what must survive a disconnection, so Paho's
  // offline buffer cannot flush ahead of the re-subscription.
  const auto create = ::mqtt::create_options_builder()
                          .mqtt_version(MQTTVERSION_3_1_1)
                          .max_buffered_messages(max_buffered)
                          .finalize();
  try {
    cli_ = std::make_unique<::mqtt::async_client>(brokers_.uris.front().paho_uri(),
                                                  options_.client_id, create, nullptr);
  } catch (const ::mqtt::exception& e) {
    throw std::invalid_argument("broker URI \"" + options_.uri + "\": " + describe(e));
  }

  connect_options_.set_mqtt_version(MQTTVERSION_3_1_1);
  connect_options_.set_clean_session(options_.clean_session);
  connect_options_.set_keep_alive_interval(options_.keepalive);
  connect_options_.set_connect_timeout(kConnectTimeout);
  connect_options_.set_automatic_reconnect(false);
  if (!options_.username.empty()) connect_options_.set_user_name(options_.username);
  if (!options_.password.empty()) connect_options_.set_password(options_.password);
  if (options_.will) {
    const Will& w = *options_.will;
    connect_options_.set_will(::mqtt::will_options(w.topic, w.payload, w.qos, w.retained));
  }
  if (brokers_.uris.front().tls()) {  // then all of them are (checked_uris())
    ::mqtt::ssl_options ssl;
    // Without a trust store Paho loads OpenSSL's default paths: the system trust store.
    if (options_.tls) {
      if (!options_.tls->ca_file.empty()) ssl.set_trust_store(options_.tls->ca_file);
      if (!options_.tls->cert_file.empty()) ssl.set_key_store(options_.tls->cert_file);
      if (!options_.tls->key_file.empty()) ssl.set_private_key(options_.tls->key_file);
    }
    ssl.set_enable_server_cert_auth(true);
    ssl.set_verify(true);  // the host name too, not only the chain
    connect_options_.set_ssl(std::move(ssl));
  }

  cli_->set_connection_lost_handler(
      [this](const std::string& cause) { on_connection_lost(cause); });
  cli_->set_message_callback([this](::mqtt::const_message_ptr m) {
    // Held during the call, so that stop() can wait out a message already being delivered.
    std::lock_guard lock(message_mu_);
    if (!deliver_messages_) return;
    received_.fetch_add(1, std::memory_order_relaxed);
    // An exception must not unwind through Paho's C frames.
    try {
      handler_->on_message(m->get_topic(), m->get_payload());
    } catch (...) {  // NOLINT(bugprone-empty-catch): nowhere to report it on Paho's thread
    }
  });
}

PahoClient::~PahoClient() {
  stop(std::nullopt, milliseconds(0));
  try {
    // A connection attempt abandoned by stop() may have succeeded since: leave cleanly (no will).
    if (cli_->is_connected()) cli_->disconnect(0)->wait_for(kTokenWaitMargin);
  } catch (const ::mqtt::exception&) {  // NOLINT(bugprone-empty-catch): best effort
  }
  try {
    cli_->disable_callbacks();
  } catch (const ::mqtt::exception&) {  // NOLINT(bugprone-empty-catch)
    // Paho refuses while a disconnection to a hung broker is still pending; message_mu_ and
    // deliver_messages_ already keep the handler out.
  }
  // Destroy Paho first, while the members its callbacks touch are still alive.
  cli_.reset();
}

void PahoClient::start(Handler& handler) {
  std::lock_guard lock(mu_);
  if (started_ || stopped_) return;
  handler_ = &handler;
  started_ = true;
  worker_ = std::thread([this] { run(); });
}

void PahoClient::subscribe(const std::vector<std::string>& filters, int qos) {
  check_subscription(filters, qos);
  std::lock_guard lock(mu_);
  subs_.add(filters, qos);
  work_cv_.notify_all();
}

void PahoClient::subscribe_optional(const std::vector<std::string>& filters, int qos) {
  check_subscription(filters, qos);
  {
    std::lock_guard lock(mu_);
    subs_.add_optional(filters);
  }
  subscribe(filters, qos);
}

void PahoClient::unsubscribe(const std::vector<std::string>& filters) {
  check_subscription(filters, 0);
  std::lock_guard lock(mu_);
  subs_.remove(filters);
  work_cv_.notify_all();
}

std::string PahoClient::connected_uri() const {
  std::lock_guard lock(mu_);
  return connected_uri_;
}

bool PahoClient::publish(std::string_view topic, std::string_view payload, int qos, bool retained) {
  if (qos < 0 || qos > 2 || !valid_topic_name(topic)) {
    std::lock_guard lock(mu_);
    ++stats_.dropped;
    return false;
  }
  // Built outside the lock; the worker hands the same immutable message to Paho.
  auto msg =
      ::mqtt::make_message(std::string(topic), payload.data(), payload.size(), qos, retained);
  std::lock_guard lock(mu_);
  if (stopped_ || stopping_) {
    ++stats_.dropped;
    return false;
  }
  if (qos == 0) {
    if (!connected_.load() || qos0_queued_ >= max_qos0_queued_) {
      ++stats_.dropped;
      return false;
    }
    ++qos0_queued_;
  } else {
    if (options_.max_outbox == 0) {
      ++stats_.dropped;
      return false;
    }
    if (outbox_size() >= options_.max_outbox) drop_oldest_reliable();
    ++reliable_queued_;
  }
  queue_.emplace_hint(queue_.end(), next_seq_++, Entry{std::move(msg), 0});
  work_cv_.notify_all();
  return true;
}

void PahoClient::drop_oldest_reliable() {
  const auto queued = std::find_if(queue_.begin(), queue_.end(),
                                   [](const auto& kv) { return kv.second.msg->get_qos() > 0; });
  const bool take_inflight =
      !inflight_.empty() && (queued == queue_.end() || inflight_.begin()->first < queued->first);
  if (take_inflight) {
    attempts_.erase(inflight_.begin()->second.attempt);
    inflight_.erase(inflight_.begin());
  } else if (queued != queue_.end()) {
    queue_.erase(queued);
    --reliable_queued_;
  } else {
    return;
  }
  ++stats_.dropped;
}

void PahoClient::notify_if_drained() {
  if (outbox_size() == 0 && qos0_queued_ == 0) drained_cv_.notify_all();
}

ClientStats PahoClient::stats() const {
  std::lock_guard lock(mu_);
  ClientStats s = stats_;
  s.received = received_.load(std::memory_order_relaxed);
  s.outbox = outbox_size();
  return s;
}

bool PahoClient::stop(const std::optional<Will>& last, milliseconds timeout) {
  std::lock_guard stop_lock(stop_mu_);
  bool running = false;
  {
    std::lock_guard lock(mu_);
    if (stopped_) return stop_result_;
    running = started_;
  }
  if (running && last) publish(last->topic, last->payload, std::max(1, last->qos), last->retained);
  bool drained = false;
  {
    std::unique_lock lock(mu_);
    if (running) {
      drained_cv_.wait_for(lock, timeout, [&] { return outbox_size() == 0 && qos0_queued_ == 0; });
    }
    drained = outbox_size() == 0;
    stopping_ = true;
    work_cv_.notify_all();
  }
  if (worker_.joinable()) worker_.join();
  {
    // No callback follows stop(): Paho may still be delivering a message read before the
    // disconnection (its callbacks run without its own locks).
    std::lock_guard lock(message_mu_);
    deliver_messages_ = false;
  }
  std::lock_guard lock(mu_);
  stopped_ = true;
  stop_result_ = drained;
  return drained;
}

void PahoClient::on_delivery(const ::mqtt::token& tok, bool ok) {
  const std::uint64_t attempt = from_context(tok.get_user_context());
  std::lock_guard lock(mu_);
  const auto it = attempts_.find(attempt);
  // Unknown: an attempt of an earlier connection, already queued again (see handle_loss()).
  if (it == attempts_.end()) return;
  const std::uint64_t seq = it->second;
  attempts_.erase(it);
  if (!ok) return;  // stays in flight and goes out again after the next reconnection
  if (inflight_.erase(seq) > 0) ++stats_.delivered;
  notify_if_drained();
}

void PahoClient::on_connection_lost(const std::string& cause) {
  std::lock_guard lock(mu_);
  lost_ = true;
  lost_cause_ = "connection to " + brokers_.texts[at_] + " lost";
  if (!cause.empty()) lost_cause_ += ": " + cause;
  work_cv_.notify_all();
}

void PahoClient::run() {
  std::random_device seed;
  internal::Backoff backoff(options_.min_retry, options_.max_retry,
                            (static_cast<std::uint64_t>(seed()) << 32) ^ seed());
  detail::UriRotation rotation(brokers_.uris.size());
  std::unique_lock lk(mu_);
  while (!stopping_) {
    at_ = rotation.current();
    lk.unlock();
    std::string cause;
    const bool up = connect_and_subscribe(cause);
    lk.lock();
    if (!up && stopping_) break;
    if (up) {
      ++stats_.connects;
      backoff.reset();
      rotation.connected();
      serve_connection(lk);
      if (stopping_) break;
      cause = handle_loss();
    } else {
      ++stats_.connect_failures;
    }
    lk.unlock();
    handler_->on_disconnected(cause);
    lk.lock();
    // The next broker at once, unless every one has failed since the last connection.
    if (rotation.failed()) work_cv_.wait_for(lk, backoff.next(), [&] { return stopping_; });
  }
  const bool was_connected = connected_.exchange(false);
  connected_uri_.clear();
  lk.unlock();
  if (was_connected) disconnect_cleanly(milliseconds(1000));
}

PahoClient::Wait PahoClient::await(::mqtt::token& tok, milliseconds limit) {
  const auto deadline = Clock::now() + limit;
  while (!tok.wait_for(kStopPoll)) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return Wait::stopped;
    }
    if (Clock::now() >= deadline) return Wait::timed_out;
  }
  return Wait::done;
}

bool PahoClient::connect_and_subscribe(std::string& cause) {
  const BrokerUri& uri = brokers_.uris[at_];
  const std::string& text = brokers_.texts[at_];
  if (brokers_.uris.size() > 1) {
    // One URI per attempt, so that the cause names it and the rotation is ours (UriRotation).
    connect_options_.set_servers(::mqtt::string_collection::create({uri.paho_uri()}));
  }
  {
    // Cleared before connecting, so that a loss right after the connection is not forgotten.
    std::lock_guard lock(mu_);
    lost_ = false;
  }
  try {
    // A connection that survived a timed-out wait must not linger beside the new one.
    if (cli_->is_connected()) cli_->disconnect(0)->wait_for(kConnectTimeout);
  } catch (const ::mqtt::exception&) {  // NOLINT(bugprone-empty-catch): best effort
  }
  try {
    auto tok = cli_->connect(connect_options_);
    const Wait w = await(*tok, kConnectTimeout + kTokenWaitMargin);
    if (w == Wait::stopped) {
      // Abandoned so that stop() is prompt; the destructor disconnects a late success.
      cause = "stopped";
      return false;
    }
    if (w == Wait::timed_out) {
      cause = "connect to " + text + " failed: timed out";
      return false;
    }
  } catch (const ::mqtt::exception& e) {
    cause = "connect to " + text + " failed: " + describe(e);
    if (uri.tls() && e.get_return_code() == MQTTASYNC_FAILURE) {
      if (!tls_reason_) tls_reason_ = detail::diagnose_broker_tls(uri, options_.tls);
      if (!tls_reason_->empty()) cause += ": TLS: " + *tls_reason_;
    }
    return false;
  }

  tls_reason_.reset();  // a later failure may have another cause
  std::vector<std::pair<std::string, int>> filters;
  std::vector<std::string> optional;
  {
    std::lock_guard lock(mu_);
    filters = subs_.all;
    optional = subs_.optional;
    subs_.fresh.clear();  // all of them are subscribed now
  }
  if (!filters.empty()) {
    std::vector<std::string> names;
    std::vector<int> qos;
    for (const auto& [f, q] : filters) {
      names.push_back(f);
      qos.push_back(q);
    }
    auto topics = ::mqtt::string_collection::create(names);
    try {
      // Waiting here is safe: this is our worker, not a Paho callback.
      auto tok = cli_->subscribe(topics, qos);
      const Wait w = await(*tok, kConnectTimeout + kTokenWaitMargin);
      if (w != Wait::done) {
        cause =
            "subscribe on " + text + " failed: " + (w == Wait::stopped ? "stopped" : "timed out");
        disconnect_cleanly(milliseconds(0));
        return false;
      }
      const auto codes = tok->get_subscribe_response().get_reason_codes();
      for (std::size_t i = 0; i < codes.size() && i < filters.size(); ++i) {
        const bool can_do_without =
            std::find(optional.begin(), optional.end(), filters[i].first) != optional.end();
        if (static_cast<int>(codes[i]) >= 0x80 && !can_do_without) {
          cause =
              "subscribe on " + text + " failed: the broker refused \"" + filters[i].first + "\"";
          disconnect_cleanly(milliseconds(0));
          return false;
        }
      }
    } catch (const ::mqtt::exception& e) {
      cause = "subscribe on " + text + " failed: " + describe(e);
      disconnect_cleanly(milliseconds(0));
      return false;
    }
  }
  return true;
}

// Runs while the connection is up: sends the queue in order, subscribes new filters, and returns
// on a loss or on stop(). Called and returns with `lk` held.
void PahoClient::serve_connection(std::unique_lock<std::mutex>& lk) {
  connected_.store(true);
  connected_uri_ = brokers_.texts[at_];
  detail::disable_nagle_to_port(brokers_.uris[at_].port());
  bool announced = false;
  while (true) {
    if (lost_ && !confirm_loss(lk)) return;
    if (stopping_) return;
    // The first batch of a connection is the whole queue: the outbox is resent before
    // on_connected().
    Batch batch = take_batch(!announced);
    lk.unlock();
    const Sent sent = send_batch(batch);
    if (!announced) {
      // After the resubscription and the resend of the whole outbox have been handed to Paho.
      handler_->on_connected();
      announced = true;
    }
    lk.lock();
    settle_batch(batch, sent);
    wait_for_work(lk, sent);
  }
}

// A connection_lost reported for a connection we already gave up on says nothing of this one:
// returns false when the connection is really gone, else clears lost_. With `lk` held.
bool PahoClient::confirm_loss(std::unique_lock<std::mutex>& lk) {
  lk.unlock();
  const bool still_up = cli_->is_connected();
  lk.lock();
  if (!still_up) return false;
  lost_ = false;
  return true;
}

// With mu_ held: the new filters, and the queue's head in order (all of it when `whole_queue`).
// QoS >= 1 entries move to inflight_ before Paho sees them: an acknowledgement may arrive
// before publish() returns.
PahoClient::Batch PahoClient::take_batch(bool whole_queue) {
  Batch batch;
  batch.unsubs.swap(subs_.gone);
  batch.subs.swap(subs_.fresh);
  while (!queue_.empty() && (whole_queue || batch.entries.size() < kSendBatch)) {
    auto node = queue_.extract(queue_.begin());
    Entry& e = node.mapped();
    if (e.msg->get_qos() > 0) {
      --reliable_queued_;
      e.attempt = next_attempt_++;
      attempts_.emplace(e.attempt, node.key());
      batch.entries.emplace_back(node.key(), e);
      inflight_.insert(std::move(node));
    } else {
      --qos0_queued_;
      batch.entries.emplace_back(node.key(), std::move(e));
    }
  }
  return batch;
}

// Without mu_: hands the batch to Paho in order, stopping at the first entry Paho cannot take
// now (its buffer is full, or the connection is going).
PahoClient::Sent PahoClient::send_batch(const Batch& batch) {
  if (!batch.unsubs.empty()) {
    try {
      // Not waited for, like the subscribes below; none of these filters is subscribed again
      // on a reconnection.
      cli_->unsubscribe(::mqtt::string_collection::create(batch.unsubs));
    } catch (const ::mqtt::exception&) {  // NOLINT(bugprone-empty-catch): the connection is going
    }
  }
  for (const auto& [f, q] : batch.subs) {
    try {
      cli_->subscribe(f, q);  // not waited for; the filter is subscribed again on reconnection
    } catch (const ::mqtt::exception&) {  // NOLINT(bugprone-empty-catch): retried on reconnection
    }
  }
  Sent r;
  for (; r.count < batch.entries.size(); ++r.count) {
    const Entry& e = batch.entries[r.count].second;
    try {
      if (e.msg->get_qos() > 0) {
        cli_->publish(e.msg, to_context(e.attempt), listener_);
      } else {
        cli_->publish(e.msg);
      }
    } catch (const ::mqtt::exception& e_paho) {
      const int rc = e_paho.get_return_code();
      if (rc == MQTTASYNC_MAX_BUFFERED_MESSAGES) {
        r.backpressure = true;
      } else if (rc == MQTTASYNC_DISCONNECTED || !cli_->is_connected()) {
        r.suspect_cause = "connection to " + brokers_.texts[at_] + " lost: " + describe(e_paho);
      } else {
        r.unsendable.push_back(r.count);  // Paho refuses the message itself: retrying cannot help
        continue;
      }
      break;
    }
  }
  return r;
}

// With mu_ held: counts what went out, forgets what Paho refused for good, and puts back what
// was not handed over, in order.
void PahoClient::settle_batch(Batch& batch, const Sent& sent) {
  stats_.published += sent.count - sent.unsendable.size();
  stats_.dropped += sent.unsendable.size();
  for (const std::size_t i : sent.unsendable) {
    const auto& [seq, e] = batch.entries[i];
    if (e.msg->get_qos() == 0) continue;
    const auto it = inflight_.find(seq);
    if (it == inflight_.end()) continue;
    attempts_.erase(it->second.attempt);
    inflight_.erase(it);
  }
  for (std::size_t i = sent.count; i < batch.entries.size(); ++i) {
    auto& [seq, e] = batch.entries[i];
    if (e.msg->get_qos() > 0) {
      auto node = inflight_.extract(seq);
      if (node.empty()) continue;  // dropped by an outbox overflow meanwhile
      attempts_.erase(node.mapped().attempt);
      node.mapped().attempt = 0;
      queue_.insert(std::move(node));
      ++reliable_queued_;
    } else {
      queue_.emplace(seq, std::move(e));
      ++qos0_queued_;
    }
  }
  notify_if_drained();
}

// With `lk` held: until there is more to send, or the connection is (probably) gone. A publish
// that failed as if disconnected is confirmed by Paho's own loss callback, or by asking it.
void PahoClient::wait_for_work(std::unique_lock<std::mutex>& lk, const Sent& sent) {
  if (!sent.suspect_cause.empty()) {
    work_cv_.wait_for(lk, kLossConfirmation, [&] { return lost_ || stopping_; });
    if (lost_) return;
    lk.unlock();
    const bool still_up = cli_->is_connected();
    lk.lock();
    if (!still_up) {
      lost_ = true;
      lost_cause_ = sent.suspect_cause;
    }
  } else if (sent.backpressure) {
    work_cv_.wait_for(lk, kBackpressureRetry, [&] { return lost_ || stopping_; });
  } else {
    work_cv_.wait(lk, [&] {
      return lost_ || stopping_ || !queue_.empty() || !subs_.fresh.empty() || !subs_.gone.empty();
    });
  }
}

// Called with mu_ held after the connection is gone. Returns the cause to report.
std::string PahoClient::handle_loss() {
  connected_.store(false);
  connected_uri_.clear();
  // At least once: what was in flight goes out again after the reconnection, in order (the
  // broker may have received some of it: duplicates are possible).
  for (auto& [seq, e] : inflight_) {
    e.attempt = 0;
    ++reliable_queued_;
  }
  queue_.merge(inflight_);
  inflight_.clear();
  attempts_.clear();
  for (auto it = queue_.begin(); it != queue_.end();) {
    if (it->second.msg->get_qos() == 0) {
      it = queue_.erase(it);
      --qos0_queued_;
      ++stats_.dropped;
    } else {
      ++it;
    }
  }
  lost_ = false;
  return lost_cause_;
}

void PahoClient::disconnect_cleanly(milliseconds timeout) {
  try {
    auto tok = cli_->disconnect(static_cast<int>(timeout.count()));
    tok->wait_for(timeout + kTokenWaitMargin);
  } catch (const ::mqtt::exception&) {  // NOLINT(bugprone-empty-catch): already disconnected
  }
}

}  // namespace

std::unique_ptr<Client> make_paho_client(const ConnectOptions& options) {
  return std::make_unique<PahoClient>(options);
}

}  // namespace twind::mqtt
