#include "twind/app/cli.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cmath>
#include <fstream>
#include <iostream>
#include <memory>

#include "twind/app/fit.hpp"
#include "twind/app/http_server.hpp"
#include "twind/app/plot.hpp"
#include "twind/app/record.hpp"
#include "twind/app/replay.hpp"
#include "twind/app/run.hpp"
#include "twind/config/loader.hpp"
#include "twind/core/engine.hpp"
#include "twind/model/linear.hpp"
#include "twind_version.hpp"

namespace twind::app {
namespace {

constexpr int kOk = 0;
constexpr int kFailure = 1;
constexpr int kBadUsage = 2;

// Diagnostics go to stderr: stdout carries replay's output.
void init_logging(const std::string& level) {
  auto logger = spdlog::stderr_color_mt("twind");
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  logger->set_level(spdlog::level::from_str(level));
  spdlog::set_default_logger(logger);
}

// Loads and validates a configuration, printing every diagnostic. Empty on error.
std::optional<config::Config> load(const std::string& path) {
  config::LoadResult r = config::load_file(path);
  for (const config::Diagnostic& d : r.diagnostics) std::cerr << d.str() << '\n';
  if (!r.config) return std::nullopt;
  // The validator builds every model where it is written and reports a failure at its line; the
  // twins are built once here too, so that check refuses whatever replay or run would. Should
  // that ever find more, it has no position to give, and gives none rather than a made-up one.
  try {
    core::Engine probe(*r.config, 0.0);
  } catch (const model::ModelError& e) {
    std::cerr << path << ": the twins cannot be built from this configuration: " << e.what()
              << '\n';
    return std::nullopt;
  }
  return std::move(r.config);
}

int cmd_check(const std::string& path) {
  const auto config = load(path);
  if (!config) return kBadUsage;
  std::size_t assets = 0;
  std::size_t templates = 0;
  std::size_t discovering = 0;
  for (const auto& a : config->assets) {
    if (a.is_template()) {
      ++templates;
      assets += a.ids.size();
      if (a.discover) discovering += a.max_assets;
    } else {
      ++assets;
    }
  }
  const auto plural = [](std::size_t n, const char* word) {
    return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
  };
  std::cout << path << ": ok (" << plural(assets, "asset");
  if (templates > 0) std::cout << " and " << plural(templates, "template");
  if (discovering > 0) std::cout << ", up to " << discovering << " more by discovery";
  std::cout << ", tick " << config->tick * 1000.0 << " ms)\n";
  return kOk;
}

int cmd_replay(const std::string& config_path, const std::string& input, const std::string& output,
               const ReplayOptions& options) {
  const auto config = load(config_path);
  if (!config) return kBadUsage;

  std::ifstream in(input, std::ios::binary);
  if (!in) {
    spdlog::error("cannot read recording {}", input);
    return kFailure;
  }
  std::ofstream file;
  std::ostream* out = &std::cout;
  if (!output.empty()) {
    file.open(output, std::ios::binary | std::ios::trunc);
    if (!file) {
      spdlog::error("cannot write {}", output);
      return kFailure;
    }
    out = &file;
  }
  std::ios::sync_with_stdio(false);
  ReplayHooks hooks;
  hooks.warn = [&](const std::string& msg) { spdlog::warn("{}: {}", input, msg); };
  hooks.info = [&](const std::string& msg) { spdlog::info("{}: {}", input, msg); };
  hooks.alert = [](const std::string& msg) { spdlog::info("{}", msg); };
  const ReplaySummary summary = replay(*config, in, *out, hooks, options);
  if (!*out) {
    spdlog::error("writing the output failed");
    return kFailure;
  }
  // Not one recording line (an empty input is a recording of nothing, and fine): the wrong file,
  // most likely, and one line says so better than a warning for each of its lines.
  if (summary.records == 0 && summary.bad_lines > 0) {
    spdlog::error("{}: no line is a recording ({} lines, first bad {})", input, summary.lines,
                  summary.first_bad);
    return kBadUsage;
  }
  spdlog::info("replay: {}", summary.str());
  return kOk;
}

struct PlotArgs {
  std::string input;
  std::string output;
  std::string asset;
  std::string signal;
  std::vector<std::string> units;  // SIGNAL=UNIT
};

int cmd_plot(const PlotArgs& args) {
  PlotOptions options;
  for (const std::string& u : args.units) {
    const std::size_t eq = u.find('=');
    if (eq == 0 || eq == std::string::npos) {
      std::cerr << "--unit: got " << u << ", expected SIGNAL=UNIT (y=V)\n";
      return kBadUsage;
    }
    options.units.emplace_back(u.substr(0, eq), u.substr(eq + 1));
  }
  std::ifstream in(args.input, std::ios::binary);
  if (!in) {
    spdlog::error("cannot read {}", args.input);
    return kFailure;
  }
  const PlotInput data = read_replay_output(in);
  if (in.bad()) {
    spdlog::error("cannot read {}", args.input);
    return kFailure;
  }
  if (!data.ok()) {
    std::cerr << args.input;
    if (data.error_line > 0) std::cerr << ':' << data.error_line;
    std::cerr << ": " << data.error << '\n';
    return kBadUsage;
  }
  const Choice asset = choose_asset(data.assets, args.asset);
  if (asset.index >= data.assets.size()) {
    std::string known;
    for (const AssetPlot& a : data.assets) known += (known.empty() ? "" : ", ") + a.asset;
    std::cerr << args.input << ": no asset " << args.asset << " (assets: " << known << ")\n";
    return kBadUsage;
  }
  const AssetPlot& a = data.assets[asset.index];
  const Choice signal = choose_output(a, args.signal);
  if (signal.index >= a.outputs.size()) {
    std::string known;
    for (const OutputSeries& o : a.outputs) known += (known.empty() ? "" : ", ") + o.name;
    if (args.signal.empty()) {
      std::cerr << args.input << ": asset " << a.asset << " has no output in the data\n";
    } else {
      std::cerr << args.input << ": asset " << a.asset << " has no output " << args.signal
                << " (outputs: " << known << ")\n";
    }
    return kBadUsage;
  }
  options.signal = a.outputs[signal.index].name;
  options.source = args.input;
  const std::string svg = render_svg(a, options);

  std::ofstream file;
  std::ostream* out = &std::cout;
  if (!args.output.empty()) {
    file.open(args.output, std::ios::binary | std::ios::trunc);
    if (!file) {
      spdlog::error("cannot write {}", args.output);
      return kFailure;
    }
    out = &file;
  }
  out->write(svg.data(), static_cast<std::streamsize>(svg.size()));
  out->flush();
  if (!*out) {
    spdlog::error("writing the figure failed");
    return kFailure;
  }
  spdlog::info("plot: asset {} ({}), output {} ({}), {}: {} bytes to {}", a.asset, asset.why,
               options.signal, signal.why,
               a.traced ? std::to_string(a.trace_lines) + " trace lines"
                        : std::to_string(a.states) + " states (no trace lines)",
               svg.size(), args.output.empty() ? "standard output" : args.output);
  return kOk;
}

}  // namespace

int run_cli(int argc, char** argv) {
  CLI::App app{"twind: a digital twin of an industrial machine beside its MQTT broker", "twind"};
  app.set_version_flag("--version", std::string("twind ") + TWIND_VERSION);
  app.require_subcommand(1);
  std::string log_level = "info";
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error or off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));

  std::string config_path;
  bool print_keys = false;
  auto* check = app.add_subcommand("check", "Validate a configuration (exit 0 valid, 2 not)");
  auto* config_opt = check->add_option("-c,--config", config_path, "Configuration file");
  check->add_flag("--keys", print_keys,
                  "Print every configuration key as a Markdown table (docs/configuration.md)");
  check->callback([&] {
    if (!print_keys && config_opt->count() == 0) {
      throw CLI::RequiredError("--config");
    }
  });

  RunOptions run_opts;
  auto* run_cmd = app.add_subcommand("run",
                                     "Run every asset's twin live against the MQTT broker "
                                     "until SIGINT or SIGTERM (SIGHUP reloads)");
  run_cmd->add_option("-c,--config", run_opts.config_path, "Configuration file")->required();
  run_cmd->add_option("--broker", run_opts.broker_override,
                      "Broker URI, overriding the file's broker.uri, e.g. tcp://127.0.0.1:1883; "
                      "a cluster's nodes separated by commas");
  run_cmd->add_option("--member", run_opts.member,
                      "A replica's name, overriding the file's cluster.member (default: the host "
                      "name)");
  run_cmd
      ->add_option("--http", run_opts.http_listen,
                   "host:port for the dashboard, /state, /metrics and /healthz, or 'off'")
      ->capture_default_str();
  run_cmd
      ->add_option("--http-history", run_opts.http_history,
                   "States kept per asset for the dashboard's first draw of its page (0: none; "
                   "about 56 bytes each for a plant of one input and one output)")
      ->capture_default_str();
  run_cmd->add_option("--http-token-file", run_opts.http_token_file,
                      "Require the token in this file of every HTTP request but /healthz "
                      "(Authorization: Bearer, or the password of basic authentication)");
  auto* run_record =
      run_cmd->add_option("--record", run_opts.record_path,
                          "Also record every inbound message to this file (JSON Lines, as "
                          "`twind replay` reads)");
  run_cmd
      ->add_option("--max-bytes", run_opts.record_max_bytes,
                   "--record: size limit of the file before it rotates (100MiB, 1GB, 500000)")
      ->transform(CLI::AsSizeValue(false))
      ->check(CLI::PositiveNumber)
      ->needs(run_record);
  run_cmd
      ->add_option("--keep", run_opts.record_keep,
                   "--record: older files kept after rotation (FILE.1.jsonl, ...)")
      ->check(CLI::Range(0U, 1000U))
      ->needs(run_record);

  RecordOptions rec_opts;
  auto* record_cmd =
      app.add_subcommand("record",
                         "Record the traffic a configuration reads (JSON Lines, as `twind "
                         "replay` reads) until --duration or SIGINT or SIGTERM");
  record_cmd->add_option("-c,--config", rec_opts.config_path, "Configuration file")->required();
  record_cmd->add_option("-o,--output", rec_opts.output, "The recording to write")->required();
  record_cmd->add_option("--duration", rec_opts.duration, "Seconds to record; 0: until a signal")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  record_cmd->add_option(
      "--broker", rec_opts.broker_override,
      "Broker URI, overriding the file's broker.uri (a cluster's nodes separated by "
      "commas)");
  record_cmd
      ->add_option("--max-bytes", rec_opts.max_bytes,
                   "Size limit of the file before it rotates (100MiB, 1GB, 500000)")
      ->transform(CLI::AsSizeValue(false))
      ->check(CLI::PositiveNumber);
  record_cmd
      ->add_option("--keep", rec_opts.keep, "Older files kept after rotation (OUT.1.jsonl, ...)")
      ->capture_default_str()
      ->check(CLI::Range(0U, 1000U));

  std::string health_url = "http://127.0.0.1:9100/healthz";
  double health_timeout = 2.0;
  auto* health_cmd = app.add_subcommand(
      "health", "Probe a running twind's /healthz (exit 0 healthy, 1 not): for HEALTHCHECK");
  health_cmd->add_option("--url", health_url, "The URL to GET")->capture_default_str();
  health_cmd->add_option("--timeout", health_timeout, "Seconds to wait")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);

  std::string input;
  std::string output;
  auto* replay_cmd =
      app.add_subcommand("replay",
                         "Run the twins over a recording (JSON Lines) and print what "
                         "the daemon would publish");
  replay_cmd->add_option("-c,--config", config_path, "Configuration file")->required();
  replay_cmd->add_option("-i,--input", input, "Recording to replay")->required();
  replay_cmd->add_option("-o,--output", output, "Output file (default: standard output)");
  ReplayOptions replay_opts;
  replay_cmd->add_flag("--trace", replay_opts.trace,
                       "Also write a trace line for every sample the twins accept, with each "
                       "output's comparison (what `twind plot` draws)");

  PlotArgs plot_args;
  auto* plot_cmd = app.add_subcommand(
      "plot",
      "Draw a replay's output as a self-contained SVG: measured against predicted, divergence "
      "against the threshold with the alerts shaded, the inputs");
  plot_cmd->add_option("-i,--input", plot_args.input, "The output of `twind replay [--trace]`")
      ->required();
  plot_cmd->add_option("-o,--output", plot_args.output, "SVG file (default: standard output)");
  plot_cmd->add_option("--asset", plot_args.asset,
                       "The asset to draw (default: the only one, else the first with an alert)");
  plot_cmd->add_option("--signal", plot_args.signal,
                       "The output to draw (default: the one of the first divergence alert, else "
                       "the first)");
  plot_cmd->add_option("--unit", plot_args.units, "A signal's unit for its axis, SIGNAL=UNIT");

  FitOptions fit_opts;
  auto* fit_cmd = app.add_subcommand(
      "fit",
      "Identify each recorded asset's model from healthy operation and write the configuration "
      "with the fitted models (exit 2 when the data cannot identify them)");
  fit_cmd->add_option("-c,--config", fit_opts.config_path, "Configuration file")->required();
  fit_cmd->add_option("-i,--input", fit_opts.input, "Recording of healthy operation")->required();
  fit_cmd->add_option("-o,--output", fit_opts.output,
                      "Where to write the configuration (default: standard output)");
  fit_cmd->add_option("--asset", fit_opts.assets, "Only this asset (repeatable)");
  fit_cmd
      ->add_option("--order", fit_opts.order,
                   "Order of the fitted model (single-input single-output linear models)")
      ->check(CLI::Range(1, 8));
  fit_cmd
      ->add_option("--holdout", fit_opts.holdout,
                   "Share of the recording, at its end, kept to judge the fit on")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 0.5));
  fit_cmd->add_flag("--calibrate", fit_opts.calibrate,
                    "Also set each output's threshold and CUSUM from the healthy residuals");
  fit_cmd
      ->add_option("--false-alarms-per-year", fit_opts.false_alarms_per_year,
                   "False-alarm budget per asset for --calibrate")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? kOk : kBadUsage;
  }
  init_logging(log_level);

  try {
    if (*check && print_keys) {
      std::cout << config::key_table_markdown();
      return kOk;
    }
    if (*check) return cmd_check(config_path);
    if (*run_cmd) return run_daemon(run_opts);
    if (*record_cmd) return record_traffic(rec_opts);
    if (*health_cmd) {
      std::string error;
      const int rc = http_health_probe(
          health_url, std::chrono::milliseconds(std::lround(health_timeout * 1000.0)), &error);
      if (rc != 0) std::cerr << "unhealthy: " << error << '\n';
      return rc;
    }
    if (*replay_cmd) return cmd_replay(config_path, input, output, replay_opts);
    if (*plot_cmd) return cmd_plot(plot_args);
    if (*fit_cmd) {
      // With -o the report is the output; without, the configuration is, and the report goes
      // to stderr.
      return run_fit(fit_opts, std::cout, fit_opts.output.empty() ? std::cerr : std::cout);
    }
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return kFailure;
  }
  return kBadUsage;
}

}  // namespace twind::app
