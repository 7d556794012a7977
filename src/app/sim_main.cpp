// twin-sim: the plant emulator. This build writes the scenario as a recording (--record); the
// MQTT publisher arrives with the live daemon.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <iostream>

#include "twind/sim/recording.hpp"
#include "twind_version.hpp"

int main(int argc, char** argv) {
  CLI::App app{"twin-sim: emulates the seed plant G(s)=1/(s+1) under a PI controller", "twin-sim"};
  app.set_version_flag("--version", std::string("twin-sim ") + TWIND_VERSION);
  twind::sim::Scenario sc;
  twind::sim::RecordingOptions opt;
  std::string record_path;
  app.add_option("--record", record_path,
                 "Write the run as a recording (JSON Lines) to FILE, "
                 "as fast as it computes ('-' for stdout)")
      ->required();
  app.add_option("--duration", opt.duration, "Seconds to run")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--wear-at", sc.wear_at,
                 "Seconds after the start at which the plant wears "
                 "(negative: never)")
      ->capture_default_str();
  app.add_option("--wear-pole", sc.worn.pole, "Plant pole after the wear")->capture_default_str();
  app.add_option("--wear-gain", sc.worn.gain, "Plant gain after the wear")->capture_default_str();
  app.add_option("--dt", sc.dt, "Controller and sample period, seconds")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--noise", sc.noise_std, "Standard deviation of measurement noise on y")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--seed", sc.seed, "Noise seed")->capture_default_str();
  app.add_option("--t0", opt.t0, "Unix time of the first sample")->capture_default_str();
  app.add_option("--frame-topic", opt.frame_topic,
                 "Publish frames {ts,u,y} on this topic instead of plant/u and plant/y");
  CLI11_PARSE(app, argc, argv);

  std::string out;
  const auto summary = twind::sim::record(sc, opt, out);
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
    std::fprintf(stderr, ", wear injected at t=%.2fs: pole %g -> %g", summary.wear_time - opt.t0,
                 sc.nominal.pole, sc.worn.pole);
  }
  std::cerr << '\n';
  return 0;
}
