#include "twind/codec/payload.hpp"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <ostream>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../support/exact_buffer.hpp"
#include "../support/test_names.hpp"
#include "twind/json/scanner.hpp"
#include "twind/json/writer.hpp"

namespace twind::codec {
namespace {

using testing::name_of;

using testing::ExactBuffer;

struct ExpectedField {
  std::string name;
  double value;
};

struct ExpectedError {
  std::string name;
  Reject reason;
};

struct GoodCase {
  const char* label;
  std::string text;
  std::vector<ExpectedField> fields;
  bool is_frame = false;
  bool has_ts = false;
  double ts = 0.0;
  std::vector<ExpectedError> errors = {};
};

void PrintTo(const GoodCase& c, std::ostream* os) {
  *os << c.label;
}

class GoodPayload : public ::testing::TestWithParam<GoodCase> {};

TEST_P(GoodPayload, DecodesToTheDocumentedFieldsAndTimestamp) {
  const GoodCase& c = GetParam();
  const ExactBuffer input(c.text);
  PayloadDecoder sut;
  Payload out;

  const DecodeResult result = sut.decode(input.view(), out);

  ASSERT_TRUE(result.ok) << "refused as " << to_string(result.reason);
  EXPECT_EQ(out.is_frame, c.is_frame);
  EXPECT_EQ(out.has_ts, c.has_ts);
  if (c.has_ts) {
    EXPECT_EQ(out.ts, c.ts);
  }
  ASSERT_EQ(out.fields.size(), c.fields.size());
  for (std::size_t i = 0; i < c.fields.size(); ++i) {
    EXPECT_EQ(out.fields[i].name, c.fields[i].name) << "field " << i;
    EXPECT_EQ(out.fields[i].value, c.fields[i].value) << "field " << i;
    EXPECT_EQ(std::signbit(out.fields[i].value), std::signbit(c.fields[i].value)) << "field " << i;
  }
  ASSERT_EQ(out.field_errors.size(), c.errors.size());
  for (std::size_t i = 0; i < c.errors.size(); ++i) {
    EXPECT_EQ(out.field_errors[i].name, c.errors[i].name) << "error " << i;
    EXPECT_EQ(out.field_errors[i].reason, c.errors[i].reason) << "error " << i;
  }
}

constexpr double kTs = 1732200000.125;

// Every expected value below is the decimal literal of the input, read by the compiler.
INSTANTIATE_TEST_SUITE_P(
    Payloads, GoodPayload,
    ::testing::Values(
        GoodCase{"zero", "0", {{"", 0.0}}}, GoodCase{"negative zero", "-0", {{"", -0.0}}},
        GoodCase{"decimal", "2.97", {{"", 2.97}}},
        GoodCase{"negative decimal", "-12.5", {{"", -12.5}}},
        GoodCase{"integer", "1500", {{"", 1500.0}}}, GoodCase{"exponent", "1e3", {{"", 1e3}}},
        GoodCase{"upper exponent with sign", "2.5E-3", {{"", 2.5E-3}}},
        GoodCase{"plus exponent", "1E+2", {{"", 1E+2}}},
        GoodCase{"fraction and exponent", "-12.5e-1", {{"", -12.5e-1}}},
        GoodCase{"zero with exponent", "0e5", {{"", 0.0}}},
        GoodCase{"surrounded by every whitespace", " \t\r\n2.97 \n\r\t", {{"", 2.97}}},
        GoodCase{"largest double", "1.7976931348623157e308", {{"", 1.7976931348623157e308}}},
        GoodCase{"smallest subnormal", "5e-324", {{"", 5e-324}}},
        GoodCase{"underflow reads as zero", "1e-400", {{"", 0.0}}},
        GoodCase{"negative underflow reads as negative zero", "-1e-400", {{"", -0.0}}},
        GoodCase{"long fraction underflow", "0.00000000001e-320", {{"", 0.0}}},
        GoodCase{"value object", R"({"value": 2.97})", {{"", 2.97}}},
        GoodCase{"value object with ts",
                 R"({"value": 2.97, "ts": 1732200000.125})",
                 {{"", 2.97}},
                 false,
                 true,
                 kTs},
        GoodCase{"ts before value", R"({"ts":1,"value":-3})", {{"", -3.0}}, false, true, 1.0},
        GoodCase{"value object ignores members of every type",
                 R"({"s": "x\n\u00e9", "n": null, "t": true, "f": false,)"
                 R"( "o": {"a": [1, {"b": [2, []]}], "c": {}}, "a": [], "big": 1e999,)"
                 R"( "neg": -1e999, "value": 3})",
                 {{"", 3.0}}},
        GoodCase{"escaped value key", R"({"\u0076alue": 4})", {{"", 4.0}}},
        GoodCase{"duplicate value: last wins", R"({"value": "x", "value": 1})", {{"", 1.0}}},
        GoodCase{"duplicate ts: last wins",
                 R"({"ts": -1, "ts": 2, "value": 1})",
                 {{"", 1.0}},
                 false,
                 true,
                 2.0},
        GoodCase{"frame",
                 R"({"ts": 1732200000.125, "temperature": 65.2, "vibration": 2.1, "rpm": 1500})",
                 {{"temperature", 65.2}, {"vibration", 2.1}, {"rpm", 1500.0}},
                 true,
                 true,
                 kTs},
        GoodCase{"frame without ts", R"({"u":1,"y":2})", {{"u", 1.0}, {"y", 2.0}}, true},
        GoodCase{"frame with whitespace everywhere",
                 " {\n \"u\" :\t1 ,\r\n \"y\" : 2 } \n",
                 {{"u", 1.0}, {"y", 2.0}},
                 true},
        GoodCase{"frame members of other types are field errors",
                 R"({"a": 1, "b": "2", "c": null, "d": 1e999, "e": [1], "f": {}, "g": true})",
                 {{"a", 1.0}},
                 true,
                 false,
                 0.0,
                 {{"b", Reject::malformed},
                  {"c", Reject::malformed},
                  {"d", Reject::not_finite},
                  {"e", Reject::malformed},
                  {"f", Reject::malformed},
                  {"g", Reject::malformed}}},
        GoodCase{"escaped key \\u00e9",
                 R"({"temp\u00e9rature": 65.2})",
                 {{"temp\xC3\xA9rature", 65.2}},
                 true},
        GoodCase{"raw UTF-8 key",
                 "{\"temp\xC3\xA9rature\": 65.2}",
                 {{"temp\xC3\xA9rature", 65.2}},
                 true},
        GoodCase{"surrogate pair key", R"({"\ud83d\ude00": 1})", {{"\xF0\x9F\x98\x80", 1.0}}, true},
        GoodCase{"every short escape in a key",
                 R"({"a\"b\\c\/d\b\f\n\r\t": 1})",
                 {{"a\"b\\c/d\b\f\n\r\t", 1.0}},
                 true},
        GoodCase{
            "escaped NUL in a key", R"({"a\u0000b": 1})", {{std::string("a\0b", 3), 1.0}}, true},
        GoodCase{"escaped ts key", R"({"\u0074s": 5, "a": 1})", {{"a", 1.0}}, true, true, 5.0},
        GoodCase{"many escaped keys",
                 R"({"\u0061": 1, "\u0062": 2, "\u0063": 3, "\u0064": 4, "\u0065": 5})",
                 {{"a", 1.0}, {"b", 2.0}, {"c", 3.0}, {"d", 4.0}, {"e", 5.0}},
                 true},
        GoodCase{"duplicate frame key: last wins",
                 R"({"a": 1, "b": 3, "a": 2})",
                 {{"b", 3.0}, {"a", 2.0}},
                 true},
        GoodCase{"duplicate frame key: a later number clears an error",
                 R"({"a": "x", "a": 2})",
                 {{"a", 2.0}},
                 true},
        GoodCase{"duplicate frame key: a later error drops the number",
                 R"({"a": 2, "b": 1, "a": "x"})",
                 {{"b", 1.0}},
                 true,
                 false,
                 0.0,
                 {{"a", Reject::malformed}}},
        GoodCase{"duplicate keys compared after unescaping",
                 R"({"a": 1, "\u0061": 2})",
                 {{"a", 2.0}},
                 true}),
    [](const ::testing::TestParamInfo<GoodCase>& row) { return name_of(row.param.label); });

struct BadCase {
  const char* label;
  std::string text;
  Reject reason;
};

void PrintTo(const BadCase& c, std::ostream* os) {
  *os << c.label;
}

class BadPayload : public ::testing::TestWithParam<BadCase> {};

TEST_P(BadPayload, IsRefusedWithItsReasonAndLeavesOutputEmpty) {
  const BadCase& c = GetParam();
  const ExactBuffer input(c.text);
  // Room for the 100000-level nesting rows, which must fail on depth rather than on size.
  PayloadDecoder sut(1024 * 1024);
  Payload out;

  const DecodeResult result = sut.decode(input.view(), out);

  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.reason, c.reason) << "got " << to_string(result.reason);
  EXPECT_TRUE(out.fields.empty());
  EXPECT_TRUE(out.field_errors.empty());
  EXPECT_FALSE(out.has_ts);
}

std::string nested(std::size_t levels) {
  return R"({"value": 1, "x": )" + std::string(levels, '[') + std::string(levels, ']') + "}";
}

std::string nested_objects(std::size_t levels) {
  std::string s = R"({"value": 1, "x": )";
  for (std::size_t i = 0; i < levels; ++i) s += R"({"a":)";
  return s + "1" + std::string(levels + 1, '}');
}

INSTANTIATE_TEST_SUITE_P(
    Payloads, BadPayload,
    ::testing::Values(
        BadCase{"empty", "", Reject::malformed},
        BadCase{"whitespace only", " \t\r\n", Reject::malformed},
        BadCase{"nan", "nan", Reject::malformed}, BadCase{"NaN", "NaN", Reject::malformed},
        BadCase{"Infinity", "Infinity", Reject::malformed},
        BadCase{"minus Infinity", "-Infinity", Reject::malformed},
        BadCase{"inf", "inf", Reject::malformed}, BadCase{"hex", "0x10", Reject::malformed},
        BadCase{"plus sign", "+1", Reject::malformed},
        BadCase{"leading zero", "01", Reject::malformed},
        BadCase{"negative leading zero", "-01", Reject::malformed},
        BadCase{"bare minus", "-", Reject::malformed},
        BadCase{"minus then space", "- 1", Reject::malformed},
        BadCase{"trailing dot", "1.", Reject::malformed},
        BadCase{"leading dot", ".5", Reject::malformed},
        BadCase{"empty exponent", "1e", Reject::malformed},
        BadCase{"signed empty exponent", "1e+", Reject::malformed},
        BadCase{"two dots", "1.5.5", Reject::malformed},
        BadCase{"two exponents", "1e5e5", Reject::malformed},
        BadCase{"JSON string is not a number", R"("2.97")", Reject::malformed},
        BadCase{"true", "true", Reject::malformed}, BadCase{"null", "null", Reject::malformed},
        BadCase{"array", "[1]", Reject::malformed},
        BadCase{"two numbers", "1 2", Reject::malformed},
        BadCase{"number then garbage", "2.97x", Reject::malformed},
        BadCase{"NUL after a number", std::string("1\0", 2), Reject::malformed},
        BadCase{"byte order mark",
                "\xEF\xBB\xBF"
                "1",
                Reject::malformed},
        BadCase{"overflow", "1e999", Reject::not_finite},
        BadCase{"negative overflow", "-1e999", Reject::not_finite},
        BadCase{"just above the largest double", "1.7976931348623159e308", Reject::not_finite},
        BadCase{"value as string", R"({"value": "2.97"})", Reject::malformed},
        BadCase{"value null", R"({"value": null})", Reject::malformed},
        BadCase{"value true", R"({"value": true})", Reject::malformed},
        BadCase{"value array", R"({"value": [1]})", Reject::malformed},
        BadCase{"value object", R"({"value": {"value": 1}})", Reject::malformed},
        BadCase{"value NaN", R"({"value": NaN})", Reject::malformed},
        BadCase{"value Infinity", R"({"value": Infinity})", Reject::malformed},
        BadCase{"value overflow", R"({"value": 1e999})", Reject::not_finite},
        BadCase{"duplicate value: last is bad", R"({"value": 1, "value": "x"})", Reject::malformed},
        BadCase{"negative ts", R"({"ts": -1, "value": 1})", Reject::bad_timestamp},
        BadCase{"zero ts", R"({"ts": 0, "value": 1})", Reject::bad_timestamp},
        BadCase{"negative zero ts", R"({"ts": -0.0, "value": 1})", Reject::bad_timestamp},
        BadCase{"string ts", R"({"ts": "x", "value": 1})", Reject::bad_timestamp},
        BadCase{"null ts", R"({"ts": null, "value": 1})", Reject::bad_timestamp},
        BadCase{"overflowing ts", R"({"ts": 1e999, "value": 1})", Reject::bad_timestamp},
        BadCase{"bad ts in a frame", R"({"ts": -5, "a": 1})", Reject::bad_timestamp},
        BadCase{"bad value outranks bad ts", R"({"ts": -1, "value": "x"})", Reject::malformed},
        BadCase{"empty object", "{}", Reject::malformed},
        BadCase{"frame without numbers", R"({"a": "b"})", Reject::malformed},
        BadCase{"frame of ts only", R"({"ts": 5})", Reject::malformed},
        BadCase{"frame of overflows only", R"({"a": 1e999})", Reject::malformed},
        BadCase{"trailing comma", R"({"value": 1,})", Reject::malformed},
        BadCase{"missing colon", R"({"value" 1})", Reject::malformed},
        BadCase{"missing comma", R"({"a": 1 "b": 2})", Reject::malformed},
        BadCase{"single quotes", "{'value': 1}", Reject::malformed},
        BadCase{"unquoted key", "{value: 1}", Reject::malformed},
        BadCase{"leading zero in value", R"({"value": 01})", Reject::malformed},
        BadCase{"object then garbage", R"({"value": 1} x)", Reject::malformed},
        BadCase{"two objects", R"({"value": 1}{})", Reject::malformed},
        BadCase{"extra closing brace", R"({"value": 1}})", Reject::malformed},
        BadCase{"unterminated ignored array", R"({"value": 1, "x": [1, 2)", Reject::malformed},
        BadCase{"trailing comma in ignored array", R"({"value": 1, "x": [1,]})", Reject::malformed},
        BadCase{"bad literal in ignored member", R"({"value": 1, "x": tru})", Reject::malformed},
        BadCase{"deep nesting in an ignored member", nested(100000), Reject::malformed},
        BadCase{"deep unclosed nesting", R"({"value": 1, "x": )" + std::string(100000, '['),
                Reject::malformed},
        BadCase{"deep nested objects", nested_objects(100000), Reject::malformed},
        BadCase{"invalid escape", R"({"a\q": 1})", Reject::malformed},
        BadCase{"short \\u escape", R"({"\u12": 1})", Reject::malformed},
        BadCase{"non-hex \\u escape", R"({"\u12G4": 1})", Reject::malformed},
        BadCase{"escape at the end of the text", R"({"a\)", Reject::malformed},
        BadCase{"lone high surrogate", R"({"\ud800": 1})", Reject::malformed},
        BadCase{"lone low surrogate", R"({"\udc00": 1})", Reject::malformed},
        BadCase{"high surrogate then a letter", R"({"\ud800\u0041": 1})", Reject::malformed},
        BadCase{"two high surrogates", R"({"\ud800\ud800": 1})", Reject::malformed},
        BadCase{"lone surrogate in an ignored string", R"({"value": 1, "s": "\udfff"})",
                Reject::malformed},
        BadCase{"raw control character in a key", "{\"a\x01\": 1}", Reject::malformed},
        BadCase{"raw newline in an ignored string", "{\"value\": 1, \"s\": \"a\nb\"}",
                Reject::malformed},
        BadCase{"raw NUL in a key", std::string("{\"a\0\": 1}", 9), Reject::malformed},
        BadCase{"invalid UTF-8 byte", "{\"\xFF\": 1}", Reject::malformed},
        BadCase{"overlong UTF-8", "{\"\xC0\x80\": 1}", Reject::malformed},
        BadCase{"UTF-8 encoded surrogate", "{\"\xED\xA0\x80\": 1}", Reject::malformed},
        BadCase{"UTF-8 above U+10FFFF", "{\"\xF4\x90\x80\x80\": 1}", Reject::malformed},
        BadCase{"truncated UTF-8 at the end", "{\"\xE2\x82", Reject::malformed},
        BadCase{"stray continuation byte", "{\"\x80\": 1}", Reject::malformed}),
    [](const ::testing::TestParamInfo<BadCase>& row) { return name_of(row.param.label); });

TEST(PayloadDecoder, EveryProperPrefixOfAValidFrameIsMalformed) {
  const std::string frame =
      R"({"ts": 1732200000.125, "temp\u00e9": 65.2, "s": "a\"b\ud83d\ude00", )"
      R"("o": {"x": [1, true, false, null, -2.5e-3]}, "rpm": 1500})";
  PayloadDecoder sut;
  Payload out;
  ASSERT_TRUE(sut.decode(frame, out).ok);

  for (std::size_t n = 0; n < frame.size(); ++n) {
    const ExactBuffer prefix(std::string_view(frame).substr(0, n));

    const DecodeResult result = sut.decode(prefix.view(), out);

    EXPECT_FALSE(result.ok) << "prefix of " << n << " bytes";
    EXPECT_EQ(result.reason, Reject::malformed) << "prefix of " << n << " bytes";
  }
}

TEST(PayloadDecoder, NestingUpToTheLimitIsSkippedAndOneLevelMoreIsMalformed) {
  // The payload's own object is one level, so kMaxDepth - 1 arrays fit inside it.
  const std::size_t inner = json::kMaxDepth - 1;
  PayloadDecoder sut;
  Payload out;

  const DecodeResult at_limit = sut.decode(nested(inner), out);
  const DecodeResult beyond = sut.decode(nested(inner + 1), out);

  ASSERT_TRUE(at_limit.ok);
  EXPECT_FALSE(beyond.ok);
  EXPECT_EQ(beyond.reason, Reject::malformed);
}

TEST(PayloadDecoder, TextLongerThanTheLimitIsOversizeWithoutBeingRead) {
  PayloadDecoder sut(8);
  Payload out;

  const DecodeResult over = sut.decode("{not json", out);     // 9 bytes
  const DecodeResult at_limit = sut.decode("12345678", out);  // 8 bytes

  EXPECT_FALSE(over.ok);
  EXPECT_EQ(over.reason, Reject::oversize);
  ASSERT_TRUE(at_limit.ok);
  EXPECT_EQ(out.fields[0].value, 12345678.0);
  EXPECT_EQ(sut.max_bytes(), 8U);
}

TEST(PayloadDecoder, DefaultLimitIs64KiB) {
  PayloadDecoder sut;
  Payload out;
  const std::string padded = std::string(64 * 1024 - 1, ' ') + "1";

  const DecodeResult at_limit = sut.decode(padded, out);
  const DecodeResult over = sut.decode(padded + " ", out);

  EXPECT_TRUE(at_limit.ok);
  EXPECT_EQ(over.reason, Reject::oversize);
}

TEST(PayloadDecoder, UnescapedNamesStayValidWhileManyEscapedKeysAreAdded) {
  // Enough escaped keys to make the decoder's key buffers reallocate while it scans; short keys
  // live inside std::string itself, so views taken too early would dangle.
  std::string text = "{";
  std::vector<std::string> names;
  for (int i = 0; i < 200; ++i) {
    const std::string digits = std::to_string(i);
    names.push_back("k\n" + digits);
    text += (i == 0 ? "" : ",") + std::string(R"("k\n)") + digits + "\":" + digits;
  }
  text += "}";
  PayloadDecoder sut;
  Payload out;

  ASSERT_TRUE(sut.decode(text, out).ok);

  ASSERT_EQ(out.fields.size(), names.size());
  for (std::size_t i = 0; i < names.size(); ++i) {
    EXPECT_EQ(out.fields[i].name, names[i]);
    EXPECT_EQ(out.fields[i].value, static_cast<double>(i));
  }
}

TEST(PayloadDecoder, LargeFrameWithDuplicatesKeepsTheLastOfEachKeyInOrder) {
  // Above the size where duplicates are found by sorting rather than by pairwise search.
  std::string text = "{";
  for (int i = 0; i < 300; ++i) {
    text += (i == 0 ? "\"k" : ",\"k") + std::to_string(i % 100) + "\":" + std::to_string(i);
  }
  text += "}";
  PayloadDecoder sut;
  Payload out;

  ASSERT_TRUE(sut.decode(text, out).ok);

  // The last occurrences are i = 200..299, in that order, for keys k0..k99.
  ASSERT_EQ(out.fields.size(), 100U);
  for (std::size_t j = 0; j < 100; ++j) {
    EXPECT_EQ(out.fields[j].name, "k" + std::to_string(j));
    EXPECT_EQ(out.fields[j].value, static_cast<double>(200 + j));
  }
}

TEST(PayloadDecoder, ReusedDecoderGivesIndependentResults) {
  PayloadDecoder sut;
  Payload out;
  ASSERT_TRUE(sut.decode(R"({"\u0061": 1, "b": "x", "ts": 3})", out).ok);
  ASSERT_FALSE(sut.decode(R"({"a": )", out).ok);

  ASSERT_TRUE(sut.decode(R"({"\u0063": 2})", out).ok);

  EXPECT_FALSE(out.has_ts);
  ASSERT_EQ(out.fields.size(), 1U);
  EXPECT_EQ(out.fields[0].name, "c");
  EXPECT_EQ(out.fields[0].value, 2.0);
  EXPECT_TRUE(out.field_errors.empty());
}

TEST(PayloadDecoder, UnescapedFieldNamesViewTheInputText) {
  const std::string text = R"({"u": 1, "y": 2})";
  PayloadDecoder sut;
  Payload out;

  ASSERT_TRUE(sut.decode(text, out).ok);

  ASSERT_EQ(out.fields.size(), 2U);
  EXPECT_EQ(out.fields[0].name.data(), text.data() + 2);
  EXPECT_EQ(out.fields[1].name.data(), text.data() + 10);
}

TEST(PayloadDecoder, ReadsEveryFiniteDoubleTheWriterWritesBackBitForBit) {
  std::mt19937_64 rng(1234);
  PayloadDecoder sut;
  Payload payload;
  int checked = 0;
  for (int i = 0; i < 100000; ++i) {
    const double v = std::bit_cast<double>(rng());
    if (!std::isfinite(v)) continue;
    std::string text;
    json::append_number(text, v);

    ASSERT_TRUE(sut.decode(text, payload).ok) << text;

    ASSERT_EQ(std::bit_cast<std::uint64_t>(payload.fields[0].value),
              std::bit_cast<std::uint64_t>(v))
        << text;
    ++checked;
  }
  EXPECT_GT(checked, 99000);
}

}  // namespace
}  // namespace twind::codec
