#include "support/mosquitto.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <thread>

namespace twind::testing {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::chrono::seconds kStartTimeout{5};
constexpr std::chrono::milliseconds kPoll{10};

sockaddr_in loopback(int port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return addr;
}

}  // namespace

int Mosquitto::free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  sockaddr_in addr = loopback(0);
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    const int err = errno;
    ::close(fd);
    throw std::runtime_error(std::string("bind to 127.0.0.1:0: ") + std::strerror(err));
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

bool Mosquitto::accepts(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const sockaddr_in addr = loopback(port);
  const bool ok = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

Mosquitto::Mosquitto(MosquittoOptions options)
    : dir_("twind-mosquitto"), port_(options.port != 0 ? options.port : free_port()) {
  config_path_ = dir_.path() + "/mosquitto.conf";
  std::ofstream conf(config_path_);
  // Run as root, Mosquitto would drop to user `mosquitto`, who cannot read our temp dir.
  if (::geteuid() == 0) conf << "user root\n";
  for (const std::string& line : options.prelude) conf << line << "\n";
  conf << "listener " << port_ << " 127.0.0.1\n"
       << "allow_anonymous " << (options.allow_anonymous ? "true" : "false") << "\n"
       << "log_dest stderr\n"  // stdout is block-buffered when redirected
       << "log_type all\n"
       << "log_timestamp_format %H:%M:%S\n";
  if (options.persistence) {
    conf << "persistence true\n"
         << "persistence_location " << dir_.path() << "/\n";
  } else {
    conf << "persistence false\n";
  }
  for (const std::string& line : options.extra_config) conf << line << "\n";
  conf.close();
  if (!conf) throw std::runtime_error("cannot write " + config_path_);
  if (options.start) start();
}

Mosquitto::~Mosquitto() {
  try {
    stop();
  } catch (...) {  // NOLINT(bugprone-empty-catch): the Process destructor still SIGKILLs it
  }
}

void Mosquitto::start() {
  if (running()) return;
  const auto deadline = Clock::now() + kStartTimeout;
  while (true) {
    ProcessOptions po;
    po.dir = dir_.path();
    po.name = "mosquitto";
    po.append = true;
    process_ = std::make_unique<Process>(
        std::vector<std::string>{"/usr/sbin/mosquitto", "-c", config_path_}, po);
    while (process_->running() && Clock::now() < deadline) {
      if (accepts(port_)) return;
      std::this_thread::sleep_for(kPoll);
    }
    if (process_->running()) {
      process_->terminate();
      throw std::runtime_error("mosquitto did not accept connections on port " +
                               std::to_string(port_) + " within 5 s; log:\n" + log());
    }
    // It exited, most likely because the port is still held: try again until the deadline.
    if (Clock::now() >= deadline) {
      throw std::runtime_error("mosquitto exited at start on port " + std::to_string(port_) +
                               "; log:\n" + log());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

void Mosquitto::stop(std::chrono::milliseconds grace) {
  if (process_ && process_->running()) process_->terminate(grace);
  process_.reset();
}

void Mosquitto::kill9() {
  if (process_ && process_->running()) {
    process_->signal(SIGKILL);
    process_->wait_exit(std::chrono::seconds(5));
  }
  process_.reset();
}

void Mosquitto::reload() {
  if (process_) process_->signal(SIGHUP);
}

void Mosquitto::pause() {
  if (process_) process_->signal(SIGSTOP);
}

void Mosquitto::resume() {
  if (process_) process_->signal(SIGCONT);
}

void Mosquitto::restart() {
  stop();
  start();
}

bool Mosquitto::running() const {
  return process_ && process_->running();
}

std::string Mosquitto::uri() const {
  return "tcp://127.0.0.1:" + std::to_string(port_);
}

std::string Mosquitto::log() const {
  return read_file(dir_.path() + "/mosquitto.stderr");
}

}  // namespace twind::testing
