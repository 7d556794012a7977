// libFuzzer target: a command on twin/{asset}/cmd, through the engine (parsing, the model's
// checks, building it, the swap) to a running twin of the seed plant, which must then still take
// telemetry and publish only finite numbers.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "../tests/support/fixtures.hpp"
#include "twind/config/config.hpp"
#include "twind/core/encode.hpp"
#include "twind/core/engine.hpp"

namespace {

struct NullSink final : twind::core::Sink {
  void on_alert(const twind::core::AssetTwin&, const twind::core::AlertEvent&) override {}
  void on_state(const twind::core::AssetTwin& twin, double ts) override {
    state.clear();
    twind::core::encode_state(twin, ts, state);
  }
  void on_model_change(const twind::core::AssetTwin&, const twind::core::ModelChange&) override {}
  void on_reply(const twind::core::CommandReply& r) override {
    reply.clear();
    twind::core::encode_reply(r, reply);
  }
  std::string state;
  std::string reply;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const twind::config::Config config = twind::testing::seed_config();
  twind::core::Engine engine(config, 0.0);
  NullSink sink;
  engine.on_message("plant/u", "1", 1.0, sink);
  engine.on_message("plant/y", "1", 1.0, sink);
  engine.on_message("twin/plant/cmd", std::string_view(reinterpret_cast<const char*>(data), size),
                    1.5, sink);
  if (sink.reply.empty()) __builtin_trap();  // every command is answered
  engine.on_message("plant/u", "2", 2.0, sink);
  engine.on_message("plant/y", "1.5", 2.5, sink);
  engine.tick(3.0, sink);
  // NaN or infinity would have been written as null: a prediction must be a number.
  if (sink.state.find("\"predicted\":null") != std::string::npos && engine.twin(0).initialised()) {
    __builtin_trap();
  }
  return 0;
}
