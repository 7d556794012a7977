#include "twind/app/systemd_notify.hpp"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace twind::app {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

// Saves the variables sd_notify and sd_watchdog_enabled read, clears them for the test and puts
// them back afterwards, so the tests neither see nor leak a real service manager's settings.
class EnvironmentGuard {
 public:
  EnvironmentGuard() {
    for (const char* name : kNames) {
      const char* value = std::getenv(name);
      saved_.push_back(value != nullptr ? std::optional<std::string>(value) : std::nullopt);
      ::unsetenv(name);
    }
  }
  ~EnvironmentGuard() {
    for (std::size_t i = 0; i < kNames.size(); ++i) {
      if (saved_[i]) {
        ::setenv(kNames[i], saved_[i]->c_str(), 1);
      } else {
        ::unsetenv(kNames[i]);
      }
    }
  }
  EnvironmentGuard(const EnvironmentGuard&) = delete;
  EnvironmentGuard& operator=(const EnvironmentGuard&) = delete;

 private:
  static constexpr std::array<const char*, 3> kNames = {"NOTIFY_SOCKET", "WATCHDOG_USEC",
                                                        "WATCHDOG_PID"};
  std::vector<std::optional<std::string>> saved_;
};

// A unix datagram socket standing in for systemd's notification socket.
class FakeServiceManager {
 public:
  // abstract = false: a socket file in a fresh temporary directory. abstract = true: a name in
  // the abstract namespace, which $NOTIFY_SOCKET spells with a leading '@'.
  explicit FakeServiceManager(bool abstract = false) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw std::runtime_error("socket: " + std::string(std::strerror(errno)));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    socklen_t len = 0;
    if (abstract) {
      const std::string name = "twind-notify-test-" + std::to_string(::getpid());
      std::memcpy(addr.sun_path + 1, name.data(), name.size());  // sun_path[0] = '\0'
      len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
      env_value_ = "@" + name;
    } else {
      std::array<char, 32> tmpl{};
      std::strcpy(tmpl.data(), "/tmp/twind-notify-XXXXXX");
      if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
      dir_ = tmpl.data();
      path_ = dir_ + "/notify.sock";
      std::memcpy(addr.sun_path, path_.c_str(), path_.size() + 1);
      len = static_cast<socklen_t>(sizeof(addr));
      env_value_ = path_;
    }
    if (::bind(fd_, reinterpret_cast<const sockaddr*>(&addr), len) != 0) {
      throw std::runtime_error("bind: " + std::string(std::strerror(errno)));
    }
  }
  ~FakeServiceManager() {
    ::close(fd_);
    if (!path_.empty()) ::unlink(path_.c_str());
    if (!dir_.empty()) ::rmdir(dir_.c_str());
  }
  FakeServiceManager(const FakeServiceManager&) = delete;
  FakeServiceManager& operator=(const FakeServiceManager&) = delete;

  [[nodiscard]] const std::string& env_value() const { return env_value_; }
  [[nodiscard]] const std::string& directory() const { return dir_; }

  // The next datagram, or nullopt if none arrives within `wait`.
  std::optional<std::string> receive(milliseconds wait = milliseconds(2000)) const {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(wait.count())) != 1) return std::nullopt;
    std::array<char, 4096> buf{};
    const ssize_t n = ::recv(fd_, buf.data(), buf.size(), 0);
    if (n < 0) return std::nullopt;
    return std::string(buf.data(), static_cast<std::size_t>(n));
  }

 private:
  int fd_ = -1;
  std::string dir_;
  std::string path_;
  std::string env_value_;
};

class SystemdNotifyTest : public ::testing::Test {
 protected:
  EnvironmentGuard env_;
};

TEST_F(SystemdNotifyTest, WithoutNotifySocketEveryCallIsANoOpReturningFalse) {
  const FakeServiceManager manager;  // exists, but nobody tells the library about it

  EXPECT_FALSE(notify_ready());
  EXPECT_FALSE(notify_stopping());
  EXPECT_FALSE(notify_reloading());
  EXPECT_FALSE(notify_watchdog());
  EXPECT_FALSE(notify_status("running"));

  EXPECT_EQ(manager.receive(milliseconds(50)), std::nullopt);
}

struct NotifyCase {
  const char* name;
  std::function<bool()> call;
  const char* expected;
};

class NotifyMessageTest : public ::testing::TestWithParam<NotifyCase> {
 protected:
  EnvironmentGuard env_;
};

TEST_P(NotifyMessageTest, SendsExactlyItsAssignmentToTheNotifySocket) {
  const FakeServiceManager manager;
  ::setenv("NOTIFY_SOCKET", manager.env_value().c_str(), 1);

  const bool sent = GetParam().call();

  EXPECT_TRUE(sent);
  EXPECT_EQ(manager.receive(), std::optional<std::string>(GetParam().expected));
  EXPECT_EQ(manager.receive(milliseconds(50)), std::nullopt);  // one datagram, no more
}

INSTANTIATE_TEST_SUITE_P(
    EveryMessage, NotifyMessageTest,
    ::testing::Values(NotifyCase{"ready", [] { return notify_ready(); }, "READY=1"},
                      NotifyCase{"stopping", [] { return notify_stopping(); }, "STOPPING=1"},
                      NotifyCase{"reloading", [] { return notify_reloading(); }, "RELOADING=1"},
                      NotifyCase{"watchdog", [] { return notify_watchdog(); }, "WATCHDOG=1"},
                      NotifyCase{"status", [] { return notify_status("running: 3 assets"); },
                                 "STATUS=running: 3 assets"},
                      NotifyCase{"empty_status", [] { return notify_status(""); }, "STATUS="}),
    [](const ::testing::TestParamInfo<NotifyCase>& p) { return std::string(p.param.name); });

TEST_F(SystemdNotifyTest, StatusWithLineBreaksCannotSmuggleInAnotherAssignment) {
  const FakeServiceManager manager;
  ::setenv("NOTIFY_SOCKET", manager.env_value().c_str(), 1);

  ASSERT_TRUE(notify_status("broker lost\nREADY=1\r\nWATCHDOG=trigger"));

  EXPECT_EQ(manager.receive(),
            std::optional<std::string>("STATUS=broker lost READY=1  WATCHDOG=trigger"));
}

TEST_F(SystemdNotifyTest, AbstractNotifySocketIsReached) {
  const FakeServiceManager manager(/*abstract=*/true);
  ::setenv("NOTIFY_SOCKET", manager.env_value().c_str(), 1);

  ASSERT_TRUE(notify_ready());

  EXPECT_EQ(manager.receive(), std::optional<std::string>("READY=1"));
}

TEST_F(SystemdNotifyTest, NotifySocketNobodyListensOnReturnsFalse) {
  const FakeServiceManager manager;
  const std::string missing = manager.directory() + "/nobody.sock";
  ::setenv("NOTIFY_SOCKET", missing.c_str(), 1);

  EXPECT_FALSE(notify_ready());
  EXPECT_FALSE(notify_status("x"));
}

TEST_F(SystemdNotifyTest, NotifyCallsLeaveTheEnvironmentInPlaceForLaterCalls) {
  const FakeServiceManager manager;
  ::setenv("NOTIFY_SOCKET", manager.env_value().c_str(), 1);

  ASSERT_TRUE(notify_ready());
  ASSERT_TRUE(notify_watchdog());

  ASSERT_NE(std::getenv("NOTIFY_SOCKET"), nullptr);
  EXPECT_EQ(manager.receive(), std::optional<std::string>("READY=1"));
  EXPECT_EQ(manager.receive(), std::optional<std::string>("WATCHDOG=1"));
}

TEST_F(SystemdNotifyTest, WatchdogIntervalIsOffWithoutWatchdogUsec) {
  EXPECT_EQ(watchdog_interval(), std::nullopt);
}

TEST_F(SystemdNotifyTest, WatchdogIntervalIsWatchdogUsecWhenNoPidIsNamed) {
  ::setenv("WATCHDOG_USEC", "10000000", 1);  // WatchdogSec=10s

  EXPECT_EQ(watchdog_interval(), std::optional<microseconds>(microseconds(10'000'000)));
}

TEST_F(SystemdNotifyTest, WatchdogIntervalIsWatchdogUsecWhenThePidIsOurs) {
  ::setenv("WATCHDOG_USEC", "2500", 1);
  ::setenv("WATCHDOG_PID", std::to_string(::getpid()).c_str(), 1);

  EXPECT_EQ(watchdog_interval(), std::optional<microseconds>(microseconds(2500)));
}

TEST_F(SystemdNotifyTest, WatchdogIntervalIsOffWhenThePidIsAnotherProcesss) {
  // The variables were meant for our parent (a shell script started us, say).
  ::setenv("WATCHDOG_USEC", "10000000", 1);
  ::setenv("WATCHDOG_PID", std::to_string(::getppid()).c_str(), 1);

  EXPECT_EQ(watchdog_interval(), std::nullopt);
}

struct WatchdogEnv {
  const char* name;
  const char* usec;
  const char* pid;  // nullptr: unset
};

class WatchdogMalformedTest : public ::testing::TestWithParam<WatchdogEnv> {
 protected:
  EnvironmentGuard env_;
};

TEST_P(WatchdogMalformedTest, MalformedVariablesTurnTheWatchdogOff) {
  ::setenv("WATCHDOG_USEC", GetParam().usec, 1);
  if (GetParam().pid != nullptr) ::setenv("WATCHDOG_PID", GetParam().pid, 1);

  EXPECT_EQ(watchdog_interval(), std::nullopt);
}

INSTANTIATE_TEST_SUITE_P(
    BadValues, WatchdogMalformedTest,
    ::testing::Values(WatchdogEnv{"zero", "0", nullptr}, WatchdogEnv{"empty", "", nullptr},
                      WatchdogEnv{"text", "ten seconds", nullptr},
                      WatchdogEnv{"negative", "-5", nullptr},
                      WatchdogEnv{"trailing_garbage", "100x", nullptr},
                      WatchdogEnv{"infinity", "18446744073709551615", nullptr},
                      WatchdogEnv{"overflow", "99999999999999999999999", nullptr},
                      WatchdogEnv{"pid_text", "1000000", "me"},
                      WatchdogEnv{"pid_zero", "1000000", "0"}),
    [](const ::testing::TestParamInfo<WatchdogEnv>& p) { return std::string(p.param.name); });

}  // namespace
}  // namespace twind::app
