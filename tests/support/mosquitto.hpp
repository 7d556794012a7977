// A real Mosquitto broker for integration tests: its own config in a temp dir, a free loopback
// port, started with posix_spawn and controlled by its PID only (never by name).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "support/process.hpp"

namespace twind::testing {

struct MosquittoOptions {
  /// 0: a free port, found by binding a socket to port 0 on 127.0.0.1.
  int port = 0;
  /// Keep retained messages and sessions in the temp dir across stop()/start() (saved on a clean
  /// stop only, not on kill9()).
  bool persistence = false;
  /// false: clients must authenticate (give a password_file in extra_config).
  bool allow_anonymous = true;
  /// Lines written before the listener (global settings such as "per_listener_settings true").
  std::vector<std::string> prelude;
  /// Lines appended to the generated mosquitto.conf (e.g. "password_file /path").
  std::vector<std::string> extra_config;
  /// Start in the constructor; otherwise call start() (a broker that appears later).
  bool start = true;
};

/// One /usr/sbin/mosquitto listening on 127.0.0.1:port() only. Its stderr (`log_dest stderr`)
/// accumulates over restarts in dir()/mosquitto.stderr; log() returns it, for failure messages.
/// Not thread-safe: control it from the test thread.
class Mosquitto {
 public:
  /// Throws std::runtime_error (with the broker's log) when the broker does not come up.
  explicit Mosquitto(MosquittoOptions options = {});
  Mosquitto(const Mosquitto&) = delete;
  Mosquitto& operator=(const Mosquitto&) = delete;
  /// stop()
  ~Mosquitto();

  /// Starts the broker on port() and waits (up to 5 s) until the port accepts TCP connections;
  /// retries briefly while the port is still held by a predecessor. Throws std::runtime_error
  /// with the log on failure. No-op when running.
  void start();
  /// SIGTERM, SIGKILL after `grace` (a test failure), waitpid. No-op when not running.
  void stop(std::chrono::milliseconds grace = std::chrono::milliseconds(10000));
  /// SIGKILL and waitpid: the broker vanishes without a word (and without saving state).
  void kill9();
  /// SIGSTOP / SIGCONT: a hung broker whose TCP connections stay open.
  void pause();
  void resume();
  /// SIGHUP: the broker reads its password and ACL files again.
  void reload();
  /// stop() then start() on the same port.
  void restart();
  [[nodiscard]] bool running() const;

  [[nodiscard]] int port() const { return port_; }
  /// "tcp://127.0.0.1:<port>"
  [[nodiscard]] std::string uri() const;
  [[nodiscard]] const std::string& dir() const { return dir_.path(); }
  [[nodiscard]] const std::string& config_path() const { return config_path_; }
  [[nodiscard]] std::string log() const;

  /// A port on 127.0.0.1 that was free a moment ago.
  static int free_port();
  /// Whether something accepts TCP connections on 127.0.0.1:port.
  static bool accepts(int port);

 private:
  TempDir dir_;
  int port_ = 0;
  std::string config_path_;
  std::unique_ptr<Process> process_;
};

}  // namespace twind::testing
