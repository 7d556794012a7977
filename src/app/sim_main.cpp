// twin-sim: the physical plant emulator. The seed plant G(s)=1/(s+1) under a PI controller,
// published over MQTT in real time (--broker) or written as a recording (--record), with wear
// injected at a chosen time by hot-swapping the plant model. With --fleet N, a load generator:
// N independent seed plants publishing frames on plant/<id>/frame.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <limits>
#include <stdexcept>
#include <thread>
#include <vector>

#include "twind/codec/json_writer.hpp"
#include "twind/mqtt/client.hpp"
#include "twind/sim/fleet.hpp"
#include "twind/sim/machine.hpp"
#include "twind/sim/recording.hpp"
#include "twind_version.hpp"

namespace {

std::atomic<bool> g_stop{false};
extern "C" void on_signal(int) {
  g_stop = true;
}

double wall_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

class Quiet final : public twind::mqtt::Handler {
 public:
  void on_connected() override { connected = true; }
  void on_disconnected(const std::string& cause) override {
    if (connected.exchange(false))
      std::fprintf(stderr, "twin-sim: lost the broker: %s\n", cause.c_str());
  }
  void on_message(std::string_view, std::string_view) override {}
  std::atomic<bool> connected{false};
};

struct Publishing {
  std::string broker;
  std::string client_id = "twin-sim";
  std::string u_topic = "plant/u";
  std::string y_topic = "plant/y";
  std::string frame_topic;
  bool bare = false;
  int qos = 0;
  double connect_timeout = 10.0;
};

std::string value_payload(double v, double ts, bool bare) {
  std::string out;
  if (bare) {
    twind::codec::append_json_number(out, v);
    return out;
  }
  twind::codec::JsonWriter w(out);
  w.begin_object().key("value").value(v).key("ts").value(ts).end_object();
  return out;
}

// Connects and waits (bounded) for the connection; empty when the broker cannot be reached.
std::unique_ptr<twind::mqtt::Client> connect(const Publishing& p, Quiet& handler) {
  twind::mqtt::ConnectOptions o;
  o.uri = p.broker;
  o.client_id = p.client_id;
  auto client = twind::mqtt::make_paho_client(o);
  client->start(handler);
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::duration<double>(p.connect_timeout);
  while (!handler.connected && !g_stop && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
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

const char* wear_name(twind::sim::WearMode m) {
  switch (m) {
    case twind::sim::WearMode::bearing:
      return "bearing wear: imbalance coefficient";
    case twind::sim::WearMode::fouling:
      return "fouling: thermal resistance";
    case twind::sim::WearMode::friction:
      return "friction: mechanical time constant";
    case twind::sim::WearMode::none:
      break;
  }
  return "none";
}

// The rotating machine, one frame per sample on the frame topic, paced in real time.
int run_live_machine(const twind::sim::MachineScenario& sc, double duration, const Publishing& p) {
  Quiet handler;
  auto client = connect(p, handler);
  if (!client) return 1;
  const double t0 = wall_now();
  const auto start = std::chrono::steady_clock::now();
  twind::sim::MachineSim machine(sc, t0);
  std::printf("[t=0.00s] twin-sim: rotating machine at %g rpm, load %g, every %g ms on %s\n",
              sc.speed_command, sc.load, sc.dt * 1000.0, p.frame_topic.c_str());
  std::fflush(stdout);
  const std::uint64_t samples = sample_count(duration, sc.dt);
  std::uint64_t k = 0;
  for (; k < samples && !g_stop; ++k) {
    std::this_thread::sleep_until(start +
                                  std::chrono::duration<double>(static_cast<double>(k) * sc.dt));
    const twind::sim::MachineSample s = machine.step();
    if (s.wear_injected) {
      std::printf("[t=%.2fs] wear injected: %s x %g (unix time %.3f)\n", s.t - t0,
                  wear_name(sc.wear), sc.wear_factor, s.t);
      std::fflush(stdout);
    }
    std::string out;
    twind::codec::JsonWriter w(out);
    w.begin_object().key("ts").value(s.t).key("speed_command").value(s.speed_command);
    w.key("load").value(s.load).key("rpm").value(s.rpm).key("temperature").value(s.temperature);
    w.key("vibration").value(s.vibration).end_object();
    client->publish(p.frame_topic, out, p.qos, false);
  }
  client->stop(std::nullopt, std::chrono::milliseconds(1000));
  std::printf("[t=%.2fs] twin-sim: %llu samples published\n", wall_now() - t0,
              static_cast<unsigned long long>(k));
  return 0;
}

// The fleet: every sample at its due time on the wall clock (t0 = the wall clock at the start),
// everything already due published at once when the loop falls behind.
int run_live_fleet(twind::sim::FleetOptions options, double duration, const Publishing& p) {
  Quiet handler;
  auto client = connect(p, handler);
  if (!client) return 1;
  options.t0 = wall_now();
  const auto start = std::chrono::steady_clock::now();
  twind::sim::FleetSim fleet(options);
  const std::size_t n = fleet.size();
  std::vector<std::string> topics(n);
  for (std::size_t i = 0; i < n; ++i) topics[i] = "plant/" + fleet.asset_id(i) + "/frame";
  std::printf(
      "[t=0.00s] twin-sim: fleet of %zu plants G(s)=1/(s%+g) at %g Hz, frames on "
      "plant/%s/frame .. plant/%s/frame\n",
      n, -options.nominal_pole, options.rate, fleet.asset_id(0).c_str(),
      fleet.asset_id(n - 1).c_str());
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
  twind::sim::FleetSample s;
  std::string payload;
  while (!g_stop) {
    const double due = fleet.next_due() - options.t0;
    if (due >= end) break;
    const auto due_at = start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                    std::chrono::duration<double>(due));
    auto now = std::chrono::steady_clock::now();
    if (due_at > now) {
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
    twind::sim::append_fleet_frame(payload, s);
    if (!client->publish(topics[s.asset], payload, p.qos, false)) ++refused;
    ++samples;
  }
  client->stop(std::nullopt, std::chrono::milliseconds(2000));
  const twind::mqtt::ClientStats stats = client->stats();
  // One line, key=value, for bench/fleet.sh. `lost`: accepted by the client but never handed to
  // the connection (e.g. queued when the connection dropped).
  const std::uint64_t lost = stats.dropped > refused ? stats.dropped - refused : 0;
  std::fprintf(stderr,
               "twin-sim: fleet summary: assets=%zu rate=%g seconds=%.2f samples=%llu "
               "published=%llu refused=%llu lost=%llu late=%llu\n",
               n, options.rate, wall_now() - options.t0, static_cast<unsigned long long>(samples),
               static_cast<unsigned long long>(stats.published),
               static_cast<unsigned long long>(refused), static_cast<unsigned long long>(lost),
               static_cast<unsigned long long>(late));
  return 0;
}

int run_live(const twind::sim::Scenario& sc, double duration, const Publishing& p) {
  Quiet handler;
  auto client = connect(p, handler);
  if (!client) return 1;

  const double t0 = wall_now();
  const auto start = std::chrono::steady_clock::now();
  twind::sim::ClosedLoop loop(sc, t0);
  std::printf(
      "[t=0.00s] twin-sim: G(s)=%g/(s%+g) under PI (Kp=%g, Ki=%g) every %g ms on %s\n",
      sc.nominal.gain, -sc.nominal.pole, sc.controller.kp, sc.controller.ki, sc.dt * 1000.0,
      p.frame_topic.empty() ? (p.u_topic + ", " + p.y_topic).c_str() : p.frame_topic.c_str());
  std::fflush(stdout);
  const std::uint64_t samples = sample_count(duration, sc.dt);
  std::uint64_t k = 0;
  std::uint64_t refused = 0;
  for (; k < samples && !g_stop; ++k) {
    std::this_thread::sleep_until(start +
                                  std::chrono::duration<double>(static_cast<double>(k) * sc.dt));
    const twind::sim::Sample s = loop.step();
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
      twind::codec::JsonWriter w(out);
      w.begin_object().key("ts").value(s.t).key("u").value(s.u).key("y").value(s.y).end_object();
      ok = client->publish(p.frame_topic, out, p.qos, false);
    } else {
      // The output is measured first and the controller answers: y then u, at one instant.
      ok = client->publish(p.y_topic, value_payload(s.y, s.t, p.bare), p.qos, false) &&
           client->publish(p.u_topic, value_payload(s.u, s.t, p.bare), p.qos, false);
    }
    if (!ok) ++refused;
  }
  client->stop(std::nullopt, std::chrono::milliseconds(1000));
  std::printf("[t=%.2fs] twin-sim: %llu samples published%s\n", wall_now() - t0,
              static_cast<unsigned long long>(k), refused ? " (some while disconnected)" : "");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "twin-sim: emulates the seed plant G(s)=1/(s+1) under a PI controller (Kp=4, "
      "Ki=1.2, output clamped to +-15, setpoint 3), with wear injected by hot-swapping "
      "the plant's model",
      "twin-sim"};
  app.set_version_flag("--version", std::string("twin-sim ") + TWIND_VERSION);
  twind::sim::Scenario sc;
  twind::sim::RecordingOptions rec;
  Publishing pub;
  std::string record_path;
  double duration = 8.0;
  auto* broker = app.add_option("--broker", pub.broker,
                                "Publish live to this MQTT broker, e.g. "
                                "tcp://127.0.0.1:1883");
  auto* record = app.add_option("--record", record_path,
                                "Instead, write the run as a recording "
                                "(JSON Lines) to FILE at full speed "
                                "('-' for stdout)");
  broker->excludes(record);
  app.add_option("--duration", duration, "Seconds to run (live: 0 runs until SIGINT or SIGTERM)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--wear-at", sc.wear_at,
                 "Seconds after the start at which the plant wears "
                 "(negative: never)")
      ->capture_default_str();
  app.add_option("--wear-pole", sc.worn.pole, "Plant pole after the wear")->capture_default_str();
  app.add_option("--wear-gain", sc.worn.gain, "Plant gain after the wear")->capture_default_str();
  app.add_option("--dt", sc.dt, "Controller and sample period, seconds")
      ->capture_default_str()
      ->check(CLI::Range(0.001, 10.0));
  app.add_option("--noise", sc.noise_std, "Standard deviation of measurement noise on y")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--seed", sc.seed, "Noise seed")->capture_default_str();
  app.add_option("--t0", rec.t0, "Recording only: Unix time of the first sample")
      ->capture_default_str();
  app.add_option("--u-topic", pub.u_topic, "Topic of the control input")->capture_default_str();
  app.add_option("--y-topic", pub.y_topic, "Topic of the plant output")->capture_default_str();
  app.add_option("--frame-topic", pub.frame_topic,
                 "Publish frames {ts,u,y} on this topic instead of the u and y topics");
  app.add_flag("--bare", pub.bare,
               "Publish bare numbers without ts (twind then uses the arrival "
               "time; broker latency shows up as residual noise)");
  app.add_option("--qos", pub.qos, "QoS of the telemetry")
      ->capture_default_str()
      ->check(CLI::Range(0, 1));
  app.add_option("--client-id", pub.client_id, "MQTT client id")->capture_default_str();
  std::string plant = "seed";
  app.add_option("--plant", plant,
                 "seed: G(s)=1/(s+1) under PI on u/y; machine: the rotating "
                 "machine (speed, temperature, vibration) in frames")
      ->capture_default_str()
      ->check(CLI::IsMember({"seed", "machine"}));
  twind::sim::MachineScenario msc;
  std::string wear_mode = "bearing";
  app.add_option("--wear", wear_mode,
                 "Machine only: bearing (imbalance), fouling (thermal "
                 "resistance) or friction (mechanical time constant)")
      ->capture_default_str()
      ->check(CLI::IsMember({"bearing", "fouling", "friction"}));
  app.add_option("--wear-factor", msc.wear_factor,
                 "Machine only: multiplier of the worn "
                 "parameter")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--speed", msc.speed_command, "Machine only: initial speed command, rpm")
      ->capture_default_str();
  app.add_option("--load", msc.load, "Machine only: load fraction")->capture_default_str();
  app.add_option("--noise-rpm", msc.noise_rpm, "Machine only: noise on rpm")->capture_default_str();
  app.add_option("--noise-temp", msc.noise_temp, "Machine only: noise on temperature, degC")
      ->capture_default_str();
  app.add_option("--noise-vib", msc.noise_vib, "Machine only: noise on vibration, mm/s")
      ->capture_default_str();
  twind::sim::FleetOptions fleet;
  fleet.wear_assets = 10;
  auto* fleet_opt =
      app.add_option("--fleet", fleet.assets,
                     "Fleet mode, live only: N independent seed plants G(s)=1/(s+1), open loop, "
                     "each with its own piecewise-constant input in [0, 5], publishing frames "
                     "{ts,u,y} on plant/<id>/frame (ids p00000, p00001, ...), QoS 0 unless "
                     "--qos, samples spread evenly over the period. Prints a summary line to "
                     "stderr on exit (published, refused by the client, late by > 100 ms)")
          ->check(CLI::Range(std::size_t{1}, std::size_t{1000000}));
  fleet_opt->excludes(record);
  app.add_option("--rate", fleet.rate, "Fleet only: samples per second of each plant, Hz")
      ->capture_default_str()
      ->check(CLI::Range(0.001, 1000.0));
  app.add_option("--wear-assets", fleet.wear_assets,
                 "Fleet only: the first K plants wear (pole -1 -> --wear-pole) at --wear-at, "
                 "which a fleet needs explicitly (without it nothing wears); default min(10, N)")
      ->check(CLI::NonNegativeNumber);
  CLI11_PARSE(app, argc, argv);

  if (fleet_opt->count() > 0) {
    if (pub.broker.empty()) {
      std::cerr << "twin-sim: --fleet needs --broker URI\n";
      return 2;
    }
    fleet.wear_at = app.count("--wear-at") > 0 ? sc.wear_at : -1.0;
    fleet.worn_pole = sc.worn.pole;
    fleet.noise_std = sc.noise_std;
    fleet.seed = sc.seed;
    if (app.count("--wear-assets") == 0)
      fleet.wear_assets = std::min<std::size_t>(10, fleet.assets);
    try {
      const twind::sim::FleetSim check(fleet);  // bad options are usage errors, before connecting
    } catch (const std::invalid_argument& e) {
      std::cerr << "twin-sim: " << e.what() << '\n';
      return 2;
    }
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    try {
      return run_live_fleet(fleet, duration, pub);
    } catch (const std::exception& e) {
      std::cerr << "twin-sim: " << e.what() << '\n';
      return 1;
    }
  }

  if (plant == "machine") {
    msc.dt = app.count("--dt") > 0 ? sc.dt : 0.1;
    msc.wear_at = sc.wear_at;
    msc.seed = sc.seed;
    msc.wear = wear_mode == "fouling"    ? twind::sim::WearMode::fouling
               : wear_mode == "friction" ? twind::sim::WearMode::friction
                                         : twind::sim::WearMode::bearing;
    if (pub.frame_topic.empty()) pub.frame_topic = "machine/pump1/frame";
    if (pub.broker.empty() && record_path.empty()) {
      std::cerr << "twin-sim: say where to: --broker URI or --record FILE\n";
      return 2;
    }
    try {
      if (!pub.broker.empty()) {
        std::signal(SIGINT, on_signal);
        std::signal(SIGTERM, on_signal);
        return run_live_machine(msc, duration, pub);
      }
      if (duration <= 0.0) {
        std::cerr << "twin-sim: --record needs a --duration > 0\n";
        return 2;
      }
      twind::sim::MachineRecordingOptions mopt;
      mopt.t0 = rec.t0;
      mopt.duration = duration;
      mopt.frame_topic = pub.frame_topic;
      std::string out;
      twind::sim::record_machine(msc, mopt, out);
      if (record_path == "-") {
        std::cout << out;
        return 0;
      }
      std::ofstream f(record_path, std::ios::binary | std::ios::trunc);
      f << out;
      return f ? 0 : 1;
    } catch (const std::exception& e) {
      std::cerr << "twin-sim: " << e.what() << '\n';
      return 2;
    }
  }

  if (pub.broker.empty() && record_path.empty()) {
    std::cerr << "twin-sim: say where to: --broker URI or --record FILE\n";
    return 2;
  }
  if (!pub.broker.empty()) {
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    try {
      return run_live(sc, duration, pub);
    } catch (const std::exception& e) {
      std::cerr << "twin-sim: " << e.what() << '\n';
      return 1;
    }
  }

  if (duration <= 0.0) {
    std::cerr << "twin-sim: --record needs a --duration > 0\n";
    return 2;
  }
  rec.duration = duration;
  rec.u_topic = pub.u_topic;
  rec.y_topic = pub.y_topic;
  rec.frame_topic = pub.frame_topic;
  std::string out;
  const auto summary = twind::sim::record(sc, rec, out);
  if (record_path == "-") {
    std::cout << out;
  } else {
    std::ofstream f(record_path, std::ios::binary | std::ios::trunc);
    f << out;
    if (!f) {
      std::cerr << "twin-sim: cannot write " << record_path << '\n';
      return 1;
    }
  }
  std::cerr << "twin-sim: " << summary.samples << " samples";
  if (summary.wear_time >= 0.0) {
    std::fprintf(stderr, ", wear injected at t=%.2fs: pole %g -> %g", summary.wear_time - rec.t0,
                 sc.nominal.pole, sc.worn.pole);
  }
  std::cerr << '\n';
  return 0;
}
