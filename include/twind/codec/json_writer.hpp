// A minimal, allocation-free JSON writer into a caller-owned std::string, for the outbound
// messages. Deterministic: the same calls give the same bytes on every run and machine.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace twind::codec {

/// Appends `s` as a JSON string literal (quotes included), escaping '"', '\\' and control
/// characters (\b \f \n \r \t, others as \u00XX). Bytes >= 0x80 are copied as they are.
void append_json_string(std::string& out, std::string_view s);

/// Appends a number in the shortest form that reads back to the same double (std::to_chars).
/// Non-finite values are written as `null`, so no output can ever carry NaN or Infinity.
void append_json_number(std::string& out, double v);
void append_json_number(std::string& out, std::int64_t v);
void append_json_number(std::string& out, std::uint64_t v);
// Plain int and unsigned would be ambiguous between the overloads above.
inline void append_json_number(std::string& out, int v) {
  append_json_number(out, static_cast<std::int64_t>(v));
}
inline void append_json_number(std::string& out, unsigned v) {
  append_json_number(out, static_cast<std::uint64_t>(v));
}

/// Builds one JSON object or array by appending to a string; the caller keeps the structure
/// well formed (key() before each member value inside objects). Commas are inserted between
/// siblings; no whitespace is written. Keys and string values are escaped by
/// append_json_string, numbers written by append_json_number (non-finite doubles as null).
class JsonWriter {
 public:
  explicit JsonWriter(std::string& out) : out_(out) {}

  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  JsonWriter& key(std::string_view k);
  JsonWriter& value(double v);
  JsonWriter& value(std::int64_t v);
  JsonWriter& value(std::uint64_t v);
  JsonWriter& value(int v) { return value(static_cast<std::int64_t>(v)); }
  JsonWriter& value(unsigned v) { return value(static_cast<std::uint64_t>(v)); }
  JsonWriter& value(std::string_view s);
  JsonWriter& value(const char* s) { return value(std::string_view(s)); }
  JsonWriter& value(bool b);
  JsonWriter& null();
  /// Appends already-encoded JSON text as one value.
  JsonWriter& raw(std::string_view json);

 private:
  void separate();
  std::string& out_;
  bool need_comma_ = false;
};

}  // namespace twind::codec
