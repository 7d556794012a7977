#include "twind/app/recorder.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>

#include "twind/codec/recording.hpp"

namespace twind::app {
namespace {
// A queue this full wakes the writer before its interval is up: writes stay large but bounded.
constexpr std::size_t kWakeBytes = 256 * 1024;
}  // namespace

Recorder::Recorder(std::string path, RecorderOptions options)
    : file_(std::move(path), std::move(options.file)),
      max_queue_bytes_(options.max_queue_bytes),
      flush_interval_(std::clamp(options.flush_interval, std::chrono::milliseconds(1),
                                 std::chrono::milliseconds(1000))) {}

Recorder::~Recorder() {
  stop();
}

std::string Recorder::start() {
  const std::lock_guard lock(mutex_);
  if (running_ || stopping_) return {};
  if (std::string error = file_.open(); !error.empty()) return error;
  running_ = true;
  thread_ = std::thread([this] { writer(); });
  return {};
}

void Recorder::record(double t, std::string_view topic, std::string_view payload) {
  bool wake = false;
  {
    const std::lock_guard lock(mutex_);
    if (!running_ || stopping_) return;
    if (queue_.size() >= max_queue_bytes_) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    const std::size_t before = queue_.size();
    if (!codec::append_message_line(queue_, t, topic, payload)) {
      skipped_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    wake = before < kWakeBytes && queue_.size() >= kWakeBytes;
  }
  if (wake) wake_.notify_one();
}

void Recorder::stop() {
  {
    const std::lock_guard lock(mutex_);
    if (!running_) return;
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
  const std::lock_guard lock(mutex_);
  running_ = false;
  file_.close();
}

RecorderStats Recorder::stats() const {
  RecorderStats s;
  s.lines = lines_.load(std::memory_order_relaxed);
  s.dropped = dropped_.load(std::memory_order_relaxed);
  s.errors = errors_.load(std::memory_order_acquire);  // and with it `failing` as it was then
  s.rotations = rotations_.load(std::memory_order_relaxed);
  s.skipped = skipped_.load(std::memory_order_relaxed);
  s.failing = failing_.load(std::memory_order_relaxed);
  return s;
}

// Takes what is queued every flush interval (sooner when the queue fills) and writes it; at a
// stop, everything queued before it.
void Recorder::writer() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait_for(lock, flush_interval_,
                   [this] { return stopping_ || queue_.size() >= kWakeBytes; });
    const bool last = stopping_;
    batch_.swap(queue_);
    lock.unlock();
    write_batch();
    lock.lock();
    if (last) return;
  }
}

void Recorder::write_batch() {
  const std::uint64_t dropped = dropped_.load(std::memory_order_relaxed);
  if (dropped > 0 && drops_logged_ == 0) {
    spdlog::warn(
        "recording {}: the writer fell behind; lines are dropped (counted in "
        "twind_record_dropped_total), the twin goes on",
        file_.path());
  }
  drops_logged_ = dropped;
  if (batch_.empty()) return;
  const RecordWrite w = file_.write(batch_);
  batch_.clear();
  lines_.fetch_add(w.lines, std::memory_order_relaxed);
  rotations_.fetch_add(w.rotations, std::memory_order_relaxed);
  if (w.rotations > 0) spdlog::info("recording {}: rotated (size limit)", file_.path());
  if (!w.error.empty() && w.lost == 0) spdlog::warn("recording: {}", w.error);
  if (w.lost > 0) {
    // `failing` before the count, released with it: whoever sees the count sees the flag.
    const bool was_failing = failing_.exchange(true, std::memory_order_relaxed);
    const std::uint64_t lost = errors_.fetch_add(w.lost, std::memory_order_release) + w.lost;
    if (!was_failing) {
      spdlog::error(
          "recording: cannot write {}; {} line(s) lost so far, counted in "
          "twind_record_errors_total; the twin goes on",
          w.error, lost);
    }
  } else if (w.lines > 0 && failing_.exchange(false, std::memory_order_relaxed)) {
    spdlog::info("recording {}: writing again", file_.path());
  }
}

}  // namespace twind::app
