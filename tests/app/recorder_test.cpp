// The recording writer of `twind record` and `twind run --record`: rotation, whole lines, the
// flush cadence, write errors (a full disk), and the daemon's hand-off to it.
#include "twind/app/recorder.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "../support/eventually.hpp"
#include "../support/fixtures.hpp"
#include "../support/process.hpp"
#include "twind/app/daemon.hpp"
#include "twind/app/record_file.hpp"
#include "twind/codec/recording.hpp"
#include "twind/mqtt/fake.hpp"

namespace twind::app {
namespace {

using namespace std::chrono_literals;
using testing::eventually;
using testing::read_file;
using testing::TempDir;

bool exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// Every line of `text` is a recording line and the text ends with a newline.
void expect_whole_lines(const std::string& text) {
  if (text.empty()) return;
  EXPECT_EQ(text.back(), '\n') << "a torn last line: " << text;
  codec::RecordingParser parser;
  for (const std::string& line : lines_of(text)) {
    codec::RecordLine out;
    const auto r = parser.parse(line, out);
    EXPECT_TRUE(r.ok) << r.error << ": " << line;
  }
}

// write(2) on a disk with `room` bytes left (unlimited while room < 0): writes what fits, then
// fails with ENOSPC.
struct FillingDisk {
  long room = -1;
  ssize_t operator()(int fd, const void* p, std::size_t n) {
    if (room < 0) return ::write(fd, p, n);
    if (room == 0) {
      errno = ENOSPC;
      return -1;
    }
    const ssize_t w = ::write(fd, p, std::min(n, static_cast<std::size_t>(room)));
    if (w > 0) room -= w;
    return w;
  }
};

std::string line(int i) {
  std::string out;
  EXPECT_TRUE(codec::append_message_line(out, 1732200000.0 + i, "plant/y", std::to_string(i)));
  return out;
}

TEST(RotatedName, PutsTheNumberBeforeTheExtension) {
  EXPECT_EQ(rotated_name("OUT.jsonl", 1), "OUT.1.jsonl");
  EXPECT_EQ(rotated_name("/var/lib/twind/rec.jsonl", 12), "/var/lib/twind/rec.12.jsonl");
  EXPECT_EQ(rotated_name("OUT", 2), "OUT.2");
  EXPECT_EQ(rotated_name("dir.d/OUT", 1), "dir.d/OUT.1");
  EXPECT_EQ(rotated_name(".hidden", 1), ".hidden.1");
  EXPECT_EQ(rotated_name("a.b.jsonl", 3), "a.b.3.jsonl");
}

TEST(RecordFile, RotatesBeforeALineThatWouldPassTheLimitAndKeepsAtMostKeepOlderFiles) {
  TempDir dir;
  const std::string path = dir.path() + "/rec.jsonl";
  const std::size_t n = line(0).size();  // every line below has this length
  RecordFile sut(path, {.max_bytes = 3 * n, .keep = 2, .write = {}});
  ASSERT_EQ(sut.open(), "");

  std::uint64_t rotations = 0;
  for (int i = 0; i < 10; ++i) {  // lines 0-2, 3-5, 6-8, 9: three rotations
    const RecordWrite w = sut.write(line(i));
    EXPECT_EQ(w.lines, 1u);
    EXPECT_EQ(w.lost, 0u);
    EXPECT_EQ(w.error, "");
    rotations += w.rotations;
  }

  EXPECT_EQ(rotations, 3u);
  EXPECT_EQ(read_file(path), line(9));
  EXPECT_EQ(read_file(dir.path() + "/rec.1.jsonl"), line(6) + line(7) + line(8));
  EXPECT_EQ(read_file(dir.path() + "/rec.2.jsonl"), line(3) + line(4) + line(5));
  EXPECT_FALSE(exists(dir.path() + "/rec.3.jsonl"));  // lines 0-2: past --keep, gone
}

TEST(RecordFile, SplitsABatchAtLineBoundariesWhenItPassesTheLimit) {
  TempDir dir;
  const std::string path = dir.path() + "/rec.jsonl";
  const std::size_t n = line(0).size();
  RecordFile sut(path, {.max_bytes = 2 * n + n / 2, .keep = 5, .write = {}});
  ASSERT_EQ(sut.open(), "");
  std::string batch;
  for (int i = 0; i < 5; ++i) batch += line(i);

  const RecordWrite w = sut.write(batch);

  EXPECT_EQ(w.lines, 5u);
  EXPECT_EQ(w.rotations, 2u);
  EXPECT_EQ(read_file(dir.path() + "/rec.2.jsonl"), line(0) + line(1));
  EXPECT_EQ(read_file(dir.path() + "/rec.1.jsonl"), line(2) + line(3));
  EXPECT_EQ(read_file(path), line(4));
}

TEST(RecordFile, ALineLongerThanTheLimitGoesAloneIntoAFileOfItsOwn) {
  TempDir dir;
  const std::string path = dir.path() + "/rec.jsonl";
  RecordFile sut(path, {.max_bytes = 10, .keep = 3, .write = {}});
  ASSERT_EQ(sut.open(), "");

  EXPECT_EQ(sut.write(line(0) + line(1)).lines, 2u);

  EXPECT_EQ(read_file(dir.path() + "/rec.1.jsonl"), line(0));
  EXPECT_EQ(read_file(path), line(1));
}

TEST(RecordFile, KeepZeroKeepsNoOlderFile) {
  TempDir dir;
  const std::string path = dir.path() + "/rec.jsonl";
  RecordFile sut(path, {.max_bytes = line(0).size(), .keep = 0, .write = {}});
  ASSERT_EQ(sut.open(), "");
  sut.write(line(0));
  sut.write(line(1));
  EXPECT_EQ(read_file(path), line(1));
  EXPECT_FALSE(exists(dir.path() + "/rec.1.jsonl"));
}

TEST(RecordFile, AnExistingRecordingIsRotatedAtOpenNotAppendedTo) {
  TempDir dir;
  const std::string path = dir.path() + "/rec.jsonl";
  std::ofstream(path) << line(0);
  RecordFile sut(path, {.max_bytes = 1 << 20, .keep = 2, .write = {}});
  ASSERT_EQ(sut.open(), "");
  sut.write(line(1));
  EXPECT_EQ(read_file(path), line(1));
  EXPECT_EQ(read_file(dir.path() + "/rec.1.jsonl"), line(0));
}

TEST(RecordFile, AFullDiskIsReportedNotThrownAndCountsTheLinesLost) {
  RecordFile sut("/dev/full", {.max_bytes = 10, .keep = 2, .write = {}});  // never rotated
  ASSERT_EQ(sut.open(), "");

  RecordWrite w;
  EXPECT_NO_THROW(w = sut.write(line(0) + line(1)));

  EXPECT_EQ(w.lines, 0u);
  EXPECT_EQ(w.lost, 2u);
  EXPECT_EQ(w.error, "/dev/full: No space left on device");
  EXPECT_EQ(w.rotations, 0u);
  EXPECT_TRUE(exists("/dev/full"));
}

// A disk that fills in the middle of a line: the file is cut back to its last whole line, and
// once there is room again the next lines go on from there.
TEST(RecordFile, AWriteThatFailsPartWayLeavesNoTornLine) {
  TempDir dir;
  const std::string path = dir.path() + "/rec.jsonl";
  FillingDisk disk;
  RecordFile sut(path, {.max_bytes = 1 << 20, .keep = 2, .write = std::ref(disk)});
  ASSERT_EQ(sut.open(), "");
  ASSERT_EQ(sut.write(line(0)).lines, 1u);
  disk.room = 7;  // part of the next line, then no room

  const RecordWrite w = sut.write(line(1) + line(2));

  EXPECT_EQ(w.lost, 2u);
  EXPECT_NE(w.error.find("No space left on device"), std::string::npos) << w.error;
  EXPECT_EQ(read_file(path), line(0));
  disk.room = -1;
  EXPECT_EQ(sut.write(line(3)).lines, 1u);
  EXPECT_EQ(read_file(path), line(0) + line(3));
}

// Where the fragment cannot be cut off (a pipe, a device), the next line starts on a line of its
// own: only the fragment is a bad line.
TEST(RecordFile, AFragmentThatCannotBeCutOffIsEndedBeforeTheNextLine) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  FillingDisk disk;
  RecordFile sut("/dev/fd/" + std::to_string(fds[1]),
                 {.max_bytes = 1 << 20, .keep = 2, .write = std::ref(disk)});
  ASSERT_EQ(sut.open(), "");
  disk.room = 7;
  EXPECT_EQ(sut.write(line(1)).lost, 1u);
  disk.room = -1;
  EXPECT_EQ(sut.write(line(2)).lines, 1u);
  sut.close();
  ::close(fds[1]);
  std::string got(4096, '\0');
  const ssize_t n = ::read(fds[0], got.data(), got.size());
  ::close(fds[0]);
  ASSERT_GT(n, 0);
  got.resize(static_cast<std::size_t>(n));
  EXPECT_EQ(got, line(1).substr(0, 7) + "\n" + line(2));
}

TEST(Recorder, WritesEveryLineWholeAtStopAndCountsThem) {
  TempDir dir;
  const std::string path = dir.path() + "/rec.jsonl";
  Recorder sut(path, {.file = {}, .max_queue_bytes = 1 << 20, .flush_interval = 1000ms});
  ASSERT_EQ(sut.start(), "");
  sut.record(1.5, "plant/y", "2.97");
  sut.record(2.5, "plant/frame", R"({"ts": 2.5, "u": 3.0, "y": 2.98})");
  sut.record(3.5, "plant/u", std::string("\xff\x00", 2));

  sut.stop();

  const std::string text = read_file(path);
  expect_whole_lines(text);
  const auto lines = lines_of(text);
  ASSERT_EQ(lines.size(), 3u);
  codec::RecordingParser parser;
  codec::RecordLine out;
  ASSERT_TRUE(parser.parse(lines[2], out).ok);
  EXPECT_EQ(out.t, 3.5);
  EXPECT_EQ(out.payload, std::string("\xff\x00", 2));
  EXPECT_EQ(sut.stats().lines, 3u);
  EXPECT_EQ(sut.stats().errors, 0u);
  sut.record(4.5, "plant/y", "1");  // after stop(): nothing
  EXPECT_EQ(read_file(path), text);
}

// The file is never more than the flush interval behind: a line recorded shows in it without a
// stop, within the interval (here 50 ms; the bound is generous for a busy machine).
TEST(Recorder, ALineReachesTheFileWithinTheFlushIntervalWithoutAStop) {
  TempDir dir;
  const std::string path = dir.path() + "/rec.jsonl";
  Recorder sut(path, {.file = {}, .max_queue_bytes = 1 << 20, .flush_interval = 50ms});
  ASSERT_EQ(sut.start(), "");
  const auto start = std::chrono::steady_clock::now();
  sut.record(1.5, "plant/y", "2.97");
  ASSERT_TRUE(eventually([&] { return !read_file(path).empty(); }, 2s));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
  expect_whole_lines(read_file(path));
}

TEST(Recorder, AQueueFullDropsAndCountsTheLinesItCannotHold) {
  TempDir dir;
  const std::string path = dir.path() + "/rec.jsonl";
  // A writer that never wakes before the stop: everything past the queue's bound is dropped.
  Recorder sut(path, {.file = {}, .max_queue_bytes = 1, .flush_interval = 1000ms});
  ASSERT_EQ(sut.start(), "");
  for (int i = 0; i < 5; ++i) sut.record(i, "plant/y", "1");
  const RecorderStats before = sut.stats();
  sut.stop();
  // The first line filled the queue (it may have been written already if the writer woke).
  EXPECT_GE(before.dropped + sut.stats().lines, 5u);
  EXPECT_GE(sut.stats().dropped, 1u);
  expect_whole_lines(read_file(path));
}

TEST(Recorder, AFullDiskIsCountedAndTheCallerGoesOn) {
  Recorder sut("/dev/full", {.file = {}, .max_queue_bytes = 1 << 20, .flush_interval = 10ms});
  ASSERT_EQ(sut.start(), "");
  EXPECT_NO_THROW(sut.record(1.0, "plant/y", "1"));
  ASSERT_TRUE(eventually([&] { return sut.stats().errors == 1; }, 2s));
  EXPECT_TRUE(sut.stats().failing);
  EXPECT_NO_THROW(sut.record(2.0, "plant/y", "2"));
  sut.stop();
  EXPECT_EQ(sut.stats().errors, 2u);
  EXPECT_EQ(sut.stats().lines, 0u);
}

TEST(Recorder, AFileThatCannotBeOpenedIsRefusedAtStart) {
  Recorder sut("/nonexistent-dir/rec.jsonl");
  EXPECT_EQ(sut.start(), "/nonexistent-dir/rec.jsonl: No such file or directory");
  sut.record(1.0, "plant/y", "1");  // not started: nothing, no throw
  EXPECT_EQ(sut.stats().lines, 0u);
}

// The seed daemon on a fake broker, its clock at `now`, handing its messages to `recorder`.
struct RecordingDaemon {
  explicit RecordingDaemon(Recorder& recorder)
      : client(broker.make_client()), sut(config(), *client, options(recorder)) {
    client->start(sut);
  }
  static config::Config config() {
    config::Config c = testing::seed_config();
    c.tick = 0.05;
    return c;
  }
  DaemonOptions options(Recorder& recorder) {
    DaemonOptions o;
    o.clock = [this] { return now; };
    o.recorder = &recorder;
    return o;
  }

  double now = 1732200000.25;
  mqtt::FakeBroker broker;
  std::unique_ptr<mqtt::FakeClient> client;
  Daemon sut;
};

// The daemon hands every inbound message, with the arrival time it stamped, to the recorder, and
// its own messages coming back (the publication check) not; /metrics counts the recording.
TEST(DaemonRecording, RecordsEveryInboundMessageWithItsArrivalStamp) {
  TempDir dir;
  const std::string path = dir.path() + "/rec.jsonl";
  Recorder recorder(path);
  ASSERT_EQ(recorder.start(), "");
  RecordingDaemon d(recorder);
  auto& [now, broker, client, sut] = d;
  sut.poll(now);

  broker.publish("plant/u", "1");
  now += 0.125;
  broker.publish("plant/y", R"({"value": 1, "ts": 1732200000.3})");
  now += 0.125;
  broker.publish("plant/frame", "\x01 not text \xfe");
  sut.poll(now);
  recorder.stop();

  const auto lines = lines_of(read_file(path));
  ASSERT_EQ(lines.size(), 3u) << read_file(path);
  codec::RecordingParser parser;
  codec::RecordLine out;
  ASSERT_TRUE(parser.parse(lines[0], out).ok);
  EXPECT_EQ(out.t, 1732200000.25);
  EXPECT_EQ(out.topic, "plant/u");
  EXPECT_EQ(out.payload, "1");
  ASSERT_TRUE(parser.parse(lines[1], out).ok);
  EXPECT_EQ(out.t, 1732200000.375);
  EXPECT_EQ(out.payload, R"({"value": 1, "ts": 1732200000.3})");
  ASSERT_TRUE(parser.parse(lines[2], out).ok);
  EXPECT_EQ(out.payload, "\x01 not text \xfe");
  for (const std::string& l : lines) EXPECT_EQ(l.find("twin/"), std::string::npos) << l;

  now += 1.0;
  sut.poll(now);  // a snapshot
  const std::string metrics = sut.snapshot()->metrics;
  EXPECT_NE(metrics.find("twind_record_lines_total 3\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("twind_record_dropped_total 0\n"), std::string::npos);
  EXPECT_NE(metrics.find("twind_record_errors_total 0\n"), std::string::npos);
}

TEST(DaemonRecording, AFullDiskLeavesTheTwinRunning) {
  Recorder recorder("/dev/full", {.file = {}, .max_queue_bytes = 1 << 20, .flush_interval = 10ms});
  ASSERT_EQ(recorder.start(), "");
  RecordingDaemon d(recorder);
  auto& [now, broker, client, sut] = d;
  broker.publish("plant/u", "1");
  broker.publish("plant/y", "1");
  broker.publish("plant/y", "3");  // diverges
  EXPECT_TRUE(sut.poll(now));
  EXPECT_EQ(broker.messages_on("twin/alert").size(), 1u);
  ASSERT_TRUE(eventually([&] { return recorder.stats().errors == 3; }, 2s));
  for (int i = 0; i < 30; ++i) {
    now += 0.05;
    EXPECT_TRUE(sut.poll(now));
  }
  EXPECT_GE(broker.messages_on("twin/state").size(), 20u);
  const std::string metrics = sut.snapshot()->metrics;
  EXPECT_NE(metrics.find("twind_record_errors_total 3\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("twind_record_failing 1\n"), std::string::npos) << metrics;
}

}  // namespace
}  // namespace twind::app
