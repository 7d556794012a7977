// Throw-away certificates for TLS tests, made with Debian's openssl at test time: a CA, server
// certificates signed by it (for 127.0.0.1, and for another host name), a client certificate, and
// a second CA that signed none of them (a wrong trust store).
#pragma once

#include <string>
#include <vector>

#include "support/process.hpp"

namespace twind::testing {

struct TestPki {
  TempDir dir{"twind-pki"};
  std::string ca = dir.path() + "/ca.pem";
  std::string server_cert = dir.path() + "/server.pem";  ///< subjectAltName IP:127.0.0.1
  std::string server_key = dir.path() + "/server.key";
  std::string other_cert = dir.path() + "/other.pem";  ///< subjectAltName DNS:other.example
  std::string other_key = dir.path() + "/other.key";
  std::string client_cert = dir.path() + "/client.pem";  ///< CN=twind-client, clientAuth
  std::string client_key = dir.path() + "/client.key";
  std::string rogue_ca = dir.path() + "/rogue-ca.pem";  ///< signed nothing here

  /// Makes every file (EC P-256 keys, valid for a day). Throws std::runtime_error with openssl's
  /// stderr when a step fails.
  void make();

  /// The private keys' contents: what must never appear in a log.
  [[nodiscard]] std::vector<std::string> private_keys() const;
};

/// Runs a command to completion (up to 20 s); throws std::runtime_error with its stderr unless it
/// exits 0.
void run_checked(const std::vector<std::string>& argv);

}  // namespace twind::testing
