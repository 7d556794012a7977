// The recorder of `twind record` and `twind run --record`: inbound messages as recording lines
// (codec::append_message_line), handed through one bounded queue to a writer thread that owns the
// file (RecordFile), so that the thread receiving the messages (the daemon's engine thread) never
// waits for a disk.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "twind/app/record_file.hpp"

namespace twind::app {

struct RecorderOptions {
  RecordFileOptions file;
  /// Bytes of lines waiting for the writer thread; a line that finds the queue this full is
  /// dropped and counted (the writer fell behind: a slow or hung disk).
  std::size_t max_queue_bytes = 16 * 1024 * 1024;
  /// How long a line may wait in the queue before the writer thread writes it to the file: the
  /// file is never more than this (plus the time of one write) behind. At most 1 s.
  std::chrono::milliseconds flush_interval{200};
};

/// Counters, readable from any thread while the recorder runs.
struct RecorderStats {
  std::uint64_t lines = 0;      ///< lines written to the file
  std::uint64_t dropped = 0;    ///< lines dropped because the queue was full
  std::uint64_t errors = 0;     ///< lines lost to a failed write (a full disk) or open
  std::uint64_t rotations = 0;  ///< files rotated for the size limit
  std::uint64_t skipped = 0;    ///< messages that make no line (a topic that is not UTF-8)
  bool failing = false;         ///< the last write failed
};

/// Thread-safe. record() never touches the file and never waits for the writer thread beyond a
/// lock that it holds for a swap of two buffers. The writer thread logs the first line dropped,
/// the first write error of each run of them and the recovery after one (spdlog), and counts the
/// rest.
class Recorder {
 public:
  Recorder(std::string path, RecorderOptions options = {});
  /// stop()
  ~Recorder();
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;

  /// Opens the file (rotating a non-empty one that is there) and starts the writer thread.
  /// Returns the error ("" on success); the recorder then records nothing.
  [[nodiscard]] std::string start();
  /// Queues the message that arrived at `t` (Unix seconds) as one line. A no-op before start()
  /// and after stop().
  void record(double t, std::string_view topic, std::string_view payload);
  /// Writes every line queued so far, closes the file and joins the writer thread: the file ends
  /// with a complete line. Idempotent.
  void stop();

  [[nodiscard]] RecorderStats stats() const;
  [[nodiscard]] const std::string& path() const noexcept { return file_.path(); }

 private:
  void writer();
  void write_batch();

  RecordFile file_;  // the writer thread's (before start() and after stop(): the caller's)
  const std::size_t max_queue_bytes_;
  const std::chrono::milliseconds flush_interval_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::string queue_;      // lines waiting, under mutex_
  bool running_ = false;   // under mutex_
  bool stopping_ = false;  // under mutex_
  std::string batch_;      // the writer thread's
  std::thread thread_;

  std::atomic<std::uint64_t> lines_{0};
  std::atomic<std::uint64_t> dropped_{0};
  std::atomic<std::uint64_t> errors_{0};
  std::atomic<std::uint64_t> rotations_{0};
  std::atomic<std::uint64_t> skipped_{0};
  std::atomic<bool> failing_{false};
  std::uint64_t drops_logged_ = 0;  // the writer thread's
};

}  // namespace twind::app
