// The TLS probe's pure parts and its answer when nothing listens (no broker: it says nothing,
// since an unreachable broker is not a TLS matter). Its answers against real TLS listeners are
// checked in tests/app/live_security_test.cpp.
#include "tls_probe.hpp"

#include <gtest/gtest.h>

namespace twind::mqtt::detail {
namespace {

TEST(TlsProbe, HostOfAUri) {
  EXPECT_EQ(uri_host("ssl://127.0.0.1:8883"), "127.0.0.1");
  EXPECT_EQ(uri_host("mqtts://broker.plant.example"), "broker.plant.example");
  EXPECT_EQ(uri_host("wss://broker.example:443/mqtt"), "broker.example");
  EXPECT_EQ(uri_host("ssl://[::1]:8883"), "::1");
}

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
