// What both Paho adapters need alike: their broker URI checked, and the MQTT 3.1.1 CONNACK
// return codes in words for their connection errors.
#pragma once

#include <stdexcept>
#include <string>
#include <utility>

#include "twind/mqtt/broker_uri.hpp"
#include "twind/mqtt/client.hpp"

namespace twind::mqtt::detail {

/// The refusal behind CONNACK code `rc` (1 to 5), or "" for any other code.
inline std::string connack_text(int rc) {
  switch (rc) {
    case 1:
      return "connection refused: unacceptable protocol version";
    case 2:
      return "connection refused: client identifier rejected";
    case 3:
      return "connection refused: server unavailable";
    case 4:
      return "connection refused: bad user name or password";
    case 5:
      // Mosquitto's answer to a wrong password or an unknown user under MQTT 3.1.1.
      return "connection refused: not authorized (wrong user name or password?)";
    default:
      return {};
  }
}

/// The URI of `options`, read once. Throws std::invalid_argument for one that BrokerUri::parse
/// refuses, with its reason, and for TLS settings with a plaintext scheme: TLS is never given up
/// for plaintext.
inline BrokerUri checked_uri(const ConnectOptions& options) {
  ParsedBrokerUri parsed = BrokerUri::parse(options.uri);
  if (!parsed.uri) {
    throw std::invalid_argument("broker URI \"" + options.uri + "\": expected " + parsed.expected);
  }
  if (options.tls && !parsed.uri->tls()) {
    throw std::invalid_argument("broker URI \"" + options.uri +
                                "\": TLS settings need an ssl://, mqtts:// or wss:// URI");
  }
  return std::move(*parsed.uri);
}

}  // namespace twind::mqtt::detail
