// libFuzzer target: one line of a recording (`twind replay` input).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "twind/codec/recording.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static twind::codec::RecordingParser parser;
  static twind::codec::RecordLine line;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (parser.parse(text, line) && !std::isfinite(line.t)) __builtin_trap();
  return 0;
}
