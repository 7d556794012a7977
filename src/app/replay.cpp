#include "twind/app/replay.hpp"

#include <cmath>
#include <istream>
#include <numeric>
#include <optional>
#include <ostream>
#include <string_view>

#include "twind/codec/recording.hpp"
#include "twind/config/config.hpp"
#include "twind/core/encode.hpp"
#include "twind/core/engine.hpp"
#include "twind/core/rate_limit.hpp"

namespace twind::app {
namespace {

constexpr std::size_t kFlushBytes = 64 * 1024;

// Encodes what the engine decides into recording lines; `now` is the recording time at which the
// live daemon would have published.
class RecordingSink final : public core::Sink {
 public:
  RecordingSink(std::ostream& out, const ReplayHooks& hooks) : out_(out), hooks_(hooks) {}

  void on_state(const core::AssetTwin& twin, double ts) override {
    payload_.clear();
    core::encode_state(twin, ts, payload_);
    codec::append_record_line(buffer_, ts, twin.topic(twin.def().state_topic), payload_);
    maybe_flush();
  }

  void on_model_change(const core::AssetTwin& twin, const core::ModelChange& change) override {
    payload_.clear();
    core::encode_model_change(twin, change, payload_);
    codec::append_record_line(buffer_, now, twin.topic(twin.def().model_topic), payload_);
    maybe_flush();
    if (hooks_.warn) {
      hooks_.warn("line " + std::to_string(line_no) + ": " + core::model_change_line(twin, change));
    }
  }

  void on_reply(const core::CommandReply& reply) override {
    payload_.clear();
    core::encode_reply(reply, payload_);
    codec::append_record_line(buffer_, now, reply.topic, payload_);
    maybe_flush();
  }

  void on_alert(const core::AssetTwin& twin, const core::AlertEvent& event) override {
    payload_.clear();
    core::encode_alert(twin, event, payload_);
    codec::append_record_line(buffer_, now, twin.topic(twin.def().alert_topic), payload_);
    maybe_flush();
    if (hooks_.alert) hooks_.alert(core::console_line(twin, event, now - origin));
  }

  void on_reject(std::string_view topic, Reject reason, double arrival) override {
    if (!hooks_.warn) return;
    std::uint64_t suppressed = 0;
    if (!limiter_.allow(topic, arrival, suppressed)) return;
    std::string line = "line " + std::to_string(line_no) + ": rejected on " + std::string(topic) +
                       ": " + std::string(to_string(reason));
    if (suppressed > 0) line += " (" + std::to_string(suppressed) + " more on this topic)";
    hooks_.warn(line);
  }

  void flush() {
    out_.write(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
    buffer_.clear();
  }

  double now = 0.0;
  double origin = 0.0;  // time of the first line, for the human-readable alert lines
  std::uint64_t line_no = 0;

 private:
  void maybe_flush() {
    if (buffer_.size() >= kFlushBytes) flush();
  }

  std::ostream& out_;
  const ReplayHooks& hooks_;
  std::string buffer_;
  std::string payload_;
  core::RateLimiter limiter_;
};

}  // namespace

std::uint64_t ReplaySummary::rejected_total() const noexcept {
  return std::accumulate(rejected.begin(), rejected.end(), std::uint64_t{0});
}

std::string ReplaySummary::str() const {
  std::string s = std::to_string(lines) + " lines (" + std::to_string(bad_lines) + " bad), " +
                  std::to_string(messages) + " messages, " + std::to_string(values) + " values, " +
                  std::to_string(states) + " states, " + std::to_string(alerts) + " alerts, " +
                  std::to_string(rejected_total()) + " rejected";
  if (rejected_total() > 0) {
    std::string detail;
    for (std::size_t i = 0; i < rejected.size(); ++i) {
      if (rejected[i] == 0) continue;
      if (!detail.empty()) detail += ", ";
      detail += std::string(to_string(static_cast<Reject>(i))) + " " + std::to_string(rejected[i]);
    }
    s += " (" + detail + ")";
  }
  return s;
}

ReplaySummary replay(const config::Config& config, std::istream& in, std::ostream& out,
                     const ReplayHooks& hooks) {
  ReplaySummary summary;
  RecordingSink sink(out, hooks);
  codec::RecordingParser parser;
  codec::RecordLine rec;
  std::string line;
  std::optional<core::Engine> engine;
  double last_t = 0.0;
  std::int64_t next_tick = 0;  // index k of the next tick at k * tick

  auto bad_line = [&](const std::string& why) {
    ++summary.bad_lines;
    if (hooks.warn) hooks.warn("line " + std::to_string(summary.lines) + ": " + why + "; skipped");
  };
  // Ticks (sub-ticks with tick_spread) fall on the grid k * interval of recording time.
  double interval = config.tick;
  auto tick_time = [&](std::int64_t k) { return static_cast<double>(k) * interval; };
  auto run_ticks_before = [&](double t, bool inclusive) {
    while (inclusive ? tick_time(next_tick) <= t : tick_time(next_tick) < t) {
      sink.now = tick_time(next_tick);
      engine->tick(sink.now, sink);
      ++next_tick;
    }
  };

  while (std::getline(in, line)) {
    ++summary.lines;
    sink.line_no = summary.lines;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    if (const auto r = parser.parse(line, rec); !r) {
      bad_line(r.error);
      continue;
    }
    if (!engine) {
      engine.emplace(config, rec.t);
      sink.origin = rec.t;
      interval = engine->tick_interval();
      next_tick = static_cast<std::int64_t>(std::ceil(rec.t / interval));
    } else if (rec.t < last_t) {
      bad_line("t goes backwards (" + std::to_string(rec.t) + " after " + std::to_string(last_t) +
               ")");
      continue;
    }
    last_t = rec.t;
    run_ticks_before(rec.t, false);
    sink.now = rec.t;
    engine->on_message(rec.topic, rec.payload, rec.t, sink);
  }
  if (engine) {
    run_ticks_before(last_t, true);
    const core::Counters& c = engine->counters();
    summary.messages = c.messages;
    summary.values = c.values;
    summary.states = c.states;
    summary.alerts = c.alerts;
    summary.rejected = c.rejected;
  }
  sink.flush();
  out.flush();
  return summary;
}

}  // namespace twind::app
