// The recording format (CONTRACT.md, "Recording format"): JSON Lines, one MQTT message a line.
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
class RecordingParser {
 public:
  [[nodiscard]] RecordParseResult parse(std::string_view line, RecordLine& out);

 private:
  std::string topic_;
  std::string payload_;
};

/// Appends one recording line for an outbound message whose payload is JSON text (written as a
/// JSON value, not a string) to `out`, with a trailing '\n'. Same inputs, same bytes.
void append_record_line(std::string& out, double t, std::string_view topic,
                        std::string_view json_payload);

}  // namespace twind::codec
