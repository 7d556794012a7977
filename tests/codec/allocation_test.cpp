// The per-message path must not allocate once warmed up (payload.hpp, recording.hpp). This file
// replaces the global operator new of the test binary with a counting one.
#include <gtest/gtest.h>

#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>
#include <string>

#include "twind/codec/payload.hpp"
#include "twind/codec/recording.hpp"
#include "twind/json/writer.hpp"

namespace {
std::atomic<std::size_t> g_allocations{0};
}  // namespace

// noinline: once inlined at a `new` expression, GCC would flag the free()s below as mismatched.
[[gnu::noinline]] void* operator new(std::size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
[[gnu::noinline]] void operator delete(void* p) noexcept {
  std::free(p);
}
[[gnu::noinline]] void operator delete(void* p, std::size_t /*size*/) noexcept {
  std::free(p);
}

namespace twind::codec {
namespace {

std::size_t allocations() {
  return g_allocations.load(std::memory_order_relaxed);
}

TEST(Allocation, WarmedDecoderDecodesWithoutAllocating) {
  const std::string frame =
      R"({"ts": 1732200000.125, "temperature": 65.2, "vibration": 2.1, "rpm": 1500,)"
      R"( "temp\u00e9": 1, "note": "a\nb", "extra": {"x": [1, 2]}})";
  const std::string value = R"({"value": 2.97, "ts": 1732200000.125})";
  PayloadDecoder sut;
  Payload out;
  ASSERT_TRUE(sut.decode(frame, out).ok);
  ASSERT_TRUE(sut.decode(value, out).ok);
  const std::size_t before = allocations();

  bool all_ok = true;
  for (int i = 0; i < 100; ++i) {
    all_ok = sut.decode(frame, out).ok && all_ok;
    all_ok = sut.decode(value, out).ok && all_ok;
    all_ok = sut.decode("2.97", out).ok && all_ok;
    all_ok = !sut.decode(R"({"value": "x"})", out).ok && all_ok;
  }

  EXPECT_EQ(allocations() - before, 0U);
  EXPECT_TRUE(all_ok);
}

TEST(Allocation, WarmedRecordingParserParsesWithoutAllocating) {
  const std::string line =
      R"({"t": 1732200000.020, "topic": "plant/y", "payload": {"value": 2.97}})";
  const std::string escaped = R"({"t": 1, "topic": "plant\/u", "payload": "{\"value\": 3}"})";
  RecordingParser sut;
  RecordLine out;
  ASSERT_TRUE(sut.parse(escaped, out).ok);
  const std::size_t before = allocations();

  bool all_ok = true;
  for (int i = 0; i < 100; ++i) {
    all_ok = sut.parse(line, out).ok && all_ok;
    all_ok = sut.parse(escaped, out).ok && all_ok;
  }

  EXPECT_EQ(allocations() - before, 0U);
  EXPECT_TRUE(all_ok);
}

TEST(Allocation, WriterAppendsWithoutAllocatingIntoAReservedString) {
  std::string out;
  out.reserve(256);
  const std::size_t before = allocations();

  json::Writer(out).begin_object().key("y").value(2.98).key("s").value("ok").end_object();
  append_record_line(out, 1732200000.5, "twin/state", R"({"seq":1})");

  EXPECT_EQ(allocations() - before, 0U);
  EXPECT_FALSE(out.empty());
}

}  // namespace
}  // namespace twind::codec
