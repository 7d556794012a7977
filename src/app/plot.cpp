#include "twind/app/plot.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <initializer_list>
#include <istream>
#include <limits>

#include "twind/json/scanner.hpp"

namespace twind::app {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// ---------------------------------------------------------------------------------------------
// Reading: one JSON line into a small tree (replay's lines are small and few levels deep).

struct Value {
  enum class Kind : std::uint8_t { null, boolean, number, string, array, object };
  Kind kind = Kind::null;
  bool flag = false;
  double number = 0.0;
  std::string text;
  std::vector<Value> items;
  std::vector<std::pair<std::string, Value>> members;

  // A member given twice counts once, the last (as everywhere twind reads JSON).
  [[nodiscard]] const Value* find(std::string_view key) const {
    for (auto it = members.rbegin(); it != members.rend(); ++it) {
      if (it->first == key) return &it->second;
    }
    return nullptr;
  }
};

class Parser {
 public:
  explicit Parser(std::string_view text) : s_(text) {}

  bool document(Value& out) {
    s_.skip_ws();
    if (!value(out, 0)) return false;
    s_.skip_ws();
    return s_.at_end() || fail("trailing characters after the JSON value");
  }
  [[nodiscard]] const std::string& error() const noexcept { return error_; }

 private:
  bool fail(std::string why) {
    if (error_.empty()) error_ = std::move(why);
    return false;
  }
  bool syntax() { return fail("not valid JSON at column " + std::to_string(s_.offset() + 1)); }
  bool word(std::string_view w) {
    for (const char c : w) {
      if (!s_.consume(c)) return false;
    }
    return true;
  }

  bool value(Value& out, int depth) {
    switch (s_.peek()) {
      case '{':
      case '[':
        if (depth >= json::kMaxDepth) return fail("JSON nested too deep");
        return container(out, depth + 1, s_.peek() == '{');
      case '"': {
        std::string_view v;
        if (!s_.string(v, &buf_)) return syntax();
        out.kind = Value::Kind::string;
        out.text.assign(v);
        return true;
      }
      case 't':
      case 'f':
        out.kind = Value::Kind::boolean;
        out.flag = s_.peek() == 't';
        return word(out.flag ? "true" : "false") || syntax();
      case 'n':
        out.kind = Value::Kind::null;
        return word("null") || syntax();
      default:
        break;
    }
    const std::size_t at = s_.offset();
    switch (s_.number(out.number)) {
      case json::NumberScan::ok:
        out.kind = Value::Kind::number;
        return true;
      case json::NumberScan::overflow:
        return fail("a number too large for a double at column " + std::to_string(at + 1));
      case json::NumberScan::syntax:
        break;
    }
    return syntax();
  }

  // An object's members or an array's items.
  bool container(Value& out, int depth, bool object) {
    const char close = object ? '}' : ']';
    s_.consume(object ? '{' : '[');
    out.kind = object ? Value::Kind::object : Value::Kind::array;
    s_.skip_ws();
    if (s_.consume(close)) return true;
    for (;;) {
      s_.skip_ws();
      std::string key;
      if (object) {
        std::string_view k;
        if (s_.peek() != '"' || !s_.string(k, &buf_)) return syntax();
        key.assign(k);
        s_.skip_ws();
        if (!s_.consume(':')) return syntax();
        s_.skip_ws();
      }
      Value v;
      if (!value(v, depth)) return false;
      if (object) {
        out.members.emplace_back(std::move(key), std::move(v));
      } else {
        out.items.push_back(std::move(v));
      }
      s_.skip_ws();
      if (s_.consume(',')) continue;
      if (s_.consume(close)) return true;
      return syntax();
    }
  }

  json::Scanner s_;
  std::string buf_;
  std::string error_;
};

// Members of the objects replay writes. Each sets `why` (`"ts" is not a number`, prefixed by
// where it is) and returns false when the member is missing or of another type.
class Fields {
 public:
  Fields(const Value& object, std::string where, std::string& why)
      : object_(object), where_(std::move(where)), why_(why) {}

  bool text(std::string_view key, std::string& out) {
    const Value* v = object_.find(key);
    if (v == nullptr || v->kind != Value::Kind::string) return fail(key, "a string");
    out = v->text;
    return true;
  }
  bool number(std::string_view key, double& out) {
    const Value* v = object_.find(key);
    if (v == nullptr || v->kind != Value::Kind::number) return fail(key, "a number");
    out = v->number;
    return true;
  }
  // A number, or null (NaN) where replay says a figure is not known.
  bool number_or_null(std::string_view key, double& out) {
    const Value* v = object_.find(key);
    if (v != nullptr && v->kind == Value::Kind::null) {
      out = kNaN;
      return true;
    }
    if (v == nullptr || v->kind != Value::Kind::number) return fail(key, "a number or null");
    out = v->number;
    return true;
  }

 private:
  bool fail(std::string_view key, std::string_view what) {
    const Value* v = object_.find(key);
    why_ = where_ + ": \"" + std::string(key) + "\" " +
           (v == nullptr ? std::string("is missing") : "is not " + std::string(what));
    return false;
  }

  const Value& object_;
  std::string where_;
  std::string& why_;
};

template <typename Series>
Series& series_named(std::vector<Series>& all, std::string_view name) {
  for (Series& s : all) {
    if (s.name == name) return s;
  }
  all.push_back(Series{std::string(name), {}});
  return all.back();
}

template <typename Series>
void sort_by_time(std::vector<Series>& all) {
  for (Series& s : all) {
    const auto earlier = [](const auto& a, const auto& b) { return a.t < b.t; };
    if (!std::is_sorted(s.points.begin(), s.points.end(), earlier)) {
      std::stable_sort(s.points.begin(), s.points.end(), earlier);
    }
  }
}

}  // namespace

struct PlotReader::Asset {
  AssetPlot plot;  // the trace's series go in plot.outputs and plot.inputs
  std::vector<OutputSeries> state_outputs;
  std::vector<InputSeries> state_inputs;
  std::vector<std::pair<std::string, std::size_t>> open;  // id + '\n' + signal -> plot.alerts
};

PlotReader::PlotReader() = default;
PlotReader::~PlotReader() = default;

PlotReader::Asset& PlotReader::asset(std::string_view id) {
  const auto [it, added] = index_.try_emplace(std::string(id), assets_.size());
  if (added) {
    assets_.emplace_back();
    assets_.back().plot.asset = std::string(id);
  }
  return assets_[it->second];
}

namespace {

// A trace line: `{"trace": {"asset", "ts", "signal", "value"}}` (an input) or with "measured",
// "predicted", "residual", "threshold" (an output).
std::string read_trace(const Value& trace, std::string& id, std::string& signal, double& ts,
                       bool& output, OutputPoint& point) {
  std::string why;
  if (trace.kind != Value::Kind::object) return "\"trace\" is not an object";
  Fields f(trace, "trace", why);
  if (!f.text("asset", id) || !f.number("ts", ts) || !f.text("signal", signal)) return why;
  point.t = ts;
  if (trace.find("measured") != nullptr) {
    output = true;
    if (!f.number("measured", point.measured) || !f.number_or_null("predicted", point.predicted) ||
        !f.number_or_null("residual", point.residual) ||
        !f.number_or_null("threshold", point.threshold)) {
      return why;
    }
    return {};
  }
  if (trace.find("value") == nullptr) {
    return R"(trace: neither "value" (an input) nor "measured" (an output))";
  }
  output = false;
  if (!f.number("value", point.measured)) return why;
  return {};
}

}  // namespace

std::string PlotReader::add(std::string_view line) {
  if (line.find_first_not_of(" \t\r") == std::string_view::npos) return {};
  Value doc;
  Parser parser(line);
  if (!parser.document(doc)) return parser.error();
  if (doc.kind != Value::Kind::object) return "not a JSON object";

  if (const Value* trace = doc.find("trace")) {
    std::string id;
    std::string signal;
    double ts = 0.0;
    bool output = false;
    OutputPoint p;
    if (std::string why = read_trace(*trace, id, signal, ts, output, p); !why.empty()) return why;
    Asset& a = asset(id);
    ++a.plot.trace_lines;
    if (output) {
      series_named(a.plot.outputs, signal).points.push_back(p);
    } else {
      series_named(a.plot.inputs, signal).points.push_back({ts, p.measured});
    }
    return {};
  }

  const Value* topic = doc.find("topic");
  const Value* payload = doc.find("payload");
  if (topic == nullptr || payload == nullptr) {
    return R"(neither a message line ({"t", "topic", "payload"}) nor a trace line ({"trace": {...}}): not twind replay's output?)";
  }
  if (topic->kind != Value::Kind::string) return "\"topic\" is not a string";
  if (payload->kind != Value::Kind::object) {
    return "\"payload\" is not a JSON object: a recording, not twind replay's output?";
  }
  std::string why;
  const std::string where = "message on " + topic->text;
  Fields f(*payload, where, why);
  std::string id;
  double ts = 0.0;

  const Value* signals = payload->find("signals");
  if (signals != nullptr && payload->find("seq") != nullptr) {  // a state
    if (!f.text("asset", id) || !f.number("ts", ts)) return why;
    if (signals->kind != Value::Kind::object) return where + ": \"signals\" is not an object";
    double divergence = kNaN;
    double threshold = kNaN;
    if (!f.number_or_null("divergence", divergence) || !f.number_or_null("threshold", threshold)) {
      return why;
    }
    Asset& a = asset(id);
    ++a.plot.states;
    if (const Value* model = payload->find("model"); model != nullptr) {
      std::string name;
      std::string version;
      Fields m(*model, where + ": model", why);
      if (model->kind != Value::Kind::object || !m.text("name", name) ||
          !m.text("version", version)) {
        return why.empty() ? where + ": \"model\" is not an object" : why;
      }
      std::string label = name + " version " + version;
      if (a.plot.models.empty() || a.plot.models.back() != label) {
        a.plot.models.push_back(std::move(label));
      }
    }
    for (const auto& [name, s] : signals->members) {
      const std::string at = where + ": signals." + name;
      if (s.kind != Value::Kind::object) return at + " is not an object";
      Fields g(s, at, why);
      if (s.find("measured") != nullptr) {
        OutputPoint p{ts, kNaN, kNaN, kNaN, kNaN};
        if (!g.number_or_null("measured", p.measured) ||
            !g.number_or_null("predicted", p.predicted) ||
            !g.number_or_null("residual", p.residual)) {
          return why;
        }
        // The state's threshold is the one of the output its divergence is (AssetTwin::
        // divergence: |residual| of that output, the same double).
        if (std::abs(p.residual) == divergence) p.threshold = threshold;
        OutputSeries& out = series_named(a.state_outputs, name);
        if (!std::isnan(p.measured)) out.points.push_back(p);
      } else if (s.find("value") != nullptr) {
        double v = kNaN;
        if (!g.number_or_null("value", v)) return why;
        InputSeries& in = series_named(a.state_inputs, name);
        if (!std::isnan(v)) in.points.push_back({ts, v});
      } else {
        return at + R"(: neither "value" (an input) nor "measured" (an output))";
      }
    }
    return {};
  }

  const Value* state = payload->find("state");
  if (state != nullptr && state->kind == Value::Kind::string && payload->find("id") != nullptr &&
      (state->text == "raised" || state->text == "cleared")) {  // an alert
    std::string alert;
    std::string signal;
    if (!f.text("asset", id) || !f.number("ts", ts) || !f.text("id", alert) ||
        !f.text("signal", signal)) {
      return why;
    }
    Asset& a = asset(id);
    const std::string key = alert + '\n' + signal;
    const auto open =
        std::find_if(a.open.begin(), a.open.end(), [&](const auto& o) { return o.first == key; });
    if (state->text == "raised") {
      if (open != a.open.end()) return {};  // raised twice: the first raise stands
      a.open.emplace_back(key, a.plot.alerts.size());
      a.plot.alerts.push_back({alert, signal, ts, kNaN, true, false});
    } else if (open != a.open.end()) {
      AlertSpan& span = a.plot.alerts[open->second];
      span.end = ts;
      span.cleared = true;
      a.open.erase(open);
    } else {
      // Raised before the output begins.
      a.plot.alerts.push_back({alert, signal, kNaN, ts, false, true});
    }
    return {};
  }
  return {};  // diagnoses, model changes, command replies: not drawn
}

std::vector<AssetPlot> PlotReader::finish() {
  std::vector<AssetPlot> out;
  out.reserve(assets_.size());
  for (Asset& a : assets_) {
    AssetPlot& p = a.plot;
    p.traced = p.trace_lines > 0;
    if (!p.traced) {
      p.outputs = std::move(a.state_outputs);
      p.inputs = std::move(a.state_inputs);
    }
    sort_by_time(p.outputs);
    sort_by_time(p.inputs);
    double first = std::numeric_limits<double>::infinity();
    double last = -std::numeric_limits<double>::infinity();
    const auto see = [&](double t) {
      if (!std::isfinite(t)) return;
      first = std::min(first, t);
      last = std::max(last, t);
    };
    for (const OutputSeries& s : p.outputs) {
      if (!s.points.empty()) {
        see(s.points.front().t);
        see(s.points.back().t);
      }
    }
    for (const InputSeries& s : p.inputs) {
      if (!s.points.empty()) {
        see(s.points.front().t);
        see(s.points.back().t);
      }
    }
    for (const AlertSpan& s : p.alerts) {
      see(s.begin);
      see(s.end);
    }
    if (!std::isfinite(first)) first = last = 0.0;
    p.t_first = first;
    p.t_last = last;
    for (AlertSpan& s : p.alerts) {
      if (!s.raised_seen) s.begin = first;
      if (!s.cleared) s.end = last;
    }
    out.push_back(std::move(p));
  }
  assets_.clear();
  index_.clear();
  return out;
}

PlotInput read_replay_output(std::istream& in) {
  PlotInput r;
  PlotReader reader;
  std::string line;
  while (std::getline(in, line)) {
    ++r.lines;
    if (std::string why = reader.add(line); !why.empty()) {
      r.error_line = r.lines;
      r.error = std::move(why);
      return r;
    }
  }
  r.assets = reader.finish();
  const bool any = std::any_of(r.assets.begin(), r.assets.end(), [](const AssetPlot& a) {
    return a.states > 0 || a.trace_lines > 0;
  });
  if (!any) {
    r.error = "no twin state and no trace line in " + std::to_string(r.lines) +
              " lines: not twind replay's output?";
  }
  return r;
}

Choice choose_asset(std::span<const AssetPlot> assets, std::string_view wanted) {
  const std::size_t n = assets.size();
  if (!wanted.empty()) {
    for (std::size_t i = 0; i < n; ++i) {
      if (assets[i].asset == wanted) return {i, "--asset"};
    }
    return {n, {}};
  }
  if (n <= 1) return {0, "the only asset"};
  const std::string of = " of " + std::to_string(n) + " assets";
  for (std::size_t i = 0; i < n; ++i) {
    if (!assets[i].alerts.empty()) return {i, "the first" + of + " with an alert"};
  }
  return {0, "the first" + of + ", none with an alert"};
}

Choice choose_output(const AssetPlot& asset, std::string_view wanted) {
  const std::vector<OutputSeries>& outs = asset.outputs;
  const auto find = [&](std::string_view name) {
    return static_cast<std::size_t>(
        std::find_if(outs.begin(), outs.end(),
                     [&](const OutputSeries& s) { return s.name == name; }) -
        outs.begin());
  };
  if (!wanted.empty()) return {find(wanted), "--signal"};
  for (const AlertSpan& a : asset.alerts) {
    if (a.id != "divergence") continue;
    if (const std::size_t i = find(a.signal); i < outs.size()) {
      return {i, "the signal of the first divergence alert"};
    }
  }
  if (outs.size() == 1) return {0, "the only output"};
  return {0, "the first output, none with a divergence alert"};
}

std::vector<PlotPoint> thin_per_column(std::span<const PlotPoint> points, double t_begin,
                                       double t_end, std::size_t columns) {
  std::vector<PlotPoint> out;
  const double span = t_end - t_begin;
  const double scale =
      span > 0.0 && columns > 0 ? static_cast<double>(columns) / span : 0.0;  // columns/s
  const double last_column = columns > 0 ? static_cast<double>(columns - 1) : 0.0;
  const auto column = [&](double t) {
    return std::clamp(std::floor((t - t_begin) * scale), 0.0, last_column);
  };
  const std::size_t n = points.size();
  std::size_t i = 0;
  while (i < n) {
    if (std::isnan(points[i].v)) {
      if (!out.empty() && !std::isnan(out.back().v)) out.push_back(points[i]);
      ++i;
      continue;
    }
    const double c = column(points[i].t);
    std::size_t lo = i;
    std::size_t hi = i;
    std::size_t j = i + 1;
    for (; j < n && !std::isnan(points[j].v) && column(points[j].t) == c; ++j) {
      if (points[j].v < points[lo].v) lo = j;
      if (points[j].v > points[hi].v) hi = j;
    }
    out.push_back(points[std::min(lo, hi)]);
    if (lo != hi) out.push_back(points[std::max(lo, hi)]);
    i = j;
  }
  if (!out.empty() && std::isnan(out.back().v)) out.pop_back();
  return out;
}

// ---------------------------------------------------------------------------------------------
// Drawing.

namespace {

constexpr double kWidth = 1200.0;
constexpr double kHeight = 800.0;
constexpr double kLeft = 90.0;
constexpr double kPlotWidth = static_cast<double>(kPlotColumns);
// A line breaks where its samples are further apart than this many times their median interval
// (an outage, a restart), rather than drawing a straight line across what was not measured.
constexpr double kGapFactor = 10.0;

struct Box {
  double x = 0.0;
  double y = 0.0;
  double w = 0.0;
  double h = 0.0;
};

struct Range {
  double lo = 0.0;
  double hi = 1.0;
};

// Text as XML character data or attribute value: markup escaped, and what XML 1.0 cannot hold
// (control characters, U+FFFE, U+FFFF) replaced by '?'. The input is UTF-8 (the JSON scanner
// checked it).
std::string xml(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '&':
        out += "&amp;";
        continue;
      case '<':
        out += "&lt;";
        continue;
      case '>':
        out += "&gt;";
        continue;
      case '"':
        out += "&quot;";
        continue;
      case '\'':
        out += "&apos;";
        continue;
      default:
        break;
    }
    if ((u < 0x20 && c != '\t' && c != '\n') || u == 0x7f) {
      out += '?';
    } else if (u == 0xEF && i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0xBF &&
               (static_cast<unsigned char>(s[i + 2]) & 0xFE) == 0xBE) {
      out += '?';
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

// A coordinate or figure in fixed notation with at most `decimals` decimals, trailing zeros
// dropped; never NaN or infinity (callers pass finite values; 0 stands in otherwise).
void put(std::string& out, double v, int decimals) {
  if (!std::isfinite(v)) v = 0.0;
  std::array<char, 400> buf{};
  const auto r =
      std::to_chars(buf.data(), buf.data() + buf.size(), v, std::chars_format::fixed, decimals);
  std::string_view s(buf.data(), static_cast<std::size_t>(r.ptr - buf.data()));
  if (s.find('.') != std::string_view::npos) {
    while (s.back() == '0') s.remove_suffix(1);
    if (s.back() == '.') s.remove_suffix(1);
  }
  if (s == "-0") s = "0";
  out += s;
}

std::string num(double v, int decimals) {
  std::string s;
  put(s, v, decimals);
  return s;
}

// The shortest text that reads back to the same double: exact times in attributes.
std::string exact(double v) {
  if (!std::isfinite(v)) return "0";
  std::array<char, 64> buf{};
  const auto r = std::to_chars(buf.data(), buf.data() + buf.size(), v);
  return {buf.data(), r.ptr};
}

double nice_step(double span, double target) {
  const double raw = span / target;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double f = raw / mag;
  const double m = f < 1.5 ? 1.0 : f < 3.0 ? 2.0 : f < 7.0 ? 5.0 : 10.0;
  return m * mag;
}

struct Ticks {
  std::vector<double> at;
  double step = 1.0;
};

Ticks ticks(Range r, double target) {
  Ticks t;
  t.step = nice_step(r.hi - r.lo, target);
  const double first = std::ceil(r.lo / t.step - 1e-9);
  for (int k = 0; k < 50; ++k) {
    const double v = (first + k) * t.step;
    if (v > r.hi + 1e-9 * t.step) break;
    t.at.push_back(v);
  }
  return t;
}

std::string tick_label(double v, double step) {
  if (std::abs(v) < step * 1e-9) v = 0.0;
  const double big = std::max(std::abs(v), step);
  std::array<char, 64> buf{};
  if (big >= 1e6 || step < 1e-4) {
    std::snprintf(buf.data(), buf.size(), "%.3g", v);
  } else {
    const int decimals = std::max(0, static_cast<int>(-std::floor(std::log10(step) + 1e-9)));
    std::snprintf(buf.data(), buf.size(), "%.*f", decimals, v);
  }
  return buf.data();
}

// The range of `values` (finite ones), padded by 5 % (from 0 when `from_zero`).
Range range_of(const std::vector<double>& values, bool from_zero) {
  double lo = std::numeric_limits<double>::infinity();
  double hi = -lo;
  for (const double v : values) {
    if (!std::isfinite(v)) continue;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  if (!std::isfinite(lo)) return {0.0, 1.0};
  if (from_zero) lo = std::min(lo, 0.0);
  if (!(hi - lo > 1e-12 * std::max(1.0, std::abs(hi)))) {
    const double pad = hi != 0.0 ? std::abs(hi) * 0.1 : 1.0;
    return {from_zero && lo == 0.0 ? 0.0 : lo - pad, hi + pad};
  }
  const double pad = (hi - lo) * 0.05;
  return {from_zero && lo == 0.0 ? 0.0 : lo - pad, hi + pad};
}

double median_interval(std::span<const PlotPoint> points) {
  std::vector<double> gaps;
  gaps.reserve(points.size());
  for (std::size_t i = 1; i < points.size(); ++i) {
    const double g = points[i].t - points[i - 1].t;
    if (g > 0.0) gaps.push_back(g);
  }
  if (gaps.empty()) return 0.0;
  const auto mid = gaps.begin() + static_cast<std::ptrdiff_t>(gaps.size() / 2);
  std::nth_element(gaps.begin(), mid, gaps.end());
  return *mid;
}

// `points` with a break (NaN) wherever two samples are further apart than kGapFactor median
// intervals.
std::vector<PlotPoint> with_gaps(std::vector<PlotPoint> points) {
  const double usual = median_interval(points);
  if (usual <= 0.0) return points;
  std::vector<PlotPoint> out;
  out.reserve(points.size());
  for (std::size_t i = 0; i < points.size(); ++i) {
    if (i > 0 && points[i].t - points[i - 1].t > kGapFactor * usual) {
      out.push_back({points[i].t, kNaN});
    }
    out.push_back(points[i]);
  }
  return out;
}

struct Axis {
  double t0 = 0.0;
  double t1 = 1.0;
  Box box;
  [[nodiscard]] double x(double t) const { return box.x + (t - t0) / (t1 - t0) * box.w; }
};

double y_of(const Box& b, Range r, double v) {
  return b.y + b.h - (v - r.lo) / (r.hi - r.lo) * b.h;
}

// A line through the points, broken at NaN, thinned to the pixel columns.
std::string line_path(const std::vector<PlotPoint>& points, const Axis& ax, const Box& b, Range r) {
  const std::vector<PlotPoint> thin = thin_per_column(points, ax.t0, ax.t1, kPlotColumns);
  std::string d;
  bool pen = false;
  bool alone = false;  // the subpath so far is one point
  for (const PlotPoint& p : thin) {
    if (std::isnan(p.v)) {
      if (alone) d += "h0";
      pen = false;
      continue;
    }
    d += pen ? " " : "M";
    put(d, ax.x(p.t), 1);
    d += ',';
    put(d, y_of(b, r, p.v), 1);
    alone = !pen;
    pen = true;
  }
  if (pen && alone) d += "h0";
  return d;
}

// A value held from each point to the next (an input, a threshold), to `t_end`; NaN: none.
std::string step_path(const std::vector<PlotPoint>& points, double t_end, const Axis& ax,
                      const Box& b, Range r) {
  const std::vector<PlotPoint> thin = thin_per_column(points, ax.t0, ax.t1, kPlotColumns);
  std::string d;
  bool pen = false;
  double held = kNaN;
  for (std::size_t i = 0; i < thin.size(); ++i) {
    const PlotPoint& p = thin[i];
    if (pen && p.v == held) continue;  // the same level goes on
    const double x = ax.x(p.t);
    if (pen) {
      d += 'H';
      put(d, x, 1);
    }
    if (std::isnan(p.v)) {
      pen = false;
      held = kNaN;
      continue;
    }
    if (pen) {
      d += 'V';
      put(d, y_of(b, r, p.v), 1);
    } else {
      d += 'M';
      put(d, x, 1);
      d += ',';
      put(d, y_of(b, r, p.v), 1);
    }
    pen = true;
    held = p.v;
  }
  if (pen) {
    d += 'H';
    put(d, ax.x(t_end), 1);
  }
  return d;
}

std::string with_unit(std::string_view label, const PlotOptions& o, std::string_view signal) {
  for (const auto& [name, unit] : o.units) {
    if (name == signal && !unit.empty()) return std::string(label) + " (" + unit + ")";
  }
  return std::string(label);
}

// The UTC time of `t` as `2024-11-21 14:40:00.000 UTC`, for Unix times; empty otherwise.
std::string utc(double t) {
  if (!(t > 0.0 && t < 1e11)) return {};
  const double whole = std::floor(t);
  const auto secs = static_cast<std::time_t>(whole);
  std::tm tm{};
  if (gmtime_r(&secs, &tm) == nullptr) return {};
  std::array<char, 64> buf{};
  const auto ms = std::min(999L, std::lround((t - whole) * 1000.0));
  std::snprintf(buf.data(), buf.size(), "%04d-%02d-%02d %02d:%02d:%02d.%03ld UTC",
                tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
  return buf.data();
}

class Svg {
 public:
  std::string out;

  void text(double x, double y, std::string_view cls, std::string_view content,
            std::string_view anchor = {}) {
    out += "<text x=\"";
    put(out, x, 1);
    out += "\" y=\"";
    put(out, y, 1);
    out += "\" class=\"";
    out += cls;
    out += '"';
    if (!anchor.empty()) {
      out += " text-anchor=\"";
      out += anchor;
      out += '"';
    }
    out += '>';
    out += xml(content);
    out += "</text>\n";
  }

  void path(std::string_view cls, const std::string& d) {
    if (d.empty()) return;
    out += "<path class=\"";
    out += cls;
    out += "\" d=\"";
    out += d;
    out += "\"/>\n";
  }

  void rect(const Box& b, std::string_view cls) {
    out += "<rect class=\"";
    out += cls;
    out += "\" x=\"";
    put(out, b.x, 1);
    out += "\" y=\"";
    put(out, b.y, 1);
    out += "\" width=\"";
    put(out, b.w, 1);
    out += "\" height=\"";
    put(out, b.h, 1);
    out += "\"/>\n";
  }

  void hline(double x1, double x2, double y, std::string_view cls) {
    out += "<path class=\"";
    out += cls;
    out += "\" d=\"M";
    put(out, x1, 1);
    out += ',';
    put(out, y, 1);
    out += 'H';
    put(out, x2, 1);
    out += "\"/>\n";
  }

  void vline(double x, double y1, double y2, std::string_view cls, int decimals = 1) {
    out += "<path class=\"";
    out += cls;
    out += "\" d=\"M";
    put(out, x, decimals);
    out += ',';
    put(out, y1, 1);
    out += 'V';
    put(out, y2, 1);
    out += "\"/>\n";
  }
};

struct LegendItem {
  std::string cls;  // the line's class, or "swatch-..." for a filled box
  std::string label;
  bool box = false;
};

// The panel's heading at its top left and its legend at its top right, above the frame.
void heading(Svg& svg, const Box& b, std::string_view title, const std::vector<LegendItem>& items) {
  const double y = b.y - 8.0;
  svg.text(b.x, y, "head", title);
  constexpr double kChar = 7.4;  // width of a character at 12 px, at most about
  double x = b.x + b.w;
  for (auto it = items.rbegin(); it != items.rend(); ++it) {
    x -= static_cast<double>(it->label.size()) * kChar;
    svg.text(x, y, "leg", it->label);
    x -= 30.0;
    if (it->box) {
      svg.rect({x, y - 10.0, 24.0, 12.0}, it->cls);
    } else {
      svg.hline(x, x + 24.0, y - 4.0, it->cls);
    }
    x -= 16.0;
  }
}

// Frame, grid, ticks and the y label of one panel (or strip); x tick labels when `x_labels`.
// The label of a y axis, along it at the left.
void y_label_at(Svg& svg, const Box& b, std::string_view label) {
  svg.out += "<text class=\"lab\" text-anchor=\"middle\" transform=\"translate(";
  put(svg.out, 24.0, 1);
  svg.out += ',';
  put(svg.out, b.y + b.h / 2.0, 1);
  svg.out += ") rotate(-90)\">";
  svg.out += xml(label);
  svg.out += "</text>\n";
}

// `y_label` empty: none; `edge_labels` false: no tick label at the top or bottom edge, where a
// strip's would meet its neighbour's.
void axes(Svg& svg, const Axis& ax, const Box& b, Range r, std::string_view y_label, bool x_labels,
          double y_ticks, bool edge_labels = true) {
  const Ticks xt = ticks({ax.t0 - ax.t0, ax.t1 - ax.t0}, 8.0);
  for (const double v : xt.at) {
    const double x = ax.x(ax.t0 + v);
    svg.vline(x, b.y, b.y + b.h, "grid");
    if (x_labels) svg.text(x, b.y + b.h + 16.0, "tick", tick_label(v, xt.step), "middle");
  }
  const Ticks yt = ticks(r, y_ticks);
  for (const double v : yt.at) {
    const double y = y_of(b, r, v);
    svg.hline(b.x, b.x + b.w, y, "grid");
    if (edge_labels || (y > b.y + 6.0 && y < b.y + b.h - 6.0)) {
      svg.text(b.x - 6.0, y + 4.0, "tick", tick_label(v, yt.step), "end");
    }
  }
  svg.rect(b, "frame");
  if (!y_label.empty()) y_label_at(svg, b, y_label);
}

// The alert spans over a panel at their exact edges, the output's divergence alerts apart from
// the others (drawn beneath). Spans closer together than a pixel are drawn as one, from the first
// one's raise to the last one's end, so that an alert flapping for hours cannot swell the figure.
// With `detail`: each with its times (data-begin and data-end: the event times of its raise and of
// its end, exactly as replay wrote them) and a title, and a line at each edge.
void spans(Svg& svg, const AssetPlot& a, const Axis& ax, const Box& b, std::string_view output,
           bool detail) {
  const double pixel = (ax.t1 - ax.t0) / b.w;
  for (const bool ours : {false, true}) {
    std::vector<const AlertSpan*> group;
    for (const AlertSpan& s : a.alerts) {
      if ((s.id == "divergence" && s.signal == output) == ours) group.push_back(&s);
    }
    std::stable_sort(group.begin(), group.end(),
                     [](const AlertSpan* l, const AlertSpan* r) { return l->begin < r->begin; });
    for (std::size_t i = 0; i < group.size();) {
      const AlertSpan& first = *group[i];
      const AlertSpan* last = &first;
      std::size_t j = i + 1;
      for (; j < group.size() && group[j]->begin <= last->end + pixel; ++j) {
        if (group[j]->end >= last->end) last = group[j];
      }
      const std::size_t n = j - i;
      i = j;
      const double x1 = std::clamp(ax.x(first.begin), b.x, b.x + b.w);
      const double x2 = std::clamp(ax.x(last->end), x1, b.x + b.w);
      svg.out += "<rect class=\"";
      svg.out += ours ? "alert" : "other";
      svg.out += "\" x=\"";
      put(svg.out, x1, 3);
      svg.out += "\" y=\"";
      put(svg.out, b.y, 1);
      svg.out += "\" width=\"";
      put(svg.out, x2 - x1, 3);
      svg.out += "\" height=\"";
      put(svg.out, b.h, 1);
      if (!detail) {
        svg.out += "\"/>\n";
        continue;
      }
      if (n == 1) {
        svg.out += "\" data-alert=\"" + xml(first.id) + "\" data-signal=\"" + xml(first.signal);
      } else {
        svg.out += "\" data-count=\"" + std::to_string(n);
      }
      svg.out += "\" data-begin=\"" + exact(first.begin) + "\" data-end=\"" + exact(last->end) +
                 "\"><title>";
      std::string what;
      if (n == 1) {
        what = first.id + " alert on " + first.signal + ": ";
      } else if (ours) {
        what = std::to_string(n) + " divergence alerts on " + first.signal +
               ", closer together than a pixel: ";
      } else {
        what = std::to_string(n) + " alerts, closer together than a pixel: ";
      }
      what += first.raised_seen ? "raised at " + num(first.begin - ax.t0, 3) + " s"
                                : "raised before the output begins";
      what += last->cleared ? ", cleared at " + num(last->end - ax.t0, 3) + " s"
                            : ", still raised at the end";
      svg.out += xml(what);
      svg.out += "</title></rect>\n";
      if (first.raised_seen) svg.vline(x1, b.y, b.y + b.h, ours ? "edge" : "oedge", 3);
      if (last->cleared) svg.vline(x2, b.y, b.y + b.h, ours ? "edge" : "oedge", 3);
    }
  }
}

void clip(Svg& svg, const std::string& id, const Box& b) {
  svg.out += "<clipPath id=\"" + id + "\">";
  svg.rect({b.x - 2.0, b.y - 2.0, b.w + 4.0, b.h + 4.0}, "clip");
  svg.out += "</clipPath>\n";
}

constexpr std::array<const char*, 4> kInputClasses{"in0", "in1", "in2", "in3"};

constexpr std::string_view kStyle =
    ".bg{fill:#fff}.clip{fill:#000}"
    ".frame{fill:none;stroke:#888;stroke-width:1}"
    ".grid{fill:none;stroke:#e8e8e8;stroke-width:1}"
    "text{font-family:sans-serif;fill:#222}"
    ".tick{font-size:11px;fill:#555}.lab{font-size:12px}.leg{font-size:12px}"
    ".strip{font-size:11px}.tag{fill:#fff;fill-opacity:0.85;stroke:none}"
    ".title{font-size:18px;font-weight:bold}.sub{font-size:12px;fill:#555}"
    ".head{font-size:13px;font-weight:bold}.none{font-size:13px;fill:#888}"
    "path{fill:none;stroke-linejoin:round;stroke-linecap:round}"
    ".meas{stroke:#1f77b4;stroke-width:2.6}"
    ".pred{stroke:#ff7f0e;stroke-width:1.3}"
    ".div{stroke:#9467bd;stroke-width:1.4}"
    ".thr{stroke:#d62728;stroke-width:1.3;stroke-dasharray:6 4;stroke-linecap:butt}"
    ".in0{stroke:#2ca02c;stroke-width:1.4}.in1{stroke:#8c564b;stroke-width:1.4}"
    ".in2{stroke:#17becf;stroke-width:1.4}.in3{stroke:#7f7f7f;stroke-width:1.4}"
    ".alert{fill:#d62728;fill-opacity:0.13;stroke:none}"
    ".other{fill:#7f7f7f;fill-opacity:0.15;stroke:none}"
    ".edge{stroke:#d62728;stroke-opacity:0.7;stroke-width:1}"
    ".oedge{stroke:#7f7f7f;stroke-opacity:0.7;stroke-width:1}";

}  // namespace

std::string render_svg(const AssetPlot& a, const PlotOptions& o) {
  const Choice chosen = choose_output(a, o.signal);
  const OutputSeries* out = chosen.index < a.outputs.size() ? &a.outputs[chosen.index] : nullptr;
  const std::string y = out != nullptr ? out->name : "y";

  Axis ax;
  ax.t0 = a.t_first;
  ax.t1 = a.t_last > a.t_first ? a.t_last : a.t_first + 1.0;

  const Box p1{kLeft, 84.0, kPlotWidth, 240.0};
  const Box p2{kLeft, 360.0, kPlotWidth, 170.0};
  const Box p3{kLeft, 566.0, kPlotWidth, 170.0};
  ax.box = p1;

  Svg svg;
  std::string& s = svg.out;
  s.reserve(64 * 1024);
  s += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  s += "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 1200 800\" width=\"1200\" "
       "height=\"800\">\n";
  std::string title = a.asset;
  if (a.models.size() == 1) {
    title += ": model " + a.models.front();
  } else if (!a.models.empty()) {
    title += ": models " + a.models.front();
    for (std::size_t i = 1; i < a.models.size(); ++i) title += ", then " + a.models[i];
  }
  s += "<title>" + xml(title) + "</title>\n";
  s += "<style>";
  s += kStyle;
  s += "</style>\n";
  svg.rect({0.0, 0.0, kWidth, kHeight}, "bg");
  svg.text(kLeft, 30.0, "title", title);

  std::string caption = o.source.empty() ? std::string() : o.source + ": ";
  if (a.traced) {
    const std::size_t n = out != nullptr ? out->points.size() : 0;
    caption += "every sample the twin took (" + std::to_string(n) + " of " + y + ")";
  } else {
    caption += "one point a tick (" + std::to_string(a.states) +
               " states; twind replay --trace gives every sample)";
  }
  if (const std::string when = utc(a.t_first); !when.empty()) {
    caption += "; time from the first sample, " + when;
  }
  svg.text(kLeft, 50.0, "sub", caption);

  // Series.
  std::vector<PlotPoint> measured;
  std::vector<PlotPoint> predicted;
  std::vector<PlotPoint> divergence;
  std::vector<PlotPoint> threshold;
  if (out != nullptr) {
    measured.reserve(out->points.size());
    predicted.reserve(out->points.size());
    divergence.reserve(out->points.size());
    for (const OutputPoint& p : out->points) {
      measured.push_back({p.t, p.measured});
      predicted.push_back({p.t, p.predicted});
      divergence.push_back({p.t, std::abs(p.residual)});
      threshold.push_back({p.t, p.threshold});
    }
  }
  measured = with_gaps(std::move(measured));
  predicted = with_gaps(std::move(predicted));
  divergence = with_gaps(std::move(divergence));

  const auto values = [](std::initializer_list<const std::vector<PlotPoint>*> lines) {
    std::vector<double> v;
    for (const auto* l : lines) {
      for (const PlotPoint& p : *l) v.push_back(p.v);
    }
    return v;
  };
  const bool any_threshold = std::any_of(threshold.begin(), threshold.end(),
                                         [](const PlotPoint& p) { return !std::isnan(p.v); });
  const bool any_ours = std::any_of(a.alerts.begin(), a.alerts.end(), [&](const AlertSpan& sp) {
    return sp.id == "divergence" && sp.signal == y;
  });
  const bool any_other = std::any_of(a.alerts.begin(), a.alerts.end(), [&](const AlertSpan& sp) {
    return !(sp.id == "divergence" && sp.signal == y);
  });
  const auto alert_legend = [&](std::vector<LegendItem>& items) {
    if (any_ours) items.push_back({"alert", "divergence alert", true});
    if (any_other) items.push_back({"other", "other alert", true});
  };

  // Panel 1: measured against predicted.
  {
    const Range r = range_of(values({&measured, &predicted}), false);
    s += "<g id=\"panel-output\">\n";
    const std::vector<LegendItem> legend{{"meas", y + " measured", false},
                                         {"pred", y + " predicted by the twin", false}};
    heading(svg, p1, "measured and predicted " + y, legend);
    spans(svg, a, ax, p1, y, false);
    axes(svg, ax, p1, r, with_unit(y, o, y), false, 5.0);
    clip(svg, "clip-output", p1);
    s += "<g clip-path=\"url(#clip-output)\">\n";
    svg.path("meas", line_path(measured, ax, p1, r));
    svg.path("pred", line_path(predicted, ax, p1, r));
    s += "</g>\n";
    if (out == nullptr || out->points.empty()) {
      svg.text(p1.x + p1.w / 2.0, p1.y + p1.h / 2.0, "none", "no output in the data", "middle");
    }
    s += "</g>\n";
  }

  // Panel 2: divergence against the threshold, alerts shaded.
  {
    const Range r = range_of(values({&divergence, &threshold}), true);
    s += "<g id=\"panel-divergence\">\n";
    std::vector<LegendItem> legend{{"div", "|" + y + " \u2212 " + y + "_twin|", false}};
    if (any_threshold) legend.push_back({"thr", "threshold", false});
    alert_legend(legend);
    heading(svg, p2, "divergence", legend);
    spans(svg, a, ax, p2, y, true);
    axes(svg, ax, p2, r, with_unit("|" + y + " \u2212 " + y + "_twin|", o, y), false, 4.0);
    clip(svg, "clip-divergence", p2);
    s += "<g clip-path=\"url(#clip-divergence)\">\n";
    svg.path("div", line_path(divergence, ax, p2, r));
    svg.path("thr", step_path(threshold, a.t_last, ax, p2, r));
    s += "</g>\n</g>\n";
  }

  // Panel 3: the inputs, one strip each with its own scale.
  {
    s += "<g id=\"panel-inputs\">\n";
    std::vector<LegendItem> legend;
    for (std::size_t i = 0; i < a.inputs.size(); ++i) {
      legend.push_back({kInputClasses[i % kInputClasses.size()], a.inputs[i].name, false});
    }
    heading(svg, p3, a.inputs.size() == 1 ? "input" : "inputs", legend);
    const std::size_t n = std::max<std::size_t>(1, a.inputs.size());
    // Several inputs: a strip each, named inside at its top left, "inputs" along the panel.
    const bool strips = n > 1;
    if (strips) y_label_at(svg, p3, "inputs");
    constexpr double kSeparation = 12.0;
    const double h = (p3.h - kSeparation * static_cast<double>(n - 1)) / static_cast<double>(n);
    for (std::size_t i = 0; i < n; ++i) {
      const Box b{p3.x, p3.y + static_cast<double>(i) * (h + kSeparation), p3.w, h};
      const bool last = i + 1 == n;
      spans(svg, a, ax, b, y, false);
      if (a.inputs.empty()) {
        axes(svg, ax, b, {0.0, 1.0}, "input", last, 4.0);
        svg.text(b.x + b.w / 2.0, b.y + b.h / 2.0, "none", "no input in the data", "middle");
        continue;
      }
      const InputSeries& in = a.inputs[i];
      std::vector<double> v;
      v.reserve(in.points.size());
      for (const PlotPoint& p : in.points) v.push_back(p.v);
      const Range r = range_of(v, false);
      const std::string label = with_unit(in.name, o, in.name);
      axes(svg, ax, b, r, strips ? std::string() : label, last,
           std::max(2.0, 4.0 / static_cast<double>(n)), !strips);
      const std::string id = "clip-input-" + std::to_string(i);
      clip(svg, id, b);
      s += "<g clip-path=\"url(#" + id + ")\">\n";
      svg.path(kInputClasses[i % kInputClasses.size()], step_path(in.points, a.t_last, ax, b, r));
      s += "</g>\n";
      if (strips) {
        svg.rect({b.x + 1.0, b.y + 1.0, static_cast<double>(label.size()) * 6.8 + 8.0, 16.0},
                 "tag");
        svg.text(b.x + 5.0, b.y + 13.0, "strip", label);
      }
    }
    s += "</g>\n";
  }

  svg.text(p3.x + p3.w / 2.0, p3.y + p3.h + 42.0, "lab", "time from the first sample (s)",
           "middle");
  s += "</svg>\n";
  return std::move(s);
}

}  // namespace twind::app
