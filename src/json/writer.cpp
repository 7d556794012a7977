#include "twind/json/writer.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace twind::json {
namespace {

// Enough for any double in shortest round-trip form (at most 24 chars) and any 64-bit integer.
constexpr std::size_t kNumberBuffer = 32;

template <typename T>
void append_chars(std::string& out, T v) {
  std::array<char, kNumberBuffer> buf{};
  const auto res = std::to_chars(buf.data(), buf.data() + buf.size(), v);
  out.append(buf.data(), res.ptr);
}

}  // namespace

void append_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  std::size_t run = 0;  // start of the bytes not yet copied
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    out.push_back('\\');
    switch (c) {
      case '"':
        out.push_back('"');
        break;
      case '\\':
        out.push_back('\\');
        break;
      case '\b':
        out.push_back('b');
        break;
      case '\f':
        out.push_back('f');
        break;
      case '\n':
        out.push_back('n');
        break;
      case '\r':
        out.push_back('r');
        break;
      case '\t':
        out.push_back('t');
        break;
      default:
        out += "u00";
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 0xF]);
        break;
    }
  }
  out.append(s.data() + run, s.size() - run);
  out.push_back('"');
}

void append_number(std::string& out, double v) {
  if (!std::isfinite(v)) {
    out += "null";
    return;
  }
  append_chars(out, v);
}

void append_number(std::string& out, std::int64_t v) {
  append_chars(out, v);
}

void append_number(std::string& out, std::uint64_t v) {
  append_chars(out, v);
}

Writer& Writer::begin_object() {
  separate();
  out_.push_back('{');
  need_comma_ = false;
  return *this;
}

Writer& Writer::end_object() {
  out_.push_back('}');
  need_comma_ = true;
  return *this;
}

Writer& Writer::begin_array() {
  separate();
  out_.push_back('[');
  need_comma_ = false;
  return *this;
}

Writer& Writer::end_array() {
  out_.push_back(']');
  need_comma_ = true;
  return *this;
}

Writer& Writer::key(std::string_view k) {
  separate();
  append_string(out_, k);
  out_.push_back(':');
  need_comma_ = false;  // the member's value follows without a comma
  return *this;
}

Writer& Writer::value(double v) {
  separate();
  append_number(out_, v);
  need_comma_ = true;
  return *this;
}

Writer& Writer::value(std::int64_t v) {
  separate();
  append_number(out_, v);
  need_comma_ = true;
  return *this;
}

Writer& Writer::value(std::uint64_t v) {
  separate();
  append_number(out_, v);
  need_comma_ = true;
  return *this;
}

Writer& Writer::value(std::string_view s) {
  separate();
  append_string(out_, s);
  need_comma_ = true;
  return *this;
}

Writer& Writer::value(bool b) {
  separate();
  out_ += b ? "true" : "false";
  need_comma_ = true;
  return *this;
}

Writer& Writer::null() {
  separate();
  out_ += "null";
  need_comma_ = true;
  return *this;
}

Writer& Writer::raw(std::string_view json) {
  separate();
  out_ += json;
  need_comma_ = true;
  return *this;
}

void Writer::separate() {
  if (need_comma_) out_.push_back(',');
}

}  // namespace twind::json
