// The measuring end of bench/fleet.sh: subscribes to every twin's state and alert topics and, after
// recording for a fixed window, prints one JSON line with what arrived and how late (latency as
// docs/interfaces.md, "Timing", defines it): a state's latency is its arrival minus its `ts` (the
// tick's due time), an alert's is its arrival minus its `ts` (the deciding frame's timestamp, i.e.
// when twin-sim published it). Both ends read the same wall clock, on the same machine.
//
//   twind_fleet_probe URI SECONDS N WEAR_ASSETS [WINDOW]
//
// With WINDOW (seconds, for bench/soak.sh), one such line per window of WINDOW seconds instead,
// each with the window's own figures and two more keys: "window" (1, 2, ...) and "end" (its Unix
// time); a last partial window is printed if it lasted at least half a WINDOW.
//
// Assets p00000 .. p{WEAR_ASSETS-1} are the wearing ones (twin-sim --fleet ids); an alert raised by
// any other asset is a false alert. Paho C++ is used directly, as in tests/support/subscriber.cpp.
//
// Latencies are given as {"n", "p50", "p99", "max"} (ms, nearest rank); "p99" is null below 100
// samples, where the nearest rank of 99 % is the maximum. A state missing is a gap in an asset's
// seq, counted across windows (in the window of the state after the gap).
#include <mqtt/async_client.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

namespace {

double wall_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

struct Arrival {
  double wall;
  ::mqtt::const_message_ptr msg;
};

// Filled on Paho's receive thread: the callback only stamps and queues.
struct Inbox {
  std::mutex mu;
  std::vector<Arrival> queue;
};

struct AssetSeen {
  std::uint64_t first_seq = 0;
  std::uint64_t last_seq = 0;
  std::uint64_t states = 0;  // in sequence order, in this window
  bool any_state = false;    // a seq is known (from this window or an earlier one)
  bool raised = false;       // raised at least one alert
};

struct Figures {
  std::uint64_t states = 0;
  std::uint64_t alerts = 0;
  std::uint64_t unparsed = 0;
  std::uint64_t out_of_order = 0;  // seq not above the asset's previous one
  std::map<std::string, std::uint64_t> status;
  std::vector<double> state_ms;
  std::vector<double> alert_ms;
  std::uint64_t raised_wearing = 0;
  std::uint64_t raised_other = 0;
  std::uint64_t cleared = 0;
  std::map<std::string, std::uint64_t> false_by_id;
  std::unordered_map<std::string, AssetSeen> assets;
  std::uint64_t n_assets = 0;  // the fleet's size and wearing assets (arguments)
  std::uint64_t wear_assets = 0;
};

// "twin/<id>/state" -> "<id>"
std::string_view asset_of(std::string_view topic) {
  const auto a = topic.find('/');
  const auto b = topic.rfind('/');
  if (a == std::string_view::npos || b <= a) return {};
  return topic.substr(a + 1, b - a - 1);
}

// The number after `"key":` in compact JSON (twind writes no whitespace); nullopt if absent.
template <typename T>
std::optional<T> scan_number(std::string_view json, std::string_view quoted_key) {
  const auto at = json.find(quoted_key);
  if (at == std::string_view::npos) return std::nullopt;
  const char* begin = json.data() + at + quoted_key.size();
  const char* end = json.data() + json.size();
  T v{};
  const auto [ptr, ec] = std::from_chars(begin, end, v);
  if (ec != std::errc{} || ptr == begin) return std::nullopt;
  return v;
}

std::optional<std::string_view> scan_string(std::string_view json, std::string_view quoted_key) {
  const auto at = json.find(quoted_key);
  if (at == std::string_view::npos) return std::nullopt;
  const auto begin = at + quoted_key.size();
  if (begin >= json.size() || json[begin] != '"') return std::nullopt;
  const auto end = json.find('"', begin + 1);
  if (end == std::string_view::npos) return std::nullopt;
  return json.substr(begin + 1, end - begin - 1);
}

// Index of "p00042" -> 42; nullopt for an id of another shape.
std::optional<std::uint64_t> fleet_index(std::string_view id) {
  if (id.size() < 2 || id[0] != 'p') return std::nullopt;
  std::uint64_t v = 0;
  const auto [ptr, ec] = std::from_chars(id.data() + 1, id.data() + id.size(), v);
  if (ec != std::errc{} || ptr != id.data() + id.size()) return std::nullopt;
  return v;
}

void on_state(Figures& f, double wall, std::string_view topic, std::string_view payload) {
  // States are the bulk (N x 2 a second): a scan, with a full parse only when the scan fails.
  auto seq = scan_number<std::uint64_t>(payload, "\"seq\":");
  auto ts = scan_number<double>(payload, "\"ts\":");
  auto status = scan_string(payload, "\"status\":");
  std::string parsed_status;
  if (!seq || !ts || !status) {
    const auto j = nlohmann::json::parse(payload, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("seq") || !j.contains("ts") ||
        !j["seq"].is_number_unsigned() || !j["ts"].is_number()) {
      ++f.unparsed;
      return;
    }
    seq = j["seq"].get<std::uint64_t>();
    ts = j["ts"].get<double>();
    parsed_status = j.value("status", std::string("?"));
    status = parsed_status;
  }
  ++f.states;
  ++f.status[std::string(*status)];
  f.state_ms.push_back((wall - *ts) * 1000.0);
  AssetSeen& a = f.assets[std::string(asset_of(topic))];
  if (!a.any_state) {
    a.any_state = true;
    a.first_seq = *seq;
    a.last_seq = *seq;
    a.states = 1;
  } else if (*seq > a.last_seq) {
    a.last_seq = *seq;
    ++a.states;
  } else {
    ++f.out_of_order;
  }
}

void on_alert(Figures& f, double wall, std::string_view topic, std::string_view payload,
              std::uint64_t wear_assets) {
  const auto j = nlohmann::json::parse(payload, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("ts") || !j["ts"].is_number()) {
    ++f.unparsed;
    return;
  }
  ++f.alerts;
  const std::string id = j.value("id", std::string("?"));
  const std::string state = j.value("state", std::string("?"));
  std::string asset = j.value("asset", std::string(asset_of(topic)));
  // A stale alert is decided by a tick, not by a frame: no telemetry-to-alert latency.
  if (id != "stale") f.alert_ms.push_back((wall - j["ts"].get<double>()) * 1000.0);
  if (state != "raised") {
    ++f.cleared;
    return;
  }
  AssetSeen& a = f.assets[asset];
  a.raised = true;
  const auto index = fleet_index(asset);
  if (index && *index < wear_assets) {
    ++f.raised_wearing;
  } else {
    ++f.raised_other;
    ++f.false_by_id[id];
  }
}

// Fewer samples than this and the nearest rank of 99 % is the maximum: no p99 then.
constexpr std::size_t kMinForP99 = 100;

std::string percentiles(std::vector<double> v) {
  char buf[160];
  if (v.empty()) return R"({"n":0,"p50":null,"p99":null,"max":null})";
  std::sort(v.begin(), v.end());
  // Nearest rank: the smallest value with at least p of the samples at or below it.
  auto rank = [&](double p) {
    const auto k = static_cast<std::size_t>(std::ceil(p * static_cast<double>(v.size())));
    return v[std::min(v.size() - 1, k == 0 ? 0 : k - 1)];
  };
  char p99[32] = "null";
  if (v.size() >= kMinForP99) std::snprintf(p99, sizeof p99, "%.3f", rank(0.99));
  std::snprintf(buf, sizeof buf, R"({"n":%zu,"p50":%.3f,"p99":%s,"max":%.3f})", v.size(),
                rank(0.50), p99, v.back());
  return buf;
}

// A new window's figures: each asset's last seq carried over, so that a gap between two windows
// is counted too.
Figures next_window(const Figures& previous) {
  Figures f;
  f.n_assets = previous.n_assets;
  f.wear_assets = previous.wear_assets;
  for (const auto& [id, a] : previous.assets) {
    if (!a.any_state) continue;
    AssetSeen& next = f.assets[id];
    next.any_state = true;
    next.first_seq = a.last_seq + 1;
    next.last_seq = a.last_seq;
  }
  return f;
}

std::string counts(const std::map<std::string, std::uint64_t>& m) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [k, v] : m) j[k] = v;
  return j.dump();
}

// The JSON line of one window (index 0: the whole run, without "window" and "end").
void print_line(const Figures& f, double window, std::uint64_t window_index, double end) {
  const std::uint64_t assets = f.n_assets;
  const std::uint64_t wear_assets = f.wear_assets;
  char tail[80] = "";
  if (window_index > 0) {
    std::snprintf(tail, sizeof tail, ",\"window\":%llu,\"end\":%.3f",
                  static_cast<unsigned long long>(window_index), end);
  }
  std::uint64_t missing = 0;
  std::uint64_t seen = 0;
  std::uint64_t with_states = 0;
  std::uint64_t wearing_alerted = 0;
  std::uint64_t other_alerted = 0;
  for (const auto& [id, a] : f.assets) {
    if (a.states > 0 || a.raised) ++seen;
    if (a.states > 0) {
      ++with_states;
      missing += a.last_seq + 1 - a.first_seq - a.states;
    }
    if (a.raised) {
      const auto index = fleet_index(id);
      if (index && *index < wear_assets) {
        ++wearing_alerted;
      } else {
        ++other_alerted;
      }
    }
  }
  std::printf(
      "{\"seconds\":%.3f,\"assets\":%llu,\"wear_assets\":%llu,\"states\":%llu,"
      "\"states_per_s\":%.1f,\"assets_seen\":%llu,\"assets_with_states\":%llu,"
      "\"states_missing\":%llu,\"states_out_of_order\":%llu,\"status\":%s,"
      "\"state_latency_ms\":%s,\"alerts\":%llu,\"alerts_raised_wearing\":%llu,"
      "\"wearing_assets_alerted\":%llu,\"alerts_raised_false\":%llu,"
      "\"false_alert_assets\":%llu,\"false_alerts_by_id\":%s,\"alerts_cleared\":%llu,"
      "\"alert_latency_ms\":%s,\"unparsed\":%llu%s}\n",
      window, static_cast<unsigned long long>(assets), static_cast<unsigned long long>(wear_assets),
      static_cast<unsigned long long>(f.states),
      window > 0 ? static_cast<double>(f.states) / window : 0.0,
      static_cast<unsigned long long>(seen), static_cast<unsigned long long>(with_states),
      static_cast<unsigned long long>(missing), static_cast<unsigned long long>(f.out_of_order),
      counts(f.status).c_str(), percentiles(f.state_ms).c_str(),
      static_cast<unsigned long long>(f.alerts), static_cast<unsigned long long>(f.raised_wearing),
      static_cast<unsigned long long>(wearing_alerted),
      static_cast<unsigned long long>(f.raised_other),
      static_cast<unsigned long long>(other_alerted), counts(f.false_by_id).c_str(),
      static_cast<unsigned long long>(f.cleared), percentiles(f.alert_ms).c_str(),
      static_cast<unsigned long long>(f.unparsed), tail);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5 && argc != 6) {
    std::fprintf(stderr, "usage: twind_fleet_probe BROKER_URI SECONDS N WEAR_ASSETS [WINDOW]\n");
    return 2;
  }
  const std::string uri = argv[1];
  const double seconds = std::atof(argv[2]);
  const auto assets = static_cast<std::uint64_t>(std::strtoull(argv[3], nullptr, 10));
  const auto wear_assets = static_cast<std::uint64_t>(std::strtoull(argv[4], nullptr, 10));
  const double window_s = argc == 6 ? std::atof(argv[5]) : 0.0;
  if (!(seconds > 0.0) || assets == 0 || wear_assets > assets || (argc == 6 && !(window_s > 0.0))) {
    std::fprintf(stderr,
                 "twind_fleet_probe: got SECONDS %s, N %s, WEAR_ASSETS %s; expected "
                 "SECONDS > 0, N > 0, WEAR_ASSETS <= N, WINDOW > 0\n",
                 argv[2], argv[3], argv[4]);
    return 2;
  }

  Inbox inbox;
  const std::string client_id = "twind-fleet-probe-" + std::to_string(::getpid());
  ::mqtt::async_client cli(
      uri, client_id, ::mqtt::create_options_builder().mqtt_version(MQTTVERSION_3_1_1).finalize(),
      nullptr);
  cli.set_message_callback([&inbox](::mqtt::const_message_ptr m) {
    const double wall = wall_now();
    const std::lock_guard lock(inbox.mu);
    inbox.queue.push_back({wall, std::move(m)});
  });

  Figures f;
  f.n_assets = assets;
  f.wear_assets = wear_assets;
  const double span = window_s > 0.0 ? std::min(window_s, seconds) : seconds;
  f.state_ms.reserve(static_cast<std::size_t>(static_cast<double>(assets) * 2.2 * span));
  auto drain = [&] {
    std::vector<Arrival> batch;
    {
      const std::lock_guard lock(inbox.mu);
      batch.swap(inbox.queue);
    }
    for (const Arrival& a : batch) {
      const std::string_view topic = a.msg->get_topic();
      const std::string_view payload = a.msg->get_payload();
      if (topic.size() > 6 && topic.substr(topic.size() - 6) == "/state") {
        on_state(f, a.wall, topic, payload);
      } else {
        on_alert(f, a.wall, topic, payload, wear_assets);
      }
    }
  };

  double started = 0.0;
  double ended = 0.0;
  double window_start = 0.0;
  std::uint64_t windows = 0;
  try {
    auto opts = ::mqtt::connect_options_builder()
                    .mqtt_version(MQTTVERSION_3_1_1)
                    .clean_session(true)
                    .keep_alive_interval(std::chrono::seconds(30))
                    .connect_timeout(std::chrono::seconds(5))
                    .finalize();
    if (!cli.connect(opts)->wait_for(std::chrono::seconds(6))) {
      std::fprintf(stderr, "twind_fleet_probe: no broker at %s\n", uri.c_str());
      return 1;
    }
    const std::vector<std::string> filters{"twin/+/state", "twin/+/alert"};
    if (!cli.subscribe(::mqtt::string_collection::create(filters), std::vector<int>{0, 1})
             ->wait_for(std::chrono::seconds(5))) {
      std::fprintf(stderr, "twind_fleet_probe: subscription timed out\n");
      return 1;
    }
    started = wall_now();
    window_start = started;
    std::fprintf(stderr, "twind_fleet_probe: subscribed, recording for %g s\n", seconds);
    const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      drain();
      const double wall = wall_now();
      if (window_s > 0.0 && wall - window_start >= window_s) {
        print_line(f, wall - window_start, ++windows, wall);
        f = next_window(f);
        f.state_ms.reserve(static_cast<std::size_t>(static_cast<double>(assets) * 2.2 * span));
        window_start = wall;
      }
    }
    ended = wall_now();
    cli.disable_callbacks();
    cli.disconnect()->wait_for(std::chrono::seconds(5));
  } catch (const ::mqtt::exception& e) {
    std::fprintf(stderr, "twind_fleet_probe: %s: %s\n", uri.c_str(), e.what());
    return 1;
  }
  drain();

  if (window_s > 0.0) {
    if (ended - window_start >= window_s / 2) print_line(f, ended - window_start, ++windows, ended);
  } else {
    print_line(f, ended - started, 0, ended);
  }
  return 0;
}
