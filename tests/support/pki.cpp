#include "support/pki.hpp"

#include <fstream>
#include <stdexcept>

namespace twind::testing {
namespace {

void new_key_request(const std::string& key, const std::string& csr, const std::string& subject) {
  run_checked({"openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
               "-nodes", "-keyout", key, "-out", csr, "-subj", subject});
}

void self_signed_ca(const std::string& key, const std::string& cert, const std::string& cn) {
  run_checked({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
               "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert, "-days", "1",
               "-subj", "/CN=" + cn});
}

// A certificate for `key`'s request, signed by the CA, with the extensions in `ext` (one per
// line of an openssl extfile).
void sign(const std::string& ca, const std::string& ca_key, const std::string& subject,
          const std::string& ext, const std::string& cert, const std::string& key) {
  const std::string csr = cert + ".csr";
  const std::string extfile = cert + ".ext";
  std::ofstream(extfile) << ext;
  new_key_request(key, csr, subject);
  run_checked({"openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key,
               "-CAcreateserial", "-out", cert, "-days", "1", "-extfile", extfile});
}

}  // namespace

void run_checked(const std::vector<std::string>& argv) {
  Process p(argv);
  const auto status = p.wait_exit(std::chrono::seconds(20));
  if (!status || !status->exited || status->code != 0) {
    throw std::runtime_error(argv[0] + " failed:\n" + p.stderr_text());
  }
}

void TestPki::make() {
  const std::string ca_key = dir.path() + "/ca.key";
  self_signed_ca(ca_key, ca, "twind-test-ca");
  sign(ca, ca_key, "/CN=twind-test-server", "subjectAltName=IP:127.0.0.1\n", server_cert,
       server_key);
  sign(ca, ca_key, "/CN=twind-test-server", "subjectAltName=DNS:other.example\n", other_cert,
       other_key);
  sign(ca, ca_key, "/CN=twind-client", "extendedKeyUsage=clientAuth\n", client_cert, client_key);
  self_signed_ca(dir.path() + "/rogue-ca.key", rogue_ca, "twind-test-rogue-ca");
}

std::vector<std::string> TestPki::private_keys() const {
  return {read_file(dir.path() + "/ca.key"), read_file(server_key), read_file(other_key),
          read_file(client_key)};
}

}  // namespace twind::testing
