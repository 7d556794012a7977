// The daemon's read-only HTTP endpoint, for dashboards, Prometheus and health checks:
//
//   GET /state            200 application/json: a JSON array of every asset's latest twin/state
//   GET /state/{asset}    200 application/json: that asset's latest twin/state, or 404
//   GET /metrics          200 text/plain; version=0.0.4 (Prometheus text exposition)
//   GET /healthz          200 "ok", or 503 with the health detail
//
// With a LiveFeed (dashboard()), also the browser dashboard, every file of it embedded in the
// binary (plant networks are often offline: nothing is fetched from elsewhere):
//
//   GET /                 the fleet page;  GET /asset/{asset}  an asset's page
//   GET /ui/{file}        the pages' scripts and style sheet
//   GET /api/history/{asset}  200 application/json: its recent states (LiveFeed), or 404
//   GET /events[?asset=ID]    text/event-stream: that asset's states, alerts and diagnoses (or
//                         every asset's alerts and diagnoses) as Server-Sent Events; 503 when
//                         the feed's streams are all taken
//
// With a token (require_token()), every request but /healthz must carry it, as
// `Authorization: Bearer TOKEN` or as the password of HTTP basic authentication (any user name,
// so that a browser can ask for it); else 401. The token is never logged.
//
// HEAD is answered like GET without the body. Any other method on one of these paths is 405
// (with `Allow: GET, HEAD`); any other path is 404. Every response carries
// `Cache-Control: no-store` and closes its connection (these are one-shot polls, and it keeps
// stop() prompt). cpp-httplib stays behind a pimpl: this header includes none of it.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace twind::app {

class LiveFeed;

/// (asset id, latest `twin/state` payload) pairs.
using StateList = std::vector<std::pair<std::string, std::string>>;

/// What the server shows, taken afresh for every request.
struct HttpSnapshot {
  /// Every asset's latest `twin/state` payload as (asset id, payload JSON text), in the order
  /// GET /state lists them. Each payload must be one complete JSON value (it is copied into the
  /// response as is, not parsed). An asset with no state yet is simply absent, so
  /// GET /state/{asset} answers 404 for it. Shared, not copied: a fleet's states are megabytes,
  /// and /healthz is asked every few seconds. Null: no states.
  std::shared_ptr<const StateList> states;
  /// The Prometheus text exposition served on GET /metrics, verbatim. Shared, not copied: a
  /// fleet's is hundreds of kilobytes, and a copy per scrape, made on whichever of the server's
  /// threads answers, leaves each thread's allocator arena holding that much more. Null: empty.
  std::shared_ptr<const std::string> metrics;
  /// GET /healthz: 200 when true, with health_detail as the body ("ok" when empty: a non-empty
  /// one says what is degraded), else 503 with health_detail as the body.
  bool healthy = false;
  std::string health_detail;

  /// The body of GET /state: "[" + the payloads joined with "," + "]".
  [[nodiscard]] std::string state_array() const;
};

class HttpServer {
 public:
  /// Called on the server's worker threads, possibly several at once: it must be thread-safe
  /// and should be quick (copy out under a lock). If it throws, the request gets a 500.
  using SnapshotFn = std::function<HttpSnapshot()>;

  /// Configures, does not bind. `host` is an address or name to bind ("127.0.0.1", "0.0.0.0",
  /// "::1"); `port` 0 picks any free port (see port()). Throws std::invalid_argument when port
  /// is outside 0..65535 or snapshot is empty.
  HttpServer(std::string host, int port, SnapshotFn snapshot);
  /// Stops the server if it runs.
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;
  HttpServer(HttpServer&&) = delete;
  HttpServer& operator=(HttpServer&&) = delete;

  /// Serves the browser dashboard from `feed` (not owned; it must outlive the server). Before
  /// start().
  void dashboard(LiveFeed* feed);
  /// Requires `token` of every request but /healthz. Before start(); empty: none.
  void require_token(std::string token);

  /// Binds and starts serving on a background thread; when it returns, connections are accepted.
  /// Throws std::runtime_error when the address cannot be bound (in use, not local, bad name),
  /// std::logic_error when called a second time (a stopped server is not restarted).
  void start();
  /// The bound port once start() has returned (the chosen one when constructed with 0), before
  /// that the configured one.
  [[nodiscard]] int port() const noexcept;
  /// Stops accepting, lets requests in flight finish and joins the server's threads (well under
  /// a second unless a snapshot call hangs). Idempotent; a no-op before start(). Thread-safe
  /// with respect to start() and itself, but must not be called from within the snapshot
  /// function.
  void stop() noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// For the Docker HEALTHCHECK (`twind health --url URL`): GETs `url`, of the form
/// `http://host[:port][/path][?query]` (port 80 by default, IPv6 hosts in brackets; no https, no
/// credentials), without following redirects. Returns 0 when the answer is 2xx, else 1:
/// connection refused, timeout, any other status, or a malformed URL (Docker reserves exit code
/// 2, so it is never returned). Connecting, sending and receiving are each bounded by `timeout`.
/// When `error` is given, it receives a one-line reason for a 1 ("HTTP 503: broker
/// disconnected", "cannot get http://127.0.0.1:9100/healthz: Connection", "bad URL '...': port
/// must be 1..65535"), and is cleared for a 0. Never throws.
int http_health_probe(const std::string& url, std::chrono::milliseconds timeout,
                      std::string* error = nullptr);

}  // namespace twind::app
