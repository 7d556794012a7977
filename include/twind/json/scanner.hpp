// A strict RFC 8259 JSON scanner over a string_view, shared by the codec's decoders.
// Internal: not a stable interface, include it from .cpp files only.
//
// Contract of every member: it never reads outside the view it was given, never recurses and
// never throws, except std::bad_alloc when an escaped string outgrows its caller-owned buffer.
// On failure the scanner's position is unspecified; callers give up on the text.
#pragma once

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

namespace twind::json {

/// Deepest nesting of arrays and objects accepted in one document; the outermost container
/// counts 1. Deeper documents are refused as malformed.
inline constexpr int kMaxDepth = 64;

/// Outcome of Scanner::number().
enum class NumberScan : std::uint8_t {
  ok,        ///< a JSON number that fits a double (values below the smallest one read as +-0)
  syntax,    ///< not a JSON number (e.g. `01`, `1.`, `.5`, `+1`, `inf`)
  overflow,  ///< a JSON number too large for a double (e.g. `1e999`)
};

class Scanner {
 public:
  explicit Scanner(std::string_view text) noexcept
      : begin_(text.data()), p_(text.data()), end_(text.data() + text.size()) {}

  /// Bytes consumed so far.
  [[nodiscard]] std::size_t offset() const noexcept {
    return static_cast<std::size_t>(p_ - begin_);
  }
  [[nodiscard]] bool at_end() const noexcept { return p_ == end_; }

  /// The next byte, or '\0' at the end. '\0' never starts or continues a JSON token, so a
  /// caller testing peek() against a token character needs no separate end test.
  [[nodiscard]] char peek() const noexcept { return p_ == end_ ? '\0' : *p_; }

  /// Skips JSON whitespace (space, tab, LF, CR).
  void skip_ws() noexcept {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) ++p_;
  }

  /// Consumes `c` if it is the next byte.
  bool consume(char c) noexcept {
    if (p_ == end_ || *p_ != c) return false;
    ++p_;
    return true;
  }

  /// Reads a number at the current position: checks the JSON grammar
  /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`, then converts with
  /// std::from_chars (correctly rounded). Stops after the number's last byte; what follows is the
  /// caller's business.
  NumberScan number(double& out) noexcept {
    const char* const start = p_;
    Spans s;
    if (!number_grammar(s)) return NumberScan::syntax;
    const auto [ptr, ec] = std::from_chars(start, p_, out);
    if (ec == std::errc() && ptr == p_) return NumberScan::ok;
    if (ec != std::errc::result_out_of_range || ptr != p_) return NumberScan::syntax;
    // from_chars reports both overflow and underflow as out of range; only the first is an error
    // (strtod and JSON libraries read 1e-400 as 0).
    if (at_least_one(s)) return NumberScan::overflow;
    out = *start == '-' ? -0.0 : 0.0;
    return NumberScan::ok;
  }

  /// Reads a string at the current position (which must hold '"'), validating escapes, UTF-8
  /// and the absence of raw control characters. `out` views the content in the input when the
  /// string has no escapes; otherwise the unescaped content is written to `*buf` and `out` views
  /// `*buf`. With buf == nullptr nothing is unescaped and `out` views the raw content (validation
  /// only). `*escaped`, when given, tells which case happened.
  bool string(std::string_view& out, std::string* buf, bool* escaped = nullptr) {
    if (!consume('"')) return false;
    const char* const start = p_;
    const char* run = p_;  // start of the bytes not yet copied to *buf
    bool has_escapes = false;
    while (p_ != end_) {
      const auto c = static_cast<unsigned char>(*p_);
      if (c == '"') {
        if (has_escapes && buf != nullptr) {
          buf->append(run, p_);
          out = *buf;
        } else {
          out = std::string_view(start, static_cast<std::size_t>(p_ - start));
        }
        ++p_;
        if (escaped != nullptr) *escaped = has_escapes;
        return true;
      }
      if (c == '\\') {
        if (buf != nullptr) {
          if (!has_escapes) buf->clear();
          buf->append(run, p_);
        }
        has_escapes = true;
        ++p_;
        if (!escape(buf)) return false;
        run = p_;
      } else if (c < 0x20) {
        return false;
      } else if (c < 0x80) {
        ++p_;
      } else if (!utf8_sequence()) {
        return false;
      }
    }
    return false;
  }

  /// Validates the rest of the view as UTF-8 text (RFC 3629: no overlong forms, no surrogates,
  /// nothing above U+10FFFF; any byte below 0x80, control characters included) and consumes it.
  /// Returns false at the first ill-formed sequence.
  bool utf8_text() noexcept {
    while (p_ != end_) {
      if (static_cast<unsigned char>(*p_) < 0x80) {
        ++p_;
      } else if (!utf8_sequence()) {
        return false;
      }
    }
    return true;
  }

  /// Validates and skips one JSON value of any type. Containers may nest `depth_budget` levels
  /// (at most kMaxDepth); deeper ones fail. Iterative: the nesting is a bit stack.
  bool skip_value(int depth_budget) noexcept {
    if (depth_budget > kMaxDepth) depth_budget = kMaxDepth;
    std::uint64_t in_object = 0;  // bit 0: whether the innermost open container is an object
    int depth = 0;
    for (;;) {
      skip_ws();
      switch (peek()) {
        case '{':
        case '[': {
          const bool object = *p_ == '{';
          ++p_;
          if (depth >= depth_budget) return false;
          in_object = (in_object << 1) | (object ? 1U : 0U);
          ++depth;
          skip_ws();
          if (consume(object ? '}' : ']')) {
            in_object >>= 1;
            --depth;
            break;
          }
          if (object && !member_name()) return false;
          continue;  // the first element or member value follows
        }
        case '"': {
          std::string_view ignored;
          if (!string(ignored, nullptr)) return false;
          break;
        }
        case 't':
          if (!literal("true")) return false;
          break;
        case 'f':
          if (!literal("false")) return false;
          break;
        case 'n':
          if (!literal("null")) return false;
          break;
        default: {
          Spans ignored;
          if (!number_grammar(ignored)) return false;
          break;
        }
      }
      // A value just ended: close finished containers, or move on to the next element.
      for (;;) {
        if (depth == 0) return true;
        skip_ws();
        const bool object = (in_object & 1U) != 0;
        if (consume(',')) {
          if (object) {
            skip_ws();
            if (!member_name()) return false;
          }
          break;
        }
        if (!consume(object ? '}' : ']')) return false;
        in_object >>= 1;
        --depth;
      }
    }
  }

 private:
  // Where the parts of a number lie, for telling overflow from underflow.
  struct Spans {
    const char* int_begin = nullptr;
    const char* int_end = nullptr;
    const char* frac_begin = nullptr;
    const char* frac_end = nullptr;
    const char* exp_begin = nullptr;  // digits only
    const char* exp_end = nullptr;
    bool exp_negative = false;
  };

  static bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

  bool digits() noexcept {
    if (p_ == end_ || !is_digit(*p_)) return false;
    while (p_ != end_ && is_digit(*p_)) ++p_;
    return true;
  }

  bool number_grammar(Spans& s) noexcept {
    consume('-');
    s.int_begin = p_;
    if (consume('0')) {
      // a leading zero stands alone
    } else if (p_ == end_ || *p_ < '1' || *p_ > '9' || !digits()) {
      return false;
    }
    s.int_end = s.frac_begin = s.frac_end = p_;
    if (consume('.')) {
      s.frac_begin = p_;
      if (!digits()) return false;
      s.frac_end = p_;
    }
    s.exp_begin = s.exp_end = p_;
    if (consume('e') || consume('E')) {
      s.exp_negative = consume('-');
      if (!s.exp_negative) consume('+');
      s.exp_begin = p_;
      if (!digits()) return false;
      s.exp_end = p_;
    }
    return true;
  }

  // Whether a number whose conversion went out of range is huge rather than tiny: the decimal
  // exponent of its leading non-zero digit, plus its exponent (saturated), is >= 0.
  static bool at_least_one(const Spans& s) noexcept {
    std::int64_t lead = 0;
    const char* d = s.int_begin;
    while (d != s.int_end && *d == '0') ++d;
    if (d != s.int_end) {
      lead = static_cast<std::int64_t>(s.int_end - d) - 1;
    } else {
      d = s.frac_begin;
      while (d != s.frac_end && *d == '0') ++d;
      if (d == s.frac_end) return false;  // zero
      lead = -static_cast<std::int64_t>(d - s.frac_begin) - 1;
    }
    std::int64_t e = 0;
    for (d = s.exp_begin; d != s.exp_end; ++d) {
      e = e * 10 + (*d - '0');
      if (e > 1'000'000'000) e = 1'000'000'000;  // far beyond any double, no overflow
    }
    return lead + (s.exp_negative ? -e : e) >= 0;
  }

  bool literal(std::string_view word) noexcept {
    if (static_cast<std::size_t>(end_ - p_) < word.size() ||
        std::string_view(p_, word.size()) != word) {
      return false;
    }
    p_ += word.size();
    return true;
  }

  bool member_name() noexcept {
    std::string_view ignored;
    if (peek() != '"' || !string(ignored, nullptr)) return false;
    skip_ws();
    return consume(':');
  }

  static int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  // Reads the 4 hex digits of a \u escape (p_ just after the 'u').
  bool hex4(std::uint32_t& out) noexcept {
    if (end_ - p_ < 4) return false;
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      const int h = hex_value(p_[i]);
      if (h < 0) return false;
      v = (v << 4) | static_cast<std::uint32_t>(h);
    }
    p_ += 4;
    out = v;
    return true;
  }

  // One escape sequence, p_ just after the backslash.
  bool escape(std::string* buf) {
    if (p_ == end_) return false;
    char plain = 0;
    switch (*p_) {
      case '"':
        plain = '"';
        break;
      case '\\':
        plain = '\\';
        break;
      case '/':
        plain = '/';
        break;
      case 'b':
        plain = '\b';
        break;
      case 'f':
        plain = '\f';
        break;
      case 'n':
        plain = '\n';
        break;
      case 'r':
        plain = '\r';
        break;
      case 't':
        plain = '\t';
        break;
      case 'u':
        break;
      default:
        return false;
    }
    ++p_;
    if (plain != 0) {
      if (buf != nullptr) buf->push_back(plain);
      return true;
    }
    std::uint32_t cp = 0;
    if (!hex4(cp)) return false;
    if (cp >= 0xDC00 && cp <= 0xDFFF) return false;  // a low surrogate must follow a high one
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      std::uint32_t low = 0;
      if (!consume('\\') || !consume('u') || !hex4(low) || low < 0xDC00 || low > 0xDFFF) {
        return false;
      }
      cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
    }
    if (buf != nullptr) append_utf8(*buf, cp);
    return true;
  }

  static void append_utf8(std::string& buf, std::uint32_t cp) {
    const auto byte = [&buf](std::uint32_t b) { buf.push_back(static_cast<char>(b)); };
    if (cp < 0x80) {
      byte(cp);
    } else if (cp < 0x800) {
      byte(0xC0 | (cp >> 6));
      byte(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      byte(0xE0 | (cp >> 12));
      byte(0x80 | ((cp >> 6) & 0x3F));
      byte(0x80 | (cp & 0x3F));
    } else {
      byte(0xF0 | (cp >> 18));
      byte(0x80 | ((cp >> 12) & 0x3F));
      byte(0x80 | ((cp >> 6) & 0x3F));
      byte(0x80 | (cp & 0x3F));
    }
  }

  // One multi-byte UTF-8 sequence at p_ (first byte >= 0x80), well formed per RFC 3629:
  // no overlong forms, no surrogates, nothing above U+10FFFF.
  bool utf8_sequence() noexcept {
    const auto avail = static_cast<std::size_t>(end_ - p_);
    const auto at = [this](std::size_t i) { return static_cast<unsigned char>(p_[i]); };
    const auto in = [&](std::size_t i, unsigned lo, unsigned hi) {
      return i < avail && at(i) >= lo && at(i) <= hi;
    };
    const unsigned b0 = at(0);
    std::size_t n = 0;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
      n = in(1, 0x80, 0xBF) ? 2 : 0;
    } else if (b0 == 0xE0) {
      n = in(1, 0xA0, 0xBF) && in(2, 0x80, 0xBF) ? 3 : 0;
    } else if ((b0 >= 0xE1 && b0 <= 0xEC) || b0 == 0xEE || b0 == 0xEF) {
      n = in(1, 0x80, 0xBF) && in(2, 0x80, 0xBF) ? 3 : 0;
    } else if (b0 == 0xED) {
      n = in(1, 0x80, 0x9F) && in(2, 0x80, 0xBF) ? 3 : 0;
    } else if (b0 == 0xF0) {
      n = in(1, 0x90, 0xBF) && in(2, 0x80, 0xBF) && in(3, 0x80, 0xBF) ? 4 : 0;
    } else if (b0 >= 0xF1 && b0 <= 0xF3) {
      n = in(1, 0x80, 0xBF) && in(2, 0x80, 0xBF) && in(3, 0x80, 0xBF) ? 4 : 0;
    } else if (b0 == 0xF4) {
      n = in(1, 0x80, 0x8F) && in(2, 0x80, 0xBF) && in(3, 0x80, 0xBF) ? 4 : 0;
    }
    p_ += n;
    return n != 0;
  }

  const char* begin_;
  const char* p_;
  const char* end_;
};

}  // namespace twind::json
