#include "twind/app/publisher.hpp"

#include "twind/app/live_feed.hpp"
#include "twind/core/cluster.hpp"
#include "twind/core/encode.hpp"

namespace twind::app {

std::string printable(std::string_view v) {
  std::string out(v);
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  return out;
}

void PublishingSink::message_at(double t) {
  now_ = t;
  if (!started_) {
    started_ = true;
    origin_ = t;
  }
}

std::vector<std::pair<std::string, std::string>> PublishingSink::take_states() {
  std::vector<std::pair<std::string, std::string>> out = std::move(states_);
  states_.clear();
  states_.reserve(out.size());  // no regrowth while a fleet's period fills it again
  return out;
}

void PublishingSink::publish(const std::string& topic, int qos, double ts) {
  if (!out_.publish(topic, payload_, qos, false, ts)) ++failed_;
}

void PublishingSink::on_state(const core::AssetTwin& twin, double ts) {
  payload_.clear();
  core::encode_state(twin, ts, payload_);
  publish(twin.topic(twin.def().state_topic), 0, ts);
  if (keep_states_) states_.emplace_back(twin.id(), payload_);
  if (feed_ != nullptr) feed_->state(twin, ts, payload_);
}

void PublishingSink::on_alert(const core::AssetTwin& twin, const core::AlertEvent& event) {
  payload_.clear();
  core::encode_alert(twin, event, payload_);
  if (feed_ != nullptr) feed_->alert(twin, payload_);
  out_.log(LineKind::alert, event.raised ? LogLevel::warning : LogLevel::info,
           core::console_line(twin, event, started_ ? now_ - origin_ : 0.0));
  if (partitions_ > 0 && pace_records_) {
    // The record never says less than what subscribers have been told: a raise goes behind a
    // record that lists it, a clearing before the record that no longer does.
    std::string alert = std::move(payload_);
    if (event.raised) queue_record(twin);
    queue(Outgoing{twin.topic(twin.def().alert_topic), std::move(alert), twin.id(), false});
    if (!event.raised) queue_record(twin);
    return;
  }
  publish(twin.topic(twin.def().alert_topic), 1, now_);
  if (partitions_ > 0) publish_record(twin);
}

void PublishingSink::alert_records(core::Pattern topic, std::uint32_t partitions,
                                   std::string member, std::uint64_t run) {
  record_topic_ = std::move(topic);
  partitions_ = partitions;
  member_ = std::move(member);
  run_ = run;
}

void PublishingSink::on_handed_over(const core::AssetTwin& twin) {
  if (partitions_ > 0) publish_record(twin);
}

void PublishingSink::on_let_go(const core::AssetTwin& twin) {
  if (partitions_ > 0) publish_record(twin);
}

void PublishingSink::encode_record(const core::AssetTwin& twin) {
  payload_.clear();
  // None raised: the retained record goes (an empty retained message clears the topic's).
  if (twin.has_alerts_to_settle()) {
    core::encode_active_alerts(twin, now_, member_, run_, payload_);
  }
}

std::string PublishingSink::record_topic(const core::AssetTwin& twin) const {
  return record_topic_.with(twin.id(), std::to_string(core::partition_of(twin.id(), partitions_)));
}

void PublishingSink::publish_record(const core::AssetTwin& twin) {
  if (pace_records_) {
    queue_record(twin);
    return;
  }
  encode_record(twin);
  if (!out_.publish(record_topic(twin), payload_, 1, true, now_)) ++failed_;
}

void PublishingSink::queue_record(const core::AssetTwin& twin) {
  encode_record(twin);
  // The asset's record waiting with no alert of the asset behind it yet takes the newer payload.
  if (const auto open = open_record_.find(twin.id()); open != open_record_.end()) {
    queue_[static_cast<std::size_t>(open->second - queue_base_)].payload = payload_;
    ++superseded_;
    return;
  }
  queue(Outgoing{record_topic(twin), payload_, twin.id(), true});
}

void PublishingSink::queue(Outgoing m) {
  if (queue_.size() >= kMaxWaiting) pop_front(true);
  const std::uint64_t at = queue_base_ + queue_.size();
  if (m.record) {
    open_record_.insert_or_assign(m.asset, at);
    ++records_waiting_;
  } else {
    open_record_.erase(m.asset);  // a later record of the asset goes after this alert
  }
  queue_.push_back(std::move(m));
}

PublishingSink::Outgoing PublishingSink::pop_front(bool dropped) {
  Outgoing m = std::move(queue_.front());
  queue_.pop_front();
  if (m.record) {
    --records_waiting_;
    if (const auto open = open_record_.find(m.asset);
        open != open_record_.end() && open->second == queue_base_) {
      open_record_.erase(open);
    }
  }
  if (dropped) ++waiting_dropped_;
  ++queue_base_;
  return m;
}

std::size_t PublishingSink::flush_records(std::size_t max) {
  std::size_t sent = 0;
  while (!queue_.empty()) {
    const Outgoing& m = queue_.front();
    if (m.record) {
      if (sent == max) break;
      ++sent;
    }
    if (!out_.publish(m.topic, m.payload, 1, m.record, now_)) ++failed_;
    sent_.push_back(pop_front(false));
  }
  return sent;
}

void PublishingSink::acknowledged(bool late) {
  if (late) {
    // Back at the front, in their order: what waits was decided after them. Not open to a newer
    // payload (one may wait behind them already); the open ones' numbers stay theirs.
    resent_ += sent_.size();
    for (auto m = sent_.rbegin(); m != sent_.rend(); ++m) {
      if (m->record) ++records_waiting_;
      queue_.push_front(std::move(*m));
      --queue_base_;
    }
  }
  sent_.clear();
}

void PublishingSink::on_model_change(const core::AssetTwin& twin, const core::ModelChange& change) {
  payload_.clear();
  core::encode_model_change(twin, change, payload_);
  publish(twin.topic(twin.def().model_topic), 1, now_);
  out_.log(LineKind::model_change, LogLevel::info, core::model_change_line(twin, change));
}

void PublishingSink::on_diagnosis(const core::AssetTwin& twin,
                                  const core::DiagnosisReport& report) {
  payload_.clear();
  core::encode_diagnosis(twin, report, payload_);
  publish(twin.topic(twin.def().diagnosis_topic), 1, now_);
  if (feed_ != nullptr) feed_->diagnosis(twin, payload_);
  out_.log(LineKind::diagnosis, LogLevel::info, core::diagnosis_line(twin, report));
}

void PublishingSink::on_reply(const core::CommandReply& reply) {
  payload_.clear();
  core::encode_reply(reply, payload_);
  publish(reply.topic, 1, now_);
  std::string line = "command " + printable(reply.command) + " to " + printable(reply.asset) +
                     " (id \"" + printable(reply.request_id) + "\")";
  if (reply.ok) {
    out_.log(LineKind::command, LogLevel::info, line + ": ok");
  } else {
    out_.log(LineKind::command, LogLevel::warning, line + " refused: " + printable(reply.error));
  }
}

void PublishingSink::on_discovered(const core::AssetTwin& twin) {
  // Discovered ids are checked: nothing to make printable.
  out_.log(LineKind::discovery, LogLevel::info,
           "asset " + twin.id() + " discovered (template " + twin.def().entry + ")");
  out_.discovered(twin);
}

void PublishingSink::on_reject(std::string_view topic, Reject reason, double arrival) {
  std::uint64_t suppressed = 0;
  if (!limiter_.allow(topic, arrival, suppressed)) return;
  std::string line =
      "rejected a payload on " + printable(topic) + ": " + std::string(to_string(reason));
  if (suppressed > 0) {
    line += " (" + std::to_string(suppressed) + " more on this topic since the last report)";
  }
  out_.log(LineKind::reject, LogLevel::warning, line);
}

void PublishingSink::on_trace(const core::AssetTwin& twin, const core::TraceSample& sample) {
  payload_.clear();
  core::encode_trace(twin, sample, payload_);
  out_.trace(payload_);
}

}  // namespace twind::app
