// `twind fit`: a recording of healthy operation -> each asset's model identified (and, with
// calibrate, its detection set for a false-alarm budget) -> the configuration rewritten.
#pragma once

#include <cstddef>
#include <iosfwd>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "twind/config/config.hpp"
#include "twind/ident/fit.hpp"

namespace twind::app {

struct FitOptions {
  std::string config_path;
  std::string input;                ///< the recording
  std::string output;               ///< the rewritten configuration; empty: standard output
  std::vector<std::string> assets;  ///< only these (ids); empty: every asset in the recording
  std::optional<std::size_t> order;
  double holdout = 0.3;
  bool calibrate = false;
  double false_alarms_per_year = 1.0;
  double cusum_k = 0.5;
};

/// The samples of a recording, per asset, as the twins would take them: routed by the
/// configuration's topics (templates' by their pattern, any valid id), decoded as the engine
/// decodes them, stamped with their `ts` or else their arrival, values outside a signal's bounds
/// and samples older than their asset's latest left out (the twin refuses them too).
struct RecordedAssets {
  struct Asset {
    std::size_t entry = 0;  ///< index into Config::assets
    ident::Series series;
  };
  std::map<std::string, Asset> assets;  ///< by id
  std::size_t lines = 0;
  std::size_t bad_lines = 0;  ///< not a recording line
  std::size_t unrouted = 0;   ///< a topic no asset reads (e.g. what twind published)
  std::size_t refused = 0;    ///< payloads or values the twin would refuse
};
[[nodiscard]] RecordedAssets read_recording(const config::Config& config, std::istream& in);

/// Runs the command: the report goes to `report`, the configuration to options.output (or to
/// `yaml` when that is empty). Returns the exit code: 0 done, 1 an I/O failure, 2 a bad
/// configuration or recording, an asset missing from it, or data the fit refuses.
int run_fit(const FitOptions& options, std::ostream& yaml, std::ostream& report);

}  // namespace twind::app
