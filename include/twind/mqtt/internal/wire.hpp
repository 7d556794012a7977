// MQTT 3.1.1 on the wire, for twind's own client (make_native_client): the packets a client
// writes, appended to a buffer, and the packets it reads, taken from the front of a buffer. No
// I/O, no allocation when reading: a parsed packet's fields are views into the buffer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace twind::mqtt::wire {

enum class Type : std::uint8_t {
  connect = 1,
  connack = 2,
  publish = 3,
  puback = 4,
  pubrec = 5,
  pubrel = 6,
  pubcomp = 7,
  subscribe = 8,
  suback = 9,
  unsubscribe = 10,
  unsuback = 11,
  pingreq = 12,
  pingresp = 13,
  disconnect = 14,
};

struct WillFields {
  std::string_view topic;
  std::string_view payload;
  int qos = 1;
  bool retained = true;
};

struct ConnectFields {
  std::string_view client_id;
  std::uint16_t keepalive_s = 30;
  bool clean_session = true;
  std::string_view username;  ///< sent when not empty
  std::string_view password;  ///< sent when not empty (with a user name)
  std::optional<WillFields> will;
};

/// The largest remaining length MQTT can encode (four bytes of variable length: 256 MB - 1).
constexpr std::size_t kMaxRemaining = 268'435'455;

void append_connect(std::string& out, const ConnectFields& c);
/// A PUBLISH; `id` is sent for QoS 1 and 2 only. The caller keeps topic and payload within MQTT's
/// bounds (a topic of at most 65,535 bytes, a packet of at most kMaxRemaining).
void append_publish(std::string& out, std::string_view topic, std::string_view payload, int qos,
                    bool retained, bool dup, std::uint16_t id);
void append_subscribe(std::string& out, std::uint16_t id,
                      const std::vector<std::pair<std::string, int>>& filters);
void append_unsubscribe(std::string& out, std::uint16_t id,
                        const std::vector<std::string>& filters);
/// PUBACK, PUBREC, PUBREL (with its required flags) or PUBCOMP for packet `id`.
void append_ack(std::string& out, Type type, std::uint16_t id);
void append_pingreq(std::string& out);
void append_disconnect(std::string& out);
/// The size of append_publish()'s packet.
std::size_t publish_size(std::size_t topic, std::size_t payload, int qos);

/// A packet at the front of a buffer: its type, the fixed header's flags and its body.
struct Packet {
  Type type = Type::connect;
  std::uint8_t flags = 0;
  std::string_view body;
};

enum class Parse { ok, incomplete, malformed };

/// Reads the packet at the front of `in`: on `ok`, `p` views it and `size` is its length (fixed
/// header included); `incomplete` when more bytes are needed; `malformed` for a remaining length
/// longer than four bytes or a packet type 0 or 15. `size` is also set (to the whole packet's
/// length) when `incomplete` and the fixed header is complete, so that a reader can grow its
/// buffer or skip a packet too large to keep.
Parse next_packet(std::string_view in, Packet& p, std::size_t& size);

struct Publish {
  std::string_view topic;
  std::string_view payload;
  int qos = 0;
  bool retained = false;
  bool dup = false;
  std::uint16_t id = 0;  ///< QoS 1 and 2 only
};
/// A PUBLISH's fields; false when it is malformed (QoS 3, a topic longer than the body).
bool read_publish(const Packet& p, Publish& out);
/// The packet identifier of a PUBACK, PUBREC, PUBREL, PUBCOMP or UNSUBACK.
bool read_id(const Packet& p, std::uint16_t& id);
bool read_connack(const Packet& p, bool& session_present, int& return_code);
/// A SUBACK's packet identifier and its return codes (0, 1, 2: granted QoS; 0x80: refused), as a
/// view of the body.
bool read_suback(const Packet& p, std::uint16_t& id, std::string_view& codes);

}  // namespace twind::mqtt::wire
