#include "twind/app/inbox.hpp"

namespace twind::app {

void Inbox::post(Event e) {
  {
    const std::lock_guard lock(mutex_);
    if (std::holds_alternative<event::Message>(e) && events_.size() >= max_messages_) {
      ++dropped_;
      return;
    }
    events_.push_back(std::move(e));
    // A busy engine takes the event with its next batch: no wake-up to pay for.
    if (!waiting_) return;
  }
  wake_.notify_one();
}

void Inbox::take(std::deque<Event>& out) {
  const std::lock_guard lock(mutex_);
  if (out.empty()) {
    out.swap(events_);
    return;
  }
  for (Event& e : events_) out.push_back(std::move(e));
  events_.clear();
}

void Inbox::wait(std::chrono::duration<double> timeout) {
  std::unique_lock lock(mutex_);
  if (!events_.empty() || timeout.count() <= 0.0) return;
  waiting_ = true;
  wake_.wait_for(lock, timeout, [&] { return !events_.empty(); });
  waiting_ = false;
}

std::uint64_t Inbox::dropped() const {
  const std::lock_guard lock(mutex_);
  return dropped_;
}

}  // namespace twind::app
