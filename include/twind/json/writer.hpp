// A minimal, allocation-free JSON writer into a caller-owned std::string, for the outbound
// messages. Deterministic: the same calls give the same bytes on every run and machine.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace twind::json {

/// Appends `s` as a JSON string literal (quotes included), escaping '"', '\\' and control
/// characters (\b \f \n \r \t, others as \u00XX). Bytes >= 0x80 are copied as they are.
void append_string(std::string& out, std::string_view s);

/// Appends a number in the shortest form that reads back to the same double (std::to_chars).
/// Non-finite values are written as `null`, so no output can ever carry NaN or Infinity.
void append_number(std::string& out, double v);
void append_number(std::string& out, std::int64_t v);
void append_number(std::string& out, std::uint64_t v);
// Plain int and unsigned would be ambiguous between the overloads above.
inline void append_number(std::string& out, int v) {
  append_number(out, static_cast<std::int64_t>(v));
}
inline void append_number(std::string& out, unsigned v) {
  append_number(out, static_cast<std::uint64_t>(v));
}

/// Builds one JSON object or array by appending to a string; the caller keeps the structure
/// well formed (key() before each member value inside objects). Commas are inserted between
/// siblings; no whitespace is written. Keys and string values are escaped by
/// append_string, numbers written by append_number (non-finite doubles as null).
class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}

  Writer& begin_object();
  Writer& end_object();
  Writer& begin_array();
  Writer& end_array();
  Writer& key(std::string_view k);
  Writer& value(double v);
  Writer& value(std::int64_t v);
  Writer& value(std::uint64_t v);
  Writer& value(int v) { return value(static_cast<std::int64_t>(v)); }
  Writer& value(unsigned v) { return value(static_cast<std::uint64_t>(v)); }
  Writer& value(std::string_view s);
  Writer& value(const char* s) { return value(std::string_view(s)); }
  Writer& value(bool b);
  Writer& null();
  /// Appends already-encoded JSON text as one value.
  Writer& raw(std::string_view json);

 private:
  void separate();
  std::string& out_;
  bool need_comma_ = false;
};

}  // namespace twind::json
