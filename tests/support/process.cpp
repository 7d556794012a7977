#include "support/process.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <regex.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <thread>

extern char** environ;  // NOLINT: POSIX provides no declaration in a header

namespace twind::testing {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::chrono::milliseconds kPoll{10};
constexpr const char* kSetpriv = "/usr/bin/setpriv";
// Kept in step with scripts/lib/sanitizer.sh, which scans the children of the test scripts.
constexpr std::array<std::string_view, 6> kReportMarkers{
    "ERROR: AddressSanitizer", "ERROR: LeakSanitizer",     "ERROR: UndefinedBehaviorSanitizer",
    "ERROR: ThreadSanitizer",  "WARNING: ThreadSanitizer", "runtime error:"};
constexpr std::size_t kReportLines = 60;

std::size_t file_size(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<std::size_t>(st.st_size) : 0;
}

std::string describe(const ExitStatus& s) {
  return s.exited ? "exit code " + std::to_string(s.code) : "signal " + std::to_string(s.signal);
}

ExitStatus decode(int status) {
  ExitStatus s;
  if (WIFEXITED(status)) {
    s.exited = true;
    s.code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    s.signal = WTERMSIG(status);
  }
  return s;
}

std::vector<std::string> merged_environment(
    const std::vector<std::pair<std::string, std::string>>& additions) {
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    const std::string entry(*e);
    const std::string name = entry.substr(0, entry.find('='));
    bool replaced = false;
    for (const auto& [n, v] : additions) replaced = replaced || n == name;
    if (!replaced) env.push_back(entry);
  }
  for (const auto& [n, v] : additions) env.push_back(n + "=" + v);
  return env;
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (std::string& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

}  // namespace

TempDir::TempDir(const std::string& prefix) {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern =
      std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/" + prefix + "-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error("mkdtemp(" + pattern + "): " + std::strerror(errno));
  }
  path_ = pattern;
}

TempDir::~TempDir() {
  if (std::getenv("TWIND_KEEP_TEST_DIRS") != nullptr) return;
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::optional<std::string> sanitizer_report(std::string_view text) {
  std::size_t first = std::string_view::npos;
  for (const std::string_view marker : kReportMarkers) first = std::min(first, text.find(marker));
  if (first == std::string_view::npos) return std::nullopt;
  std::size_t begin = text.rfind('\n', first);
  begin = begin == std::string_view::npos ? 0 : begin + 1;
  std::size_t end = begin;
  for (std::size_t lines = 0; end < text.size() && lines < kReportLines; ++lines) {
    const std::size_t eol = text.find('\n', end);
    const std::string_view line =
        text.substr(end, eol == std::string_view::npos ? std::string_view::npos : eol - end);
    end = eol == std::string_view::npos ? text.size() : eol + 1;
    if (line.find("SUMMARY: ") != std::string_view::npos) break;
  }
  return std::string(text.substr(begin, end - begin));
}

Process::Process(std::vector<std::string> argv, ProcessOptions options)
    : stop_grace_(options.stop_grace) {
  if (argv.empty()) throw std::invalid_argument("Process: empty argv");
  std::string dir = options.dir;
  if (dir.empty()) {
    own_dir_.emplace(options.name);
    dir = own_dir_->path();
  }
  stdout_path_ = dir + "/" + options.name + ".stdout";
  stderr_path_ = dir + "/" + options.name + ".stderr";
  if (options.append) stderr_start_ = file_size(stderr_path_);
  const std::string program = std::filesystem::path(argv[0]).filename().string();
  const int flags = O_WRONLY | O_CREAT | (options.append ? O_APPEND : O_TRUNC);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, stdout_path_.c_str(), flags, 0644);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, stderr_path_.c_str(), flags, 0644);
  posix_spawn_file_actions_addclosefrom_np(&actions, STDERR_FILENO + 1);

  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigemptyset(&none);
  sigset_t defaults;
  sigfillset(&defaults);
  sigdelset(&defaults, SIGKILL);
  sigdelset(&defaults, SIGSTOP);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  if (options.die_with_parent && ::access(kSetpriv, X_OK) == 0) {
    argv.insert(argv.begin(), {kSetpriv, "--pdeathsig", "KILL", "--"});
  }
  std::vector<std::string> env = merged_environment(options.env);
  std::vector<char*> argp = pointers(argv);
  std::vector<char*> envp = pointers(env);
  const int rc = ::posix_spawnp(&pid_, argv[0].c_str(), &actions, &attr, argp.data(), envp.data());
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    pid_ = -1;
    throw std::runtime_error("posix_spawn " + argv[0] + ": " + std::strerror(rc));
  }
  label_ = options.name + " (" + program + ", pid " + std::to_string(pid_) + ")";
}

Process::~Process() {
  try {
    if (running()) end(stop_grace_);
  } catch (...) {  // NOLINT(bugprone-empty-catch): a destructor must not throw; the failure is
  }                // already recorded
}

bool Process::running() {
  if (pid_ <= 0 || status_) return false;
  int status = 0;
  const pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    status_ = decode(status);
    check_stderr();
    return false;
  }
  return r == 0;
}

std::string Process::own_stderr() const {
  std::string text = stderr_text();
  return text.erase(0, std::min(stderr_start_, text.size()));
}

void Process::check_stderr() {
  if (const auto report = sanitizer_report(own_stderr())) {
    ADD_FAILURE() << label_ << " reported a sanitizer error (it ended with " << describe(*status_)
                  << "; its stderr: " << stderr_path_ << "):\n"
                  << *report;
  }
}

void Process::signal(int sig) {
  if (running()) ::kill(pid_, sig);
}

std::optional<ExitStatus> Process::wait_exit(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (running()) {
    if (Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(kPoll);
  }
  return status_;
}

ExitStatus Process::terminate(std::chrono::milliseconds grace) {
  return end(grace);
}

ExitStatus Process::terminate() {
  return end(stop_grace_);
}

ExitStatus Process::end(std::chrono::milliseconds grace) {
  signal(SIGCONT);  // a stopped child cannot act on SIGTERM
  signal(SIGTERM);
  if (auto s = wait_exit(grace)) return *s;
  ADD_FAILURE() << label_ << " did not exit within " << grace.count()
                << " ms of SIGTERM and is SIGKILLed (so no leak check ran); its stderr ("
                << stderr_path_ << "):\n"
                << own_stderr();
  signal(SIGKILL);
  if (auto s = wait_exit(std::chrono::seconds(5))) return *s;
  throw std::runtime_error(label_ + " survived SIGKILL");
}

std::optional<std::string> Process::wait_for_line(const std::string& pattern,
                                                  std::chrono::milliseconds timeout,
                                                  bool from_stderr) {
  regex_t re;
  if (::regcomp(&re, pattern.c_str(), REG_EXTENDED | REG_NOSUB) != 0) {
    throw std::invalid_argument("wait_for_line: bad regular expression \"" + pattern + "\"");
  }
  const auto deadline = Clock::now() + timeout;
  std::optional<std::string> found;
  while (!found) {
    std::istringstream text(from_stderr ? stderr_text() : stdout_text());
    for (std::string line; !found && std::getline(text, line);) {
      if (::regexec(&re, line.c_str(), 0, nullptr, 0) == 0) found = line;
    }
    if (found || Clock::now() >= deadline) break;
    std::this_thread::sleep_for(kPoll);
  }
  ::regfree(&re);
  return found;
}

std::string Process::stdout_text() const {
  return read_file(stdout_path_);
}

std::string Process::stderr_text() const {
  return read_file(stderr_path_);
}

}  // namespace twind::testing
