// What the adapters need alike: their broker URIs checked and taken in turn, and the MQTT 3.1.1
// CONNACK return codes in words for their connection errors.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

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

/// `text`, read once. Throws std::invalid_argument for a URI that BrokerUri::parse refuses, with
/// its reason, and for TLS settings (`tls`) with a plaintext scheme: TLS is never given up for
/// plaintext.
inline BrokerUri checked_uri(const std::string& text, bool tls) {
  ParsedBrokerUri parsed = BrokerUri::parse(text);
  if (!parsed.uri) {
    throw std::invalid_argument("broker URI \"" + text + "\": expected " + parsed.expected);
  }
  if (tls && !parsed.uri->tls()) {
    throw std::invalid_argument("broker URI \"" + text +
                                "\": TLS settings need an ssl://, mqtts:// or wss:// URI");
  }
  return std::move(*parsed.uri);
}

/// A client's brokers: `uri` then `failover_uris`, each read once (checked_uri()), with the text
/// each was given as (for causes and connected_uri()).
struct Brokers {
  std::vector<BrokerUri> uris;
  std::vector<std::string> texts;
};

/// Throws as checked_uri() does, and for a list that mixes TLS and plaintext URIs: a fail-over
/// never gives up TLS for plaintext either.
inline Brokers checked_uris(const ConnectOptions& options) {
  Brokers b;
  b.texts.push_back(options.uri);
  b.texts.insert(b.texts.end(), options.failover_uris.begin(), options.failover_uris.end());
  for (const std::string& t : b.texts) {
    b.uris.push_back(checked_uri(t, options.tls.has_value()));
    if (b.uris.back().tls() != b.uris.front().tls()) {
      throw std::invalid_argument("broker URI \"" + t + "\": expected " +
                                  (b.uris.front().tls() ? "TLS" : "plaintext") + " like \"" +
                                  b.texts.front() +
                                  "\" (a fail-over never changes between TLS and plaintext)");
    }
  }
  return b;
}

/// Which broker URI the next connection attempt goes to: one URI per attempt, in order; a failed
/// attempt or a lost connection moves to the next, and only a whole round without a connection
/// asks for the backoff. The connecting thread's own.
class UriRotation {
 public:
  explicit UriRotation(std::size_t count) : count_(count) {}

  [[nodiscard]] std::size_t current() const noexcept { return at_; }
  /// A connection was made to current(): a later round starts from it.
  void connected() noexcept { tried_ = 0; }
  /// The attempt on current() failed, or its connection was lost: moves to the next URI.
  /// Returns whether a whole round has now gone without a connection (wait the backoff first).
  bool failed() noexcept {
    at_ = (at_ + 1) % count_;
    if (++tried_ < count_) return false;
    tried_ = 0;
    return true;
  }

 private:
  std::size_t count_;
  std::size_t at_ = 0;
  std::size_t tried_ = 0;
};

}  // namespace twind::mqtt::detail
