// Why a TLS connection to the broker fails, in OpenSSL's words. Paho reports a failed TLS
// connection as "TCP/TLS connect failure" whatever the cause, and its TLS error callback cannot be
// used safely with Paho C++ 1.2 (the callback's context is the ssl_options inside the by-value
// connect_options of async_client::connect(), gone once that call returns). So after a failure the
// adapter makes one handshake of its own, with the same trust store, client certificate and host
// name check, and reports what OpenSSL says: "certificate verify failed: unable to get local
// issuer certificate", "tlsv13 alert certificate required", ...
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "twind/mqtt/broker_uri.hpp"
#include "twind/mqtt/client.hpp"

namespace twind::mqtt::detail {

struct TlsProbe {
  std::string host;  ///< a name or an IP address (without brackets)
  int port = 0;
  std::string ca_file;  ///< empty: OpenSSL's default trust store
  std::string cert_file;
  std::string key_file;
};

/// One TLS handshake with `p`, then a short read (a broker that rejects the client certificate
/// under TLS 1.3 says so only after the handshake). Returns OpenSSL's reason for the failure, or ""
/// when the handshake succeeds (or the broker cannot be reached at all: not a TLS matter). Never
/// throws; bounded by `timeout` per step.
std::string diagnose_tls(const TlsProbe& p, std::chrono::milliseconds timeout) noexcept;

/// diagnose_tls() for the broker at `uri` with the adapter's `tls` settings (1 s per step), with
/// a hint when the answer looks like a plaintext listener's.
std::string diagnose_broker_tls(const BrokerUri& uri, const std::optional<Tls>& tls);

}  // namespace twind::mqtt::detail
