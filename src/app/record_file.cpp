#include "twind/app/record_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>

namespace twind::app {
namespace {

std::string failed(const std::string& path, int err) {
  return path + ": " + std::strerror(err);
}

std::uint64_t count_lines(std::string_view chunk) {
  const auto n = static_cast<std::uint64_t>(std::count(chunk.begin(), chunk.end(), '\n'));
  return !chunk.empty() && chunk.back() != '\n' ? n + 1 : n;
}

}  // namespace

std::string rotated_name(const std::string& path, unsigned k) {
  const std::size_t slash = path.rfind('/');
  const std::size_t base = slash == std::string::npos ? 0 : slash + 1;
  const std::size_t dot = path.rfind('.');
  const std::string number = "." + std::to_string(k);
  // A leading dot (".hidden") names the file; it starts no extension.
  if (dot == std::string::npos || dot <= base) return path + number;
  return path.substr(0, dot) + number + path.substr(dot);
}

RecordFile::RecordFile(std::string path, RecordFileOptions options)
    : path_(std::move(path)), options_(std::move(options)) {
  if (!options_.write)
    options_.write = [](int fd, const void* p, std::size_t n) { return ::write(fd, p, n); };
}

RecordFile::~RecordFile() {
  close();
}

void RecordFile::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

std::string RecordFile::open() {
  close();
  struct stat st {};
  if (::stat(path_.c_str(), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
    return rotate();
  }
  return open_file(false);
}

std::string RecordFile::open_file(bool truncate) {
  close();
  const int flags = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (truncate ? O_TRUNC : 0);
  fd_ = ::open(path_.c_str(), flags, 0644);
  if (fd_ < 0) return failed(path_, errno);
  struct stat st {};
  if (::fstat(fd_, &st) != 0) {
    const int err = errno;
    close();
    return failed(path_, err);
  }
  regular_ = S_ISREG(st.st_mode);
  size_ = regular_ ? static_cast<std::uint64_t>(st.st_size) : 0;
  return {};
}

// The older files move one number up (the oldest past `keep` is overwritten), the current one
// becomes number 1, and a new, empty file takes its place. Whatever fails, the file starts anew:
// a recording that cannot rotate must still stay within its bound.
std::string RecordFile::rotate() {
  close();
  std::string error;
  if (options_.keep == 0) {
    if (::unlink(path_.c_str()) != 0 && errno != ENOENT) error = failed(path_, errno);
  } else {
    for (unsigned k = options_.keep; k >= 2; --k) {
      const std::string from = rotated_name(path_, k - 1);
      if (::rename(from.c_str(), rotated_name(path_, k).c_str()) != 0 && errno != ENOENT &&
          error.empty()) {
        error = failed(from, errno);
      }
    }
    if (::rename(path_.c_str(), rotated_name(path_, 1).c_str()) != 0 && errno != ENOENT &&
        error.empty()) {
      error = failed(path_, errno);
    }
  }
  std::string opened = open_file(true);
  size_ = 0;
  torn_ = false;  // a new file
  return error.empty() ? opened : error;
}

std::string RecordFile::append(std::string_view chunk) {
  if (fd_ < 0) {
    if (std::string error = open_file(false); !error.empty()) return error;
  }
  const std::uint64_t before = size_;
  std::uint64_t written = 0;
  int err = 0;
  const auto put = [&](std::string_view bytes) {
    while (err == 0 && !bytes.empty()) {
      const ssize_t n = options_.write(fd_, bytes.data(), bytes.size());
      if (n < 0) {
        if (errno != EINTR) err = errno;
        continue;
      }
      if (n == 0) {
        err = EIO;
        break;
      }
      written += static_cast<std::uint64_t>(n);
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
  };
  if (torn_) put("\n");
  put(chunk);
  if (!chunk.empty() && chunk.back() != '\n') put("\n");
  if (err == 0) {
    size_ = before + written;
    torn_ = false;
    return {};
  }
  // Cut the file back to its last complete line; where that fails, start the next line afresh.
  if (written > 0 && (!regular_ || ::ftruncate(fd_, static_cast<off_t>(before)) != 0)) {
    torn_ = true;
  }
  return failed(path_, err);
}

RecordWrite RecordFile::write(std::string_view lines) {
  RecordWrite r;
  const auto note = [&r](std::string error) {
    if (r.error.empty()) r.error = std::move(error);
  };
  const std::uint64_t max = std::max<std::uint64_t>(options_.max_bytes, 1);
  std::size_t pos = 0;
  while (pos < lines.size()) {
    std::size_t end = lines.size();
    const std::uint64_t room = size_ < max ? max - size_ : 0;
    if (regular_ && lines.size() - pos > room) {
      // The whole lines from `pos` that fit.
      end = pos;
      std::size_t next = pos;
      while (end < lines.size()) {
        const std::size_t nl = lines.find('\n', end);
        next = nl == std::string_view::npos ? lines.size() : nl + 1;
        if (next - pos > room) break;
        end = next;
      }
      if (end == pos) {
        if (size_ > 0) {
          ++r.rotations;
          if (std::string error = rotate(); !error.empty()) note(std::move(error));
          continue;  // size_ is 0 now: the line fits, or goes alone
        }
        end = next;  // one line longer than the limit, alone in its file
      }
    }
    const std::string_view chunk = lines.substr(pos, end - pos);
    if (std::string error = append(chunk); error.empty()) {
      r.lines += count_lines(chunk);
    } else {
      r.lost += count_lines(chunk);
      note(std::move(error));
    }
    pos = end;
  }
  return r;
}

}  // namespace twind::app
