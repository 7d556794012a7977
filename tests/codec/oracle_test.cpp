// Differential tests: the hand-written decoders against nlohmann/json as an oracle, over a
// seeded corpus of generated and mutated texts.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "../support/exact_buffer.hpp"
#include "twind/codec/payload.hpp"
#include "twind/codec/recording.hpp"
#include "twind/json/scanner.hpp"

namespace twind::codec {
namespace {

using json = nlohmann::json;

// ---------------------------------------------------------------------------------------------
// The oracle. nlohmann/json's default parse differs from strict RFC 8259 in three ways, handled
// here: it skips a UTF-8 byte order mark, it takes a NUL byte for the end of the input, and it
// refuses a number that overflows a double as a whole-document error (id 406) where the decoder
// must know which member overflowed. Such numbers are replaced by a sentinel value, found
// through the SAX interface (which reports where the bad token ends), and the DOM is built from
// the rewritten text.

constexpr std::string_view kSentinelText = "1.2345678901234567e-300";
constexpr double kSentinel = 1.2345678901234567e-300;

struct ErrorProbe : nlohmann::json_sax<json> {
  std::size_t position = 0;
  std::string token;
  int id = 0;

  bool null() override { return true; }
  bool boolean(bool /*unused*/) override { return true; }
  bool number_integer(number_integer_t /*unused*/) override { return true; }
  bool number_unsigned(number_unsigned_t /*unused*/) override { return true; }
  bool number_float(number_float_t /*unused*/, const string_t& /*unused*/) override { return true; }
  bool string(string_t& /*unused*/) override { return true; }
  bool binary(binary_t& /*unused*/) override { return true; }
  bool start_object(std::size_t /*unused*/) override { return true; }
  bool key(string_t& /*unused*/) override { return true; }
  bool end_object() override { return true; }
  bool start_array(std::size_t /*unused*/) override { return true; }
  bool end_array() override { return true; }
  bool parse_error(std::size_t pos, const std::string& last_token,
                   const nlohmann::detail::exception& ex) override {
    position = pos;
    token = last_token;
    id = ex.id;
    return false;
  }
};

std::size_t depth_of(const json& j) {
  if (!j.is_structured()) return 0;
  std::size_t deepest = 0;
  for (const auto& child : j) deepest = std::max(deepest, depth_of(child));
  return deepest + 1;
}

struct OracleDom {
  json dom;
  bool had_overflow = false;
};

// The strict-JSON DOM of `text` with overflowing numbers as the sentinel, or nullopt when the
// text is not strict JSON (or nests deeper than the decoders' documented limit).
std::optional<OracleDom> oracle_parse(std::string text) {
  if (text.find('\0') != std::string::npos) return std::nullopt;
  if (text.rfind("\xEF\xBB\xBF", 0) == 0) return std::nullopt;
  OracleDom result;
  for (;;) {
    ErrorProbe probe;
    if (json::sax_parse(text, &probe)) break;
    if (probe.id != 406) return std::nullopt;
    const std::size_t len = probe.token.size();
    if (probe.position < len || text.compare(probe.position - len, len, probe.token) != 0) {
      ADD_FAILURE() << "oracle could not locate overflowing token " << probe.token;
      return std::nullopt;
    }
    text.replace(probe.position - len, len, kSentinelText);
    result.had_overflow = true;
  }
  result.dom = json::parse(text, nullptr, false);
  if (result.dom.is_discarded()) {
    ADD_FAILURE() << "SAX and DOM parses disagree";
    return std::nullopt;
  }
  if (depth_of(result.dom) > static_cast<std::size_t>(twind::json::kMaxDepth)) return std::nullopt;
  return result;
}

enum class Held : std::uint8_t { number, overflow, other };

Held classify(const json& v, double& out) {
  if (!v.is_number()) return Held::other;
  out = v.get<double>();
  if (v.is_number_float() && out == kSentinel) return Held::overflow;
  return Held::number;
}

struct Verdict {
  bool ok = false;
  Reject reason = Reject::malformed;
  bool is_frame = false;
  bool has_ts = false;
  double ts = 0.0;
  std::map<std::string, double> fields;
  std::map<std::string, Reject> errors;
};

Verdict refuse(Reject r) {
  Verdict v;
  v.reason = r;
  return v;
}

// The payload rules of payload.hpp, computed from the oracle's DOM.
Verdict expected_verdict(const std::optional<OracleDom>& parsed) {
  if (!parsed) return refuse(Reject::malformed);
  const json& j = parsed->dom;
  Verdict v;
  double x = 0.0;
  if (j.is_number()) {
    if (classify(j, x) == Held::overflow) return refuse(Reject::not_finite);
    v.ok = true;
    v.fields[""] = x;
    return v;
  }
  if (!j.is_object()) return refuse(Reject::malformed);
  const bool has_value = j.contains("value");
  double value = 0.0;
  if (has_value) {
    const Held h = classify(j["value"], value);
    if (h == Held::other) return refuse(Reject::malformed);
    if (h == Held::overflow) return refuse(Reject::not_finite);
  }
  if (j.contains("ts")) {
    if (classify(j["ts"], v.ts) != Held::number || !(v.ts > 0.0)) {
      return refuse(Reject::bad_timestamp);
    }
    v.has_ts = true;
  }
  if (has_value) {
    v.ok = true;
    v.fields[""] = value;
    return v;
  }
  for (const auto& [key, member] : j.items()) {
    if (key == "ts") continue;
    switch (classify(member, x)) {
      case Held::number:
        v.fields[key] = x;
        break;
      case Held::overflow:
        v.errors[key] = Reject::not_finite;
        break;
      case Held::other:
        v.errors[key] = Reject::malformed;
        break;
    }
  }
  if (v.fields.empty()) return refuse(Reject::malformed);
  v.ok = true;
  v.is_frame = true;
  return v;
}

// ---------------------------------------------------------------------------------------------
// The corpus: payload-shaped texts built from pieces that exercise the grammar's corners, half
// of them then mutated byte by byte.

class Corpus {
 public:
  explicit Corpus(std::uint32_t seed) : rng_(seed) {}

  std::string next() {
    std::string text = payload();
    if (chance(0.5)) {
      const int edits = pick(1, 3);
      for (int i = 0; i < edits; ++i) mutate(text);
    }
    return text;
  }

 private:
  bool chance(double p) { return std::bernoulli_distribution(p)(rng_); }
  int pick(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  template <typename T, std::size_t N>
  const T& one_of(const std::array<T, N>& items) {
    return items[static_cast<std::size_t>(pick(0, static_cast<int>(N) - 1))];
  }

  std::string digits(int n) {
    std::string s;
    for (int i = 0; i < n; ++i) s.push_back(static_cast<char>('0' + pick(0, 9)));
    return s;
  }

  std::string number() {
    std::string s = chance(0.3) ? "-" : "";
    s += chance(0.2) ? "0"
                     : std::string(1, static_cast<char>('1' + pick(0, 8))) + digits(pick(0, 20));
    if (chance(0.5)) s += "." + digits(pick(1, 20));
    if (chance(0.4)) {
      s += chance(0.5) ? "e" : "E";
      const int sign = pick(0, 2);
      if (sign == 1) s += "+";
      if (sign == 2) s += "-";
      // Exponents around the double's range give overflow, underflow and subnormals.
      s += chance(0.3) ? std::to_string(pick(290, 420)) : std::to_string(pick(0, 30));
    }
    return s;
  }

  std::string key() {
    static constexpr std::array<std::string_view, 16> kKeys = {
        R"("value")",       R"("ts")",      R"("u")",          R"("y")",
        R"("temperature")", R"("rpm")",     R"("a")",          R"("b")",
        R"("\u0076alue")",  R"("\u0074s")", R"("temp\u00e9")", R"("\ud83d\ude00")",
        R"("a\nb")",        R"("")",        "\"caf\xC3\xA9\"", R"("\"q\\")"};
    return std::string(one_of(kKeys));
  }

  std::string scalar() {
    static constexpr std::array<std::string_view, 8> kScalars = {
        "true", "false", "null", R"("x")", R"("2.97")", R"("a\u00e9\t")", R"("")", "[]"};
    return chance(0.5) ? number() : std::string(one_of(kScalars));
  }

  std::string any_value(int depth) {
    if (depth <= 0 || chance(0.6)) return scalar();
    std::string s;
    const int n = pick(0, 3);
    if (chance(0.5)) {
      s = "[";
      for (int i = 0; i < n; ++i) s += (i ? "," : "") + any_value(depth - 1);
      return s + "]";
    }
    s = "{";
    for (int i = 0; i < n; ++i) s += (i ? "," : "") + key() + ":" + any_value(depth - 1);
    return s + "}";
  }

  std::string ws() {
    static constexpr std::array<std::string_view, 6> kSpaces = {"", "", " ", "\n", "\t ", "\r\n"};
    return std::string(one_of(kSpaces));
  }

  std::string payload() {
    switch (pick(0, 4)) {
      case 0:
        return ws() + number() + ws();
      case 1: {  // a value object, usually
        std::string s = "{";
        const int n = pick(1, 5);
        const int value_at = pick(0, n - 1);
        for (int i = 0; i < n; ++i) {
          std::string member;
          if (i == value_at) {
            member = R"("value":)" + ws() + (chance(0.85) ? number() : scalar());
          } else {
            member = key() + ":" + ws() + (chance(0.5) ? number() : any_value(3));
          }
          s += (i ? "," : "") + ws() + member;
        }
        return s + ws() + "}";
      }
      case 2:
      case 3: {  // a frame, usually
        std::string s = "{";
        const int n = pick(0, 8);
        for (int i = 0; i < n; ++i) {
          const std::string k = chance(0.2) ? R"("ts")" : key();
          const std::string v = chance(0.75) ? number() : any_value(2);
          s += (i ? "," : "") + ws() + k + ws() + ":" + ws() + v;
        }
        return s + ws() + "}";
      }
      default:
        return any_value(4);
    }
  }

  void mutate(std::string& s) {
    static constexpr std::string_view kAlphabet = "{}[]\":,.-+eE0123456789 \t\n\\u/abnrtflsNI";
    const auto at = [&](std::size_t extra) {
      return static_cast<std::size_t>(pick(0, static_cast<int>(s.size() + extra) - 1));
    };
    const auto byte = [&] {
      return chance(0.8) ? kAlphabet[static_cast<std::size_t>(
                               pick(0, static_cast<int>(kAlphabet.size()) - 1))]
                         : static_cast<char>(pick(0, 255));
    };
    switch (s.empty() ? 0 : pick(0, 4)) {
      case 0:
        s.insert(at(1), 1, byte());
        break;
      case 1:
        s.erase(at(0), 1);
        break;
      case 2:
        s[at(0)] = byte();
        break;
      case 3: {
        const std::size_t from = at(0);
        const auto len = static_cast<std::size_t>(pick(1, 8));
        s.insert(at(1), s.substr(from, len));
        break;
      }
      default:
        s.resize(at(0));
        break;
    }
  }

  std::mt19937 rng_;
};

using testing::ExactBuffer;

std::string printable(std::string_view s) {
  std::string out;
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7F && c != '\\') {
      out.push_back(c);
    } else {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 0xF]);
    }
  }
  return out;
}

constexpr int kCases = 30000;
constexpr int kMaxReported = 20;

TEST(PayloadDecoderOracle, AgreesWithNlohmannJsonOnGeneratedAndMutatedPayloads) {
  Corpus corpus(20241122);
  PayloadDecoder sut;
  Payload out;
  std::map<std::string, int> outcomes;
  int reported = 0;

  for (int i = 0; i < kCases && reported < kMaxReported; ++i) {
    const std::string text = corpus.next();
    const ExactBuffer input(text);
    const Verdict expected = expected_verdict(oracle_parse(text));

    const DecodeResult got = sut.decode(input.view(), out);

    ++outcomes[expected.ok ? (expected.is_frame ? "frame" : "value")
                           : std::string(to_string(expected.reason))];
    const std::string where = "case " + std::to_string(i) + ": " + printable(text);
    if (got.ok != expected.ok || (!got.ok && got.reason != expected.reason)) {
      ++reported;
      ADD_FAILURE() << where << "\n  decoder: " << (got.ok ? "ok" : to_string(got.reason))
                    << ", oracle: " << (expected.ok ? "ok" : to_string(expected.reason));
      continue;
    }
    if (!got.ok) continue;
    std::map<std::string, double> fields;
    std::map<std::string, Reject> errors;
    for (const Field& f : out.fields) fields[std::string(f.name)] = f.value;
    for (const FieldError& e : out.field_errors) errors[std::string(e.name)] = e.reason;
    const bool same = out.is_frame == expected.is_frame && out.has_ts == expected.has_ts &&
                      (!out.has_ts || out.ts == expected.ts) && fields == expected.fields &&
                      errors == expected.errors && fields.size() == out.fields.size() &&
                      errors.size() == out.field_errors.size();
    if (!same) {
      ++reported;
      ADD_FAILURE() << where << "\n  decoded values differ from the oracle's";
    }
  }

  // The corpus must exercise every outcome, or the agreement above proves little.
  for (const char* outcome : {"value", "frame", "malformed", "not_finite", "bad_timestamp"}) {
    EXPECT_GE(outcomes[outcome], kCases / 50) << outcome;
  }
}

TEST(RecordingParserOracle, AgreesWithNlohmannJsonOnLinesAroundGeneratedPayloads) {
  Corpus corpus(7);
  RecordingParser sut;
  RecordLine out;
  int accepted = 0;
  int refused = 0;
  int reported = 0;

  for (int i = 0; i < kCases && reported < kMaxReported; ++i) {
    const std::string payload = corpus.next();
    const std::string line = R"({"t": 1732200000.02, "topic": "plant/y", "payload": )" + payload +
                             (i % 2 == 0 ? "}" : R"(, "qos": 1})");
    const std::optional<OracleDom> parsed = oracle_parse(line);
    // An overflowing number inside a raw payload cannot be compared through the oracle's DOM.
    if (parsed && parsed->had_overflow) continue;
    const ExactBuffer input(line);

    const RecordParseResult got = sut.parse(input.view(), out);

    const std::string where = "case " + std::to_string(i) + ": " + printable(line);
    const json* t = nullptr;
    const json* topic = nullptr;
    const json* expected_payload = nullptr;
    if (parsed && parsed->dom.is_object()) {
      const json& dom = parsed->dom;
      if (dom.contains("t") && dom["t"].is_number()) t = &dom["t"];
      if (dom.contains("topic") && dom["topic"].is_string()) topic = &dom["topic"];
      if (dom.contains("payload")) expected_payload = &dom["payload"];
    }
    const bool expected_ok = t != nullptr && topic != nullptr && expected_payload != nullptr;
    if (got.ok != expected_ok) {
      ++reported;
      ADD_FAILURE() << where << "\n  parser: " << (got.ok ? "ok" : got.error)
                    << ", oracle: " << (expected_ok ? "ok" : "refused");
      continue;
    }
    if (!got.ok) {
      ++refused;
      EXPECT_FALSE(got.error.empty()) << where;
      continue;
    }
    ++accepted;
    bool same = out.t == t->get<double>() && out.topic == topic->get<std::string>();
    if (expected_payload->is_string()) {
      same = same && out.payload == expected_payload->get<std::string>();
    } else {
      // The raw text of the value: trimmed, and the same JSON value.
      const json reparsed = json::parse(out.payload, nullptr, false);
      same = same && !out.payload.empty() && reparsed == *expected_payload &&
             out.payload.find_first_of(" \t\r\n") != 0 &&
             out.payload.find_last_of(" \t\r\n") != out.payload.size() - 1;
    }
    if (!same) {
      ++reported;
      ADD_FAILURE() << where << "\n  parsed line differs from the oracle's";
    }
  }

  EXPECT_GE(accepted, kCases / 10);
  EXPECT_GE(refused, kCases / 10);
}

}  // namespace
}  // namespace twind::codec
