// Latency over a real broker (as docs/interfaces.md, "Timing", defines it): (1) from publishing the
// message that decides an alert to that alert's arrival at a subscriber, and (2) from a tick's due
// time to its state's arrival. One MQTT client publishes the telemetry and receives twind's output,
// so both ends read the same clocks. Run through bench/live_latency.sh, which starts the broker and
// twind.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "twind/mqtt/client.hpp"

namespace {

using Clock = std::chrono::steady_clock;

double wall_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

class Recorder final : public twind::mqtt::Handler {
 public:
  void on_connected() override { connected = true; }
  void on_disconnected(const std::string&) override { connected = false; }
  void on_message(std::string_view topic, std::string_view payload) override {
    const auto now = Clock::now();
    const double wall = wall_now();
    const auto j = nlohmann::json::parse(payload, nullptr, false);
    if (j.is_discarded()) return;
    const std::lock_guard lock(mutex);
    if (topic == "twin/alert") {
      ++alerts;
      last_alert = now;
    } else if (topic == "twin/state" && j.contains("ts")) {
      tick_latency_ms.push_back((wall - j["ts"].get<double>()) * 1000.0);
    }
  }
  std::atomic<bool> connected{false};
  std::mutex mutex;
  int alerts = 0;
  Clock::time_point last_alert;
  std::vector<double> tick_latency_ms;
};

void report(const char* what, std::vector<double> v) {
  if (v.empty()) {
    std::printf("%-34s no samples\n", what);
    return;
  }
  std::sort(v.begin(), v.end());
  auto pct = [&](double p) {
    return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
  };
  std::printf("%-34s n=%-5zu p50 %.2f ms  p99 %.2f ms  max %.2f ms\n", what, v.size(), pct(0.50),
              pct(0.99), v.back());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: twind_live_latency BROKER_URI [ROUNDS]\n");
    return 2;
  }
  const int rounds = argc > 2 ? std::atoi(argv[2]) : 200;
  twind::mqtt::ConnectOptions o;
  o.uri = argv[1];
  o.client_id = "twind-latency";
  auto client = twind::mqtt::make_paho_client(o);
  Recorder rec;
  client->subscribe({"twin/alert", "twin/state"}, 1);
  client->start(rec);
  for (int i = 0; i < 500 && !rec.connected; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  if (!rec.connected) {
    std::fprintf(stderr, "no broker at %s\n", argv[1]);
    return 1;
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // let the subscription settle

  client->publish("plant/u", "0", 1, false);
  client->publish("plant/y", "0", 1, false);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));

  // Alternate a diverging and a healthy measurement: each one decides a transition (raised,
  // then cleared), and is sent only once the previous alert has arrived.
  std::vector<double> alert_ms;
  for (int r = 0; r < rounds; ++r) {
    int before = 0;
    {
      const std::lock_guard lock(rec.mutex);
      before = rec.alerts;
    }
    const auto sent = Clock::now();
    client->publish("plant/y", r % 2 == 0 ? "1" : "0", 0, false);
    const auto deadline = sent + std::chrono::seconds(2);
    bool got = false;
    while (Clock::now() < deadline) {
      {
        const std::lock_guard lock(rec.mutex);
        if (rec.alerts > before) {
          alert_ms.push_back(
              std::chrono::duration<double, std::milli>(rec.last_alert - sent).count());
          got = true;
          break;
        }
      }
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
    if (!got) std::fprintf(stderr, "round %d: no alert within 2 s\n", r);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  client->stop(std::nullopt, std::chrono::milliseconds(500));
  report("telemetry in -> alert out", alert_ms);
  {
    const std::lock_guard lock(rec.mutex);
    report("tick due -> state out", rec.tick_latency_ms);
  }
  return 0;
}
