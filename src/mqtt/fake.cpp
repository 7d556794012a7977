#include "twind/mqtt/fake.hpp"

#include <algorithm>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>

#include "twind/mqtt/topic.hpp"

namespace twind::mqtt {

struct FakeBroker::State {
  explicit State(bool keep) : keep_retained(keep) {}

  // Recursive because handlers run under the lock and may publish again (see fake.hpp).
  mutable std::recursive_mutex mu;
  std::condition_variable_any cv;
  const bool keep_retained;
  bool up = true;
  bool hold_acks = false;
  std::optional<std::string> refusal;
  std::vector<std::string> denied;  // filters of topics clients may not publish to
  std::map<std::string, FakeMessage, std::less<>> retained;
  std::vector<FakeMessage> log;
  std::vector<FakeClient*> clients;

  bool registered(const FakeClient* c) const {
    return std::find(clients.begin(), clients.end(), c) != clients.end();
  }

  // By value: a handler publishing re-entrantly may grow `log` while we deliver.
  void route(FakeMessage m) {
    if (!m.from.empty() && std::any_of(denied.begin(), denied.end(), [&](const std::string& f) {
          return topic_matches(f, m.topic);
        })) {
      return;  // acknowledged all the same: MQTT 3.1.1 cannot tell the publisher
    }
    if (m.retained) {
      if (m.payload.empty()) {
        retained.erase(m.topic);
      } else {
        retained.insert_or_assign(m.topic, m);
      }
    }
    log.push_back(m);
    // A snapshot: handlers may create or destroy clients while we iterate.
    const std::vector<FakeClient*> snapshot = clients;
    for (FakeClient* c : snapshot) {
      if (!registered(c) || !c->connected_ || c->handler_ == nullptr) continue;
      const bool match = std::any_of(c->filters_.begin(), c->filters_.end(), [&](const auto& f) {
        return topic_matches(f.first, m.topic);
      });
      if (!match) continue;
      ++c->stats_.received;
      c->handler_->on_message(m.topic, m.payload);
    }
  }

  void deliver_retained(FakeClient& c, const std::vector<std::string>& filters) {
    std::vector<FakeMessage> matching;
    for (const auto& entry : retained) {
      const std::string& topic = entry.first;
      if (std::any_of(filters.begin(), filters.end(),
                      [&](const std::string& f) { return topic_matches(f, topic); })) {
        matching.push_back(entry.second);
      }
    }
    for (const FakeMessage& m : matching) {
      if (!registered(&c) || !c.connected_) return;
      ++c.stats_.received;
      c.handler_->on_message(m.topic, m.payload);
    }
  }

  void reconnect_all() {
    const std::vector<FakeClient*> snapshot = clients;
    for (FakeClient* c : snapshot) {
      if (registered(c)) c->try_connect_locked();
    }
  }
};

namespace {

std::size_t reliable_count(const std::deque<FakeMessage>& outbox) {
  return static_cast<std::size_t>(
      std::count_if(outbox.begin(), outbox.end(), [](const FakeMessage& m) { return m.qos > 0; }));
}

}  // namespace

FakeBroker::FakeBroker(bool keep_retained) : state_(std::make_shared<State>(keep_retained)) {}

FakeBroker::~FakeBroker() = default;

std::unique_ptr<FakeClient> FakeBroker::make_client(ConnectOptions options) {
  return std::make_unique<FakeClient>(state_, std::move(options));
}

void FakeBroker::take_down() {
  std::lock_guard lock(state_->mu);
  state_->up = false;
  if (!state_->keep_retained) state_->retained.clear();
  const std::vector<FakeClient*> snapshot = state_->clients;
  for (FakeClient* c : snapshot) {
    if (!state_->registered(c) || !c->connected_) continue;
    c->connected_ = false;
    c->handler_->on_disconnected("broker down");
  }
}

void FakeBroker::bring_up() {
  std::lock_guard lock(state_->mu);
  state_->up = true;
  state_->reconnect_all();
}

bool FakeBroker::is_up() const {
  std::lock_guard lock(state_->mu);
  return state_->up;
}

void FakeBroker::hold_acks() {
  std::lock_guard lock(state_->mu);
  state_->hold_acks = true;
}

void FakeBroker::release_acks(bool stop_holding) {
  std::lock_guard lock(state_->mu);
  for (FakeClient* c : state_->clients) {
    c->stats_.delivered += c->unacked_;
    c->unacked_ = 0;
  }
  if (stop_holding) state_->hold_acks = false;
  state_->cv.notify_all();
}

void FakeBroker::deny_publish(std::string filter) {
  std::lock_guard lock(state_->mu);
  state_->denied.push_back(std::move(filter));
}

void FakeBroker::allow_publish() {
  std::lock_guard lock(state_->mu);
  state_->denied.clear();
}

void FakeBroker::refuse_connections(std::string cause) {
  std::lock_guard lock(state_->mu);
  state_->refusal = std::move(cause);
}

void FakeBroker::accept_connections() {
  std::lock_guard lock(state_->mu);
  state_->refusal.reset();
  if (state_->up) state_->reconnect_all();
}

bool FakeBroker::publish(std::string_view topic, std::string_view payload, int qos, bool retained) {
  std::lock_guard lock(state_->mu);
  if (!state_->up || !valid_topic_name(topic) || qos < 0 || qos > 2) return false;
  state_->route(FakeMessage{std::string(topic), std::string(payload), qos, retained, {}});
  return true;
}

std::vector<FakeMessage> FakeBroker::messages() const {
  std::lock_guard lock(state_->mu);
  return state_->log;
}

std::vector<FakeMessage> FakeBroker::messages_on(std::string_view filter) const {
  std::lock_guard lock(state_->mu);
  std::vector<FakeMessage> out;
  for (const FakeMessage& m : state_->log) {
    if (topic_matches(filter, m.topic)) out.push_back(m);
  }
  return out;
}

void FakeBroker::clear_messages() {
  std::lock_guard lock(state_->mu);
  state_->log.clear();
}

std::optional<FakeMessage> FakeBroker::retained(std::string_view topic) const {
  std::lock_guard lock(state_->mu);
  const auto it = state_->retained.find(topic);
  if (it == state_->retained.end()) return std::nullopt;
  return it->second;
}

std::size_t FakeBroker::connected_clients() const {
  std::lock_guard lock(state_->mu);
  return static_cast<std::size_t>(std::count_if(state_->clients.begin(), state_->clients.end(),
                                                [](const FakeClient* c) { return c->connected_; }));
}

FakeClient::FakeClient(std::shared_ptr<FakeBroker::State> state, ConnectOptions options)
    : state_(std::move(state)), options_(std::move(options)) {
  std::lock_guard lock(state_->mu);
  state_->clients.push_back(this);
}

FakeClient::~FakeClient() {
  std::lock_guard lock(state_->mu);
  connected_ = false;  // a clean disconnect: no will
  std::erase(state_->clients, this);
  state_->cv.notify_all();
}

void FakeClient::start(Handler& handler) {
  std::lock_guard lock(state_->mu);
  if (started_ || stopped_ || killed_) return;
  handler_ = &handler;
  started_ = true;
  try_connect_locked();
}

void FakeClient::subscribe(const std::vector<std::string>& filters, int qos) {
  check_subscription(filters, qos);
  std::lock_guard lock(state_->mu);
  for (const std::string& f : filters) {
    const auto it = std::find_if(filters_.begin(), filters_.end(),
                                 [&](const auto& existing) { return existing.first == f; });
    if (it == filters_.end()) {
      filters_.emplace_back(f, qos);
    } else {
      it->second = qos;
    }
  }
  if (connected_) state_->deliver_retained(*this, filters);
}

void FakeClient::subscribe_optional(const std::vector<std::string>& filters, int qos) {
  subscribe(filters, qos);  // the fake refuses no subscription
}

void FakeClient::unsubscribe(const std::vector<std::string>& filters) {
  check_subscription(filters, 0);
  std::lock_guard lock(state_->mu);
  for (const std::string& f : filters) {
    std::erase_if(filters_, [&](const auto& existing) { return existing.first == f; });
  }
}

bool FakeClient::publish(std::string_view topic, std::string_view payload, int qos, bool retained) {
  std::lock_guard lock(state_->mu);
  if (stopped_ || killed_ || qos < 0 || qos > 2 || !valid_topic_name(topic)) {
    ++stats_.dropped;
    return false;
  }
  return publish_locked(
      FakeMessage{std::string(topic), std::string(payload), qos, retained, options_.client_id});
}

bool FakeClient::publish_locked(FakeMessage m) {
  if (connected_ && !flushing_) {
    const bool reliable = m.qos > 0;
    state_->route(std::move(m));
    ++stats_.published;
    if (reliable) acknowledge_locked();
    return true;
  }
  if (connected_) {
    // Published by a handler while the outbox is being flushed: after it, to keep the order.
    outbox_.push_back(std::move(m));
    return true;
  }
  if (m.qos == 0 || options_.max_outbox == 0) {
    ++stats_.dropped;
    return false;
  }
  if (reliable_count(outbox_) >= options_.max_outbox) {
    const auto oldest = std::find_if(outbox_.begin(), outbox_.end(),
                                     [](const FakeMessage& o) { return o.qos > 0; });
    outbox_.erase(oldest);
    ++stats_.dropped;
  }
  outbox_.push_back(std::move(m));
  return true;
}

void FakeClient::acknowledge_locked() {
  if (state_->hold_acks) {
    ++unacked_;
  } else {
    ++stats_.delivered;
  }
}

void FakeClient::try_connect_locked() {
  if (!started_ || stopped_ || killed_ || connected_) return;
  if (!state_->up || state_->refusal) {
    ++stats_.connect_failures;
    handler_->on_disconnected(state_->up ? "connection refused: " + *state_->refusal
                                         : std::string("connection refused: broker down"));
    return;
  }
  connected_ = true;
  ++stats_.connects;
  std::vector<std::string> filters;
  for (const auto& f : filters_) filters.push_back(f.first);
  state_->deliver_retained(*this, filters);
  flushing_ = true;
  while (connected_ && !outbox_.empty() && state_->registered(this)) {
    FakeMessage m = std::move(outbox_.front());
    outbox_.pop_front();
    const bool reliable = m.qos > 0;
    state_->route(std::move(m));
    ++stats_.published;
    if (reliable) acknowledge_locked();
  }
  flushing_ = false;
  state_->cv.notify_all();
  if (connected_) handler_->on_connected();
}

bool FakeClient::connected() const {
  std::lock_guard lock(state_->mu);
  return connected_;
}

std::string FakeClient::connected_uri() const {
  std::lock_guard lock(state_->mu);
  return connected_ ? options_.uri : std::string();
}

ClientStats FakeClient::stats() const {
  std::lock_guard lock(state_->mu);
  ClientStats s = stats_;
  s.outbox = reliable_count(outbox_) + unacked_;
  return s;
}

bool FakeClient::stop(const std::optional<Will>& last, std::chrono::milliseconds timeout) {
  std::unique_lock lock(state_->mu);
  if (stopped_) return stop_result_;
  if (started_ && !killed_) {
    if (last && valid_topic_name(last->topic)) {
      publish_locked(FakeMessage{last->topic, last->payload, std::max(1, last->qos), last->retained,
                                 options_.client_id});
    }
    state_->cv.wait_for(lock, timeout,
                        [&] { return reliable_count(outbox_) + unacked_ == 0 || killed_; });
  }
  connected_ = false;  // a clean disconnect: no will
  stopped_ = true;
  stop_result_ = reliable_count(outbox_) + unacked_ == 0;
  return stop_result_;
}

void FakeClient::kill() {
  std::lock_guard lock(state_->mu);
  if (killed_ || stopped_) return;
  killed_ = true;
  const bool was_connected = connected_;
  connected_ = false;
  state_->cv.notify_all();
  if (was_connected && options_.will && valid_topic_name(options_.will->topic)) {
    const Will& w = *options_.will;
    state_->route(FakeMessage{w.topic, w.payload, w.qos, w.retained, options_.client_id});
  }
}

std::vector<std::pair<std::string, int>> FakeClient::filters() const {
  std::lock_guard lock(state_->mu);
  return filters_;
}

}  // namespace twind::mqtt
