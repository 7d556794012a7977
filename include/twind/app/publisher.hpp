// What the twins' output becomes, once for both drivers: PublishingSink encodes what the engine
// decides (states, alerts, model changes, command replies) and words the human lines about it;
// a Publisher puts the messages somewhere (recording lines in replay, the broker live) and the
// lines in a log. No I/O here.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "twind/core/engine.hpp"
#include "twind/core/rate_limit.hpp"

namespace twind::app {
class LiveFeed;
}  // namespace twind::app

namespace twind::app {

enum class LogLevel : std::uint8_t { info, warning, error };

/// What a human line is about, so that a driver can route it (replay prints alerts apart).
enum class LineKind : std::uint8_t { alert, reject, model_change, command, discovery, diagnosis };

class Publisher {
 public:
  /// Hands one message on. `ts`: the time it is published at (the tick's time for a state, the
  /// time of the message or tick that decided it otherwise). Returns false when it was refused
  /// (a client that is disconnected drops QoS 0).
  virtual bool publish(std::string_view topic, std::string_view payload, int qos, bool retained,
                       double ts) = 0;
  /// One human line.
  virtual void log(LineKind kind, LogLevel level, const std::string& line) = 0;
  /// A twin was made by discovery (its line is logged first).
  virtual void discovered(const core::AssetTwin& twin) { (void)twin; }
  /// One trace object (core::encode_trace), while the sink traces. Default: ignore.
  virtual void trace(std::string_view object) { (void)object; }

 protected:
  ~Publisher() = default;
};

/// Text from the network (a command's id, a topic) as it may appear in one log line: control
/// characters are replaced by '?', so that a sender cannot forge lines of its own.
[[nodiscard]] std::string printable(std::string_view v);

/// The engine's Sink of both drivers. The driver tells it the time before every message, tick
/// and reload; messages go out as: states QoS 0 on the state topic, alerts QoS 1 (the client
/// keeps them until the broker acknowledges them), model changes and command replies QoS 1;
/// none retained. Rejected payloads are logged at most once per second per topic.
class PublishingSink final : public core::Sink {
 public:
  /// `keep_states`: keep each tick's states for take_states() (the HTTP /state view).
  explicit PublishingSink(Publisher& out, bool keep_states = false)
      : out_(out), keep_states_(keep_states) {}

  /// A message arriving at `t` is next: the time of what it decides. The first one is t = 0 of
  /// the alert console lines (`[t=3.06s] ALERT: ...`).
  void message_at(double t);
  /// A tick (or a reload) at `t` is next.
  void at(double t) { now_ = t; }
  /// Hands every sample the twins accept to the publisher's trace() (core::AlertSink::on_trace).
  void trace(bool on) noexcept { set_traces(on); }

  /// Also hand every state, alert and diagnosis to `feed` (the browser dashboard's); null: none.
  void feed(LiveFeed* feed) noexcept { feed_ = feed; }
  /// A replica: after each alert transition of an asset, and each change of the alerts handed
  /// over to it, publish the asset's record of its raised alerts (core::encode_active_alerts),
  /// QoS 1 and retained, on `topic` (cluster.active_alerts: {partition} and {asset} filled in;
  /// of `partitions`), as `member` in its run `run`; an empty retained message once none is
  /// raised.
  void alert_records(core::Pattern topic, std::uint32_t partitions, std::string member,
                     std::uint64_t run);
  /// Records wait in a queue until flush_records() sends them, instead of going out at once, and
  /// so do the alerts (in their order), placed so that the record never says less than what
  /// subscribers have been told: a raise behind a record that lists it, a clearing before the
  /// record that no longer does. A record is its asset's state, not an event: a newer one
  /// replaces the asset's waiting one when no alert of the asset follows that
  /// (records_superseded()). At most kMaxWaiting messages wait, the oldest dropped beyond
  /// (waiting_dropped()).
  void pace_records(bool on) noexcept { pace_records_ = on; }
  /// Sends what waits, in order, up to (not including) the record after the `max`-th; returns
  /// how many records it sent. What it sent is kept until acknowledged().
  std::size_t flush_records(std::size_t max);
  /// The broker has acknowledged everything flush_records() sent; `late`: only after a broker's
  /// store may have given up on it (nats-server abandons a JetStream store after 4 s and
  /// acknowledges the message all the same, logging the failure). Late, those messages wait
  /// again ahead of the others, in their order, to be sent once more (resent()): a subscriber
  /// may see an alert twice (its alert_id tells), and the broker keeps the record.
  void acknowledged(bool late);
  /// Messages flush_records() sent that await acknowledged().
  [[nodiscard]] std::size_t unacknowledged() const noexcept { return sent_.size(); }
  /// Messages queued again by a late acknowledged().
  [[nodiscard]] std::uint64_t resent() const noexcept { return resent_; }
  /// Records waiting for flush_records().
  [[nodiscard]] std::size_t records_waiting() const noexcept { return records_waiting_; }
  /// Messages waiting (records and alerts).
  [[nodiscard]] std::size_t messages_waiting() const noexcept { return queue_.size(); }
  /// Records replaced by a newer one of their asset while they waited.
  [[nodiscard]] std::uint64_t records_superseded() const noexcept { return superseded_; }
  /// Messages dropped because kMaxWaiting were waiting already.
  [[nodiscard]] std::uint64_t waiting_dropped() const noexcept { return waiting_dropped_; }
  static constexpr std::size_t kMaxWaiting = 65536;

  /// Messages the publisher refused.
  [[nodiscard]] std::uint64_t publish_failed() const noexcept { return failed_; }
  /// The states published since the last call, as (asset id, payload); empty unless kept.
  [[nodiscard]] std::vector<std::pair<std::string, std::string>> take_states();

  void on_state(const core::AssetTwin& twin, double ts) override;
  void on_alert(const core::AssetTwin& twin, const core::AlertEvent& event) override;
  void on_model_change(const core::AssetTwin& twin, const core::ModelChange& change) override;
  void on_diagnosis(const core::AssetTwin& twin, const core::DiagnosisReport& report) override;
  void on_reply(const core::CommandReply& reply) override;
  void on_discovered(const core::AssetTwin& twin) override;
  void on_handed_over(const core::AssetTwin& twin) override;
  void on_let_go(const core::AssetTwin& twin) override;
  void on_reject(std::string_view topic, Reject reason, double arrival) override;
  void on_trace(const core::AssetTwin& twin, const core::TraceSample& sample) override;

 private:
  void publish(const std::string& topic, int qos, double ts);
  struct Outgoing {  // waiting, paced
    std::string topic;
    std::string payload;
    std::string asset;
    bool record = false;  // a record (retained) or an alert
  };
  void publish_record(const core::AssetTwin& twin);
  void encode_record(const core::AssetTwin& twin);  // into payload_
  [[nodiscard]] std::string record_topic(const core::AssetTwin& twin) const;
  void queue_record(const core::AssetTwin& twin);
  void queue(Outgoing m);
  Outgoing pop_front(bool dropped);  // the front, out of the queue and its counts

  Publisher& out_;
  bool keep_states_;
  LiveFeed* feed_ = nullptr;
  double now_ = 0.0;
  double origin_ = 0.0;
  bool started_ = false;
  std::uint64_t failed_ = 0;
  std::string payload_;
  std::vector<std::pair<std::string, std::string>> states_;
  core::RateLimiter limiter_;
  // alert_records()'s.
  core::Pattern record_topic_;
  std::uint32_t partitions_ = 0;
  std::string member_;
  std::uint64_t run_ = 0;
  // pace_records()'s queue: records and alerts, in the order they go out.
  bool pace_records_ = false;
  std::deque<Outgoing> queue_;
  std::uint64_t queue_base_ = 0;  // the number of queue_.front() among all ever queued
  std::size_t records_waiting_ = 0;
  // By asset: the number of its latest waiting record that no alert of the asset follows.
  std::unordered_map<std::string, std::uint64_t> open_record_;
  std::uint64_t superseded_ = 0;
  std::uint64_t waiting_dropped_ = 0;
  std::vector<Outgoing> sent_;  // by the last flush_records(), not yet acknowledged()
  std::uint64_t resent_ = 0;
};

}  // namespace twind::app
