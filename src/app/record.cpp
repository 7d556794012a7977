#include "twind/app/record.hpp"

#include <pthread.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <ctime>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "twind/app/connection_report.hpp"
#include "twind/app/daemon.hpp"
#include "twind/app/recorder.hpp"
#include "twind/app/run.hpp"
#include "twind/core/engine.hpp"

namespace twind::app {
namespace {

constexpr int kOk = 0;
constexpr int kFailure = 1;
constexpr int kBadConfig = 2;

void log_report(const ReportLine& line) {
  switch (line.level) {
    case LogLevel::info:
      spdlog::info("{}", line.text);
      break;
    case LogLevel::warning:
      spdlog::warn("{}", line.text);
      break;
    case LogLevel::error:
      spdlog::error("{}", line.text);
      break;
  }
}

// The client's events: messages are stamped with the wall clock and queued for the recorder's
// writer (on the client's thread, or on the main thread inside drive() for a driven client).
class RecordHandler final : public mqtt::Handler {
 public:
  RecordHandler(Recorder& recorder, const mqtt::Client& client, std::size_t topics)
      : recorder_(recorder), client_(client), topics_(topics) {}

  void on_connected() override {
    const std::lock_guard lock(mutex_);
    log_report(report_.connected(topics_, client_.connected_uri()));
  }
  void on_disconnected(const std::string& cause) override {
    const std::lock_guard lock(mutex_);
    if (const auto line = report_.disconnected(cause, wall_clock_now())) log_report(*line);
  }
  void on_message(std::string_view topic, std::string_view payload) override {
    recorder_.record(wall_clock_now(), topic, payload);
    ++messages_;
  }
  [[nodiscard]] std::uint64_t messages() const { return messages_; }

 private:
  Recorder& recorder_;
  const mqtt::Client& client_;
  std::size_t topics_;
  std::mutex mutex_;  // the report: a threaded client may call from two threads
  ConnectionReport report_;
  std::atomic<std::uint64_t> messages_{0};
};

}  // namespace

int record_traffic(const RecordOptions& options) {
  // Blocked before any thread starts, so that only this thread takes them (sigtimedwait).
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);  // a hang-up stops it too, cleanly (there is nothing to reload)
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto config = load_config(options.config_path, true);
  if (!config) return kBadConfig;
  if (!options.broker_override.empty()) override_broker(config->broker, options.broker_override);
  auto password = resolve_password(config->broker);
  if (!password) return kBadConfig;

  std::vector<std::string> topics;
  std::unique_ptr<mqtt::Client> client;
  try {
    // The daemon's own subscription: the engine's router for this configuration.
    topics = core::Engine(*config, wall_clock_now()).topics();
    mqtt::ConnectOptions connect = connect_options(*config, std::move(*password));
    // Beside a running twind: its own client id (a broker drops the older of two connections
    // with one id), no will (twind's status is twind's to say), nothing kept across sessions.
    connect.client_id += "-record";
    connect.will.reset();
    connect.clean_session = true;
    client = make_client(*config, connect);
  } catch (const std::exception& e) {
    spdlog::error("cannot start: {}", e.what());
    return kBadConfig;
  }

  RecorderOptions ropts;
  ropts.file.max_bytes = options.max_bytes;
  ropts.file.keep = options.keep;
  Recorder recorder(options.output, ropts);
  if (std::string error = recorder.start(); !error.empty()) {
    spdlog::error("cannot write the recording {}", error);
    return kFailure;
  }
  RecordHandler handler(recorder, *client, topics.size());
  if (options.duration > 0) {
    spdlog::info("recording {} topic filter(s) from {} to {} for {} s", topics.size(),
                 config->broker.uri, options.output, options.duration);
  } else {
    spdlog::info("recording {} topic filter(s) from {} to {} until SIGINT or SIGTERM",
                 topics.size(), config->broker.uri, options.output);
  }

  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  const auto deadline = options.duration > 0
                            ? start + std::chrono::duration_cast<Clock::duration>(
                                          std::chrono::duration<double>(options.duration))
                            : Clock::time_point::max();
  int code = kOk;
  try {
    client->subscribe(topics, 1);
    client->start(handler);
    const bool driven = client->driven();
    for (;;) {
      const auto now = Clock::now();
      if (now >= deadline) break;
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
      const auto step =
          std::clamp(left, std::chrono::milliseconds(1), std::chrono::milliseconds(50));
      if (driven) client->drive(step, 1024);
      timespec wait{0, driven ? 0L : static_cast<long>(step.count()) * 1'000'000L};
      const int sig = sigtimedwait(&signals, nullptr, &wait);
      if (sig == SIGINT || sig == SIGTERM || sig == SIGHUP) {
        spdlog::info("{} received: stopping",
                     sig == SIGINT ? "SIGINT" : (sig == SIGTERM ? "SIGTERM" : "SIGHUP"));
        break;
      }
    }
  } catch (const std::exception& e) {
    spdlog::critical("twind record failed: {}", e.what());
    code = kFailure;
  }
  // No message after the client has stopped; then every line queued is written whole.
  client->stop(std::nullopt, std::chrono::milliseconds(500));
  recorder.stop();
  const RecorderStats s = recorder.stats();
  spdlog::info("record: {} messages, {} lines written to {}, {} dropped, {} lost to write errors",
               handler.messages(), s.lines, options.output, s.dropped, s.errors);
  if (s.errors > 0) return kFailure;
  return code;
}

}  // namespace twind::app
