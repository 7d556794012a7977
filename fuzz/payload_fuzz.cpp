// libFuzzer target: telemetry payloads as they arrive on a signal or frame topic.
// Oracle: never crash or hang, and whatever is accepted is finite with a finite timestamp.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "twind/codec/payload.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static twind::codec::PayloadDecoder decoder(64 * 1024);
  static twind::codec::Payload payload;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (decoder.decode(text, payload)) {
    for (const auto& f : payload.fields) {
      if (!std::isfinite(f.value)) __builtin_trap();
    }
    if (payload.has_ts && !(std::isfinite(payload.ts) && payload.ts > 0.0)) __builtin_trap();
    if (payload.fields.empty()) __builtin_trap();
  }
  return 0;
}
