#include "twind/mqtt/internal/wire.hpp"

namespace twind::mqtt::wire {
namespace {

void put_u8(std::string& out, unsigned v) {
  out.push_back(static_cast<char>(v & 0xFFU));
}

void put_u16(std::string& out, std::size_t v) {
  put_u8(out, static_cast<unsigned>(v >> 8U));
  put_u8(out, static_cast<unsigned>(v));
}

void put_string(std::string& out, std::string_view s) {
  put_u16(out, s.size());
  out.append(s);
}

// The fixed header: the first byte and the remaining length, 1 to 4 bytes of 7 bits each.
void put_header(std::string& out, unsigned first, std::size_t remaining) {
  put_u8(out, first);
  do {
    unsigned byte = static_cast<unsigned>(remaining % 128U);
    remaining /= 128U;
    if (remaining > 0) byte |= 0x80U;
    put_u8(out, byte);
  } while (remaining > 0);
}

std::size_t length_bytes(std::size_t remaining) {
  std::size_t n = 1;
  while (remaining >= 128U) {
    remaining /= 128U;
    ++n;
  }
  return n;
}

unsigned u8_at(std::string_view s, std::size_t i) {
  return static_cast<unsigned char>(s[i]);
}

std::uint16_t u16_at(std::string_view s, std::size_t i) {
  return static_cast<std::uint16_t>((u8_at(s, i) << 8U) | u8_at(s, i + 1));
}

}  // namespace

void append_connect(std::string& out, const ConnectFields& c) {
  const bool user = !c.username.empty();
  const bool pass = user && !c.password.empty();
  std::size_t remaining = 10 + 2 + c.client_id.size();  // variable header, then the client id
  if (c.will) remaining += 2 + c.will->topic.size() + 2 + c.will->payload.size();
  if (user) remaining += 2 + c.username.size();
  if (pass) remaining += 2 + c.password.size();
  unsigned flags = 0;
  if (c.clean_session) flags |= 0x02U;
  if (c.will) {
    flags |= 0x04U;
    flags |= static_cast<unsigned>(c.will->qos & 3) << 3U;
    if (c.will->retained) flags |= 0x20U;
  }
  if (pass) flags |= 0x40U;
  if (user) flags |= 0x80U;
  out.reserve(out.size() + 5 + remaining);
  put_header(out, static_cast<unsigned>(Type::connect) << 4U, remaining);
  put_string(out, "MQTT");
  put_u8(out, 4);  // protocol level: 3.1.1
  put_u8(out, flags);
  put_u16(out, c.keepalive_s);
  put_string(out, c.client_id);
  if (c.will) {
    put_string(out, c.will->topic);
    put_string(out, c.will->payload);
  }
  if (user) put_string(out, c.username);
  if (pass) put_string(out, c.password);
}

std::size_t publish_size(std::size_t topic, std::size_t payload, int qos) {
  const std::size_t remaining = 2 + topic + (qos > 0 ? 2 : 0) + payload;
  return 1 + length_bytes(remaining) + remaining;
}

void append_publish(std::string& out, std::string_view topic, std::string_view payload, int qos,
                    bool retained, bool dup, std::uint16_t id) {
  const std::size_t remaining = 2 + topic.size() + (qos > 0 ? 2 : 0) + payload.size();
  unsigned first = static_cast<unsigned>(Type::publish) << 4U;
  if (dup && qos > 0) first |= 0x08U;
  first |= static_cast<unsigned>(qos & 3) << 1U;
  if (retained) first |= 0x01U;
  put_header(out, first, remaining);
  put_string(out, topic);
  if (qos > 0) put_u16(out, id);
  out.append(payload);
}

void append_subscribe(std::string& out, std::uint16_t id,
                      const std::vector<std::pair<std::string, int>>& filters) {
  std::size_t remaining = 2;
  for (const auto& f : filters) remaining += 2 + f.first.size() + 1;
  put_header(out, (static_cast<unsigned>(Type::subscribe) << 4U) | 0x02U, remaining);
  put_u16(out, id);
  for (const auto& [filter, qos] : filters) {
    put_string(out, filter);
    put_u8(out, static_cast<unsigned>(qos & 3));
  }
}

void append_unsubscribe(std::string& out, std::uint16_t id,
                        const std::vector<std::string>& filters) {
  std::size_t remaining = 2;
  for (const std::string& f : filters) remaining += 2 + f.size();
  put_header(out, (static_cast<unsigned>(Type::unsubscribe) << 4U) | 0x02U, remaining);
  put_u16(out, id);
  for (const std::string& f : filters) put_string(out, f);
}

void append_ack(std::string& out, Type type, std::uint16_t id) {
  const unsigned flags = type == Type::pubrel ? 0x02U : 0U;
  put_u8(out, (static_cast<unsigned>(type) << 4U) | flags);
  put_u8(out, 2);
  put_u16(out, id);
}

void append_pingreq(std::string& out) {
  put_u8(out, static_cast<unsigned>(Type::pingreq) << 4U);
  put_u8(out, 0);
}

void append_disconnect(std::string& out) {
  put_u8(out, static_cast<unsigned>(Type::disconnect) << 4U);
  put_u8(out, 0);
}

Parse next_packet(std::string_view in, Packet& p, std::size_t& size) {
  if (in.size() < 2) return Parse::incomplete;
  const unsigned first = u8_at(in, 0);
  const unsigned type = first >> 4U;
  if (type == 0 || type == 15) return Parse::malformed;
  std::size_t remaining = 0;
  std::size_t multiplier = 1;
  std::size_t i = 1;
  while (true) {
    if (i > 4) return Parse::malformed;
    if (i >= in.size()) return Parse::incomplete;
    const unsigned byte = u8_at(in, i);
    remaining += (byte & 0x7FU) * multiplier;
    multiplier *= 128U;
    ++i;
    if ((byte & 0x80U) == 0) break;
  }
  size = i + remaining;
  if (in.size() < size) return Parse::incomplete;
  p.type = static_cast<Type>(type);
  p.flags = static_cast<std::uint8_t>(first & 0x0FU);
  p.body = in.substr(i, remaining);
  return Parse::ok;
}

bool read_publish(const Packet& p, Publish& out) {
  out.qos = (p.flags >> 1U) & 3;
  if (out.qos == 3 || p.body.size() < 2) return false;
  out.retained = (p.flags & 0x01U) != 0;
  out.dup = (p.flags & 0x08U) != 0;
  const std::size_t topic_len = u16_at(p.body, 0);
  std::size_t at = 2 + topic_len;
  if (at > p.body.size()) return false;
  out.topic = p.body.substr(2, topic_len);
  out.id = 0;
  if (out.qos > 0) {
    if (at + 2 > p.body.size()) return false;
    out.id = u16_at(p.body, at);
    at += 2;
  }
  out.payload = p.body.substr(at);
  return true;
}

bool read_id(const Packet& p, std::uint16_t& id) {
  if (p.body.size() < 2) return false;
  id = u16_at(p.body, 0);
  return true;
}

bool read_connack(const Packet& p, bool& session_present, int& return_code) {
  if (p.body.size() < 2) return false;
  session_present = (u8_at(p.body, 0) & 0x01U) != 0;
  return_code = static_cast<int>(u8_at(p.body, 1));
  return true;
}

bool read_suback(const Packet& p, std::uint16_t& id, std::string_view& codes) {
  if (p.body.size() < 2) return false;
  id = u16_at(p.body, 0);
  codes = p.body.substr(2);
  return true;
}

}  // namespace twind::mqtt::wire
