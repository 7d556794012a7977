// The recording format (docs/interfaces.md, "Recordings"): JSON Lines, one MQTT message a line.
#pragma once

#include <string>
#include <string_view>

namespace twind::codec {

/// One recording line, decoded. Views stay valid until the next RecordingParser::parse() call
/// or until the line's text is destroyed, whichever comes first.
struct RecordLine {
  double t = 0.0;            ///< arrival time, Unix seconds
  std::string_view topic;    ///< unescaped
  std::string_view payload;  ///< the message text: a JSON string's unescaped content, or the
                             ///< raw JSON text of any other value (number, object, ...)
};

struct RecordParseResult {
  bool ok = false;
  std::string error;  ///< what is wrong, when !ok, e.g. `missing "topic"`
  [[nodiscard]] explicit operator bool() const noexcept { return ok; }
};

/// Parses one line `{"t": <number>, "topic": <string>, "payload": <string or JSON value>}`.
/// Members may come in any order and other members are ignored; "t" must be finite.
/// Whitespace around the object is allowed. Reuses its buffers: no allocation per line once
/// warmed up for lines without escapes.
///
/// Details of the contract:
///  - The line must be strict JSON (RFC 8259, UTF-8, nesting at most 64 deep). A non-string
///    "payload" yields its raw text as it stands in the line, without surrounding whitespace.
///  - Duplicate members: the last one wins.
///  - Errors: `not a JSON object`, `invalid JSON at column N` (1-based byte column),
///    `invalid JSON: the line ends inside the object`,
///    `"t" is not a finite number`, `"topic" is not a string`, `"payload" is not valid JSON`,
///    `missing "t"` / `missing "topic"` / `missing "payload"`,
///    `trailing characters after the object`. `out` is reset when parse() fails.
/// Thread safety: one parser per thread; parse() never throws except std::bad_alloc.
class RecordingParser {
 public:
  [[nodiscard]] RecordParseResult parse(std::string_view line, RecordLine& out);

 private:
  std::string topic_;
  std::string payload_;
  std::string key_;  // an escaped member name, unescaped
};

/// Appends one recording line for an outbound message whose payload is JSON text (written as a
/// JSON value, not a string) to `out`, with a trailing '\n'. Same inputs, same bytes:
/// `{"t":<number>,"topic":<JSON string>,"payload":<json_payload as is>}`. A non-finite `t` is
/// written as null (and such a line does not parse back).
void append_record_line(std::string& out, double t, std::string_view topic,
                        std::string_view json_payload);

}  // namespace twind::codec
