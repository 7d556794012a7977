// A child process for integration tests: started with posix_spawn (safe after Paho clients and
// their threads exist, unlike fork), its stdout and stderr in files that tests can wait on.
//
// In a sanitizer build the children are instrumented too (twind, twin-sim, helpers), and what they
// find goes to their stderr, which no exit status of a SIGTERMed daemon shows. So every Process
// ends its child with SIGTERM (so that LeakSanitizer runs at exit) and scans the child's stderr
// once it is reaped: a sanitizer report, or a child that had to be SIGKILLed because it ignored
// SIGTERM, fails the running test (GoogleTest's ADD_FAILURE) naming the child and showing the
// report.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
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
  /// How long the child may take to exit after SIGTERM from terminate() (by default) or from the
  /// destructor before it is SIGKILLed, which fails the test. Generous: an instrumented daemon
  /// under a busy machine runs its leak check at exit.
  std::chrono::milliseconds stop_grace{10000};
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
///
/// When the child is reaped (by running(), wait_exit(), terminate() or the destructor) its stderr
/// is scanned with sanitizer_report(); a report fails the current test. A child killed by the
/// test's own SIGKILL (signal(SIGKILL)) is not a failure, one that had to be SIGKILLed by
/// terminate() or the destructor is.
class Process {
 public:
  /// Starts argv[0] (a path, or a name looked up in PATH). Throws std::runtime_error when the
  /// spawn fails.
  explicit Process(std::vector<std::string> argv, ProcessOptions options = {});
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  /// If still running: SIGTERM, up to the stop grace to exit, then SIGKILL (a test failure);
  /// reaps the child and scans its stderr.
  ~Process();

  [[nodiscard]] pid_t pid() const { return pid_; }
  /// False once the child has exited (it is reaped then).
  bool running();
  /// Sends `sig` to the child; no-op once reaped.
  void signal(int sig);
  /// Waits up to `timeout` for the child to exit; nullopt if it is still running.
  std::optional<ExitStatus> wait_exit(std::chrono::milliseconds timeout);
  /// SIGTERM, then SIGKILL after `grace` (a test failure: the child ignored SIGTERM); returns
  /// how it ended.
  ExitStatus terminate(std::chrono::milliseconds grace);
  /// terminate() with the options' stop grace.
  ExitStatus terminate();

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
  /// "<name> (<program>, pid <pid>)", as failures name the child.
  [[nodiscard]] const std::string& label() const { return label_; }

 private:
  /// SIGTERM, `grace`, then SIGKILL and a test failure; the child is reaped on return.
  ExitStatus end(std::chrono::milliseconds grace);
  /// Called once the child is reaped: fails the test on a sanitizer report in its stderr.
  void check_stderr();
  /// Its stderr without what a predecessor appended to the same file.
  [[nodiscard]] std::string own_stderr() const;

  std::optional<TempDir> own_dir_;
  std::string stdout_path_;
  std::string stderr_path_;
  std::string label_;
  /// Where this child's stderr starts in the file (not 0 when appending to a predecessor's log).
  std::size_t stderr_start_ = 0;
  std::chrono::milliseconds stop_grace_;
  pid_t pid_ = -1;
  std::optional<ExitStatus> status_;
};

/// The whole content of a file ("" if it cannot be read).
std::string read_file(const std::string& path);

/// The first sanitizer report in `text` (a child's stderr): from the line that holds
/// "ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "ERROR: UndefinedBehaviorSanitizer",
/// "ERROR: ThreadSanitizer", "WARNING: ThreadSanitizer" or UBSan's "runtime error:", to its
/// "SUMMARY:" line (at most 60 lines); nullopt when there is none.
std::optional<std::string> sanitizer_report(std::string_view text);

}  // namespace twind::testing
