#include "twind/app/run.hpp"

#include <pthread.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "twind/app/cluster_link.hpp"
#include "twind/app/daemon.hpp"
#include "twind/app/http_server.hpp"
#include "twind/app/live_feed.hpp"
#include "twind/app/recorder.hpp"
#include "twind/app/systemd_notify.hpp"
#include "twind/config/loader.hpp"
#include "twind/core/engine.hpp"
#include "twind/model/linear.hpp"
#include "twind/mqtt/broker_uri.hpp"

namespace twind::app {
namespace {

constexpr int kOk = 0;
constexpr int kFailure = 1;
constexpr int kBadConfig = 2;

}  // namespace

std::optional<config::Config> load_config(const std::string& path, bool at_start) {
  config::LoadResult r = config::load_file(path);
  for (const config::Diagnostic& d : r.diagnostics) {
    if (d.is_error) {
      spdlog::error("{}", d.str());
    } else {
      spdlog::warn("{}", d.str());
    }
  }
  if (!r.config) {
    spdlog::error(at_start ? "invalid configuration, not starting"
                           : "reload refused: the new configuration is invalid; the running one "
                             "stays");
    return std::nullopt;
  }
  return std::move(r.config);
}

namespace {

// The first line of a file holding a secret (`what` names it in the log), trailing blanks cut;
// nullopt, logged, when it cannot be read. A file every user may read is warned of.
std::optional<std::string> read_secret(const std::string& path, std::string_view what) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && (st.st_mode & S_IROTH) != 0) {
    spdlog::warn("the {} {} is readable by every user; chmod o-r it", what, path);
  }
  std::ifstream f(path);
  if (!f) {
    spdlog::error("cannot read the {} {}: {}", what, path, std::strerror(errno));
    return std::nullopt;
  }
  std::string secret;
  std::getline(f, secret);
  while (!secret.empty() && (secret.back() == '\r' || secret.back() == ' ')) secret.pop_back();
  return secret;
}

}  // namespace

std::optional<std::string> resolve_password(const config::BrokerSpec& b) {
  if (!b.password_file.empty()) return read_secret(b.password_file, "password file");
  if (!b.password_env.empty()) {
    const char* v = std::getenv(b.password_env.c_str());
    if (v == nullptr) {
      spdlog::error("the environment variable {} (broker.password_env) is not set", b.password_env);
      return std::nullopt;
    }
    return std::string(v);
  }
  return std::string();
}

void override_broker(config::BrokerSpec& broker, const std::string& list) {
  std::vector<std::string> uris = mqtt::split_broker_uris(list);
  broker.uri = uris.front();
  broker.failover_uris.assign(uris.begin() + 1, uris.end());
}

std::string offline_payload(const config::Config& c, double ts) {
  return c.cluster ? announcement_payload("offline", c.cluster->member, nullptr, ts)
                   : Daemon::status_payload("offline", ts);
}

mqtt::ConnectOptions connect_options(const config::Config& c, std::string password) {
  mqtt::ConnectOptions o;
  o.uri = c.broker.uri;
  o.failover_uris = c.broker.failover_uris;
  o.client_id = c.broker.client_id;
  o.keepalive = std::chrono::seconds(static_cast<long>(std::lround(c.broker.keepalive)));
  o.clean_session = c.broker.clean_session;
  o.username = c.broker.username;
  o.password = std::move(password);
  if (c.broker.tls) {
    o.tls = mqtt::Tls{c.broker.tls->ca_file, c.broker.tls->cert_file, c.broker.tls->key_file};
  }
  o.will = mqtt::Will{c.topics.status, offline_payload(c, 0.0), 1, true};
  return o;
}

std::unique_ptr<mqtt::Client> make_client(const config::Config& c,
                                          const mqtt::ConnectOptions& connect) {
  switch (c.broker.client) {
    case config::BrokerSpec::Client::driven:
      return mqtt::make_paho_driven_client(connect);
    case config::BrokerSpec::Client::native:
      return mqtt::make_native_client(connect);
    case config::BrokerSpec::Client::threaded:
      break;
  }
  return mqtt::make_paho_client(connect);
}

namespace {

// "host:port", "[v6]:port" or "off". Empty host: not given.
std::optional<std::pair<std::string, int>> parse_listen(const std::string& s) {
  const auto colon = s.rfind(':');
  if (colon == std::string::npos || colon + 1 >= s.size()) return std::nullopt;
  std::string host = s.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  int port = 0;
  for (char c : s.substr(colon + 1)) {
    if (c < '0' || c > '9' || port > 65535) return std::nullopt;
    port = port * 10 + (c - '0');
  }
  if (host.empty() || port > 65535) return std::nullopt;
  return std::make_pair(host, port);
}

}  // namespace

HttpSnapshot http_view(const std::shared_ptr<const DaemonSnapshot>& s, double now) {
  HttpSnapshot h;
  h.states = std::shared_ptr<const StateList>(s, &s->states);  // shares the snapshot
  h.metrics = std::shared_ptr<const std::string>(s, &s->metrics);
  const double age = now - s->ts;
  if (!s->connected) {
    h.health_detail = "not connected to the broker";
  } else if (s->counters.ticks > 0 && age > 3.0 * s->tick + 1.0) {
    h.health_detail = "the engine loop has not ticked for " + std::to_string(age) + " s";
  } else {
    h.healthy = true;
    // Healthy, for an orchestrator (a restart would only lose the backlog), but said.
    if (s->behind) {
      h.health_detail = "degraded: " + std::to_string(s->counters.lag_seconds) +
                        " s behind its input (twind's own backlog)";
    }
  }
  return h;
}

namespace {

// Blocks the signals before any thread exists, so every thread inherits the mask and only the
// signal thread receives them (synchronously, with sigtimedwait: no async-signal-safety traps in
// handlers).
sigset_t block_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

// The signal thread: SIGINT and SIGTERM stop the daemon, SIGHUP reloads the file; until
// `stopping`. Both only post to the daemon's inbox.
void handle_signals(const sigset_t& signals, const RunOptions& options, Daemon& daemon,
                    const std::atomic<bool>& stopping) {
  while (!stopping) {
    timespec timeout{0, 200'000'000};
    const int sig = sigtimedwait(&signals, nullptr, &timeout);
    if (sig == SIGINT || sig == SIGTERM) {
      spdlog::info("{} received: stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
      notify_stopping();
      daemon.stop();
      return;
    }
    if (sig == SIGHUP) {
      spdlog::info("SIGHUP received: reloading {}", options.config_path);
      notify_reloading();
      if (auto next = load_config(options.config_path, false)) {
        if (!options.broker_override.empty())
          override_broker(next->broker, options.broker_override);
        if (const std::string problem = resolve_member(*next, options.member); !problem.empty()) {
          spdlog::error("reload refused, the running configuration stays: {}", problem);
        } else {
          daemon.reload(std::move(*next));
        }
      }
      notify_ready();
    }
  }
}

// The systemd watchdog, fed from the engine loop's ticks: a stuck loop gets restarted.
struct Watchdog {
  std::optional<std::chrono::microseconds> interval = watchdog_interval();
  std::chrono::steady_clock::time_point last_ping = std::chrono::steady_clock::now();

  void tick() {
    if (!interval) return;
    const auto t = std::chrono::steady_clock::now();
    if (t - last_ping >= *interval / 4) {
      notify_watchdog();
      last_ping = t;
    }
  }
};

// broker.uri, and its fail-over list, as --broker takes them.
std::string brokers_text(const config::BrokerSpec& b) {
  std::string out = b.uri;
  for (const std::string& u : b.failover_uris) out += "," + u;
  return out;
}

// Publishes `offline` (a clean disconnect suppresses the will), gives in-flight alerts a bounded
// time to be acknowledged (the whole stop stays under 2 s), and says what the run did.
void shut_down(mqtt::Client& client, const Daemon& daemon, const config::Config& c) {
  const mqtt::Will offline{c.topics.status, offline_payload(c, wall_clock_now()), 1, true};
  const bool flushed = client.stop(offline, std::chrono::milliseconds(1500));
  const mqtt::ClientStats stats = client.stats();
  const auto snap = daemon.snapshot();
  spdlog::info(
      "twind stopped: {} messages in, {} ticks, {} alerts; {} messages published, {} "
      "acknowledged{}",
      snap->messages, snap->counters.ticks, snap->alerts, stats.published, stats.delivered,
      flushed ? "" : "; some were not acknowledged before the deadline");
}

}  // namespace

int run_daemon(const RunOptions& options) {
  const sigset_t signals = block_signals();
  auto config = load_config(options.config_path, true);
  if (!config) return kBadConfig;
  if (!options.broker_override.empty()) override_broker(config->broker, options.broker_override);
  if (const std::string problem = resolve_member(*config, options.member); !problem.empty()) {
    spdlog::error("not starting: {}", problem);
    return kBadConfig;
  }
  auto password = resolve_password(config->broker);
  if (!password) return kBadConfig;

  std::optional<std::pair<std::string, int>> listen;
  if (options.http_listen != "off") {
    listen = parse_listen(options.http_listen);
    if (!listen) {
      spdlog::error("--http: got \"{}\", expected host:port (e.g. 127.0.0.1:9100) or off",
                    options.http_listen);
      return kBadConfig;
    }
  }

  // Started before the daemon subscribes: its first message is recorded too.
  std::unique_ptr<Recorder> recorder;
  if (!options.record_path.empty()) {
    RecorderOptions ropts;
    ropts.file.max_bytes = options.record_max_bytes;
    ropts.file.keep = options.record_keep;
    recorder = std::make_unique<Recorder>(options.record_path, ropts);
    if (std::string error = recorder->start(); !error.empty()) {
      spdlog::error("--record: cannot write the recording {}", error);
      return kBadConfig;
    }
    spdlog::info("recording every inbound message to {} (at most {} bytes a file, {} older kept)",
                 options.record_path, options.record_max_bytes, options.record_keep);
  }

  std::string token;
  if (listen && !options.http_token_file.empty()) {
    std::optional<std::string> t = read_secret(options.http_token_file, "token file");
    if (!t || t->empty()) {
      if (t) spdlog::error("the token file {} is empty", options.http_token_file);
      return kBadConfig;
    }
    token = std::move(*t);
  }
  if (listen && token.empty() && listen->first != "127.0.0.1" && listen->first != "::1" &&
      listen->first != "localhost") {
    spdlog::warn(
        "http: {} is reachable beyond this machine and needs no token "
        "(--http-token-file); put it behind a reverse proxy with TLS (docs/dashboard.md)",
        listen->first);
  }
  std::unique_ptr<LiveFeed> feed;
  if (listen) {
    LiveFeedOptions fo;
    fo.history = options.http_history;
    feed = std::make_unique<LiveFeed>(fo);
  }

  Watchdog watchdog;
  DaemonOptions dopts;
  dopts.feed = feed.get();
  dopts.recorder = recorder.get();
  dopts.keep_states = listen.has_value();
  dopts.on_tick = [&watchdog] { watchdog.tick(); };

  std::unique_ptr<mqtt::Client> client;
  std::unique_ptr<Daemon> daemon;
  std::unique_ptr<HttpServer> http;
  try {
    const mqtt::ConnectOptions connect = connect_options(*config, std::move(*password));
    client = make_client(*config, connect);
    daemon = std::make_unique<Daemon>(*config, *client, dopts);
    if (listen) {
      Daemon* d = daemon.get();
      http = std::make_unique<HttpServer>(listen->first, listen->second, [d] {
        return http_view(d->snapshot(), wall_clock_now());
      });
      http->dashboard(feed.get());
      if (!token.empty()) http->require_token(token);
      http->start();
      spdlog::info("http: the dashboard, /state, /metrics and /healthz on http://{}:{}/{}",
                   listen->first, http->port(), token.empty() ? "" : " (token required)");
    }
  } catch (const std::exception& e) {
    spdlog::error("cannot start: {}", e.what());
    return kBadConfig;
  }
  spdlog::info("twind starting: {} asset(s), tick {} ms, broker {}", config->assets.size(),
               config->tick * 1000.0, brokers_text(config->broker));

  std::atomic<bool> stopping{false};
  std::thread signal_thread([&] { handle_signals(signals, options, *daemon, stopping); });
  int code = kOk;
  try {
    client->start(*daemon);
    // Ready once configured and serving: not gated on the broker, which may come later (the
    // client keeps retrying); /healthz and the status line tell whether it is connected.
    notify_ready();
    notify_status("running; connecting to " + brokers_text(config->broker));
    daemon->run();
  } catch (const std::exception& e) {
    spdlog::critical("twind failed: {}", e.what());
    code = kFailure;
  }
  stopping = true;
  signal_thread.join();
  if (http) http->stop();
  // The engine thread is done: what it recorded is written whole before the process goes.
  if (recorder) {
    recorder->stop();
    const RecorderStats r = recorder->stats();
    spdlog::info("recording {}: {} lines written, {} dropped, {} lost to write errors",
                 options.record_path, r.lines, r.dropped, r.errors);
  }
  shut_down(*client, *daemon, *config);
  return code;
}

}  // namespace twind::app
