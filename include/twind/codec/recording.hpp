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

/// Parses one line `{"t": <number>, "topic": <string>, "payload": <string or JSON value>}`, or
/// with `"payload_base64": <string>` (RFC 4648 base64, padded) in place of "payload": the message's
/// bytes, for a payload that is not UTF-8 text (what append_message_line writes then).
/// Members may come in any order and other members are ignored; "t" must be finite.
/// Whitespace around the object is allowed. Reuses its buffers: no allocation per line once
/// warmed up for lines without escapes.
///
/// Details of the contract:
///  - The line must be strict JSON (RFC 8259, UTF-8, nesting at most 64 deep). A non-string
///    "payload" yields its raw text as it stands in the line, without surrounding whitespace.
///  - Duplicate members: the last one wins; "payload" and "payload_base64" count as one member
///    (the last of them gives the payload).
///  - Errors: `not a JSON object`, `invalid JSON at column N` (1-based byte column),
///    `invalid JSON: the line ends inside the object`,
///    `"t" is not a finite number`, `"topic" is not a string`, `"payload" is not valid JSON`,
///    `"payload_base64" is not base64`,
///    `missing "t"` / `missing "topic"` / `missing "payload"`,
///    `trailing characters after the object`. `out` is reset when parse() fails.
/// Thread safety: one parser per thread; parse() never throws except std::bad_alloc.
class RecordingParser {
 public:
  [[nodiscard]] RecordParseResult parse(std::string_view line, RecordLine& out);

 private:
  std::string topic_;
  std::string payload_;
  std::string key_;      // an escaped member name, unescaped
  std::string decoded_;  // a payload_base64's bytes
};

/// Appends one recording line for an outbound message whose payload is JSON text (written as a
/// JSON value, not a string) to `out`, with a trailing '\n'. Same inputs, same bytes:
/// `{"t":<number>,"topic":<JSON string>,"payload":<json_payload as is>}`. A non-finite `t` is
/// written as null (and such a line does not parse back).
void append_record_line(std::string& out, double t, std::string_view topic,
                        std::string_view json_payload);

/// Appends one recording line for an inbound message as it arrived (`twind record`, `twind run
/// --record`), with a trailing '\n': `{"t":<number>,"topic":<JSON string>,"payload":<JSON
/// string>}`, the payload's bytes kept exactly (escaped as JSON needs). A payload that is not
/// UTF-8 text, which no JSON string can hold, goes as `"payload_base64":"<base64>"` instead.
/// Returns false, and appends nothing, when `topic` is not UTF-8 text (MQTT forbids such topics)
/// or `t` is not finite.
bool append_message_line(std::string& out, double t, std::string_view topic,
                         std::string_view payload);

/// Whether `text` is well-formed UTF-8 (RFC 3629); control characters allowed.
[[nodiscard]] bool is_utf8(std::string_view text) noexcept;

/// RFC 4648 base64 (standard alphabet, padded), appended to `out`.
void append_base64(std::string& out, std::string_view bytes);
/// Decodes RFC 4648 base64 (standard alphabet, padding required, no whitespace), appending the
/// bytes to `out`. Returns false on anything else (out is then unspecified).
bool decode_base64(std::string_view text, std::string& out);

}  // namespace twind::codec
