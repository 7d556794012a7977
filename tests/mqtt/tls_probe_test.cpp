// The TLS probe without a TLS listener: when nothing listens it says nothing (an unreachable
// broker is not a TLS matter), and an unreadable trust store is said before any connection. Its
// answers against real TLS listeners are checked in tests/app/live_security_test.cpp.
#include "tls_probe.hpp"

#include <gtest/gtest.h>

namespace twind::mqtt::detail {
namespace {

TEST(TlsProbe, NothingListeningIsNotATlsFailure) {
  TlsProbe p;
  p.host = "127.0.0.1";
  p.port = 1;  // refused at once
  EXPECT_EQ(diagnose_tls(p, std::chrono::milliseconds(500)), "");
}

TEST(TlsProbe, AnUnreadableTrustStoreIsSaid) {
  TlsProbe p;
  p.host = "127.0.0.1";
  p.port = 1;
  p.ca_file = "/nonexistent/ca.pem";
  EXPECT_NE(diagnose_tls(p, std::chrono::milliseconds(500)).find("cannot load the trust store"),
            std::string::npos);
}

}  // namespace
}  // namespace twind::mqtt::detail
