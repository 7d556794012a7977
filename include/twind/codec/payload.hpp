// Decoding of inbound telemetry payloads (docs/interfaces.md, "Inbound payloads"). No I/O, no
// clock, no allocation per call once warmed up: safe on the per-message path.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "twind/base/types.hpp"

namespace twind::codec {

/// One numeric value of a payload. `name` is empty for a bare number or a {"value": ...} object
/// (the value belongs to the topic's own signal); otherwise it is the frame member's key.
struct Field {
  std::string_view name;
  double value = 0.0;
};

/// A member of a frame that could not be used: its key and why (e.g. a string, a null, an object,
/// a non-finite number). The rest of the frame is still delivered.
struct FieldError {
  std::string_view name;
  Reject reason = Reject::malformed;
};

/// The decoded form of one payload. Views point into the decoder and stay valid until its next
/// decode() call.
struct Payload {
  bool has_ts = false;
  double ts = 0.0;  ///< Unix seconds, only when has_ts
  bool is_frame = false;
  std::span<const Field> fields;
  std::span<const FieldError> field_errors;  ///< frames only
};

/// Outcome of decode(): ok, or the reason the whole payload was refused.
struct DecodeResult {
  bool ok = false;
  Reject reason = Reject::malformed;
  [[nodiscard]] explicit operator bool() const noexcept { return ok; }
};

/// Accepts exactly the three payload shapes of docs/interfaces.md:
///  - a bare JSON number, surrounding whitespace allowed: `2.97`
///  - an object with a numeric "value" and an optional numeric "ts"; other members are ignored:
///    `{"value": 2.97, "ts": 1732200000.125}`
///  - a frame: an object without "value", with an optional numeric "ts" and numeric members named
///    after signals: `{"ts": 1732200000.125, "temperature": 65.2, "rpm": 1500}`
/// Refuses (whole payload): text longer than max_bytes (oversize), anything that is not strict
/// JSON or not one of these shapes (malformed), a non-finite number or one that overflows a
/// double (not_finite), a `ts` that is not a finite positive number (bad_timestamp), a frame
/// with no usable member (malformed). Duplicate keys: the last one wins, as in most JSON
/// libraries. Strings inside objects may use every JSON escape.
///
/// Details of the contract:
///  - When several reasons apply, the first of this list wins: oversize (checked before any
///    scanning), malformed syntax (including nesting deeper than 64 arrays/objects), a "value"
///    that is not a number (malformed) or overflows (not_finite), a bad "ts" (bad_timestamp), a
///    frame without a usable member (malformed).
///  - Members other than "value" and "ts" of a {"value": ...} object are validated as JSON and
///    otherwise ignored, whatever they hold.
///  - A frame's fields and field_errors come in document order of each key's last occurrence;
///    a key occurs in at most one of them. Keys are compared after unescaping.
///  - A number too small for a double reads as 0 (as strtod does); one too large is not_finite.
///  - Names view the input text (keys without escapes) or the decoder's own buffers.
/// Thread safety: one decoder per thread; decode() never throws except std::bad_alloc.
class PayloadDecoder {
 public:
  explicit PayloadDecoder(std::size_t max_bytes = 64 * 1024);

  [[nodiscard]] DecodeResult decode(std::string_view text, Payload& out);

  [[nodiscard]] std::size_t max_bytes() const noexcept { return max_bytes_; }

 private:
  // One frame member as scanned, before duplicate keys are resolved. An escaped key is kept
  // as an index into keys_, since keys_ may reallocate (moving short strings) while scanning.
  struct Member {
    static constexpr std::size_t kInText = static_cast<std::size_t>(-1);
    std::string_view name;      // into the text, when key == kInText
    std::size_t key = kInText;  // else the index of its unescaped form in keys_
    double value = 0.0;
    bool usable = false;      // a finite number, else `reason`
    bool superseded = false;  // a later member has the same key
    Reject reason = Reject::malformed;
  };

  [[nodiscard]] DecodeResult decode_text(std::string_view text, Payload& out);
  void resolve_members();

  std::size_t max_bytes_;
  std::vector<Field> fields_;
  std::vector<FieldError> errors_;
  std::vector<std::string> keys_;  // unescaped keys, reused between calls
  std::size_t keys_used_ = 0;      // how many of keys_ the current payload holds
  std::vector<Member> members_;
  std::vector<std::size_t> order_;  // scratch for finding duplicates in large frames
};

}  // namespace twind::codec
