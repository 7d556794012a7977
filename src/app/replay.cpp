#include "twind/app/replay.hpp"

#include <istream>
#include <optional>
#include <ostream>
#include <string_view>
#include <vector>

#include "twind/app/publisher.hpp"
#include "twind/codec/recording.hpp"
#include "twind/config/config.hpp"
#include "twind/core/tick_schedule.hpp"

namespace twind::app {
namespace {

constexpr std::size_t kFlushBytes = 64 * 1024;
// Bad lines ahead of the first valid one whose warnings wait for it (see ReplaySummary).
constexpr std::size_t kHeldBadLines = 100;

// Writes what the daemon would publish as recording lines, at the recording time it would have.
class RecordingPublisher final : public Publisher {
 public:
  RecordingPublisher(std::ostream& out, const ReplayHooks& hooks) : out_(out), hooks_(hooks) {}

  bool publish(std::string_view topic, std::string_view payload, int qos, bool retained,
               double ts) override {
    (void)qos;
    (void)retained;
    codec::append_record_line(buffer_, ts, topic, payload);
    if (buffer_.size() >= kFlushBytes) flush();
    return true;
  }

  // A trace line: `{"trace":OBJECT}`, in order with the messages (docs/interfaces.md).
  void trace(std::string_view object) override {
    buffer_ += R"({"trace":)";
    buffer_ += object;
    buffer_ += "}\n";
    if (buffer_.size() >= kFlushBytes) flush();
  }

  void log(LineKind kind, LogLevel level, const std::string& line) override {
    if (kind == LineKind::alert) {
      if (hooks_.alert) hooks_.alert(line);
      return;
    }
    const auto& hook = level == LogLevel::info ? hooks_.info : hooks_.warn;
    if (hook) hook("line " + std::to_string(line_no) + ": " + line);
  }

  void flush() {
    out_.write(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
    buffer_.clear();
  }

  std::uint64_t line_no = 0;

 private:
  std::ostream& out_;
  const ReplayHooks& hooks_;
  std::string buffer_;
};

}  // namespace

std::string ReplaySummary::str() const {
  const core::Counters& c = counters;
  std::string s = std::to_string(lines) + " lines (" + std::to_string(bad_lines) + " bad), " +
                  std::to_string(c.messages) + " messages, " + std::to_string(c.values) +
                  " values, " + std::to_string(c.states) + " states, " + std::to_string(c.alerts) +
                  " alerts, " + std::to_string(c.rejected_total()) + " rejected";
  if (c.rejected_total() > 0) {
    std::string detail;
    for (std::size_t i = 0; i < c.rejected.size(); ++i) {
      if (c.rejected[i] == 0) continue;
      if (!detail.empty()) detail += ", ";
      detail +=
          std::string(to_string(static_cast<Reject>(i))) + " " + std::to_string(c.rejected[i]);
    }
    s += " (" + detail + ")";
  }
  return s;
}

namespace {

// Bad lines: counted, the first remembered, each reported with its number. Until a valid line
// shows that the input is a recording their warnings wait (up to kHeldBadLines of them, then
// they go out as they come): a file that is no recording at all is reported by the caller, once.
class BadLines {
 public:
  BadLines(const ReplayHooks& hooks, ReplaySummary& summary) : hooks_(hooks), summary_(summary) {}

  void add(std::uint64_t line, const std::string& why) {
    ++summary_.bad_lines;
    std::string msg = "line " + std::to_string(line) + ": " + why;
    if (summary_.first_bad.empty()) summary_.first_bad = msg;
    if (!hooks_.warn) return;
    msg += "; skipped";
    if (holding_ && held_.size() < kHeldBadLines) {
      held_.push_back(std::move(msg));
      return;
    }
    release();
    hooks_.warn(msg);
  }
  // A valid line: the input is a recording.
  void release() {
    for (const std::string& h : held_) hooks_.warn(h);
    held_.clear();
    holding_ = false;
  }

 private:
  const ReplayHooks& hooks_;
  ReplaySummary& summary_;
  std::vector<std::string> held_;
  bool holding_ = true;
};

// The engine and its tick grid in recording time, from the first valid line on.
struct Run {
  Run(const config::Config& config, double t0)
      : engine(config, t0),
        ticks(engine.tick_interval(), engine.slots(), t0, core::TickSchedule::Clock::recording) {}

  void ticks_until(double t, core::TickSchedule::Bound bound, PublishingSink& sink) {
    const core::TickSchedule::Due due = ticks.take(t, bound);
    for (std::int64_t k = due.first; k < due.end; ++k) {
      sink.at(ticks.time(k));
      engine.tick(ticks.time(k), sink);
    }
  }

  core::Engine engine;
  core::TickSchedule ticks;
};

}  // namespace

ReplaySummary replay(const config::Config& config, std::istream& in, std::ostream& out,
                     const ReplayHooks& hooks, const ReplayOptions& options) {
  ReplaySummary summary;
  RecordingPublisher publisher(out, hooks);
  PublishingSink sink(publisher);
  sink.trace(options.trace);
  BadLines bad(hooks, summary);
  codec::RecordingParser parser;
  codec::RecordLine rec;
  std::string line;
  std::optional<Run> run;
  double last_t = 0.0;
  while (std::getline(in, line)) {
    ++summary.lines;
    publisher.line_no = summary.lines;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    if (const auto r = parser.parse(line, rec); !r) {
      bad.add(summary.lines, r.error);
      continue;
    }
    if (!run) {
      run.emplace(config, rec.t);
    } else if (rec.t < last_t) {
      bad.add(summary.lines, "t goes backwards (" + std::to_string(rec.t) + " after " +
                                 std::to_string(last_t) + ")");
      continue;
    }
    bad.release();
    ++summary.records;
    last_t = rec.t;
    run->ticks_until(rec.t, core::TickSchedule::Bound::before, sink);
    sink.message_at(rec.t);
    run->engine.on_message(rec.topic, rec.payload, rec.t, sink);
  }
  if (run) {
    run->ticks_until(last_t, core::TickSchedule::Bound::through, sink);
    summary.counters = run->engine.counters();
  }
  publisher.flush();
  out.flush();
  return summary;
}

}  // namespace twind::app
