#include "twind/codec/recording.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <limits>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>

#include "../support/test_names.hpp"

namespace twind::codec {
namespace {

using testing::name_of;

struct GoodLine {
  const char* label;
  std::string line;
  double t;
  std::string topic;
  std::string payload;
};

void PrintTo(const GoodLine& c, std::ostream* os) {
  *os << c.label;
}

class GoodRecordLine : public ::testing::TestWithParam<GoodLine> {};

TEST_P(GoodRecordLine, ParsesToItsTimeTopicAndMessageText) {
  const GoodLine& c = GetParam();
  // An exact-size heap copy, so that a read past the end is caught by AddressSanitizer.
  const std::unique_ptr<char[]> copy(new char[c.line.size()]);
  std::memcpy(copy.get(), c.line.data(), c.line.size());
  RecordingParser sut;
  RecordLine out;

  const RecordParseResult result = sut.parse(std::string_view(copy.get(), c.line.size()), out);

  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_TRUE(result.error.empty());
  EXPECT_EQ(out.t, c.t);
  EXPECT_EQ(out.topic, c.topic);
  EXPECT_EQ(out.payload, c.payload);
}

INSTANTIATE_TEST_SUITE_P(
    Lines, GoodRecordLine,
    ::testing::Values(
        GoodLine{"documented example, string payload",
                 R"({"t": 1732200000.020, "topic": "plant/y", "payload": "2.97"})", 1732200000.020,
                 "plant/y", "2.97"},
        GoodLine{"documented example, object payload",
                 R"({"t": 1732200000.020, "topic": "plant/u", "payload": {"value": 3.0}})",
                 1732200000.020, "plant/u", R"({"value": 3.0})"},
        GoodLine{"payload_base64", R"({"t": 1, "topic": "a", "payload_base64": "/wAx"})", 1.0, "a",
                 std::string("\xff\x00\x31", 3)},
        GoodLine{"payload_base64 with one padding",
                 R"({"t": 1, "topic": "a", "payload_base64": "QUI="})", 1.0, "a", "AB"},
        GoodLine{"payload_base64 empty", R"({"t": 1, "topic": "a", "payload_base64": ""})", 1.0,
                 "a", ""},
        GoodLine{"payload then payload_base64: the last counts",
                 R"({"t": 1, "topic": "a", "payload": "x", "payload_base64": "QQ=="})", 1.0, "a",
                 "A"},
        GoodLine{"payload_base64 then payload: the last counts",
                 R"({"t": 1, "topic": "a", "payload_base64": "QQ==", "payload": "x"})", 1.0, "a",
                 "x"},
        GoodLine{"members in reverse order",
                 R"({"payload": {"value": 3.0}, "topic": "plant/u", "t": 1})", 1.0, "plant/u",
                 R"({"value": 3.0})"},
        GoodLine{"payload first, t last, no spaces", R"({"payload":"1","topic":"a","t":2.5})", 2.5,
                 "a", "1"},
        GoodLine{"raw object text kept byte for byte, trimmed",
                 "{\"t\":1,\"topic\":\"a\",\"payload\": \n {\"value\" :  3.0 , \"x\":[1, 2]}\t }",
                 1.0, "a", R"({"value" :  3.0 , "x":[1, 2]})"},
        GoodLine{"number payload", R"({"t": 1, "topic": "a", "payload": -2.5e3})", 1.0, "a",
                 "-2.5e3"},
        GoodLine{"true payload", R"({"t": 1, "topic": "a", "payload": true})", 1.0, "a", "true"},
        GoodLine{"null payload", R"({"t": 1, "topic": "a", "payload": null})", 1.0, "a", "null"},
        GoodLine{"array payload", R"({"t": 1, "topic": "a", "payload": [1, {"b": []}]})", 1.0, "a",
                 R"([1, {"b": []}])"},
        GoodLine{"string payload with escapes",
                 R"({"t": 1, "topic": "a", "payload": "{\"value\": 2.97,\n\"s\": \"\u00e9\\\"}"})",
                 1.0, "a", "{\"value\": 2.97,\n\"s\": \"\xC3\xA9\\\"}"},
        GoodLine{"escaped topic", R"({"t": 1, "topic": "plant\/y\u0021", "payload": "1"})", 1.0,
                 "plant/y!", "1"},
        GoodLine{"empty string payload", R"({"t": 1, "topic": "a", "payload": ""})", 1.0, "a", ""},
        GoodLine{"other members of every type ignored",
                 R"({"qos": 1, "retain": false, "x": {"y": [null, "z"]}, "t": 1, "topic": "a",)"
                 R"( "big": 1e999, "payload": "1"})",
                 1.0, "a", "1"},
        GoodLine{"escaped member names", R"({"\u0074": 3, "\u0074opic": "a", "payload": "1"})", 3.0,
                 "a", "1"},
        GoodLine{"whitespace around the object and a CRLF ending",
                 " \t{\"t\": 1, \"topic\": \"a\", \"payload\": \"1\"} \r\n", 1.0, "a", "1"},
        GoodLine{"duplicate members: last wins",
                 R"({"t": "x", "t": 4, "topic": "a\n", "topic": "b\n", "payload": 1,)"
                 R"( "payload": "c\u0021"})",
                 4.0, "b\n", "c!"}),
    [](const ::testing::TestParamInfo<GoodLine>& row) { return name_of(row.param.label); });

struct BadLine {
  const char* label;
  std::string line;
  std::string error;
};

void PrintTo(const BadLine& c, std::ostream* os) {
  *os << c.label;
}

class BadRecordLine : public ::testing::TestWithParam<BadLine> {};

TEST_P(BadRecordLine, IsRefusedWithAMessageNamingTheProblem) {
  const BadLine& c = GetParam();
  RecordingParser sut;
  RecordLine out;
  out.t = 99.0;

  const RecordParseResult result = sut.parse(c.line, out);

  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.error, c.error);
  EXPECT_EQ(out.t, 0.0);
  EXPECT_TRUE(out.topic.empty());
  EXPECT_TRUE(out.payload.empty());
}

INSTANTIATE_TEST_SUITE_P(
    Lines, BadRecordLine,
    ::testing::Values(
        BadLine{"empty", "", "not a JSON object"},
        BadLine{"whitespace", "  \r\n", "not a JSON object"},
        BadLine{"array", R"([{"t": 1}])", "not a JSON object"},
        BadLine{"bare payload", "2.97", "not a JSON object"},
        BadLine{"empty object", "{}", R"(missing "t")"},
        BadLine{"missing t", R"({"topic": "a", "payload": "1"})", R"(missing "t")"},
        BadLine{"missing topic", R"({"t": 1, "payload": "1"})", R"(missing "topic")"},
        BadLine{"missing payload", R"({"t": 1, "topic": "a"})", R"(missing "payload")"},
        BadLine{"t as string", R"({"t": "1", "topic": "a", "payload": "1"})",
                R"("t" is not a finite number)"},
        BadLine{"t null", R"({"t": null, "topic": "a", "payload": "1"})",
                R"("t" is not a finite number)"},
        BadLine{"t overflows", R"({"t": 1e999, "topic": "a", "payload": "1"})",
                R"("t" is not a finite number)"},
        BadLine{"t NaN", R"({"t": NaN, "topic": "a", "payload": "1"})",
                R"("t" is not a finite number)"},
        BadLine{"t with trailing dot", R"({"t": 1., "topic": "a", "payload": "1"})",
                R"("t" is not a finite number)"},
        BadLine{"topic as number", R"({"t": 1, "topic": 5, "payload": "1"})",
                R"("topic" is not a string)"},
        BadLine{"topic with a bad escape", R"({"t": 1, "topic": "a\x", "payload": "1"})",
                R"("topic" is not a string)"},
        BadLine{"payload object unfinished", R"({"t": 1, "topic": "a", "payload": {"value": }})",
                R"("payload" is not valid JSON)"},
        BadLine{"payload with a lone surrogate", R"({"t": 1, "topic": "a", "payload": "\ud800"})",
                R"("payload" is not valid JSON)"},
        BadLine{"payload with a leading zero", R"({"t": 1, "topic": "a", "payload": 01})",
                R"("payload" is not valid JSON)"},
        BadLine{"payload NaN", R"({"t": 1, "topic": "a", "payload": NaN})",
                R"("payload" is not valid JSON)"},
        BadLine{"payload of two values", R"({"t": 1, "topic": "a", "payload": 1 2})",
                R"("payload" is not valid JSON)"},
        BadLine{"payload nested too deep",
                R"({"t": 1, "topic": "a", "payload": )" + std::string(1000, '[') +
                    std::string(1000, ']') + "}",
                R"("payload" is not valid JSON)"},
        BadLine{"payload_base64 of the wrong length",
                R"({"t": 1, "topic": "a", "payload_base64": "QUJD="})",
                R"("payload_base64" is not base64)"},
        BadLine{"payload_base64 with a character outside the alphabet",
                R"({"t": 1, "topic": "a", "payload_base64": "QU-D"})",
                R"("payload_base64" is not base64)"},
        BadLine{"payload_base64 with padding inside",
                R"({"t": 1, "topic": "a", "payload_base64": "QQ==QUJD"})",
                R"("payload_base64" is not base64)"},
        BadLine{"payload_base64 with stray bits before the padding",
                R"({"t": 1, "topic": "a", "payload_base64": "QR=="})",
                R"("payload_base64" is not base64)"},
        BadLine{"payload_base64 not a string", R"({"t": 1, "topic": "a", "payload_base64": 5})",
                R"("payload_base64" is not base64)"},
        BadLine{"truncated line", R"({"t": 1, "topic": "a", "payload": "1")",
                "invalid JSON: the line ends inside the object"},
        BadLine{"line cut inside the payload", R"({"t": 1, "topic": "a", "payload": {"a": 1)",
                R"("payload" is not valid JSON)"},
        BadLine{"missing colon", R"({"t" 1})", "invalid JSON at column 6"},
        BadLine{"bad value of an ignored member", R"({"x": tru, "t": 1})",
                "invalid JSON at column 7"},
        BadLine{"trailing comma", R"({"t": 1,})", "invalid JSON at column 9"},
        BadLine{"garbage after the object", R"({"t": 1, "topic": "a", "payload": "1"} x)",
                "trailing characters after the object"},
        BadLine{"two objects on one line",
                R"({"t": 1, "topic": "a", "payload": "1"}{"t": 2, "topic": "a", "payload": "1"})",
                "trailing characters after the object"}),
    [](const ::testing::TestParamInfo<BadLine>& row) { return name_of(row.param.label); });

TEST(RecordingParser, PayloadWithoutEscapesViewsTheLine) {
  const std::string line = R"({"t": 1, "topic": "a", "payload": "2.97"})";
  RecordingParser sut;
  RecordLine out;

  ASSERT_TRUE(sut.parse(line, out).ok);

  EXPECT_EQ(out.payload.data(), line.data() + line.find("2.97"));
  EXPECT_EQ(out.topic.data(), line.data() + line.find("a\""));
}

TEST(AppendRecordLine, WritesTheDocumentedBytes) {
  std::string out = "previous\n";

  append_record_line(out, 1732200000.125, "twin/state", R"({"seq":1})");

  EXPECT_EQ(out,
            "previous\n{\"t\":1732200000.125,\"topic\":\"twin/state\",\"payload\":{\"seq\":1}}\n");
}

TEST(AppendRecordLine, EscapesTheTopicAndParsesBackThroughTheParser) {
  const std::string topic = "odd \"topic\"\\\n\x01";
  const std::string payload = R"({"a": [1, 2.5, "x"]})";
  std::string text;
  append_record_line(text, 0.1, topic, payload);
  ASSERT_FALSE(text.empty());
  ASSERT_EQ(text.back(), '\n');
  RecordingParser sut;
  RecordLine out;

  const RecordParseResult result =
      sut.parse(std::string_view(text).substr(0, text.size() - 1), out);

  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_EQ(out.t, 0.1);
  EXPECT_EQ(out.topic, topic);
  EXPECT_EQ(out.payload, payload);
}

// What `twind record` writes: each message's bytes, exactly, read back by the parser.
class MessageLine : public ::testing::TestWithParam<std::string> {};

TEST_P(MessageLine, KeepsThePayloadBytesExactly) {
  const std::string& payload = GetParam();
  std::string text;
  ASSERT_TRUE(append_message_line(text, 1732200000.125, "plant/y", payload));
  ASSERT_EQ(text.back(), '\n');
  EXPECT_EQ(text.find('\n'), text.size() - 1) << "one line";
  RecordingParser sut;
  RecordLine out;

  const RecordParseResult result =
      sut.parse(std::string_view(text).substr(0, text.size() - 1), out);

  ASSERT_TRUE(result.ok) << result.error << ": " << text;
  EXPECT_EQ(out.t, 1732200000.125);
  EXPECT_EQ(out.topic, "plant/y");
  EXPECT_EQ(out.payload, payload);
  EXPECT_EQ(text.find("payload_base64") != std::string::npos, !is_utf8(payload)) << text;
}

INSTANTIATE_TEST_SUITE_P(
    Payloads, MessageLine,
    ::testing::Values(std::string("2.97"), std::string(" 2.97\r\n"),
                      std::string(R"({"ts": 1732200000.04, "u": 3.0, "y": 2.98})"), std::string(""),
                      std::string("quote \" backslash \\ tab \t"), std::string("nul \0 inside", 12),
                      std::string("\x7f\x01\x1f"),
                      std::string("\xc3\xa9t\xc3\xa9 \xf0\x9f\x98\x80"),
                      std::string("\xff\xfe binary"), std::string("\xc3"),
                      std::string("\xed\xa0\x80 surrogate"), std::string("\xc0\xaf overlong"),
                      std::string("\x00\x01\x02\x03\xfd\xfe\xff", 7)));

TEST(MessageLine, WritesTheDocumentedBytes) {
  std::string out;
  ASSERT_TRUE(append_message_line(out, 1732200000.02, "plant/frame", R"({"u": 3})"));
  ASSERT_TRUE(append_message_line(out, 1732200000.04, "plant/y", std::string("\xff\x00", 2)));
  EXPECT_EQ(out,
            "{\"t\":1732200000.02,\"topic\":\"plant/frame\",\"payload\":\"{\\\"u\\\": 3}\"}\n"
            "{\"t\":1732200000.04,\"topic\":\"plant/y\",\"payload_base64\":\"/wA=\"}\n");
}

TEST(MessageLine, RefusesATopicThatIsNotUtf8OrATimeThatIsNotFinite) {
  std::string out = "kept";
  EXPECT_FALSE(append_message_line(out, 1.0, "plant/\xff", "1"));
  EXPECT_FALSE(append_message_line(out, std::numeric_limits<double>::infinity(), "plant/y", "1"));
  EXPECT_EQ(out, "kept");
}

TEST(Base64, RoundTripsEveryLengthAndByte) {
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes.push_back(static_cast<char>(i));
  for (std::size_t n = 0; n <= bytes.size(); ++n) {
    std::string text;
    append_base64(text, std::string_view(bytes).substr(0, n));
    EXPECT_EQ(text.size(), (n + 2) / 3 * 4);
    std::string back;
    ASSERT_TRUE(decode_base64(text, back)) << text;
    EXPECT_EQ(back, bytes.substr(0, n));
  }
  std::string abc;
  append_base64(abc, "foobar");
  EXPECT_EQ(abc, "Zm9vYmFy");  // RFC 4648, section 10
}

}  // namespace
}  // namespace twind::codec
