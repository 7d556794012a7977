#include "twind/codec/recording.hpp"

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "twind/json/scanner.hpp"
#include "twind/json/writer.hpp"

namespace twind::codec {
namespace {

using json::NumberScan;
using json::Scanner;

RecordParseResult failure(std::string error) {
  return RecordParseResult{false, std::move(error)};
}

RecordParseResult invalid_at(const Scanner& sc) {
  if (sc.at_end()) return failure("invalid JSON: the line ends inside the object");
  return failure("invalid JSON at column " + std::to_string(sc.offset() + 1));
}

bool starts_number(char c) {
  return c == '-' || (c >= '0' && c <= '9');
}

// Member values nest inside the line's own object.
constexpr int kValueDepth = json::kMaxDepth - 1;

enum class Seen : std::uint8_t { absent, good, bad };

}  // namespace

RecordParseResult RecordingParser::parse(std::string_view line, RecordLine& out) {
  out = RecordLine{};
  RecordLine line_out;
  Seen t = Seen::absent;
  Seen topic = Seen::absent;
  bool payload = false;

  Scanner sc(line);
  sc.skip_ws();
  if (!sc.consume('{')) return failure("not a JSON object");
  sc.skip_ws();
  if (!sc.consume('}')) {
    for (;;) {
      sc.skip_ws();
      std::string_view key;
      if (sc.peek() != '"' || !sc.string(key, &key_)) return invalid_at(sc);
      sc.skip_ws();
      if (!sc.consume(':')) return invalid_at(sc);
      sc.skip_ws();

      if (key == "t") {
        if (starts_number(sc.peek())) {
          const NumberScan n = sc.number(line_out.t);
          if (n == NumberScan::syntax) return failure(R"("t" is not a finite number)");
          t = n == NumberScan::ok ? Seen::good : Seen::bad;
        } else {
          if (!sc.skip_value(kValueDepth)) return failure(R"("t" is not a finite number)");
          t = Seen::bad;
        }
      } else if (key == "topic") {
        if (sc.peek() == '"') {
          if (!sc.string(line_out.topic, &topic_)) return failure(R"("topic" is not a string)");
          topic = Seen::good;
        } else {
          if (!sc.skip_value(kValueDepth)) return failure(R"("topic" is not a string)");
          topic = Seen::bad;
        }
      } else if (key == "payload_base64") {
        std::string_view text;
        if (sc.peek() != '"' || !sc.string(text, &payload_)) {
          return failure(R"("payload_base64" is not base64)");
        }
        decoded_.clear();
        if (!decode_base64(text, decoded_)) return failure(R"("payload_base64" is not base64)");
        line_out.payload = decoded_;
        payload = true;
      } else if (key == "payload") {
        const std::size_t start = sc.offset();
        if (sc.peek() == '"') {
          if (!sc.string(line_out.payload, &payload_)) {
            return failure(R"("payload" is not valid JSON)");
          }
        } else {
          if (!sc.skip_value(kValueDepth)) return failure(R"("payload" is not valid JSON)");
          line_out.payload = line.substr(start, sc.offset() - start);
        }
        // `"payload": 1 2` or `"payload": 01` stop after a valid prefix; blame the payload.
        sc.skip_ws();
        if (!sc.at_end() && sc.peek() != ',' && sc.peek() != '}') {
          return failure(R"("payload" is not valid JSON)");
        }
        payload = true;
      } else if (!sc.skip_value(kValueDepth)) {
        return invalid_at(sc);
      }

      sc.skip_ws();
      if (sc.consume(',')) continue;
      if (sc.consume('}')) break;
      return invalid_at(sc);
    }
  }
  sc.skip_ws();
  if (!sc.at_end()) return failure("trailing characters after the object");

  if (t == Seen::absent) return failure(R"(missing "t")");
  if (t == Seen::bad) return failure(R"("t" is not a finite number)");
  if (topic == Seen::absent) return failure(R"(missing "topic")");
  if (topic == Seen::bad) return failure(R"("topic" is not a string)");
  if (!payload) return failure(R"(missing "payload")");
  out = line_out;
  return RecordParseResult{true, {}};
}

bool is_utf8(std::string_view text) noexcept {
  Scanner sc(text);
  return sc.utf8_text();
}

namespace {
constexpr char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int base64_value(char c) noexcept {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}
}  // namespace

void append_base64(std::string& out, std::string_view bytes) {
  const auto byte = [&bytes](std::size_t i) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i]));
  };
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t v = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
    out.push_back(kBase64[(v >> 18) & 63]);
    out.push_back(kBase64[(v >> 12) & 63]);
    out.push_back(kBase64[(v >> 6) & 63]);
    out.push_back(kBase64[v & 63]);
  }
  const std::size_t rest = bytes.size() - i;
  if (rest == 0) return;
  const std::uint32_t v = (byte(i) << 16) | (rest == 2 ? byte(i + 1) << 8 : 0U);
  out.push_back(kBase64[(v >> 18) & 63]);
  out.push_back(kBase64[(v >> 12) & 63]);
  out.push_back(rest == 2 ? kBase64[(v >> 6) & 63] : '=');
  out.push_back('=');
}

bool decode_base64(std::string_view text, std::string& out) {
  if (text.size() % 4 != 0) return false;
  for (std::size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    const std::size_t pad = last ? (text[i + 3] == '=' ? (text[i + 2] == '=' ? 2U : 1U) : 0U) : 0U;
    std::uint32_t v = 0;
    for (std::size_t k = 0; k < 4; ++k) {
      int d = 0;
      if (k < 4 - pad) {
        d = base64_value(text[i + k]);
        if (d < 0) return false;
      }
      v = (v << 6) | static_cast<std::uint32_t>(d);
    }
    // Padding leaves bits that must be zero (RFC 4648 canonical form).
    if ((pad == 1 && (v & 0xFFU) != 0) || (pad == 2 && (v & 0xFFFFU) != 0)) return false;
    out.push_back(static_cast<char>((v >> 16) & 0xFFU));
    if (pad < 2) out.push_back(static_cast<char>((v >> 8) & 0xFFU));
    if (pad < 1) out.push_back(static_cast<char>(v & 0xFFU));
  }
  return true;
}

bool append_message_line(std::string& out, double t, std::string_view topic,
                         std::string_view payload) {
  if (!std::isfinite(t) || !is_utf8(topic)) return false;
  out += R"({"t":)";
  json::append_number(out, t);
  out += R"(,"topic":)";
  json::append_string(out, topic);
  if (is_utf8(payload)) {
    out += R"(,"payload":)";
    json::append_string(out, payload);
  } else {
    out += R"(,"payload_base64":")";
    append_base64(out, payload);
    out += '"';
  }
  out += "}\n";
  return true;
}

void append_record_line(std::string& out, double t, std::string_view topic,
                        std::string_view json_payload) {
  out += R"({"t":)";
  json::append_number(out, t);
  out += R"(,"topic":)";
  json::append_string(out, topic);
  out += R"(,"payload":)";
  out += json_payload;
  out += "}\n";
}

}  // namespace twind::codec
