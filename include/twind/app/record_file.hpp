// The recording file of `twind record` and `twind run --record` (docs/interfaces.md,
// "Recordings"): whole lines appended, a size limit with rotation, and write errors (a full
// disk) reported, never thrown. Single-threaded: the recorder's writer thread owns it.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace twind::app {

inline constexpr std::uint64_t kDefaultRecordMaxBytes = 100ULL * 1024 * 1024;
inline constexpr unsigned kDefaultRecordKeep = 5;

/// `path` of the k-th older file (k >= 1): the number goes before the file name's extension,
/// `dir/OUT.jsonl` -> `dir/OUT.1.jsonl`; a name without one gets it at the end (`OUT` -> `OUT.1`).
[[nodiscard]] std::string rotated_name(const std::string& path, unsigned k);

struct RecordFileOptions {
  /// A line that would take the file past this many bytes goes to a new file; the current one
  /// becomes the first older file (rotated_name(path, 1)), the older ones move one number up, and
  /// at most `keep` of them are kept (0: none). A single line longer than the limit goes alone
  /// into a new file. Only regular files rotate: a device or a pipe (/dev/full, /dev/stdout) is
  /// written without a limit.
  std::uint64_t max_bytes = kDefaultRecordMaxBytes;
  unsigned keep = kDefaultRecordKeep;
  /// write(2), replaceable in tests (a disk that fills in the middle of a line).
  std::function<ssize_t(int, const void*, std::size_t)> write;
};

/// What one RecordFile::write() did.
struct RecordWrite {
  std::uint64_t lines = 0;  ///< lines now in the file
  std::uint64_t lost = 0;   ///< lines not written: a write error, or the file could not be opened
  std::uint64_t rotations = 0;
  std::string error;  ///< the first error, e.g. "plant.jsonl: No space left on device"
};

/// Appends complete recording lines to `path`. Every line is written whole or not at all: when a
/// write fails part-way (ENOSPC), the file is cut back to its last complete line (where it cannot
/// be, the next line written starts on a line of its own, so that only the fragment is a bad
/// line). Lines that could not be written are counted as lost; the next write() tries again
/// (reopening the file if need be). Never throws, except std::bad_alloc.
class RecordFile {
 public:
  RecordFile(std::string path, RecordFileOptions options);
  ~RecordFile();
  RecordFile(const RecordFile&) = delete;
  RecordFile& operator=(const RecordFile&) = delete;

  /// Opens the file for appending; an existing non-empty regular file is rotated first (one file
  /// per start: a restarted daemon never mixes its recording into its predecessor's). Returns
  /// the error ("" on success).
  [[nodiscard]] std::string open();
  /// Appends `lines`: complete lines, each ending with '\n' (a trailing part without one is
  /// written as a line of its own, completed with '\n').
  RecordWrite write(std::string_view lines);
  /// Closes the file (write() reopens it).
  void close();

  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  /// Bytes in the current file.
  [[nodiscard]] std::uint64_t size() const noexcept { return size_; }

 private:
  std::string open_file(bool truncate);
  std::string rotate();
  // Writes one chunk of whole lines at the end of the file; "" or the error.
  std::string append(std::string_view chunk);

  std::string path_;
  RecordFileOptions options_;
  int fd_ = -1;
  bool regular_ = true;     // only regular files rotate
  bool torn_ = false;       // a fragment of a failed write could not be cut off
  std::uint64_t size_ = 0;  // bytes of complete lines in the current file
};

}  // namespace twind::app
