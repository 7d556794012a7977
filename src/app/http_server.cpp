#include "twind/app/http_server.hpp"

// Class layouts depend on CPPHTTPLIB_*_SUPPORT: the flags come from pkg-config (PkgConfig::HTTPLIB)
// and must match the ones the packaged library was compiled with.
#include <httplib.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <system_error>
#include <thread>

#include "twind/app/live_feed.hpp"
#include "web_assets.hpp"

namespace twind::app {
namespace {

constexpr const char* kJson = "application/json";
constexpr const char* kText = "text/plain; charset=utf-8";
constexpr const char* kPrometheus = "text/plain; version=0.0.4; charset=utf-8";

enum class Route {
  kNone,
  kStates,
  kAssetState,
  kMetrics,
  kHealth,
  kFleetPage,
  kAssetPage,
  kUi,
  kHistory,
  kEvents
};

// `path` is `prefix` and one more segment, which goes to `rest`.
bool one_below(const std::string& path, std::string_view prefix, std::string& rest) {
  if (path.size() > prefix.size() && path.compare(0, prefix.size(), prefix) == 0 &&
      path.find('/', prefix.size()) == std::string::npos) {
    rest = path.substr(prefix.size());  // httplib has already percent-decoded req.path
    return true;
  }
  return false;
}

Route classify(const std::string& path, std::string& asset, bool dashboard) {
  if (path == "/state") return Route::kStates;
  if (path == "/metrics") return Route::kMetrics;
  if (path == "/healthz") return Route::kHealth;
  if (one_below(path, "/state/", asset)) return Route::kAssetState;
  if (!dashboard) return Route::kNone;
  if (path == "/" || path == "/index.html") return Route::kFleetPage;
  if (path == "/events") return Route::kEvents;
  if (one_below(path, "/asset/", asset)) return Route::kAssetPage;
  if (one_below(path, "/ui/", asset)) return Route::kUi;
  if (one_below(path, "/api/history/", asset)) return Route::kHistory;
  return Route::kNone;
}

// The password of an HTTP basic `Authorization` value's "user:password" (base64), or empty.
std::string basic_password(std::string_view b64) {
  static constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  unsigned bits = 0;
  int count = 0;
  for (const char c : b64) {
    if (c == '=') break;
    const std::size_t v = kAlphabet.find(c);
    if (v == std::string_view::npos) return {};
    bits = (bits << 6U) | static_cast<unsigned>(v);
    count += 6;
    if (count >= 8) {
      count -= 8;
      out += static_cast<char>((bits >> static_cast<unsigned>(count)) & 0xFFU);
    }
  }
  const std::size_t colon = out.find(':');
  return colon == std::string::npos ? std::string() : out.substr(colon + 1);
}

// Compares in time that depends on the lengths only.
bool same_secret(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  }
  return diff == 0;
}

constexpr const char* kEventNames[] = {"state", "alert", "diagnosis"};

// The body goes out as it is, through a content provider of known length: httplib compresses a
// plain body for every client that accepts it, and with brotli (which Debian's build has and
// every browser asks for) at its slowest setting: a fleet's /state of 3 MB took seconds to reach
// a browser. A reverse proxy in front may compress (docs/dashboard.md).
// Sends `data` as it is, without a copy; it stays alive until the response is written.
void reply(httplib::Response& res, int status, std::shared_ptr<const std::string> data,
           std::string_view type) {
  res.status = status;
  if (!data || data->empty()) {  // a provider of length 0 would send no answer at all
    res.set_content(std::string(), std::string(type));
    return;
  }
  res.set_content_provider(data->size(), std::string(type),
                           [data](std::size_t offset, std::size_t length, httplib::DataSink& sink) {
                             return sink.write(data->data() + offset, length);
                           });
}

void reply(httplib::Response& res, int status, std::string body, std::string_view type) {
  reply(res, status, std::make_shared<const std::string>(std::move(body)), type);
}

}  // namespace

namespace {
const StateList& list_of(const HttpSnapshot& s) {
  static const StateList kNone;
  return s.states ? *s.states : kNone;
}
// GET /state: the array written straight from the shared payloads, without building it: at a
// fleet's size it is megabytes, and a string per request, on whichever server thread answers,
// leaves that much more in each thread's allocator arena.
void reply_states(httplib::Response& res, std::shared_ptr<const StateList> list) {
  if (!list || list->empty()) {
    reply(res, 200, std::string("[]"), kJson);
    return;
  }
  std::size_t size = 2 + list->size() - 1;
  for (const auto& s : *list) size += s.second.size();
  res.status = 200;
  res.set_content_provider(size, std::string(kJson),
                           [list](std::size_t offset, std::size_t, httplib::DataSink& sink) {
                             // Pieces in order: "[", payload 0, ",", payload 1, ..., "]"; skip
                             // `offset` bytes of them and write the rest.
                             const auto piece = [&](std::string_view p) {
                               if (offset >= p.size()) {
                                 offset -= p.size();
                                 return true;
                               }
                               const bool ok = sink.write(p.data() + offset, p.size() - offset);
                               offset = 0;
                               return ok;
                             };
                             bool ok = piece("[");
                             for (std::size_t i = 0; ok && i < list->size(); ++i) {
                               ok = (i == 0 || piece(",")) && piece((*list)[i].second);
                             }
                             return ok && piece("]");
                           });
}

}  // namespace

std::string HttpSnapshot::state_array() const {
  const StateList& list = list_of(*this);
  std::size_t size = 2 + (list.empty() ? 0 : list.size() - 1);
  for (const auto& s : list) size += s.second.size();
  std::string out;
  out.reserve(size);
  out += '[';
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (i != 0) out += ',';
    out += list[i].second;
  }
  out += ']';
  return out;
}

struct HttpServer::Impl {
  Impl(std::string h, int p, SnapshotFn fn)
      : host(std::move(h)), configured_port(p), bound_port(p), snapshot(std::move(fn)) {}

  [[nodiscard]] bool authorised(const httplib::Request& req) const {
    if (token.empty()) return true;
    const std::string value = req.get_header_value("Authorization");
    constexpr std::string_view kBearer = "Bearer ";
    constexpr std::string_view kBasic = "Basic ";
    if (value.compare(0, kBearer.size(), kBearer) == 0) {
      return same_secret(std::string_view(value).substr(kBearer.size()), token);
    }
    if (value.compare(0, kBasic.size(), kBasic) == 0) {
      return same_secret(basic_password(std::string_view(value).substr(kBasic.size())), token);
    }
    return false;
  }

  // The dashboard's routes; false for the others.
  bool handle_dashboard(Route route, const std::string& name, const httplib::Request& req,
                        httplib::Response& res) const {
    switch (route) {
      case Route::kFleetPage:
      case Route::kAssetPage:
      case Route::kUi: {
        const std::optional<WebAsset> file = web_asset(
            route == Route::kUi ? name
                                : (route == Route::kFleetPage ? "index.html" : "asset.html"));
        if (!file) {
          reply(res, 404, "not found\n", kText);
        } else {
          reply(res, 200, std::string(file->body), file->content_type);
        }
        return true;
      }
      case Route::kHistory:
        if (const std::optional<std::string> h = feed->history_json(name)) {
          reply(res, 200, *h, kJson);
        } else {
          reply(res, 404, "no history for asset '" + name + "'\n", kText);
        }
        return true;
      case Route::kEvents:
        stream(req.get_param_value("asset"), res);
        return true;
      case Route::kNone:
      case Route::kStates:
      case Route::kAssetState:
      case Route::kMetrics:
      case Route::kHealth:
        break;
    }
    return false;
  }

  // Server-Sent Events from the feed until the client goes or the server stops.
  void stream(const std::string& asset, httplib::Response& res) const {
    if (!feed->open_stream()) {
      reply(res, 503, "too many event streams open\n", kText);
      return;
    }
    res.status = 200;
    struct Cursor {
      std::uint64_t after;
      bool opened = false;
    };
    auto cursor = std::make_shared<Cursor>(Cursor{feed->cursor()});
    LiveFeed* f = feed;
    const std::atomic<bool>* stop = &stopping;
    res.set_chunked_content_provider(
        "text/event-stream",
        [f, stop, asset, cursor](std::size_t, httplib::DataSink& sink) {
          if (!cursor->opened) {
            // The first line, so that the client knows the stream is open at once.
            cursor->opened = true;
            const std::string hello = "retry: 2000\n: twind\n\n";
            if (!sink.write(hello.data(), hello.size())) return false;
          }
          const LiveFeed::Batch b = f->wait(cursor->after, asset, std::chrono::milliseconds(1000));
          if (b.closed || stop->load()) {
            sink.done();
            return true;
          }
          cursor->after = b.next;
          std::string out;
          if (b.missed) out += "event: missed\ndata: {}\n\n";
          for (const LiveFeed::Event& e : b.events) {
            out += "id: " + std::to_string(e.seq) +
                   "\nevent: " + kEventNames[static_cast<int>(e.kind)] + "\ndata: " + e.payload +
                   "\n\n";
          }
          if (out.empty()) out = ": keep-alive\n\n";  // finds a client that has gone
          return sink.write(out.data(), out.size());
        },
        [f](bool) { f->close_stream(); });
  }

  void handle(const httplib::Request& req, httplib::Response& res) const {
    res.set_header("Cache-Control", "no-store");
    std::string asset;
    const Route route = classify(req.path, asset, feed != nullptr);
    if (route == Route::kNone) {
      reply(res, 404, "not found\n", kText);
      return;
    }
    if (req.method != "GET" && req.method != "HEAD") {
      res.set_header("Allow", "GET, HEAD");
      reply(res, 405, "method not allowed\n", kText);
      return;
    }
    if (route != Route::kHealth && !authorised(req)) {
      res.set_header("WWW-Authenticate", "Basic realm=\"twind\", charset=\"UTF-8\"");
      reply(res, 401, "unauthorised\n", kText);
      return;
    }
    if (handle_dashboard(route, asset, req, res)) return;
    HttpSnapshot snap;
    try {
      snap = snapshot();
    } catch (const std::exception& e) {
      reply(res, 500, std::string("snapshot failed: ") + e.what() + "\n", kText);
      return;
    } catch (...) {
      reply(res, 500, "snapshot failed\n", kText);
      return;
    }
    switch (route) {
      case Route::kStates:
        reply_states(res, snap.states);
        return;
      case Route::kAssetState:
        for (const auto& [id, payload] : list_of(snap)) {
          if (id == asset) {
            reply(res, 200, payload, kJson);
            return;
          }
        }
        reply(res, 404, "no state for asset '" + asset + "'\n", kText);
        return;
      case Route::kMetrics:
        reply(res, 200, snap.metrics, kPrometheus);
        return;
      case Route::kHealth:
        if (snap.healthy) {
          reply(res, 200, (snap.health_detail.empty() ? "ok" : snap.health_detail) + "\n", kText);
        } else {
          reply(res, 503, (snap.health_detail.empty() ? "unhealthy" : snap.health_detail) + "\n",
                kText);
        }
        return;
      case Route::kNone:
      case Route::kFleetPage:
      case Route::kAssetPage:
      case Route::kUi:
      case Route::kHistory:
      case Route::kEvents:
        break;
    }
  }

  const std::string host;
  const int configured_port;
  std::atomic<int> bound_port;
  const SnapshotFn snapshot;
  LiveFeed* feed = nullptr;
  std::string token;
  std::atomic<bool> stopping{false};

  httplib::Server server;
  std::thread thread;
  std::atomic<bool> listen_returned{false};
  std::mutex mutex;  // start() and stop()
  bool started = false;
};

HttpServer::HttpServer(std::string host, int port, SnapshotFn snapshot) {
  if (port < 0 || port > 65535) {
    throw std::invalid_argument("HttpServer: port " + std::to_string(port) +
                                " is outside 0..65535");
  }
  if (!snapshot) throw std::invalid_argument("HttpServer: snapshot function is empty");
  impl_ = std::make_unique<Impl>(std::move(host), port, std::move(snapshot));

  httplib::Server& s = impl_->server;
  // All routing happens here, before httplib reads a request body, so that every method on
  // every path gets our 404/405 instead of httplib's 400 for methods it has no table for.
  Impl* impl = impl_.get();
  s.set_pre_routing_handler([impl](const httplib::Request& req, httplib::Response& res) {
    impl->handle(req, res);
    return httplib::Server::HandlerResponse::Handled;
  });
  // One request per connection and short timeouts: a worker blocked in an idle keep-alive wait
  // would otherwise hold stop() for httplib's default 5 s.
  s.set_keep_alive_max_count(1);
  s.set_keep_alive_timeout(1);
  s.set_read_timeout(2, 0);
  s.set_write_timeout(2, 0);
  // httplib's default pool is max(8, cores - 1) threads; a polled endpoint needs few, and each
  // event stream holds one (dashboard()).
  s.new_task_queue = [impl] {
    return new httplib::ThreadPool(
        4 + (impl->feed != nullptr ? impl->feed->options().streams : std::size_t{0}));
  };
}

void HttpServer::dashboard(LiveFeed* feed) {
  impl_->feed = feed;
}

void HttpServer::require_token(std::string token) {
  impl_->token = std::move(token);
}

HttpServer::~HttpServer() {
  stop();
}

void HttpServer::start() {
  Impl& m = *impl_;
  const std::lock_guard lock(m.mutex);
  if (m.started) throw std::logic_error("HttpServer::start called twice");

  errno = 0;
  int bound = -1;
  if (m.configured_port == 0) {
    bound = m.server.bind_to_any_port(m.host);
  } else if (m.server.bind_to_port(m.host, m.configured_port)) {
    bound = m.configured_port;
  }
  if (bound <= 0) {
    const int err = errno;
    std::string what = "cannot listen on " + m.host + ":" + std::to_string(m.configured_port);
    if (err != 0) what += ": " + std::system_category().message(err);
    throw std::runtime_error(what);
  }
  m.bound_port = bound;
  m.started = true;

  m.thread = std::thread([&m] {
    m.server.listen_after_bind();
    m.listen_returned = true;
  });
  // httplib's stop() does nothing until the listening thread has set is_running(): waiting for
  // it here means a stop() right after start() cannot be lost (0.11 has no wait_until_ready()).
  while (!m.server.is_running() && !m.listen_returned) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (m.listen_returned && !m.server.is_running()) {
    m.thread.join();
    throw std::runtime_error("cannot serve on " + m.host + ":" + std::to_string(bound));
  }
}

int HttpServer::port() const noexcept {
  return impl_->bound_port;
}

void HttpServer::stop() noexcept {
  Impl& m = *impl_;
  const std::lock_guard lock(m.mutex);
  if (!m.thread.joinable()) return;
  m.stopping = true;
  if (m.feed != nullptr) m.feed->close();  // event streams end now, not at their next wake-up
  m.server.stop();
  try {
    m.thread.join();
  } catch (const std::system_error&) {  // only if joining ourselves: documented as forbidden
    m.thread.detach();
  }
}

namespace {

struct ParsedUrl {
  std::string host;  // without IPv6 brackets
  int port = 80;
  std::string path;
};

bool parse_http_url(const std::string& url, ParsedUrl& out, std::string& why) {
  constexpr std::string_view kScheme = "http://";
  if (url.size() < kScheme.size() || url.compare(0, kScheme.size(), kScheme) != 0) {
    why = "expected http://host[:port][/path]";
    return false;
  }
  for (const char c : url) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      why = "control character or space in URL";
      return false;
    }
  }
  const std::size_t auth_begin = kScheme.size();
  std::size_t auth_end = url.find_first_of("/?#", auth_begin);
  if (auth_end == std::string::npos) auth_end = url.size();
  const std::string_view authority(url.data() + auth_begin, auth_end - auth_begin);
  if (authority.find('@') != std::string_view::npos) {
    why = "credentials in URL are not supported";
    return false;
  }
  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos || close == 1) {
      why = "malformed IPv6 host";
      return false;
    }
    out.host = std::string(authority.substr(1, close - 1));
    const std::string_view rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') {
        why = "malformed IPv6 host";
        return false;
      }
      port_text = rest.substr(1);
      if (port_text.empty()) port_text = "x";  // "host:" has a colon and no port
    }
  } else {
    const std::size_t colon = authority.find(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      if (port_text.empty()) port_text = "x";
    }
  }
  if (out.host.empty()) {
    why = "no host";
    return false;
  }
  if (!port_text.empty()) {
    int port = 0;
    const auto [end, ec] =
        std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || port < 1 ||
        port > 65535) {
      why = "port must be 1..65535";
      return false;
    }
    out.port = port;
  }
  out.path = auth_end == url.size() ? std::string("/") : url.substr(auth_end);
  if (out.path.front() != '/') out.path.insert(0, 1, '/');  // "http://h?x" -> "/?x"
  return true;
}

}  // namespace

int http_health_probe(const std::string& url, std::chrono::milliseconds timeout,
                      std::string* error) {
  const auto fail = [error](std::string why) {
    if (error != nullptr) *error = std::move(why);
    return 1;
  };
  try {
    ParsedUrl u;
    std::string why;
    if (!parse_http_url(url, u, why)) return fail("bad URL '" + url + "': " + why);

    httplib::Client client(u.host, u.port);
    client.set_connection_timeout(timeout);
    client.set_read_timeout(timeout);
    client.set_write_timeout(timeout);
    client.set_follow_location(false);
    client.set_keep_alive(false);

    const httplib::Result res = client.Get(u.path);
    if (!res) {
      return fail("cannot get " + url + ": " + httplib::to_string(res.error()));
    }
    if (res->status < 200 || res->status > 299) {
      std::string body = res->body.substr(0, res->body.find('\n'));
      if (body.size() > 200) body.resize(200);
      return fail("HTTP " + std::to_string(res->status) + (body.empty() ? "" : ": " + body));
    }
    if (error != nullptr) error->clear();
    return 0;
  } catch (const std::exception& e) {
    return fail(std::string("probe failed: ") + e.what());
  }
}

}  // namespace twind::app
