// libFuzzer target: a configuration file (`twind check`, `twind run`, SIGHUP reloads).
// Oracle: never crash; a refusal always says where and why.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "twind/config/loader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const twind::config::LoadResult r = twind::config::load_string(text, "fuzz.yaml");
  if (!r.ok()) {
    bool error = false;
    for (const auto& d : r.diagnostics) {
      if (d.line < 1 || d.column < 1 || d.message.empty()) __builtin_trap();
      error = error || d.is_error;
    }
    if (!error) __builtin_trap();
  }
  return 0;
}
