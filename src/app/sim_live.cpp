#include "sim_live.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <limits>
#include <thread>
#include <vector>

#include "twind/json/writer.hpp"
#include "twind/mqtt/broker_uri.hpp"
#include "twind/mqtt/client.hpp"

namespace twind::app {
namespace {

double wall_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

class Quiet final : public mqtt::Handler {
 public:
  void on_connected() override { connected = true; }
  void on_disconnected(const std::string& cause) override {
    if (connected.exchange(false))
      std::fprintf(stderr, "twin-sim: lost the broker: %s\n", cause.c_str());
  }
  void on_message(std::string_view, std::string_view) override {}
  std::atomic<bool> connected{false};
};

std::string value_payload(double v, double ts, bool bare) {
  std::string out;
  if (bare) {
    json::append_number(out, v);
    return out;
  }
  json::Writer w(out);
  w.begin_object().key("value").value(v).key("ts").value(ts).end_object();
  return out;
}

// Connects and waits (bounded) for the connection; empty when the broker cannot be reached.
// `driven`: twind's native client, worked by the caller's loop (drive()); otherwise Paho's
// threaded client.
std::unique_ptr<mqtt::Client> connect(const Publishing& p, Quiet& handler,
                                      const std::atomic<bool>& stop, bool driven = false) {
  mqtt::ConnectOptions o;
  const std::vector<std::string> uris = mqtt::split_broker_uris(p.broker);
  o.uri = uris.front();
  o.failover_uris.assign(uris.begin() + 1, uris.end());
  o.client_id = p.client_id;
  auto client = driven ? mqtt::make_native_client(o) : mqtt::make_paho_client(o);
  client->start(handler);
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::duration<double>(p.connect_timeout);
  while (!handler.connected && !stop && std::chrono::steady_clock::now() < deadline) {
    if (driven) {
      client->drive(std::chrono::milliseconds(10), 16);
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  if (!handler.connected) {
    std::fprintf(stderr, "twin-sim: no broker at %s after %.0f s\n", p.broker.c_str(),
                 p.connect_timeout);
    client->stop(std::nullopt, std::chrono::milliseconds(100));
    return nullptr;
  }
  return client;
}

std::uint64_t sample_count(double duration, double dt) {
  // duration 0: until SIGINT or SIGTERM.
  return duration > 0.0 ? static_cast<std::uint64_t>(duration / dt + 0.5)
                        : std::numeric_limits<std::uint64_t>::max();
}

const char* wear_name(sim::WearMode m) {
  switch (m) {
    case sim::WearMode::bearing:
      return "bearing wear: imbalance coefficient";
    case sim::WearMode::fouling:
      return "fouling: thermal resistance";
    case sim::WearMode::friction:
      return "friction: mechanical time constant";
    case sim::WearMode::none:
      break;
  }
  return "none";
}

// Calls step() at start + k * dt on the steady clock, k = 0, 1, ..., for `samples` samples or
// until `stop`; returns how many were taken.
template <class Step>
std::uint64_t paced(std::uint64_t samples, double dt, const std::atomic<bool>& stop, Step step) {
  const auto start = std::chrono::steady_clock::now();
  std::uint64_t k = 0;
  for (; k < samples && !stop; ++k) {
    std::this_thread::sleep_until(start +
                                  std::chrono::duration<double>(static_cast<double>(k) * dt));
    step();
  }
  return k;
}

}  // namespace

// The rotating machine, one frame per sample on the frame topic, paced in real time.

int run_live_machine(const sim::MachineScenario& sc, double duration, const Publishing& p,
                     const std::atomic<bool>& stop) {
  Quiet handler;
  auto client = connect(p, handler, stop);
  if (!client) return 1;
  const double t0 = wall_now();
  sim::MachineSim machine(sc, t0);
  std::printf("[t=0.00s] twin-sim: rotating machine at %g rpm, load %g, every %g ms on %s\n",
              sc.speed_command, sc.load, sc.dt * 1000.0, p.frame_topic.c_str());
  std::fflush(stdout);
  const std::uint64_t k = paced(sample_count(duration, sc.dt), sc.dt, stop, [&] {
    const sim::MachineSample s = machine.step();
    if (s.wear_injected) {
      std::printf("[t=%.2fs] wear injected: %s x %g (unix time %.3f)\n", s.t - t0,
                  wear_name(sc.wear), sc.wear_factor, s.t);
      std::fflush(stdout);
    }
    std::string out;
    json::Writer w(out);
    w.begin_object().key("ts").value(s.t).key("speed_command").value(s.speed_command);
    w.key("load").value(s.load).key("rpm").value(s.rpm).key("temperature").value(s.temperature);
    w.key("vibration").value(s.vibration).end_object();
    client->publish(p.frame_topic, out, p.qos, false);
  });
  client->stop(std::nullopt, std::chrono::milliseconds(1000));
  std::printf("[t=%.2fs] twin-sim: %llu samples published\n", wall_now() - t0,
              static_cast<unsigned long long>(k));
  return 0;
}

// The fleet: every sample at its due time on the wall clock (t0 = the wall clock at the start),
// everything already due published at once when the loop falls behind. A load generator must
// not be the bottleneck of what it measures: the fleet publishes through twind's native client,
// which writes what one wake-up publishes in one system call, where Paho's threaded client
// costs a hand-off and a write per message (twin-sim then took more CPU than twind and the
// broker together at 5,000 plants with bare numbers, and refused samples).
int run_live_fleet(sim::FleetOptions options, double duration, const Publishing& p,
                   const std::atomic<bool>& stop) {
  Quiet handler;
  auto client = connect(p, handler, stop, true);
  if (!client) return 1;
  options.t0 = wall_now();
  const auto start = std::chrono::steady_clock::now();
  sim::FleetSim fleet(options);
  const std::size_t n = fleet.size();
  // Frames on plant/<id>/frame; with --bare, u on plant/<id>/u and y on plant/<id>/y.
  std::vector<std::string> topics(n);
  std::vector<std::string> y_topics(p.bare ? n : 0);
  for (std::size_t i = 0; i < n; ++i) {
    const std::string prefix = "plant/" + fleet.asset_id(i);
    topics[i] = prefix + (p.bare ? "/u" : "/frame");
    if (p.bare) y_topics[i] = prefix + "/y";
  }
  const char* what = p.bare ? "bare u then y" : "frames";
  const char* leaf = p.bare ? "{u,y}" : "frame";
  std::printf(
      "[t=0.00s] twin-sim: fleet of %zu plants G(s)=1/(s%+g) at %g Hz, %s on plant/%s/%s .. "
      "plant/%s/%s\n",
      n, -options.nominal_pole, options.rate, what, fleet.asset_id(0).c_str(), leaf,
      fleet.asset_id(n - 1).c_str(), leaf);
  std::fflush(stdout);

  const double end = duration > 0.0 ? duration : std::numeric_limits<double>::infinity();
  double wear = options.wear_assets > 0 && options.wear_at >= 0.0
                    ? options.wear_at
                    : std::numeric_limits<double>::infinity();
  const auto late_after = std::chrono::milliseconds(100);
  constexpr auto kQuantum = std::chrono::microseconds(250);
  auto woke = start;
  std::uint64_t samples = 0;
  std::uint64_t refused = 0;
  std::uint64_t late = 0;
  sim::FleetSample s;
  std::string payload;
  while (!stop) {
    const double due = fleet.next_due() - options.t0;
    if (due >= end) break;
    const auto due_at = start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                    std::chrono::duration<double>(due));
    auto now = std::chrono::steady_clock::now();
    if (due_at > now) {
      // What this wake-up published leaves now, in one write; acknowledgements and pings are
      // read.
      client->drive(std::chrono::milliseconds(0), 64);
      // One wake-up per sample costs 10,000 assets at 2 Hz a third of a core in wake-ups alone
      // (measured), on the machine whose CPU the benchmark measures: publish what is due at most
      // every kQuantum instead, so a frame leaves at most kQuantum after its ts.
      std::this_thread::sleep_until(std::max(due_at, woke + kQuantum));
      now = std::chrono::steady_clock::now();
      woke = now;
    }
    if (now - due_at > late_after) ++late;
    if (due >= wear) {
      std::printf("[t=%.2fs] wear injected: pole %g -> %g on %s .. %s (unix time %.3f)\n", due,
                  options.nominal_pole, options.worn_pole, fleet.asset_id(0).c_str(),
                  fleet.asset_id(options.wear_assets - 1).c_str(), options.t0 + wear);
      std::fflush(stdout);
      wear = std::numeric_limits<double>::infinity();
    }
    fleet.pop(s);
    payload.clear();
    if (p.bare) {
      // The input applied from this sample on, then the output measured at it: no ts, so twind
      // stamps each on its arrival.
      json::append_number(payload, s.u);
      if (!client->publish(topics[s.asset], payload, p.qos, false)) ++refused;
      payload.clear();
      json::append_number(payload, s.y);
      if (!client->publish(y_topics[s.asset], payload, p.qos, false)) ++refused;
    } else {
      sim::append_fleet_frame(payload, s);
      if (!client->publish(topics[s.asset], payload, p.qos, false)) ++refused;
    }
    ++samples;
  }
  client->stop(std::nullopt, std::chrono::milliseconds(2000));
  const mqtt::ClientStats stats = client->stats();
  // One line, key=value, for bench/fleet.sh. `samples` counts samples, `published`, `refused`
  // and `lost` MQTT messages (two a sample with --bare). `lost`: accepted by the client but never
  // handed to the connection (queued when the connection dropped, or replaced by its topic's
  // next message while the broker did not read).
  const std::uint64_t lost =
      (stats.dropped > refused ? stats.dropped - refused : 0) + stats.superseded;
  std::fprintf(stderr,
               "twin-sim: fleet summary: assets=%zu rate=%g seconds=%.2f samples=%llu "
               "published=%llu refused=%llu lost=%llu late=%llu\n",
               n, options.rate, wall_now() - options.t0, static_cast<unsigned long long>(samples),
               static_cast<unsigned long long>(stats.published),
               static_cast<unsigned long long>(refused), static_cast<unsigned long long>(lost),
               static_cast<unsigned long long>(late));
  return 0;
}

int run_live_seed(const sim::Scenario& sc, double duration, const Publishing& p,
                  const std::atomic<bool>& stop) {
  Quiet handler;
  auto client = connect(p, handler, stop);
  if (!client) return 1;

  const double t0 = wall_now();
  sim::ClosedLoop loop(sc, t0);
  std::printf(
      "[t=0.00s] twin-sim: G(s)=%g/(s%+g) under PI (Kp=%g, Ki=%g) every %g ms on %s\n",
      sc.nominal.gain, -sc.nominal.pole, sc.controller.kp, sc.controller.ki, sc.dt * 1000.0,
      p.frame_topic.empty() ? (p.u_topic + ", " + p.y_topic).c_str() : p.frame_topic.c_str());
  std::fflush(stdout);
  std::uint64_t refused = 0;
  const std::uint64_t k = paced(sample_count(duration, sc.dt), sc.dt, stop, [&] {
    const sim::Sample s = loop.step();
    if (s.wear_injected) {
      std::printf("[t=%.2fs] wear injected: pole %g -> %g", s.t - t0, sc.nominal.pole,
                  sc.worn.pole);
      if (sc.worn.gain != sc.nominal.gain)
        std::printf(", gain %g -> %g", sc.nominal.gain, sc.worn.gain);
      std::printf(" (unix time %.3f)\n", s.t);
      std::fflush(stdout);
    }
    bool ok = true;
    if (!p.frame_topic.empty()) {
      std::string out;
      json::Writer w(out);
      w.begin_object().key("ts").value(s.t).key("u").value(s.u).key("y").value(s.y).end_object();
      ok = client->publish(p.frame_topic, out, p.qos, false);
    } else {
      // The output is measured first and the controller answers: y then u, at one instant.
      ok = client->publish(p.y_topic, value_payload(s.y, s.t, p.bare), p.qos, false) &&
           client->publish(p.u_topic, value_payload(s.u, s.t, p.bare), p.qos, false);
    }
    if (!ok) ++refused;
  });
  client->stop(std::nullopt, std::chrono::milliseconds(1000));
  std::printf("[t=%.2fs] twin-sim: %llu samples published%s\n", wall_now() - t0,
              static_cast<unsigned long long>(k), refused ? " (some while disconnected)" : "");
  return 0;
}

}  // namespace twind::app
