#include "twind/app/publish_check.hpp"

#include <algorithm>
#include <functional>
#include <utility>

namespace twind::app {
namespace {

std::uint64_t fingerprint(std::string_view payload) {
  return std::hash<std::string_view>{}(payload);
}

}  // namespace

PublishCheck::Topic* PublishCheck::find(std::string_view topic) {
  for (Topic& t : entries_) {
    if (t.name == topic) return &t;
  }
  return nullptr;
}

const PublishCheck::Topic* PublishCheck::find(std::string_view topic) const {
  for (const Topic& t : entries_) {
    if (t.name == topic) return &t;
  }
  return nullptr;
}

std::vector<PublishCheck::Pending>::iterator PublishCheck::pending_of(Topic& t,
                                                                      std::string_view payload) {
  const std::uint64_t h = fingerprint(payload);
  return std::find_if(t.pending.begin(), t.pending.end(),
                      [&](const Pending& p) { return p.hash == h; });
}

void PublishCheck::watch(std::string_view topic) {
  if (find(topic) != nullptr) return;
  Topic t;
  t.name = std::string(topic);
  entries_.push_back(std::move(t));
}

void PublishCheck::unwatch(std::string_view topic) {
  std::erase_if(entries_, [&](const Topic& t) { return t.name == topic; });
}

std::vector<std::string> PublishCheck::topics() const {
  std::vector<std::string> out;
  for (const Topic& t : entries_) out.push_back(t.name);
  return out;
}

bool PublishCheck::watched(std::string_view topic) const {
  return find(topic) != nullptr;
}

void PublishCheck::reset() {
  for (Topic& t : entries_) t.pending.clear();
}

void PublishCheck::on_published(std::string_view topic, std::string_view payload, double now) {
  Topic* t = find(topic);
  if (t == nullptr) return;
  if (t->pending.empty()) t->first_pending = now;
  // The newest few: a message published after some were lost must still confirm the topic.
  if (t->pending.size() == kMaxPending) t->pending.erase(t->pending.begin());
  t->pending.push_back({fingerprint(payload), now});
}

void PublishCheck::withdraw(std::string_view topic, std::string_view payload) {
  Topic* t = find(topic);
  if (t == nullptr) return;
  const auto it = pending_of(*t, payload);
  if (it == t->pending.end()) return;
  const bool oldest = it == t->pending.begin();
  t->pending.erase(it);
  if (oldest && !t->pending.empty()) t->first_pending = t->pending.front().at;
}

void PublishCheck::on_received(std::string_view topic, std::string_view payload) {
  Topic* t = find(topic);
  if (t == nullptr || t->pending.empty()) return;
  const auto it = pending_of(*t, payload);
  if (it == t->pending.end()) return;
  const double at = it->at;
  // Those published before it that have not come back are lost (or late): its coming back
  // confirms the topic up to it.
  t->pending.erase(t->pending.begin(), it + 1);
  if (!t->pending.empty()) t->first_pending = t->pending.front().at;
  if (t->denied) {
    t->denied = false;
    t->delivered_news = true;
    t->back_at = at;
  }
  good_until_ = std::max(good_until_, at);
}

void PublishCheck::stalled(double now) {
  for (Topic& t : entries_) {
    if (!t.pending.empty()) t.first_pending = std::max(t.first_pending, now);
  }
}

std::vector<PublishCheck::Finding> PublishCheck::poll(double now) {
  std::vector<Finding> out;
  for (Topic& t : entries_) {
    if (t.delivered_news) {
      t.delivered_news = false;
      out.push_back(Finding{t.name, true, t.gap_since, t.back_at});
    }
    if (!t.denied && !t.pending.empty() && now - t.first_pending > timeout_) {
      t.denied = true;
      t.gap_since = good_until_;
      t.pending.clear();  // the next publication starts a new wait
      out.push_back(Finding{t.name, false});
    }
  }
  return out;
}

std::size_t PublishCheck::denied() const {
  return static_cast<std::size_t>(
      std::count_if(entries_.begin(), entries_.end(), [](const Topic& t) { return t.denied; }));
}

}  // namespace twind::app
