// A broker's address, read once. `twind check`, the Paho adapter, its TLS diagnosis and its
// TCP_NODELAY fix all read a broker URI through this type, so they agree on what it means: what
// the configuration check accepts is what the client connects to. No Paho header here.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace twind::mqtt {

struct ParsedBrokerUri;

/// `scheme://host[:port][/path]`: a valid broker URI, made only by parse().
class BrokerUri {
 public:
  enum class Scheme { tcp, mqtt, ssl, mqtts, ws, wss };

  /// Reads `text`. Accepts the schemes tcp, mqtt, ssl, mqtts, ws and wss in any case (RFC 3986
  /// schemes are case-insensitive); a host name or address, an IPv6 address in brackets
  /// (`tcp://[::1]:1883`); a port from 1 to 65535; a path only after ws:// and wss://; no
  /// whitespace or control characters. Everything else is refused with the reason, phrased as the
  /// `expected ...` half of a `got X, expected Y` message. Does not resolve the host.
  [[nodiscard]] static ParsedBrokerUri parse(std::string_view text);

  [[nodiscard]] Scheme scheme() const noexcept { return scheme_; }
  /// The scheme in lower case: "tcp", "mqtt", "ssl", "mqtts", "ws" or "wss".
  [[nodiscard]] std::string_view scheme_name() const noexcept;
  /// A host name or address; an IPv6 address without its brackets.
  [[nodiscard]] const std::string& host() const noexcept { return host_; }
  /// The port given, or the scheme's default: 1883 (tcp, mqtt), 8883 (ssl, mqtts), 80 (ws),
  /// 443 (wss).
  [[nodiscard]] int port() const noexcept { return port_; }
  /// The path of a ws:// or wss:// URI from its `/` on ("/mqtt"); "" when it has none.
  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  /// Whether the connection is TLS: ssl, mqtts and wss.
  [[nodiscard]] bool tls() const noexcept;
  /// The URI as Paho takes it: the text with its scheme in lower case (Paho compares schemes
  /// case-sensitively); host, port and path as written.
  [[nodiscard]] const std::string& paho_uri() const noexcept { return paho_uri_; }

 private:
  BrokerUri() = default;

  Scheme scheme_ = Scheme::tcp;
  std::string host_;
  int port_ = 0;
  std::string path_;
  std::string paho_uri_;
};

/// `list` cut at its commas, in order: the nodes of a cluster as `--broker` takes them
/// ("tcp://a:1883,tcp://b:1883"). Not checked: each goes through BrokerUri::parse later.
[[nodiscard]] std::vector<std::string> split_broker_uris(std::string_view list);

/// BrokerUri::parse's answer: the URI, or what the text should have been.
struct ParsedBrokerUri {
  std::optional<BrokerUri> uri;
  /// When `uri` is empty: the `expected ...` half of a message, e.g. "a port from 1 to 65535".
  std::string expected;
};

}  // namespace twind::mqtt
