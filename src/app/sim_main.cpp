// twin-sim: the physical plant emulator. The seed plant G(s)=1/(s+1) under a PI controller,
// published over MQTT in real time (--broker) or written as a recording (--record), with wear
// injected at a chosen time by hot-swapping the plant model. With --fleet N, a load generator:
// N independent seed plants publishing frames on plant/<id>/frame (with --bare, bare numbers on
// plant/<id>/u and plant/<id>/y). The live runs are in sim_live.cpp; this file reads the command
// line and picks one.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <stdexcept>

#include "sim_live.hpp"
#include "twind/mqtt/broker_uri.hpp"
#include "twind/sim/recording.hpp"
#include "twind_version.hpp"

namespace {

namespace sim = twind::sim;
using twind::app::Publishing;

constexpr int kOk = 0;
constexpr int kFailure = 1;
constexpr int kUsage = 2;

std::atomic<bool> g_stop{false};
extern "C" void on_signal(int) {
  g_stop = true;
}
void stop_on_signals() {
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
}

// Everything the command line sets.
struct Options {
  sim::Scenario seed;
  sim::RecordingOptions rec;
  Publishing pub;
  std::string record_path;
  double duration = 8.0;
  std::string plant = "seed";
  sim::MachineScenario machine;
  std::string wear_mode = "bearing";
  sim::FleetOptions fleet;
  CLI::Option* broker = nullptr;
  CLI::Option* fleet_size = nullptr;
};

void add_common_options(CLI::App& app, Options& o) {
  o.broker = app.add_option("--broker", o.pub.broker,
                            "Publish live to this MQTT broker, e.g. tcp://127.0.0.1:1883 (a "
                            "cluster's nodes separated by commas)")
                 ->check(CLI::Validator(
                     [](const std::string& text) -> std::string {
                       for (const std::string& uri : twind::mqtt::split_broker_uris(text)) {
                         const auto parsed = twind::mqtt::BrokerUri::parse(uri);
                         if (!parsed.uri) return "got " + uri + ", expected " + parsed.expected;
                       }
                       return "";
                     },
                     "URI[,URI...]"));
  auto* record =
      app.add_option("--record", o.record_path,
                     "Instead, write the run as a recording (JSON Lines) to FILE at full "
                     "speed ('-' for stdout)");
  o.broker->excludes(record);
  app.add_option("--duration", o.duration, "Seconds to run (live: 0 runs until SIGINT or SIGTERM)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--wear-at", o.seed.wear_at,
                 "Seconds after the start at which the plant wears (negative: never)")
      ->capture_default_str();
  app.add_option("--wear-pole", o.seed.worn.pole, "Plant pole after the wear")
      ->capture_default_str();
  app.add_option("--wear-gain", o.seed.worn.gain, "Plant gain after the wear")
      ->capture_default_str();
  app.add_option("--wear-drift", o.seed.drift,
                 "Seconds over which pole and gain move to their worn values (0: at once)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--wear-sensor-gain", o.seed.sensor_gain,
                 "From --wear-at on, the sensor measures this times y (plus --wear-sensor-bias)")
      ->capture_default_str();
  app.add_option("--wear-sensor-bias", o.seed.sensor_bias,
                 "From --wear-at on, this is added to the measured y")
      ->capture_default_str();
  app.add_option("--dt", o.seed.dt, "Controller and sample period, seconds")
      ->capture_default_str()
      ->check(CLI::Range(0.001, 10.0));
  app.add_option("--noise", o.seed.noise_std, "Standard deviation of measurement noise on y")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--seed", o.seed.seed, "Noise seed")->capture_default_str();
  app.add_option("--t0", o.rec.t0, "Recording only: Unix time of the first sample")
      ->capture_default_str();
  app.add_option("--u-topic", o.pub.u_topic, "Topic of the control input")->capture_default_str();
  app.add_option("--y-topic", o.pub.y_topic, "Topic of the plant output")->capture_default_str();
  app.add_option("--frame-topic", o.pub.frame_topic,
                 "Publish frames {ts,u,y} on this topic instead of the u and y topics");
  app.add_flag("--bare", o.pub.bare,
               "Publish bare numbers without ts (twind then uses the arrival time; broker "
               "latency shows up as residual noise); with --fleet, u on plant/<id>/u then y on "
               "plant/<id>/y for every sample instead of frames");
  app.add_option("--qos", o.pub.qos, "QoS of the telemetry")
      ->capture_default_str()
      ->check(CLI::Range(0, 1));
  app.add_option("--client-id", o.pub.client_id, "MQTT client id")->capture_default_str();
  app.add_option("--plant", o.plant,
                 "seed: G(s)=1/(s+1) under PI on u/y; machine: the rotating machine (speed, "
                 "temperature, vibration) in frames")
      ->capture_default_str()
      ->check(CLI::IsMember({"seed", "machine"}));
}

void add_machine_options(CLI::App& app, Options& o) {
  app.add_option("--wear", o.wear_mode,
                 "Machine only: bearing (imbalance), fouling (thermal resistance) or friction "
                 "(mechanical time constant)")
      ->capture_default_str()
      ->check(CLI::IsMember({"bearing", "fouling", "friction"}));
  app.add_option("--wear-factor", o.machine.wear_factor,
                 "Machine only: multiplier of the worn parameter")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--speed", o.machine.speed_command, "Machine only: initial speed command, rpm")
      ->capture_default_str();
  app.add_option("--load", o.machine.load, "Machine only: load fraction")->capture_default_str();
  app.add_option("--noise-rpm", o.machine.noise_rpm, "Machine only: noise on rpm")
      ->capture_default_str();
  app.add_option("--noise-temp", o.machine.noise_temp, "Machine only: noise on temperature, degC")
      ->capture_default_str();
  app.add_option("--noise-vib", o.machine.noise_vib, "Machine only: noise on vibration, mm/s")
      ->capture_default_str();
}

void add_fleet_options(CLI::App& app, Options& o) {
  o.fleet.wear_assets = 10;
  o.fleet_size =
      app.add_option("--fleet", o.fleet.assets,
                     "Fleet mode, live only: N independent seed plants G(s)=1/(s+1), open loop, "
                     "each with its own piecewise-constant input in [0, 5], publishing frames "
                     "{ts,u,y} on plant/<id>/frame (ids p00000, p00001, ...), or with --bare "
                     "u then y as bare numbers on plant/<id>/u and plant/<id>/y, QoS 0 unless "
                     "--qos, samples spread evenly over the period. Prints a summary line to "
                     "stderr on exit (published, refused by the client, late by > 100 ms)")
          ->check(CLI::Range(std::size_t{1}, std::size_t{1000000}));
  o.fleet_size->excludes("--record");
  app.add_option("--rate", o.fleet.rate, "Fleet only: samples per second of each plant, Hz")
      ->capture_default_str()
      ->check(CLI::Range(0.001, 1000.0));
  app.add_option("--wear-assets", o.fleet.wear_assets,
                 "Fleet only: the first K plants wear (pole -1 -> --wear-pole) at --wear-at, "
                 "which a fleet needs explicitly (without it nothing wears); default min(10, N)")
      ->check(CLI::NonNegativeNumber);
}

// A recording to FILE, or to stdout for "-".
int write_recording(const std::string& path, const std::string& text) {
  if (path == "-") {
    std::cout << text;
    return kOk;
  }
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << text;
  if (!f) {
    std::cerr << "twin-sim: cannot write " << path << '\n';
    return kFailure;
  }
  return kOk;
}

// Exactly one of --broker and --record, and a recording needs an end.
int check_destination(const Options& o) {
  if (o.pub.broker.empty() && o.record_path.empty()) {
    std::cerr << "twin-sim: say where to: --broker URI or --record FILE\n";
    return kUsage;
  }
  if (o.pub.broker.empty() && o.duration <= 0.0) {
    std::cerr << "twin-sim: --record needs a --duration > 0\n";
    return kUsage;
  }
  return kOk;
}

int run_fleet(const CLI::App& app, Options& o) {
  if (o.pub.broker.empty()) {
    std::cerr << "twin-sim: --fleet needs --broker URI\n";
    return kUsage;
  }
  o.fleet.wear_at = app.count("--wear-at") > 0 ? o.seed.wear_at : -1.0;
  o.fleet.worn_pole = o.seed.worn.pole;
  o.fleet.noise_std = o.seed.noise_std;
  o.fleet.seed = o.seed.seed;
  if (app.count("--wear-assets") == 0) {
    o.fleet.wear_assets = std::min<std::size_t>(10, o.fleet.assets);
  }
  try {
    const sim::FleetSim check(o.fleet);  // bad options are usage errors, before connecting
  } catch (const std::invalid_argument& e) {
    std::cerr << "twin-sim: " << e.what() << '\n';
    return kUsage;
  }
  stop_on_signals();
  return twind::app::run_live_fleet(o.fleet, o.duration, o.pub, g_stop);
}

int run_machine(const CLI::App& app, Options& o) {
  o.machine.dt = app.count("--dt") > 0 ? o.seed.dt : 0.1;
  o.machine.wear_at = o.seed.wear_at;
  o.machine.seed = o.seed.seed;
  o.machine.wear = o.wear_mode == "fouling"    ? sim::WearMode::fouling
                   : o.wear_mode == "friction" ? sim::WearMode::friction
                                               : sim::WearMode::bearing;
  if (o.pub.frame_topic.empty()) o.pub.frame_topic = "machine/pump1/frame";
  if (const int code = check_destination(o); code != kOk) return code;
  if (!o.pub.broker.empty()) {
    stop_on_signals();
    return twind::app::run_live_machine(o.machine, o.duration, o.pub, g_stop);
  }
  sim::MachineRecordingOptions mopt;
  mopt.t0 = o.rec.t0;
  mopt.duration = o.duration;
  mopt.frame_topic = o.pub.frame_topic;
  std::string out;
  sim::record_machine(o.machine, mopt, out);
  return write_recording(o.record_path, out);
}

int run_seed(Options& o) {
  if (const int code = check_destination(o); code != kOk) return code;
  if (!o.pub.broker.empty()) {
    stop_on_signals();
    return twind::app::run_live_seed(o.seed, o.duration, o.pub, g_stop);
  }
  o.rec.duration = o.duration;
  o.rec.u_topic = o.pub.u_topic;
  o.rec.y_topic = o.pub.y_topic;
  o.rec.frame_topic = o.pub.frame_topic;
  std::string out;
  const auto summary = sim::record(o.seed, o.rec, out);
  if (const int code = write_recording(o.record_path, out); code != kOk) return code;
  std::cerr << "twin-sim: " << summary.samples << " samples";
  if (summary.wear_time >= 0.0) {
    std::fprintf(stderr, ", wear injected at t=%.2fs: pole %g -> %g", summary.wear_time - o.rec.t0,
                 o.seed.nominal.pole, o.seed.worn.pole);
  }
  std::cerr << '\n';
  return kOk;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "twin-sim: emulates the seed plant G(s)=1/(s+1) under a PI controller (Kp=4, "
      "Ki=1.2, output clamped to +-15, setpoint 3), with wear injected by hot-swapping "
      "the plant's model",
      "twin-sim"};
  app.set_version_flag("--version", std::string("twin-sim ") + TWIND_VERSION);
  Options o;
  add_common_options(app, o);
  add_machine_options(app, o);
  add_fleet_options(app, o);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // app.exit() prints CLI11's message (or the help, or the version); every bad usage exits 2,
    // as twind's do, rather than with CLI11's own code for its kind (105, 108, 109, ...).
    return app.exit(e) == 0 ? kOk : kUsage;
  }
  try {
    if (o.fleet_size->count() > 0) return run_fleet(app, o);
    if (o.plant == "machine") return run_machine(app, o);
    return run_seed(o);
  } catch (const std::invalid_argument& e) {
    // A scenario the simulator refuses (e.g. the machine's parameters) is bad usage.
    std::cerr << "twin-sim: " << e.what() << '\n';
    return kUsage;
  } catch (const std::exception& e) {
    std::cerr << "twin-sim: " << e.what() << '\n';
    return kFailure;
  }
}
