// The browser dashboard's server side: the feed's bounded history and event ring, the pages
// served from the binary, Server-Sent Events, and the token.
#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "../support/fixtures.hpp"
#include "../support/recording_sink.hpp"
#include "twind/app/http_server.hpp"
#include "twind/app/live_feed.hpp"
#include "twind/core/encode.hpp"
#include "twind/core/engine.hpp"

namespace twind::app {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

// The seed plant's twin after a few frames (t = 0.1 s apart from 1000 s), for the feed.
struct Plant {
  core::Engine engine{testing::seed_config(), 1000.0};
  testing::CollectingSink sink;
  double t = 1000.0;
  void frame(double u, double y) {
    char msg[128];
    std::snprintf(msg, sizeof msg, R"({"ts":%.17g,"u":%.17g,"y":%.17g})", t, u, y);
    engine.on_message("plant/frame", msg, t, sink);
    t += 0.1;
  }
  const core::AssetTwin& twin() const { return engine.twin(0); }
  std::string state() const {
    std::string out;
    core::encode_state(twin(), t, out);
    return out;
  }
};

TEST(LiveFeed, HistoryKeepsTheLatestStatesOfEachAssetUpToItsBound) {
  LiveFeedOptions o;
  o.history = 3;
  LiveFeed feed(o);
  Plant p;
  EXPECT_FALSE(feed.history_json("plant").has_value());
  for (int i = 0; i < 5; ++i) {
    p.frame(1.0, 0.5 + i);
    feed.state(p.twin(), 1000.0 + i, p.state());
  }
  const json h = json::parse(*feed.history_json("plant"));
  EXPECT_EQ(h["inputs"], json::array({"u"}));
  EXPECT_EQ(h["outputs"], json::array({"y"}));
  EXPECT_EQ(h["columns"],
            json::array({"ts", "alert", "divergence", "threshold", "u", "y", "y.predicted"}));
  ASSERT_EQ(h["rows"].size(), 3U);
  EXPECT_EQ(h["rows"][0][0], 1002.0);
  EXPECT_EQ(h["rows"][2][0], 1004.0);
  EXPECT_EQ(h["rows"][2][4], 1.0);  // u
  EXPECT_EQ(h["rows"][2][5], 4.5);  // y measured
  EXPECT_TRUE(h["diagnosis"].is_null());
}

TEST(LiveFeed, AStreamGetsItsAssetsEventsAfterItsCursorAndIsToldWhatItMissed) {
  LiveFeedOptions o;
  o.events = 4;
  LiveFeed feed(o);
  Plant p;
  p.frame(1.0, 1.0);
  // No stream open: states are kept in the history only.
  feed.state(p.twin(), 1000.0, p.state());
  feed.flush();
  ASSERT_TRUE(feed.open_stream());
  const std::uint64_t cursor = feed.cursor();
  EXPECT_TRUE(feed.wait(cursor, "plant", milliseconds(0)).events.empty());
  feed.state(p.twin(), 1000.5, p.state());
  feed.alert(p.twin(), R"({"asset":"plant","id":"divergence","state":"raised"})");
  // Not flushed yet: nothing to see.
  EXPECT_TRUE(feed.wait(cursor, "plant", milliseconds(0)).events.empty());
  feed.flush();
  const LiveFeed::Batch b = feed.wait(cursor, "plant", milliseconds(0));
  ASSERT_EQ(b.events.size(), 2U);
  EXPECT_EQ(b.events[0].kind, LiveFeed::Kind::state);
  EXPECT_EQ(b.events[1].kind, LiveFeed::Kind::alert);
  EXPECT_FALSE(b.missed);
  // Every asset's stream: alerts and diagnoses, no states.
  const LiveFeed::Batch all = feed.wait(cursor, "", milliseconds(0));
  ASSERT_EQ(all.events.size(), 1U);
  EXPECT_EQ(all.events[0].kind, LiveFeed::Kind::alert);
  // Another asset's stream sees none of them.
  EXPECT_TRUE(feed.wait(cursor, "fan", milliseconds(0)).events.empty());
  // Five more than the ring holds: the cursor's next events are gone.
  for (int i = 0; i < 5; ++i) feed.state(p.twin(), 1001.0 + i, p.state());
  feed.flush();
  const LiveFeed::Batch late = feed.wait(b.next, "plant", milliseconds(0));
  EXPECT_TRUE(late.missed);
  EXPECT_EQ(late.events.size(), 4U);
  feed.close_stream();
}

TEST(LiveFeed, StreamsAreBounded) {
  LiveFeedOptions o;
  o.streams = 2;
  LiveFeed feed(o);
  EXPECT_TRUE(feed.open_stream());
  EXPECT_TRUE(feed.open_stream());
  EXPECT_FALSE(feed.open_stream());
  feed.close_stream();
  EXPECT_TRUE(feed.open_stream());
}

// The status of an answer, or -1 when none came.
int status_of(const httplib::Result& r) {
  return r ? r->status : -1;
}

class Dashboard : public ::testing::Test {
 protected:
  Dashboard() {
    HttpSnapshot s;
    s.healthy = true;
    snapshot_ = s;
  }
  void start(const std::string& token = "") {
    sut_.dashboard(&feed_);
    if (!token.empty()) sut_.require_token(token);
    sut_.start();
  }
  httplib::Client client() const {
    httplib::Client c("127.0.0.1", sut_.port());
    c.set_read_timeout(std::chrono::seconds(5));
    return c;
  }
  LiveFeed feed_;
  HttpSnapshot snapshot_;
  HttpServer sut_{"127.0.0.1", 0, [this] { return snapshot_; }};
};

TEST_F(Dashboard, ServesItsPagesAndTheirFilesFromTheBinary) {
  start();
  for (const char* path : {"/", "/asset/plant"}) {
    const auto res = client().Get(path);
    ASSERT_TRUE(res) << path;
    EXPECT_EQ(res->status, 200) << path;
    EXPECT_EQ(res->get_header_value("Content-Type"), "text/html; charset=utf-8");
    EXPECT_NE(res->body.find("/ui/twind.css"), std::string::npos);
    // Nothing from elsewhere: every script and style sheet is the server's own.
    EXPECT_EQ(res->body.find("http"), std::string::npos) << path;
  }
  for (const char* file : {"twind.css", "fleet.js", "asset.js", "chart.js"}) {
    const auto res = client().Get(std::string("/ui/") + file);
    ASSERT_TRUE(res) << file;
    EXPECT_EQ(res->status, 200) << file;
    EXPECT_GT(res->body.size(), 500U) << file;
  }
  EXPECT_EQ(status_of(client().Get("/ui/none.js")), 404);
  EXPECT_EQ(status_of(client().Get("/api/history/plant")), 404);  // never seen
}

TEST_F(Dashboard, AnswersABrowserUncompressedAsItIs) {
  // Browsers accept brotli, which Debian's cpp-httplib would apply at its slowest setting: a
  // fleet's state array then took seconds to arrive. The body goes out as it is.
  std::string big = "[";
  for (int i = 0; i < 2000; ++i)
    big += std::string(i ? "," : "") + R"({"asset":"a)" + std::to_string(i) + R"(","status":"ok"})";
  big += "]";
  auto states = std::make_shared<StateList>();
  for (int i = 0; i < 2000; ++i) {
    states->emplace_back("a" + std::to_string(i),
                         R"({"asset":"a)" + std::to_string(i) + R"(","status":"ok"})");
  }
  snapshot_.states = states;
  start();
  const auto res = client().Get("/state", {{"Accept-Encoding", "gzip, deflate, br"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_FALSE(res->has_header("Content-Encoding")) << res->get_header_value("Content-Encoding");
  EXPECT_TRUE(res->body == big) << "a body of " << res->body.size() << " bytes, not " << big.size();
  EXPECT_EQ(res->get_header_value("Content-Length"), std::to_string(big.size()));
}

TEST_F(Dashboard, IsNotServedWithoutAFeed) {
  sut_.start();
  EXPECT_EQ(status_of(client().Get("/")), 404);
  EXPECT_EQ(status_of(client().Get("/events")), 404);
  EXPECT_EQ(status_of(client().Get("/healthz")), 200);
}

TEST_F(Dashboard, EventsStreamAnAssetsAlertAsItHappens) {
  start();
  Plant p;
  p.frame(1.0, 1.0);
  std::string received;
  std::atomic<bool> seen{false};
  std::thread reader([&] {
    httplib::Client c("127.0.0.1", sut_.port());
    c.set_read_timeout(std::chrono::seconds(5));
    (void)c.Get("/events?asset=plant", [&](const char* data, std::size_t n) {
      received.append(data, n);
      if (received.find("event: alert") != std::string::npos) {
        seen = true;
        return false;  // enough: hang up
      }
      return true;
    });
  });
  // Once the stream is open, an alert is handed to the feed and flushed, as the engine does.
  const auto deadline = steady_clock::now() + std::chrono::seconds(5);
  while (!seen && steady_clock::now() < deadline) {
    feed_.alert(p.twin(), R"({"asset":"plant","id":"divergence","state":"raised"})");
    feed_.flush();
    std::this_thread::sleep_for(milliseconds(100));
  }
  reader.join();
  EXPECT_TRUE(seen) << received;
  EXPECT_NE(received.find("data: {\"asset\":\"plant\",\"id\":\"divergence\""), std::string::npos)
      << received;
}

TEST_F(Dashboard, StopEndsAnOpenStreamPromptly) {
  start();
  std::atomic<bool> opened{false};
  std::thread reader([&] {
    httplib::Client c("127.0.0.1", sut_.port());
    c.set_read_timeout(std::chrono::seconds(10));
    (void)c.Get("/events", [&](const char*, std::size_t) {
      opened = true;
      return true;
    });
  });
  const auto deadline = steady_clock::now() + std::chrono::seconds(5);
  while (!opened && steady_clock::now() < deadline) std::this_thread::sleep_for(milliseconds(10));
  ASSERT_TRUE(opened);
  const auto t0 = steady_clock::now();
  sut_.stop();
  const auto took = steady_clock::now() - t0;
  reader.join();
  EXPECT_LT(took, std::chrono::milliseconds(1500));
}

TEST_F(Dashboard, ATokenIsRequiredOfEveryRequestButHealthz) {
  start("s3cret-token");
  const auto denied = client().Get("/");
  ASSERT_TRUE(denied);
  EXPECT_EQ(denied->status, 401);
  EXPECT_NE(denied->get_header_value("WWW-Authenticate").find("Basic"), std::string::npos);
  EXPECT_EQ(status_of(client().Get("/state")), 401);
  EXPECT_EQ(status_of(client().Get("/metrics")), 401);
  EXPECT_EQ(status_of(client().Get("/healthz")), 200);
  httplib::Client bearer = client();
  bearer.set_bearer_token_auth("s3cret-token");
  EXPECT_EQ(status_of(bearer.Get("/")), 200);
  EXPECT_EQ(status_of(bearer.Get("/metrics")), 200);
  httplib::Client wrong = client();
  wrong.set_bearer_token_auth("s3cret-tokeN");
  EXPECT_EQ(status_of(wrong.Get("/")), 401);
  httplib::Client basic = client();
  basic.set_basic_auth("anyone", "s3cret-token");  // what a browser sends after asking
  EXPECT_EQ(status_of(basic.Get("/ui/fleet.js")), 200);
  httplib::Client basic_wrong = client();
  basic_wrong.set_basic_auth("anyone", "s3cret");
  EXPECT_EQ(status_of(basic_wrong.Get("/")), 401);
}

}  // namespace
}  // namespace twind::app
