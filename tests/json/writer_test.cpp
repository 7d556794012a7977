#include "twind/json/writer.hpp"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <ostream>
#include <random>
#include <string>
#include <string_view>

#include "../support/test_names.hpp"
#include "twind/json/scanner.hpp"

namespace twind::json {
namespace {

using json = nlohmann::json;

using testing::name_of;

struct StringCase {
  const char* label;
  std::string input;
  std::string expected;
};

void PrintTo(const StringCase& c, std::ostream* os) {
  *os << c.label;
}

class JsonStringEscaping : public ::testing::TestWithParam<StringCase> {};

TEST_P(JsonStringEscaping, WritesTheDocumentedEscapes) {
  std::string out = "x";

  append_string(out, GetParam().input);

  EXPECT_EQ(out, "x" + GetParam().expected);
}

// RFC 8259 section 7: '"', '\\' and U+0000..U+001F must be escaped; the two-character forms are
// used where they exist. Nothing else is escaped.
INSTANTIATE_TEST_SUITE_P(
    Strings, JsonStringEscaping,
    ::testing::Values(StringCase{"empty", "", R"("")"}, StringCase{"plain", "plain", R"("plain")"},
                      StringCase{"quote", "a\"b", R"("a\"b")"},
                      StringCase{"backslash", "a\\b", R"("a\\b")"},
                      StringCase{"short escapes", "\b\f\n\r\t", R"("\b\f\n\r\t")"},
                      StringCase{"NUL", std::string("\0", 1), R"("\u0000")"},
                      StringCase{"other controls", "\x01\x1f", R"("\u0001\u001f")"},
                      StringCase{"slash and DEL unescaped", "/ \x7f", "\"/ \x7f\""},
                      StringCase{"UTF-8 unescaped", "temp\xC3\xA9rature \xF0\x9F\x98\x80",
                                 "\"temp\xC3\xA9rature \xF0\x9F\x98\x80\""}),
    [](const ::testing::TestParamInfo<StringCase>& row) { return name_of(row.param.label); });

TEST(AppendJsonString, EveryAsciiByteReadsBackThroughAJsonParser) {
  std::string all;
  for (int c = 0; c < 0x80; ++c) all.push_back(static_cast<char>(c));
  all += "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80";  // 2-, 3- and 4-byte UTF-8
  std::string out;

  append_string(out, all);

  const json parsed = json::parse(out, nullptr, false);
  ASSERT_TRUE(parsed.is_string()) << out;
  EXPECT_EQ(parsed.get<std::string>(), all);
}

TEST(AppendJsonString, RandomUtf8TextReadsBackThroughAJsonParser) {
  std::mt19937 rng(42);
  std::uniform_int_distribution<std::uint32_t> code_point(0, 0x10FFFF);
  for (int round = 0; round < 2000; ++round) {
    std::string text;
    for (int i = 0; i < 16; ++i) {
      std::uint32_t cp = code_point(rng);
      if (i % 2 == 0) cp &= 0x7F;                  // plenty of ASCII and control characters
      if (cp >= 0xD800 && cp <= 0xDFFF) cp = '"';  // surrogates are not characters
      const auto put = [&text](std::uint32_t b) { text.push_back(static_cast<char>(b)); };
      if (cp < 0x80) {
        put(cp);
      } else if (cp < 0x800) {
        put(0xC0 | (cp >> 6));
        put(0x80 | (cp & 0x3F));
      } else if (cp < 0x10000) {
        put(0xE0 | (cp >> 12));
        put(0x80 | ((cp >> 6) & 0x3F));
        put(0x80 | (cp & 0x3F));
      } else {
        put(0xF0 | (cp >> 18));
        put(0x80 | ((cp >> 12) & 0x3F));
        put(0x80 | ((cp >> 6) & 0x3F));
        put(0x80 | (cp & 0x3F));
      }
    }
    std::string out;

    append_string(out, text);

    const json parsed = json::parse(out, nullptr, false);
    ASSERT_TRUE(parsed.is_string()) << "round " << round;
    ASSERT_EQ(parsed.get<std::string>(), text) << "round " << round;
  }
}

struct NumberCase {
  const char* label;
  double input;
  const char* expected;
};

void PrintTo(const NumberCase& c, std::ostream* os) {
  *os << c.label;
}

class JsonNumberFormat : public ::testing::TestWithParam<NumberCase> {};

TEST_P(JsonNumberFormat, WritesTheShortestRoundTripFormOrNull) {
  std::string out;

  append_number(out, GetParam().input);

  EXPECT_EQ(out, GetParam().expected);
}

// The shortest decimal strings that read back to each double (by hand, from the IEEE values).
INSTANTIATE_TEST_SUITE_P(
    Doubles, JsonNumberFormat,
    ::testing::Values(
        NumberCase{"one tenth", 0.1, "0.1"},
        NumberCase{"timestamp", 1732200000.125, "1732200000.125"},
        NumberCase{"decimal", 2.97, "2.97"}, NumberCase{"negative", -12.5, "-12.5"},
        NumberCase{"integral", 1500.0, "1500"}, NumberCase{"zero", 0.0, "0"},
        NumberCase{"negative zero", -0.0, "-0"}, NumberCase{"large exponent", 1e21, "1e+21"},
        NumberCase{"small exponent", 1e-7, "1e-07"},
        NumberCase{"smallest subnormal", 5e-324, "5e-324"},
        NumberCase{"largest double", std::numeric_limits<double>::max(), "1.7976931348623157e+308"},
        NumberCase{"NaN", std::numeric_limits<double>::quiet_NaN(), "null"},
        NumberCase{"infinity", std::numeric_limits<double>::infinity(), "null"},
        NumberCase{"negative infinity", -std::numeric_limits<double>::infinity(), "null"}),
    [](const ::testing::TestParamInfo<NumberCase>& row) { return name_of(row.param.label); });

TEST(AppendJsonNumber, RandomFiniteDoublesReadBackExactly) {
  std::mt19937_64 rng(1234);
  int checked = 0;
  for (int i = 0; i < 100000; ++i) {
    const double v = std::bit_cast<double>(rng());
    if (!std::isfinite(v)) continue;
    std::string out;

    append_number(out, v);

    const json parsed = json::parse(out, nullptr, false);
    ASSERT_TRUE(parsed.is_number()) << out;
    // nlohmann reads "-0" as the integer 0, so the sign of zero is checked on the text.
    ASSERT_EQ(parsed.get<double>(), v) << out;
    ASSERT_EQ(out[0] == '-', std::signbit(v)) << out;
    // The project's own scanner must read its writer's output back bit for bit too (the
    // payload decoder's round trip is in tests/codec).
    Scanner sc(out);
    double back = 0.0;
    ASSERT_EQ(sc.number(back), NumberScan::ok) << out;
    ASSERT_TRUE(sc.at_end()) << out;
    ASSERT_EQ(std::bit_cast<std::uint64_t>(back), std::bit_cast<std::uint64_t>(v)) << out;
    ++checked;
  }
  EXPECT_GT(checked, 99000);
}

TEST(AppendJsonNumber, IntegersAreWrittenExactly) {
  std::string out;

  append_number(out, std::numeric_limits<std::int64_t>::min());
  out += ' ';
  append_number(out, std::numeric_limits<std::int64_t>::max());
  out += ' ';
  append_number(out, std::numeric_limits<std::uint64_t>::max());
  out += ' ';
  append_number(out, -7);
  out += ' ';
  append_number(out, 7U);

  EXPECT_EQ(out, "-9223372036854775808 9223372036854775807 18446744073709551615 -7 7");
}

TEST(JsonWriter, BuildsNestedObjectsWithCommasOnlyBetweenSiblings) {
  std::string out = "prefix:";
  Writer sut(out);

  sut.begin_object()
      .key("asset")
      .value("plant")
      .key("seq")
      .value(std::uint64_t{17})
      .key("ts")
      .value(1732200008.5)
      .key("model")
      .begin_object()
      .key("name")
      .value(std::string_view("pump \"A\""))
      .end_object()
      .key("active_alerts")
      .begin_array()
      .end_array()
      .key("list")
      .begin_array()
      .value(1)
      .value(true)
      .null()
      .value(false)
      .raw(R"({"x":1})")
      .begin_object()
      .end_object()
      .value(std::int64_t{-2})
      .end_array()
      .key("nan")
      .value(std::numeric_limits<double>::quiet_NaN())
      .end_object();

  EXPECT_EQ(out,
            R"(prefix:{"asset":"plant","seq":17,"ts":1732200008.5,"model":{"name":"pump \"A\""},)"
            R"("active_alerts":[],"list":[1,true,null,false,{"x":1},{},-2],"nan":null})");
  const json parsed = json::parse(out.substr(7));
  EXPECT_EQ(parsed, json::parse(R"({"asset": "plant", "seq": 17, "ts": 1732200008.5,
      "model": {"name": "pump \"A\""}, "active_alerts": [],
      "list": [1, true, null, false, {"x": 1}, {}, -2], "nan": null})"));
}

TEST(JsonWriter, TopLevelArrayOfScalars) {
  std::string out;
  Writer sut(out);

  sut.begin_array().value(0.5).value(3U).value("s").end_array();

  EXPECT_EQ(out, R"([0.5,3,"s"])");
}

}  // namespace
}  // namespace twind::json
