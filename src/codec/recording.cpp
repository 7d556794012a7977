#include "twind/codec/recording.hpp"

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
