#include "twind/codec/payload.hpp"

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>

#include "twind/json/scanner.hpp"

namespace twind::codec {
namespace {

using json::NumberScan;
using json::Scanner;

constexpr DecodeResult accepted() {
  return DecodeResult{true, Reject::malformed};
}
constexpr DecodeResult refused(Reject reason) {
  return DecodeResult{false, reason};
}

bool starts_number(char c) {
  return c == '-' || (c >= '0' && c <= '9');
}

// What one member's value turned out to be.
enum class Held : std::uint8_t { absent, number, overflow, other };

struct Slot {
  Held held = Held::absent;
  double value = 0.0;
};

// Reads the member value at the scanner's position. False on a syntax error.
bool read_value(Scanner& sc, Slot& slot) {
  if (starts_number(sc.peek())) {
    const NumberScan n = sc.number(slot.value);
    if (n == NumberScan::syntax) return false;
    slot.held = n == NumberScan::ok ? Held::number : Held::overflow;
    return true;
  }
  // The payload's own object is the first level of nesting.
  if (!sc.skip_value(json::kMaxDepth - 1)) return false;
  slot.held = Held::other;
  return true;
}

// Below this many members a quadratic search for duplicates beats sorting.
constexpr std::size_t kLinearDuplicateSearch = 32;

}  // namespace

PayloadDecoder::PayloadDecoder(std::size_t max_bytes) : max_bytes_(max_bytes) {}

DecodeResult PayloadDecoder::decode(std::string_view text, Payload& out) {
  fields_.clear();
  errors_.clear();
  members_.clear();
  keys_used_ = 0;
  out = Payload{};
  const DecodeResult result = decode_text(text, out);
  if (!result) out = Payload{};
  return result;
}

DecodeResult PayloadDecoder::decode_text(std::string_view text, Payload& out) {
  if (text.size() > max_bytes_) return refused(Reject::oversize);
  Scanner sc(text);
  sc.skip_ws();

  if (!sc.consume('{')) {
    // Only a bare number is left as an acceptable shape.
    Slot bare;
    if (!starts_number(sc.peek()) || !read_value(sc, bare)) return refused(Reject::malformed);
    sc.skip_ws();
    if (!sc.at_end()) return refused(Reject::malformed);
    if (bare.held == Held::overflow) return refused(Reject::not_finite);
    fields_.push_back(Field{{}, bare.value});
    out.fields = fields_;
    return accepted();
  }

  Slot value;
  Slot ts;
  sc.skip_ws();
  if (!sc.consume('}')) {
    for (;;) {
      sc.skip_ws();
      if (sc.peek() != '"') return refused(Reject::malformed);
      if (keys_used_ == keys_.size()) keys_.emplace_back();
      std::string_view key;
      bool escaped = false;
      if (!sc.string(key, &keys_[keys_used_], &escaped)) return refused(Reject::malformed);
      sc.skip_ws();
      if (!sc.consume(':')) return refused(Reject::malformed);
      sc.skip_ws();
      Slot slot;
      if (!read_value(sc, slot)) return refused(Reject::malformed);

      if (key == "value") {
        value = slot;
      } else if (key == "ts") {
        ts = slot;
      } else {
        Member m;
        if (escaped) {
          m.key = keys_used_++;
        } else {
          m.name = key;
        }
        m.value = slot.value;
        m.usable = slot.held == Held::number;
        m.reason = slot.held == Held::overflow ? Reject::not_finite : Reject::malformed;
        members_.push_back(m);
      }

      sc.skip_ws();
      if (sc.consume(',')) continue;
      if (sc.consume('}')) break;
      return refused(Reject::malformed);
    }
  }
  sc.skip_ws();
  if (!sc.at_end()) return refused(Reject::malformed);

  if (value.held == Held::other) return refused(Reject::malformed);
  if (value.held == Held::overflow) return refused(Reject::not_finite);
  if (ts.held != Held::absent) {
    // from_chars never yields a non-finite number, so a number here is finite.
    if (ts.held != Held::number || !(ts.value > 0.0)) return refused(Reject::bad_timestamp);
    out.has_ts = true;
    out.ts = ts.value;
  }

  if (value.held == Held::number) {
    fields_.push_back(Field{{}, value.value});
    out.fields = fields_;
    return accepted();
  }

  resolve_members();
  for (const Member& m : members_) {
    if (m.superseded) continue;
    if (m.usable) {
      fields_.push_back(Field{m.name, m.value});
    } else {
      errors_.push_back(FieldError{m.name, m.reason});
    }
  }
  if (fields_.empty()) return refused(Reject::malformed);
  out.is_frame = true;
  out.fields = fields_;
  out.field_errors = errors_;
  return accepted();
}

void PayloadDecoder::resolve_members() {
  // keys_ no longer grows, so views into its strings are stable from here on.
  for (Member& m : members_) {
    if (m.key != Member::kInText) m.name = keys_[m.key];
  }
  const std::size_t n = members_.size();
  if (n <= kLinearDuplicateSearch) {
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t j = i + 1; j < n; ++j) {
        if (members_[j].name == members_[i].name) {
          members_[i].superseded = true;
          break;
        }
      }
    }
    return;
  }
  // A hostile frame may carry thousands of members: sort indices by (name, position) so that
  // equal names are adjacent and all but the last of each run are superseded.
  order_.resize(n);
  for (std::size_t i = 0; i < n; ++i) order_[i] = i;
  std::sort(order_.begin(), order_.end(), [this](std::size_t a, std::size_t b) {
    const int c = members_[a].name.compare(members_[b].name);
    return c < 0 || (c == 0 && a < b);
  });
  for (std::size_t k = 0; k + 1 < n; ++k) {
    if (members_[order_[k]].name == members_[order_[k + 1]].name) {
      members_[order_[k]].superseded = true;
    }
  }
}

}  // namespace twind::codec
