// libFuzzer target: the bytes a broker sends to the native MQTT client, read packet by packet as
// its receive loop reads them.
// Oracle: never crash or read out of bounds; every packet read lies within the input; a PUBLISH
// read and written again is the same packet byte for byte (when its fixed header is minimal).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "twind/mqtt/internal/wire.hpp"

using namespace twind::mqtt;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  while (true) {
    wire::Packet p;
    std::size_t n = 0;
    if (wire::next_packet(in, p, n) != wire::Parse::ok) break;
    if (n == 0 || n > in.size() || p.body.data() < in.data() ||
        p.body.data() + p.body.size() > in.data() + n) {
      __builtin_trap();
    }
    std::uint16_t id = 0;
    std::string_view codes;
    bool session = false;
    int rc = 0;
    switch (p.type) {
      case wire::Type::publish: {
        wire::Publish m;
        if (wire::read_publish(p, m)) {
          std::string again;
          wire::append_publish(again, m.topic, m.payload, m.qos, m.retained, m.dup, m.id);
          // The writer sets DUP only with QoS > 0 and uses the shortest length encoding.
          const bool canonical = (m.qos > 0 || !m.dup) &&
                                 n == wire::publish_size(m.topic.size(), m.payload.size(), m.qos);
          if (canonical && again != in.substr(0, n)) __builtin_trap();
        }
        break;
      }
      case wire::Type::connack:
        (void)wire::read_connack(p, session, rc);
        break;
      case wire::Type::suback:
        (void)wire::read_suback(p, id, codes);
        break;
      default:
        (void)wire::read_id(p, id);
        break;
    }
    in.remove_prefix(n);
  }
  return 0;
}
