// A child process for integration tests: started with posix_spawn (safe after Paho clients and
// their threads exist, unlike fork), its stdout and stderr in files that tests can wait on.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace twind::testing {

/// A new directory under $TMPDIR (or /tmp), removed with everything in it on destruction unless
/// TWIND_KEEP_TEST_DIRS is set in the environment (for post-mortems).
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "twind-test");
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir();
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct ProcessOptions {
  /// Added to (or replacing in) the environment of this process.
  std::vector<std::pair<std::string, std::string>> env;
  /// Where <name>.stdout and <name>.stderr go; a new TempDir when empty.
  std::string dir;
  std::string name = "process";
  /// Append to the output files instead of truncating them (a restarted broker's log).
  bool append = false;
  /// SIGKILL the child when the thread that started it ends (through util-linux's
  /// `setpriv --pdeathsig KILL`, which then execs the command under the same PID), so that a
  /// crashed or aborted test leaves no broker behind. Start long-lived children from the test's
  /// main thread.
  bool die_with_parent = true;
};

struct ExitStatus {
  bool exited = false;  ///< normal exit (then `code`), else killed by `signal`
  int code = 0;
  int signal = 0;
};

/// One child process. Not thread-safe: use it from one test thread.
///
/// The child gets /dev/null as stdin, default signal dispositions, an empty signal mask and none
/// of this process's other file descriptors (so a broker started by a test cannot keep a test
/// client's socket open). Signals go to its PID only, and never after it has been reaped.
class Process {
 public:
  /// Starts argv[0] (a path, or a name looked up in PATH). Throws std::runtime_error when the
  /// spawn fails.
  explicit Process(std::vector<std::string> argv, ProcessOptions options = {});
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  /// SIGKILL and reap if still running.
  ~Process();

  [[nodiscard]] pid_t pid() const { return pid_; }
  /// False once the child has exited (it is reaped then).
  bool running();
  /// Sends `sig` to the child; no-op once reaped.
  void signal(int sig);
  /// Waits up to `timeout` for the child to exit; nullopt if it is still running.
  std::optional<ExitStatus> wait_exit(std::chrono::milliseconds timeout);
  /// SIGTERM, then SIGKILL after `grace`; returns how it ended.
  ExitStatus terminate(std::chrono::milliseconds grace = std::chrono::milliseconds(2000));

  /// Waits up to `timeout` for a line of stdout (or stderr) in which the POSIX extended regular
  /// expression `pattern` matches (regexec: anywhere in the line unless anchored) and returns it.
  /// Throws std::invalid_argument for a bad pattern. (POSIX regex rather than std::regex: GCC 12
  /// reports false maybe-uninitialized warnings in std::regex under -fsanitize=address.)
  std::optional<std::string> wait_for_line(const std::string& pattern,
                                           std::chrono::milliseconds timeout,
                                           bool from_stderr = false);
  [[nodiscard]] std::string stdout_text() const;
  [[nodiscard]] std::string stderr_text() const;
  [[nodiscard]] const std::string& stdout_path() const { return stdout_path_; }
  [[nodiscard]] const std::string& stderr_path() const { return stderr_path_; }

 private:
  std::optional<TempDir> own_dir_;
  std::string stdout_path_;
  std::string stderr_path_;
  pid_t pid_ = -1;
  std::optional<ExitStatus> status_;
};

/// The whole content of a file ("" if it cannot be read).
std::string read_file(const std::string& path);

}  // namespace twind::testing
