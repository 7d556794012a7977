#include "twind/app/http_server.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <mutex>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace twind::app {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

// What the server under test shows; tests change it between requests.
class SnapshotSource {
 public:
  HttpSnapshot get() {
    calls_++;
    const std::lock_guard lock(mutex_);
    if (throw_) throw std::runtime_error("registry unavailable");
    return snapshot_;
  }
  void set(HttpSnapshot s) {
    const std::lock_guard lock(mutex_);
    snapshot_ = std::move(s);
  }
  void fail(bool on) {
    const std::lock_guard lock(mutex_);
    throw_ = on;
  }
  [[nodiscard]] int calls() const { return calls_; }

 private:
  std::mutex mutex_;
  HttpSnapshot snapshot_;
  bool throw_ = false;
  std::atomic<int> calls_{0};
};

// A plain TCP connection, for requests httplib::Client cannot make and for idle connections.
class RawConnection {
 public:
  explicit RawConnection(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd_ < 0 || ::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
      throw std::runtime_error("connect failed");
    }
    timeval tv{5, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  }
  ~RawConnection() { ::close(fd_); }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  // Sends `request` and returns everything the server sends until it closes the connection.
  std::string exchange(const std::string& request) {
    if (::send(fd_, request.data(), request.size(), MSG_NOSIGNAL) < 0) return {};
    std::string out;
    std::array<char, 4096> buf{};
    for (ssize_t n; (n = ::recv(fd_, buf.data(), buf.size(), 0)) > 0;) {
      out.append(buf.data(), static_cast<std::size_t>(n));
    }
    return out;
  }

 private:
  int fd_ = -1;
};

// A TCP socket that listens but never accepts or answers: the kernel completes the handshake,
// then nothing comes back.
class SilentListener {
 public:
  SilentListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
        ::listen(fd_, 8) != 0 || ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len)) {
      throw std::runtime_error("silent listener failed");
    }
    port_ = ntohs(addr.sin_port);
  }
  ~SilentListener() { ::close(fd_); }
  SilentListener(const SilentListener&) = delete;
  SilentListener& operator=(const SilentListener&) = delete;
  [[nodiscard]] int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

HttpSnapshot two_assets() {
  HttpSnapshot s;
  s.states = std::make_shared<StateList>(
      StateList{{"pump", R"({"asset":"pump","seq":17,"status":"ok","divergence":0.01})"},
                {"fan", R"({"asset":"fan","seq":3,"status":"alert","active_alerts":[]})"}});
  s.metrics = std::make_shared<const std::string>(
      "# HELP twind_messages_total Messages received.\n"
      "# TYPE twind_messages_total counter\n"
      "twind_messages_total{asset=\"pump\"} 42\n");
  s.healthy = true;
  return s;
}

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    source_.set(two_assets());
    sut_.start();
  }

  httplib::Client client() const {
    httplib::Client c("127.0.0.1", sut_.port());
    c.set_connection_timeout(std::chrono::seconds(5));
    c.set_read_timeout(std::chrono::seconds(5));
    return c;
  }

  SnapshotSource source_;
  HttpServer sut_{"127.0.0.1", 0, [this] { return source_.get(); }};
};

TEST_F(HttpServerTest, PortZeroBindsAFreePortReportedByPort) {
  EXPECT_GT(sut_.port(), 0);
  EXPECT_LE(sut_.port(), 65535);

  const auto res = client().Get("/healthz");

  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
}

TEST_F(HttpServerTest, StateIsAJsonArrayOfEveryAssetsPayloadInOrder) {
  const auto res = client().Get("/state");

  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/json");
  const json body = json::parse(res->body);
  ASSERT_TRUE(body.is_array());
  ASSERT_EQ(body.size(), 2u);
  EXPECT_EQ(body[0], json::parse(two_assets().states->at(0).second));
  EXPECT_EQ(body[1], json::parse(two_assets().states->at(1).second));
}

TEST_F(HttpServerTest, StateWithNoAssetsIsAnEmptyJsonArray) {
  source_.set(HttpSnapshot{});

  const auto res = client().Get("/state");

  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(json::parse(res->body), json::array());
}

TEST_F(HttpServerTest, StateOfAFleetIsSentWholeAndInOrder) {
  // 3,000 payloads of ~1 kB: a body of megabytes, written from the shared list piece by piece.
  auto list = std::make_shared<StateList>();
  for (int i = 0; i < 3000; ++i) {
    const std::string id = "a" + std::to_string(i);
    list->emplace_back(id, R"({"asset":")" + id + R"(","pad":")" + std::string(1000, 'x') + "\"}");
  }
  HttpSnapshot snap;
  snap.states = list;
  source_.set(snap);

  const auto res = client().Get("/state");

  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Length"), std::to_string(snap.state_array().size()));
  EXPECT_EQ(res->body, snap.state_array());
  EXPECT_EQ(json::parse(res->body).size(), 3000u);
}

TEST_F(HttpServerTest, AssetStateIsThatAssetsPayloadVerbatim) {
  const auto res = client().Get("/state/fan");

  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/json");
  EXPECT_EQ(res->body, two_assets().states->at(1).second);
}

TEST_F(HttpServerTest, PercentEncodedAssetIdIsDecodedBeforeLookup) {
  HttpSnapshot s;
  s.states = std::make_shared<StateList>(StateList{{"line 1", R"({"asset":"line 1"})"}});
  source_.set(s);

  const auto res = client().Get("/state/line%201");

  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, R"({"asset":"line 1"})");
}

TEST_F(HttpServerTest, EncodedSlashMakesTheAssetPathTwoSegmentsDeepAndSo404) {
  HttpSnapshot s;
  s.states = std::make_shared<StateList>(StateList{{"line/pump", R"({"asset":"line/pump"})"}});
  source_.set(s);

  const auto res = client().Get("/state/line%2Fpump");

  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
}

TEST_F(HttpServerTest, AssetStateOfAnAssetWithoutStateIs404NamingIt) {
  const auto res = client().Get("/state/compressor");

  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
  EXPECT_NE(res->body.find("compressor"), std::string::npos);
}

TEST_F(HttpServerTest, MetricsAreTheExpositionVerbatimAsPrometheusText) {
  const auto res = client().Get("/metrics");

  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type").rfind("text/plain; version=0.0.4", 0), 0u)
      << res->get_header_value("Content-Type");
  EXPECT_EQ(res->body, *two_assets().metrics);
}

TEST_F(HttpServerTest, HealthzIsOkWhenHealthy) {
  const auto res = client().Get("/healthz");

  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, "ok\n");
}

TEST_F(HttpServerTest, HealthzIs503WithTheDetailWhenUnhealthy) {
  HttpSnapshot s = two_assets();
  s.healthy = false;
  s.health_detail = "broker disconnected for 12 s";
  source_.set(s);

  const auto res = client().Get("/healthz");

  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 503);
  EXPECT_EQ(res->body, "broker disconnected for 12 s\n");
}

TEST_F(HttpServerTest, SnapshotIsTakenAfreshForEveryRequest) {
  const auto before = client().Get("/healthz");
  HttpSnapshot s = two_assets();
  s.healthy = false;
  source_.set(s);

  const auto after = client().Get("/healthz");

  ASSERT_TRUE(before);
  ASSERT_TRUE(after);
  EXPECT_EQ(before->status, 200);
  EXPECT_EQ(after->status, 503);
  EXPECT_EQ(source_.calls(), 2);
}

TEST_F(HttpServerTest, SnapshotThatThrowsGives500WithTheReason) {
  source_.fail(true);

  const auto res = client().Get("/state");

  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 500);
  EXPECT_NE(res->body.find("registry unavailable"), std::string::npos);
}

TEST_F(HttpServerTest, HeadAnswersLikeGetWithoutTheBody) {
  const auto res = client().Head("/metrics");

  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_TRUE(res->body.empty());
  EXPECT_EQ(res->get_header_value("Content-Length"), std::to_string(two_assets().metrics->size()));
}

TEST_F(HttpServerTest, ResponsesAreNotCachedAndCloseTheConnection) {
  const auto res = client().Get("/state");

  ASSERT_TRUE(res);
  EXPECT_EQ(res->get_header_value("Cache-Control"), "no-store");
  EXPECT_EQ(res->get_header_value("Connection"), "close");
}

class HttpServerPathTest : public HttpServerTest,
                           public ::testing::WithParamInterface<const char*> {};

TEST_P(HttpServerPathTest, UnknownPathIs404) {
  const auto res = client().Get(GetParam());

  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
  EXPECT_EQ(source_.calls(), 0);  // refused before any snapshot is taken
}

INSTANTIATE_TEST_SUITE_P(NotServed, HttpServerPathTest,
                         ::testing::Values("/", "/stat", "/state/", "/state/pump/extra", "/states",
                                           "/metrics/", "/healthz/x", "/STATE", "/state//pump",
                                           "/index.html"));

struct MethodCase {
  const char* method;
  const char* path;
};

class HttpServerMethodTest : public HttpServerTest,
                             public ::testing::WithParamInterface<MethodCase> {};

TEST_P(HttpServerMethodTest, OtherMethodsOnServedPathsAre405AllowingGetAndHead) {
  RawConnection conn(sut_.port());

  const std::string reply =
      conn.exchange(std::string(GetParam().method) + " " + GetParam().path +
                    " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n");

  EXPECT_EQ(reply.rfind("HTTP/1.1 405 ", 0), 0u) << reply;
  EXPECT_NE(reply.find("\r\nAllow: GET, HEAD\r\n"), std::string::npos) << reply;
  EXPECT_EQ(source_.calls(), 0);
}

INSTANTIATE_TEST_SUITE_P(
    NotAllowed, HttpServerMethodTest,
    ::testing::Values(MethodCase{"POST", "/state"}, MethodCase{"PUT", "/state/pump"},
                      MethodCase{"DELETE", "/state/pump"}, MethodCase{"PATCH", "/metrics"},
                      MethodCase{"OPTIONS", "/healthz"}, MethodCase{"TRACE", "/state"},
                      MethodCase{"POST", "/healthz"}),
    [](const ::testing::TestParamInfo<MethodCase>& p) {
      std::string name = std::string(p.param.method) + p.param.path;
      for (char& c : name) {
        if (c == '/') c = '_';
      }
      return name;
    });

TEST_F(HttpServerTest, PostToAnUnknownPathIs404NotA405) {
  const auto res = client().Post("/nowhere", "x", "text/plain");

  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
}

TEST_F(HttpServerTest, StopIsPromptAndIdempotentAndRefusesLaterConnections) {
  const auto t0 = steady_clock::now();
  sut_.stop();
  const auto first = steady_clock::now() - t0;
  sut_.stop();

  // Prompt: no wait for a client timeout (httplib's are 5 s); the bound leaves room for a busy
  // machine.
  EXPECT_LT(first, milliseconds(2500));
  const auto res = client().Get("/healthz");
  EXPECT_FALSE(res);
}

TEST_F(HttpServerTest, StopIsPromptWithAnIdleClientConnected) {
  RawConnection idle(sut_.port());  // connected, never sends a byte
  std::this_thread::sleep_for(milliseconds(50));

  const auto t0 = steady_clock::now();
  sut_.stop();

  // Bounded by the server's 1 s keep-alive wait, not httplib's default 5 s (with room for a busy
  // machine in between).
  EXPECT_LT(steady_clock::now() - t0, milliseconds(4000));
}

TEST_F(HttpServerTest, StartingTwiceThrowsLogicError) {
  EXPECT_THROW(sut_.start(), std::logic_error);
  sut_.stop();
  EXPECT_THROW(sut_.start(), std::logic_error);
}

TEST(HttpServer, StopBeforeStartIsANoOp) {
  HttpServer sut("127.0.0.1", 0, [] { return HttpSnapshot{}; });

  sut.stop();
  sut.stop();

  EXPECT_EQ(sut.port(), 0);
}

TEST(HttpServer, StopRightAfterStartNeverHangs) {
  for (int i = 0; i < 25; ++i) {
    HttpServer sut("127.0.0.1", 0, [] { return HttpSnapshot{}; });
    sut.start();
    const auto t0 = steady_clock::now();
    sut.stop();
    // A lost wake-up would hang for good, or until a 5 s timeout of httplib's.
    ASSERT_LT(steady_clock::now() - t0, milliseconds(2500)) << "round " << i;
  }
}

TEST(HttpServer, DestructorStopsARunningServer) {
  int port = 0;
  {
    HttpServer sut("127.0.0.1", 0, [] { return HttpSnapshot{}; });
    sut.start();
    port = sut.port();
  }

  httplib::Client c("127.0.0.1", port);
  c.set_connection_timeout(std::chrono::seconds(2));
  EXPECT_FALSE(c.Get("/healthz"));
}

TEST(HttpServer, FixedPortIsBoundAsGiven) {
  int free_port = 0;
  {
    const SilentListener probe;  // borrow a port the kernel just handed out
    free_port = probe.port();
  }
  HttpServer sut("127.0.0.1", free_port, [] { return HttpSnapshot{{}, {}, true, ""}; });

  sut.start();

  EXPECT_EQ(sut.port(), free_port);
  httplib::Client c("127.0.0.1", free_port);
  const auto res = c.Get("/healthz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
}

TEST(HttpServer, PortInUseThrowsRuntimeErrorNamingTheAddress) {
  const SilentListener holder;
  HttpServer sut("127.0.0.1", holder.port(), [] { return HttpSnapshot{}; });

  try {
    sut.start();
    FAIL() << "start() succeeded on a port in use";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("127.0.0.1:" + std::to_string(holder.port())),
              std::string::npos)
        << e.what();
  }
}

TEST(HttpServer, UnresolvableHostThrowsRuntimeError) {
  HttpServer sut("no-such-host.invalid", 0, [] { return HttpSnapshot{}; });

  EXPECT_THROW(sut.start(), std::runtime_error);
}

class HttpServerBadPortTest : public ::testing::TestWithParam<int> {};

TEST_P(HttpServerBadPortTest, PortOutsideTheTcpRangeIsRejectedAtConstruction) {
  EXPECT_THROW(HttpServer("127.0.0.1", GetParam(), [] { return HttpSnapshot{}; }),
               std::invalid_argument);
}

INSTANTIATE_TEST_SUITE_P(OutOfRange, HttpServerBadPortTest,
                         ::testing::Values(-1, 65536, 100000, -65535));

TEST(HttpServer, EmptySnapshotFunctionIsRejectedAtConstruction) {
  EXPECT_THROW(HttpServer("127.0.0.1", 0, nullptr), std::invalid_argument);
}

TEST(HttpSnapshot, StateArrayJoinsThePayloadsWithCommas) {
  HttpSnapshot sut;
  sut.states = std::make_shared<StateList>(StateList{{"a", "1"}, {"b", "{}"}, {"c", "[2]"}});

  EXPECT_EQ(sut.state_array(), "[1,{},[2]]");
  EXPECT_EQ(HttpSnapshot{}.state_array(), "[]");
}

// --- http_health_probe: the Docker HEALTHCHECK's client ---

TEST_F(HttpServerTest, ProbeOfAHealthyServerIsZero) {
  std::string error = "untouched";

  const int code = http_health_probe("http://127.0.0.1:" + std::to_string(sut_.port()) + "/healthz",
                                     milliseconds(2000), &error);

  EXPECT_EQ(code, 0);
  EXPECT_EQ(error, "");
}

TEST_F(HttpServerTest, ProbeWithAQueryStringReachesThePath) {
  const int code = http_health_probe(
      "http://127.0.0.1:" + std::to_string(sut_.port()) + "/healthz?verbose=1", milliseconds(2000));

  EXPECT_EQ(code, 0);
}

TEST_F(HttpServerTest, ProbeOfAnUnhealthyServerIsOneWithStatusAndDetail) {
  HttpSnapshot s = two_assets();
  s.healthy = false;
  s.health_detail = "asset pump stale";
  source_.set(s);
  std::string error;

  const int code = http_health_probe("http://127.0.0.1:" + std::to_string(sut_.port()) + "/healthz",
                                     milliseconds(2000), &error);

  EXPECT_EQ(code, 1);
  EXPECT_EQ(error, "HTTP 503: asset pump stale");
}

TEST_F(HttpServerTest, ProbeOfAMissingPathIsOne) {
  std::string error;

  const int code = http_health_probe("http://127.0.0.1:" + std::to_string(sut_.port()) + "/nothing",
                                     milliseconds(2000), &error);

  EXPECT_EQ(code, 1);
  EXPECT_EQ(error.rfind("HTTP 404", 0), 0u) << error;
}

TEST_F(HttpServerTest, ProbeOfAStoppedServerIsOne) {
  const std::string url = "http://127.0.0.1:" + std::to_string(sut_.port()) + "/healthz";
  sut_.stop();
  std::string error;

  const int code = http_health_probe(url, milliseconds(2000), &error);

  EXPECT_EQ(code, 1);
  EXPECT_NE(error.find("cannot get"), std::string::npos) << error;
}

TEST(HttpHealthProbe, ServerThatNeverAnswersTimesOutAsOne) {
  const SilentListener silent;
  const auto t0 = steady_clock::now();

  const int code = http_health_probe("http://127.0.0.1:" + std::to_string(silent.port()) + "/",
                                     milliseconds(200));

  // The 200 ms given, not httplib's default read timeout (5 s), with room for a busy machine.
  EXPECT_EQ(code, 1);
  EXPECT_LT(steady_clock::now() - t0, milliseconds(4000));
}

TEST(HttpHealthProbe, Ipv6LoopbackInBracketsIsReached) {
  HttpServer server("::1", 0, [] { return HttpSnapshot{{}, {}, true, ""}; });
  try {
    server.start();
  } catch (const std::runtime_error& e) {
    GTEST_SKIP() << "no IPv6 loopback here: " << e.what();
  }
  std::string error;

  const int code = http_health_probe("http://[::1]:" + std::to_string(server.port()) + "/healthz",
                                     milliseconds(2000), &error);

  EXPECT_EQ(code, 0) << error;
}

class HttpHealthProbeBadUrlTest : public ::testing::TestWithParam<const char*> {};

TEST_P(HttpHealthProbeBadUrlTest, MalformedUrlIsOneNeverTwo) {
  std::string error;

  const int code = http_health_probe(GetParam(), milliseconds(200), &error);

  EXPECT_EQ(code, 1);
  EXPECT_EQ(error.rfind("bad URL", 0), 0u) << error;
}

INSTANTIATE_TEST_SUITE_P(NotHttpUrls, HttpHealthProbeBadUrlTest,
                         ::testing::Values("", "127.0.0.1:9100/healthz", "ftp://127.0.0.1/",
                                           "https://127.0.0.1:9100/healthz", "http://",
                                           "http://:9100/healthz", "http://127.0.0.1:0/",
                                           "http://127.0.0.1:65536/", "http://127.0.0.1:abc/",
                                           "http://127.0.0.1:/healthz", "http://[::1/healthz",
                                           "http://[]:9100/", "http://[::1]x/",
                                           "http://user@127.0.0.1/", "http://127.0.0.1/a b",
                                           "http://127.0.0.1:-80/"));

}  // namespace
}  // namespace twind::app
