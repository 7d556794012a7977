#include "twind/app/live_publisher.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <vector>

namespace twind::app {

void log_line(LogLevel level, const std::string& line) {
  switch (level) {
    case LogLevel::info:
      spdlog::info("{}", line);
      return;
    case LogLevel::warning:
      spdlog::warn("{}", line);
      return;
    case LogLevel::error:
      spdlog::error("{}", line);
      return;
  }
}

LivePublisher::LivePublisher(mqtt::Client& client, bool check, double timeout)
    : client_(client), check_(check), timeout_(timeout), watch_(timeout) {}

void LivePublisher::watch(const std::string& topic) {
  if (!check_) return;
  watch_.watch(topic);
  client_.subscribe_optional({topic}, watch_qos_);
}

void LivePublisher::watch_asset(const core::AssetTwin& twin) {
  if (!check_ || !watched_asset_.empty()) return;
  const std::string state = twin.topic(twin.def().state_topic);
  const std::string alert = twin.topic(twin.def().alert_topic);
  watch_.watch(state);
  watch_.watch(alert);
  watched_asset_ = twin.id();
  asset_topics_ = {state, alert};
  client_.subscribe_optional(asset_topics_, watch_qos_);
}

void LivePublisher::let_go_of_asset(const core::AssetTwin* next) {
  if (!check_ || watched_asset_.empty()) return;
  for (const std::string& t : asset_topics_) watch_.unwatch(t);
  client_.unsubscribe(asset_topics_);
  retired_.insert(retired_.end(), asset_topics_.begin(), asset_topics_.end());
  if (retired_.size() > 8) retired_.erase(retired_.begin(), retired_.end() - 8);
  watched_asset_.clear();
  asset_topics_.clear();
  if (next != nullptr) watch_asset(*next);
}

bool LivePublisher::publish(std::string_view topic, std::string_view payload, int qos,
                            bool retained, double ts) {
  (void)ts;  // the broker stamps nothing: the payload carries the time
  // Only what goes out on a live connection says anything about the broker's rules. Announced
  // first, as the check's contract asks.
  const bool track = check_ && watch_.watched(topic) && client_.connected();
  if (track) watch_.on_published(topic, payload, now_);
  const bool ok = client_.publish(topic, payload, qos, retained);
  if (track && !ok) watch_.withdraw(topic, payload);
  // A retained message is not kept: said again after a later one, it would take its place.
  if (check_ && ok && qos >= 1 && !retained) keep(topic, payload);
  return ok;
}

void LivePublisher::keep(std::string_view topic, std::string_view payload) {
  while (!kept_.empty() &&
         (kept_.size() >= kKeepMessages || now_ - kept_.front().at > kKeepSeconds)) {
    kept_.pop_front();
  }
  kept_.push_back(Kept{now_, std::string(topic), std::string(payload)});
}

void LivePublisher::republish(double since, double until) {
  // A gap begun before the end of one already republished is that gap, seen on another watched
  // topic: what it covers was said again, and what followed was delivered.
  if (since < republished_until_ || until <= since) return;
  republished_until_ = until;
  std::size_t n = 0;
  for (const Kept& k : kept_) {
    if (k.at <= since || k.at > until) continue;
    if (client_.publish(k.topic, k.payload, 1, false)) ++n;
  }
  republished_ += n;
  const bool whole = kept_.empty() || kept_.front().at <= since || since == 0.0;
  spdlog::warn(
      "published once more the {} message(s) (alerts, diagnoses, replies) of the {:.1f} s the "
      "broker did not deliver{}",
      n, until - since,
      whole ? std::string()
            : fmt::format("; those before the last {:.0f} s of it were not kept and stay lost",
                          until - kept_.front().at));
}

void LivePublisher::log(LineKind kind, LogLevel level, const std::string& line) {
  (void)kind;
  log_line(level, line);
}

void LivePublisher::connection_changed() {
  if (check_) watch_.reset();
}

bool LivePublisher::echo(std::string_view topic, std::string_view payload) {
  if (!check_) return false;
  if (!watch_.watched(topic)) {
    return std::find(retired_.begin(), retired_.end(), topic) != retired_.end();
  }
  watch_.on_received(topic, payload);
  return true;
}

std::size_t LivePublisher::poll_check(double now) {
  if (!check_) return 0;
  // QoS 1 messages waiting for an acknowledgement that does not come: the connection is stalled
  // (a frozen broker, before the keepalive finds it lost), and nothing it acknowledged is missing.
  const mqtt::ClientStats st = client_.stats();
  if (st.outbox > 0 && st.delivered == acked_) watch_.stalled(now);
  acked_ = st.delivered;
  for (const PublishCheck::Finding& f : watch_.poll(now)) {
    if (f.delivered) {
      spdlog::info("messages twind publishes on {} reach the broker's subscribers again", f.topic);
      republish(f.since, f.until);
    } else {
      spdlog::error(
          "the broker acknowledged what twind published on {} but never delivered it back ({} s): "
          "its ACL denies twind publishing to {} (or reading it, which this check needs; "
          "broker.check_publish: false turns the check off), or it drops what it acknowledges "
          "for a while (a clustered broker electing leaders); subscribers do not get these "
          "messages",
          f.topic, timeout_, f.topic);
    }
  }
  return watch_.denied();
}

}  // namespace twind::app
