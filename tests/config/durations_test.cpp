// Durations as the configuration writes them (`tick`, `keepalive`, `dt`, `stale_after`): always
// with a unit, since a bare 500 could be milliseconds or seconds.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "twind/config/loader.hpp"

namespace twind::config {
namespace {

using ::testing::HasSubstr;

LoadResult load_with_tick(const std::string& tick) {
  return load_string("tick: " + tick + R"(
assets:
  - id: plant
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: plant/u}
      - {name: y, role: output, topic: plant/y}
)",
                     "t.yaml");
}

struct GoodDuration {
  const char* written;
  double seconds;
};

void PrintTo(const GoodDuration& d, std::ostream* os) {
  *os << d.written;
}

class GoodDurations : public ::testing::TestWithParam<GoodDuration> {};

TEST_P(GoodDurations, AreReadAsSeconds) {
  const GoodDuration& row = GetParam();

  const LoadResult sut = load_with_tick(row.written);

  ASSERT_TRUE(sut.ok()) << (sut.diagnostics.empty() ? "" : sut.diagnostics[0].str());
  EXPECT_DOUBLE_EQ(sut.config->tick, row.seconds);
}

INSTANTIATE_TEST_SUITE_P(Table, GoodDurations,
                         ::testing::Values(GoodDuration{"500ms", 0.5}, GoodDuration{"1.5s", 1.5},
                                           GoodDuration{"2min", 120.0}, GoodDuration{"1h", 3600.0},
                                           GoodDuration{"20ms", 0.02}, GoodDuration{"1e3ms", 1.0},
                                           GoodDuration{"+2s", 2.0}, GoodDuration{"0.5 s", 0.5},
                                           GoodDuration{"\"250ms\"", 0.25},
                                           GoodDuration{"0.001s", 0.001},
                                           GoodDuration{"90min", 5400.0}));

TEST(Durations, MillisecondsAreExactlyTheDecimalValue) {
  // 20ms must be the double nearest 0.02 (as 20 / 1000 is), not 20 * 0.001 rounded twice.
  const LoadResult sut = load_with_tick("20ms");

  ASSERT_TRUE(sut.ok());
  EXPECT_EQ(sut.config->tick, 0.02);
}

struct BadDuration {
  const char* written;
  const char* message;
};

void PrintTo(const BadDuration& d, std::ostream* os) {
  *os << d.written;
}

class BadDurations : public ::testing::TestWithParam<BadDuration> {};

TEST_P(BadDurations, AreRefusedAtTheValue) {
  const BadDuration& row = GetParam();

  const LoadResult sut = load_with_tick(row.written);

  EXPECT_FALSE(sut.ok());
  ASSERT_EQ(sut.diagnostics.size(), 1U);
  EXPECT_EQ(sut.diagnostics[0].line, 1);
  EXPECT_EQ(sut.diagnostics[0].column, 7);
  EXPECT_THAT(sut.diagnostics[0].message, HasSubstr(row.message));
}

INSTANTIATE_TEST_SUITE_P(
    Table, BadDurations,
    ::testing::Values(
        BadDuration{"500",
                    "tick: got \"500\", expected a duration with a unit, like 500ms or 1.5s"},
        BadDuration{"1.5", "got \"1.5\", expected a duration with a unit"},
        BadDuration{"0s", "got \"0s\", expected a duration > 0"},
        BadDuration{"0ms", "expected a duration > 0"},
        BadDuration{"-1s", "expected a duration > 0"},
        BadDuration{"5m", "got \"5m\", expected a duration with a unit of ms, s, min or h"},
        BadDuration{"1h30min", "expected a duration with a unit of ms, s, min or h"},
        BadDuration{"10 sec", "expected a duration with a unit of ms, s, min or h"},
        BadDuration{"10us", "expected a duration with a unit of ms, s, min or h"},
        BadDuration{"ms", "got \"ms\", expected a duration, like 500ms or 1.5s"},
        BadDuration{"\"\"", "got \"\", expected a duration"},
        BadDuration{"true", "got \"true\", expected a duration"},
        BadDuration{"1e999s", "expected a finite duration"},
        BadDuration{"[1s]", "got a list, expected a duration"},
        BadDuration{"{s: 1}", "got a mapping, expected a duration"}));

}  // namespace
}  // namespace twind::config
