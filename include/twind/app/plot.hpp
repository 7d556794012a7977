// `twind plot`: the figure of a replay's output (docs/interfaces.md, "Plots"). Three panels on
// one time axis: an output measured against the twin's prediction; the divergence |y - y_twin|
// against its threshold, alerts shaded; the inputs. Reading the output (PlotReader) and drawing
// (render_svg, a pure function of the series) are apart; no I/O here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace twind::app {

/// One sample of an output: NaN where a figure is not known (`predicted` and `residual` before
/// the twin compared, `threshold` where the output has none or it is not said).
struct OutputPoint {
  double t = 0.0;  ///< event time (traces) or tick (states), seconds
  double measured = 0.0;
  double predicted = 0.0;
  double residual = 0.0;
  double threshold = 0.0;
};

struct OutputSeries {
  std::string name;
  std::vector<OutputPoint> points;  ///< in time order
};

/// One point of a line: `v` NaN breaks the line there.
struct PlotPoint {
  double t = 0.0;
  double v = 0.0;
};

struct InputSeries {
  std::string name;
  std::vector<PlotPoint> points;  ///< in time order; each value held until the next
};

/// One alert, from its `raised` message to its `cleared` one.
struct AlertSpan {
  std::string id;      ///< divergence, stale or model_diverged
  std::string signal;  ///< the signal it concerns
  double begin = 0.0;  ///< the raise's ts (the start of the data when the raise is not in it)
  double end = 0.0;    ///< the clearing's ts (the end of the data while still raised)
  bool raised_seen = true;
  bool cleared = true;  ///< false: still raised at the end of the output
};

/// Everything the figure of one asset shows.
struct AssetPlot {
  std::string asset;
  std::vector<std::string> models;  ///< "NAME version V" of its states, in order, each once
  /// The series are the trace's (every sample the twin accepted); false: the states' (one point
  /// a tick).
  bool traced = false;
  std::vector<OutputSeries> outputs;  ///< in the order first met
  std::vector<InputSeries> inputs;
  std::vector<AlertSpan> alerts;  ///< in the order of their raise
  std::uint64_t states = 0;       ///< state messages read
  std::uint64_t trace_lines = 0;  ///< trace lines read
  /// The first and last time of the series and alerts.
  double t_first = 0.0;
  double t_last = 0.0;
};

/// Reads `twind replay`'s output line by line (with or without trace lines): states, alerts and
/// trace lines; other messages (diagnoses, model changes, replies) are passed over.
class PlotReader {
 public:
  PlotReader();
  ~PlotReader();
  PlotReader(const PlotReader&) = delete;
  PlotReader& operator=(const PlotReader&) = delete;

  /// One line, without its newline. Returns what is wrong with it, or an empty string.
  std::string add(std::string_view line);
  /// The assets met, in the order of their first line, each with its trace's series when it has
  /// trace lines, else its states'.
  std::vector<AssetPlot> finish();

 private:
  struct Asset;
  Asset& asset(std::string_view id);
  std::vector<Asset> assets_;
  std::unordered_map<std::string, std::size_t> index_;
};

struct PlotInput {
  std::vector<AssetPlot> assets;
  std::uint64_t lines = 0;
  std::uint64_t error_line = 0;  ///< the line of `error` (1-based); 0: of the input as a whole
  std::string error;             ///< what is wrong; empty: read
  [[nodiscard]] bool ok() const noexcept { return error.empty(); }
};

/// Reads a whole replay output; stops at the first bad line. An input without a single state or
/// trace line is refused as a whole (error_line 0).
PlotInput read_replay_output(std::istream& in);

/// Which asset to draw: `wanted` when given, else the only one, else the first with an alert,
/// else the first. `why` says which rule chose it; index == assets.size() when `wanted` is not
/// there.
struct Choice {
  std::size_t index = 0;
  std::string why;
};
Choice choose_asset(std::span<const AssetPlot> assets, std::string_view wanted);
/// Which output to draw (the signal of panels 1 and 2): `wanted` when given, else the signal of the
/// asset's first divergence alert, else its first output; index == outputs.size() when there is
/// none or `wanted` is not one of them.
Choice choose_output(const AssetPlot& asset, std::string_view wanted);

/// The points of a line to draw when `columns` pixel columns span [t_begin, t_end]: in each
/// column the smallest and the largest value (the first of equal ones), in time order, so that
/// no extreme is lost however many samples share a pixel. A NaN value (a break) is kept, once
/// between two runs.
std::vector<PlotPoint> thin_per_column(std::span<const PlotPoint> points, double t_begin,
                                       double t_end, std::size_t columns);

struct PlotOptions {
  std::string signal;  ///< the output to draw (see choose_output)
  std::string source;  ///< the input's name, for the caption
  std::vector<std::pair<std::string, std::string>> units;  ///< signal -> unit, for the axes
};

/// The figure as a self-contained SVG document (no script, no external reference; viewBox
/// 0 0 1200 800). Pure: the same series give the same bytes.
std::string render_svg(const AssetPlot& asset, const PlotOptions& options);

/// Pixel columns of the time axis: at most two points per column per line (thin_per_column).
inline constexpr std::size_t kPlotColumns = 1080;

}  // namespace twind::app
