// Whether what twind publishes reaches the broker's subscribers. Under MQTT 3.1.1 a broker whose
// ACL denies a publication acknowledges it all the same (Mosquitto sends PUBACK and drops the
// message), and a clustered broker may drop messages it has acknowledged while it elects new
// leaders (nats-server 2.9), so the only evidence is the absence of the message at a subscriber.
// twind subscribes to a few of its own topics (the status topic, one asset's state and alert
// topics) and expects each message it publishes there back within a timeout, for as long as it
// runs; one that never comes back is reported, and so is the first that comes back after that,
// with the time span whose publications are in doubt (a gap), for twind to publish them again.
//
// No I/O and no clock: the daemon passes the time in and logs the findings.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace twind::app {

class PublishCheck {
 public:
  struct Finding {
    std::string topic;
    /// false: nothing published on `topic` came back in time (denied); true: a message came
    /// back after a denial was reported (delivered again).
    bool delivered = false;
    /// Delivered again: what was published after `since` (the publication time of the last
    /// message of any watched topic that came back before the denial) and up to `until` (that
    /// of the message that came back now) may not have reached subscribers. Both 0 otherwise.
    double since = 0.0;
    double until = 0.0;
    friend bool operator==(const Finding&, const Finding&) = default;
  };

  /// `timeout`: seconds a published message may take to come back.
  explicit PublishCheck(double timeout = 5.0) : timeout_(timeout) {}

  /// Adds a topic to watch (its echo must be subscribed by the caller). Idempotent.
  void watch(std::string_view topic);
  /// Stops watching a topic (nothing will be published there any more); its report, if any, goes.
  void unwatch(std::string_view topic);
  [[nodiscard]] bool watched(std::string_view topic) const;
  [[nodiscard]] std::vector<std::string> topics() const;

  /// A new connection (or its loss): messages pending on the old one say nothing any more.
  /// Denials already reported stay reported, so a flapping connection does not repeat them.
  void reset();

  /// twind hands `payload` on `topic` to a live connection at `now`: called before the
  /// publication, since the message may come back before the publishing call returns. Ignored
  /// for unwatched topics.
  void on_published(std::string_view topic, std::string_view payload, double now);
  /// The publication announced by on_published() did not happen (the client refused it).
  void withdraw(std::string_view topic, std::string_view payload);
  /// A message arrived from the broker on a watched topic. Only one of twind's own pending
  /// payloads confirms the topic; anything else (another publisher, an old retained message) is
  /// ignored.
  void on_received(std::string_view topic, std::string_view payload);

  /// The broker acknowledges nothing at the moment (a stalled connection, not yet found lost):
  /// what is pending waits from `now` on, since a message it has not taken is not one it dropped.
  void stalled(double now);

  /// Topics whose oldest pending message has waited longer than the timeout (each reported once,
  /// until it is delivered again), and topics delivered again since their denial was reported.
  [[nodiscard]] std::vector<Finding> poll(double now);

  /// Watched topics currently reported as denied.
  [[nodiscard]] std::size_t denied() const;

 private:
  // Pending payloads are kept as hashes; a few suffice, since any one of them coming back
  // confirms the topic.
  static constexpr std::size_t kMaxPending = 8;
  struct Pending {
    std::uint64_t hash = 0;
    double at = 0.0;  // published
  };
  struct Topic {
    std::string name;
    bool denied = false;           // reported, not delivered since
    bool delivered_news = false;   // delivered after a denial, not yet polled
    double first_pending = 0.0;    // the oldest publication not come back (kept past the cap)
    double gap_since = 0.0;        // denied: good_until_ when it was reported
    double back_at = 0.0;          // delivered again: the publication time of the one back
    std::vector<Pending> pending;  // the newest kMaxPending
  };
  Topic* find(std::string_view topic);
  // The pending publication of `payload` on `t`, or t.pending.end().
  static std::vector<Pending>::iterator pending_of(Topic& t, std::string_view payload);
  [[nodiscard]] const Topic* find(std::string_view topic) const;

  double timeout_;
  double good_until_ = 0.0;  // the publication time of the newest message that came back
  std::vector<Topic> entries_;
};

}  // namespace twind::app
