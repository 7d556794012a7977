#include "twind/app/plot.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "../support/fixtures.hpp"
#include "twind/app/replay.hpp"
#include "twind/sim/recording.hpp"

namespace twind::app {
namespace {

using testing::seed_config;

constexpr double kT0 = 1732200000.0;

// The seed scenario through replay, with or without trace lines.
std::string seed_output(bool trace) {
  std::string rec;
  sim::record(sim::Scenario{}, {}, rec);
  std::istringstream in(rec);
  std::ostringstream out;
  ReplayOptions o;
  o.trace = trace;
  replay(seed_config(), in, out, {}, o);
  return out.str();
}

PlotInput read(const std::string& text) {
  std::istringstream in(text);
  return read_replay_output(in);
}

std::string state(const std::string& asset, double ts, double u, double y, double pred,
                  const std::string& extra = "") {
  std::ostringstream s;
  s.precision(17);
  s << R"({"t":)" << ts << R"(,"topic":"twin/)" << asset << R"(/state","payload":{"asset":")"
    << asset << R"(","seq":1,"ts":)" << ts
    << R"(,"model":{"name":"m","version":"2"},"signals":{"u":{"value":)" << u
    << R"(},"y":{"measured":)" << y << R"(,"predicted":)" << pred << R"(,"residual":)" << (y - pred)
    << R"(}},"divergence":)" << std::abs(y - pred)
    << R"(,"threshold":0.15,"status":"ok","active_alerts":[])" << extra << "}}\n";
  return s.str();
}

std::string alert(const std::string& asset, double ts, const std::string& id,
                  const std::string& signal, bool raised) {
  std::ostringstream s;
  s.precision(17);
  s << R"({"t":)" << ts << R"(,"topic":"twin/)" << asset << R"(/alert","payload":{"asset":")"
    << asset << R"(","ts":)" << ts << R"(,"id":")" << id << R"(","signal":")" << signal
    << R"(","state":")" << (raised ? "raised" : "cleared") << R"(","value":1,"threshold":0.15}})"
    << "\n";
  return s.str();
}

TEST(PlotReader, ReadsTheTraceOfAReplayAtEverySample) {
  const PlotInput in = read(seed_output(true));
  ASSERT_TRUE(in.ok()) << in.error;
  ASSERT_EQ(in.assets.size(), 1u);
  const AssetPlot& a = in.assets[0];
  EXPECT_EQ(a.asset, "plant");
  EXPECT_TRUE(a.traced);
  EXPECT_EQ(a.trace_lines, 800u);
  EXPECT_EQ(a.states, 16u);
  EXPECT_EQ(a.models, std::vector<std::string>{"first-order-lag version 1"});
  ASSERT_EQ(a.outputs.size(), 1u);
  ASSERT_EQ(a.inputs.size(), 1u);
  EXPECT_EQ(a.outputs[0].name, "y");
  EXPECT_EQ(a.inputs[0].name, "u");
  ASSERT_EQ(a.outputs[0].points.size(), 400u);
  EXPECT_EQ(a.inputs[0].points.size(), 400u);
  for (const OutputPoint& p : a.outputs[0].points) {
    EXPECT_EQ(p.threshold, 0.15);
    if (!std::isnan(p.predicted)) {
      EXPECT_EQ(p.residual, p.measured - p.predicted);
    }
  }
  EXPECT_DOUBLE_EQ(a.t_first, kT0);
  EXPECT_DOUBLE_EQ(a.t_last, kT0 + 7.98);
  ASSERT_EQ(a.alerts.size(), 1u);
  const AlertSpan& s = a.alerts[0];
  EXPECT_EQ(s.id, "divergence");
  EXPECT_EQ(s.signal, "y");
  EXPECT_EQ(s.begin, 1732200003.06);  // exactly the alert's ts
  EXPECT_FALSE(s.cleared);            // still raised: the span runs to the end of the data
  EXPECT_EQ(s.end, a.t_last);
}

TEST(PlotReader, WithoutTraceLinesTheSeriesAreTheStatesOnePointATick) {
  const PlotInput in = read(seed_output(false));
  ASSERT_TRUE(in.ok()) << in.error;
  const AssetPlot& a = in.assets.at(0);
  EXPECT_FALSE(a.traced);
  ASSERT_EQ(a.outputs.at(0).points.size(), 16u);
  EXPECT_EQ(a.inputs.at(0).points.size(), 16u);
  for (std::size_t k = 0; k < 16; ++k) {
    const OutputPoint& p = a.outputs[0].points[k];
    EXPECT_DOUBLE_EQ(p.t, kT0 + 0.5 * static_cast<double>(k));
    EXPECT_EQ(p.threshold, 0.15);  // the state's, its divergence being y's
  }
  EXPECT_EQ(a.alerts.size(), 1u);
}

TEST(PlotReader, AlertsAreSpansPerConditionAndSignalFromRaiseToClear) {
  std::string text = state("a", 10.0, 1, 1, 1);
  text += alert("a", 10.5, "divergence", "y", true);
  text += alert("a", 11.0, "stale", "y", true);
  text += alert("a", 12.25, "divergence", "y", false);
  text += state("a", 12.5, 1, 1, 1);
  text += alert("a", 13.0, "stale", "y", false);
  text += alert("a", 14.0, "divergence", "y", true);
  text += state("a", 15.0, 1, 1, 1);
  text += alert("a", 15.5, "model_diverged", "y", false);  // raised before the output begins
  const PlotInput in = read(text);
  ASSERT_TRUE(in.ok()) << in.error;
  const std::vector<AlertSpan>& s = in.assets.at(0).alerts;
  ASSERT_EQ(s.size(), 4u);
  EXPECT_EQ(s[0].id, "divergence");
  EXPECT_EQ(s[0].begin, 10.5);
  EXPECT_EQ(s[0].end, 12.25);
  EXPECT_EQ(s[1].id, "stale");
  EXPECT_EQ(s[1].begin, 11.0);
  EXPECT_EQ(s[1].end, 13.0);
  EXPECT_EQ(s[2].begin, 14.0);
  EXPECT_FALSE(s[2].cleared);
  EXPECT_EQ(s[2].end, 15.5);  // the end of the data
  EXPECT_EQ(s[3].id, "model_diverged");
  EXPECT_FALSE(s[3].raised_seen);
  EXPECT_EQ(s[3].begin, 10.0);  // the start of the data
  EXPECT_EQ(s[3].end, 15.5);
}

TEST(PlotReader, KeepsEachAssetApartInTheOrderFirstMet) {
  std::string text;
  for (int k = 0; k < 4; ++k) {
    text += state("p2", 1.0 + k, 1, 1, 1);
    text += state("p1", 1.0 + k, 2, 2, 2.5);
  }
  text += alert("p1", 3.0, "divergence", "y", true);
  const PlotInput in = read(text);
  ASSERT_TRUE(in.ok()) << in.error;
  ASSERT_EQ(in.assets.size(), 2u);
  EXPECT_EQ(in.assets[0].asset, "p2");
  EXPECT_EQ(in.assets[1].asset, "p1");
  EXPECT_EQ(in.assets[1].outputs.at(0).points.at(0).measured, 2.0);
  EXPECT_TRUE(in.assets[0].alerts.empty());
  EXPECT_EQ(in.assets[1].alerts.size(), 1u);

  Choice c = choose_asset(in.assets, "");
  EXPECT_EQ(c.index, 1u);
  EXPECT_EQ(c.why, "the first of 2 assets with an alert");
  c = choose_asset(in.assets, "p2");
  EXPECT_EQ(c.index, 0u);
  c = choose_asset(in.assets, "p9");
  EXPECT_EQ(c.index, 2u);
  const std::vector<AssetPlot> calm(in.assets.begin(), in.assets.begin() + 1);
  EXPECT_EQ(choose_asset(calm, "").why, "the only asset");
}

TEST(PlotReader, PassesOverMessagesItDoesNotDraw) {
  std::string text = state("a", 1.0, 1, 1, 1);
  text +=
      R"({"t":1,"topic":"twin/a/model","payload":{"asset":"a","ts":1,"cause":"command","model":{"name":"m","version":"3"},"previous":{"name":"m","version":"2"},"state":"kept"}})"
      "\n";
  text += R"({"t":1,"topic":"twin/diagnosis","payload":{"asset":"a","ts":1,"samples":3}})"
          "\n\n";
  text += state("a", 2.0, 1, 1, 1);
  const PlotInput in = read(text);
  ASSERT_TRUE(in.ok()) << in.error;
  EXPECT_EQ(in.assets.at(0).states, 2u);
  EXPECT_TRUE(in.assets.at(0).alerts.empty());
}

TEST(PlotReader, RefusesABadLineWithItsNumberAndWhatIsWrong) {
  const std::string good = state("a", 1.0, 1, 1, 1);
  const std::vector<std::pair<std::string, std::string>> cases{
      {"garbage", "not valid JSON at column 1"},
      {R"({"t":1,"topic":"x","payload":)", "not valid JSON at column 30"},
      {"[1,2]", "not a JSON object"},
      {R"({"t":1,"topic":"plant/y","payload":"2.97"})",
       "\"payload\" is not a JSON object: a recording, not twind replay's output?"},
      {R"({"hello":1})", "neither a message line"},
      {R"({"trace":{"asset":"a","signal":"y","measured":1}})", R"(trace: "ts" is missing)"},
      {R"({"trace":{"asset":"a","ts":"soon","signal":"y","measured":1}})",
       R"(trace: "ts" is not a number)"},
      {R"({"trace":{"asset":"a","ts":1,"signal":"y"}})", "neither \"value\""},
      {R"({"trace":{"asset":"a","ts":1,"signal":"y","measured":1,"predicted":"x"}})",
       R"(trace: "predicted" is not a number or null)"},
      {R"({"t":1,"topic":"twin/state","payload":{"asset":"a","seq":1,"ts":1,"signals":[]}})",
       R"(message on twin/state: "signals" is not an object)"},
      {R"({"t":1,"topic":"twin/alert","payload":{"asset":"a","ts":1,"id":"stale","state":"raised"}})",
       R"(message on twin/alert: "signal" is missing)"},
      {R"({"t":1,"topic":"x","payload":{"x":1e999}})", "a number too large for a double"},
  };
  for (const auto& [line, why] : cases) {
    const PlotInput in = read(good + good + line + "\n" + good);
    EXPECT_FALSE(in.ok()) << line;
    EXPECT_EQ(in.error_line, 3u) << line;
    EXPECT_NE(in.error.find(why), std::string::npos) << line << " -> " << in.error;
  }
}

TEST(PlotReader, AnInputWithoutAStateOrATraceLineIsRefusedAsAWhole) {
  for (const std::string& text :
       {std::string(), std::string("\n\n"), alert("a", 1.0, "divergence", "y", true)}) {
    const PlotInput in = read(text);
    EXPECT_FALSE(in.ok());
    EXPECT_EQ(in.error_line, 0u);
    EXPECT_NE(in.error.find("no twin state and no trace line"), std::string::npos) << in.error;
  }
}

TEST(ChooseOutput, TheSignalOfTheFirstDivergenceAlertElseTheFirstOutput) {
  AssetPlot a;
  a.outputs = {{"rpm", {}}, {"temperature", {}}, {"vibration", {}}};
  EXPECT_EQ(choose_output(a, "").index, 0u);
  a.alerts.push_back({"stale", "rpm", 1, 2, true, true});
  a.alerts.push_back({"divergence", "vibration", 3, 4, true, true});
  a.alerts.push_back({"divergence", "temperature", 5, 6, true, true});
  EXPECT_EQ(choose_output(a, "").index, 2u);
  EXPECT_EQ(choose_output(a, "temperature").index, 1u);
  EXPECT_EQ(choose_output(a, "speed").index, 3u);
}

// Per pixel column: the smallest and largest value of the raw points.
std::map<long, std::pair<double, double>> extremes(const std::vector<PlotPoint>& pts, double t0,
                                                   double t1, std::size_t columns) {
  std::map<long, std::pair<double, double>> m;
  for (const PlotPoint& p : pts) {
    if (std::isnan(p.v)) continue;
    // The column as thin_per_column computes it.
    const double scale = static_cast<double>(columns) / (t1 - t0);
    const long c = std::clamp(static_cast<long>(std::floor((p.t - t0) * scale)), 0L,
                              static_cast<long>(columns) - 1);
    auto [it, added] = m.try_emplace(c, p.v, p.v);
    it->second.first = std::min(it->second.first, p.v);
    it->second.second = std::max(it->second.second, p.v);
  }
  return m;
}

TEST(ThinPerColumn, KeepsEveryColumnsSmallestAndLargestValueAndNothingMore) {
  // Three hours at 50 Hz: noise, with rare spikes a pixel could hide.
  std::mt19937_64 rng(3);
  std::normal_distribution<double> noise(0.0, 0.01);
  std::vector<PlotPoint> pts;
  const std::size_t n = 540'000;
  for (std::size_t k = 0; k < n; ++k) {
    double v = 3.0 + noise(rng);
    if (k % 7919 == 0) v += (k % 2 == 0 ? 1.0 : -1.0);
    pts.push_back({kT0 + 0.02 * static_cast<double>(k), v});
  }
  const double t0 = pts.front().t;
  const double t1 = pts.back().t;
  const std::vector<PlotPoint> thin = thin_per_column(pts, t0, t1, kPlotColumns);
  EXPECT_LE(thin.size(), 2 * kPlotColumns);
  EXPECT_GE(thin.size(), kPlotColumns);
  EXPECT_TRUE(std::is_sorted(thin.begin(), thin.end(),
                             [](const PlotPoint& a, const PlotPoint& b) { return a.t < b.t; }));
  const auto want = extremes(pts, t0, t1, kPlotColumns);
  const auto got = extremes(thin, t0, t1, kPlotColumns);
  EXPECT_EQ(got, want);  // every column's smallest and largest value, exactly
  // Each point kept is one of the samples, at its own time.
  for (const PlotPoint& p : thin) {
    const auto k = static_cast<std::size_t>(std::llround((p.t - kT0) / 0.02));
    ASSERT_LT(k, n);
    EXPECT_EQ(pts[k].t, p.t);
    EXPECT_EQ(pts[k].v, p.v);
  }
}

TEST(ThinPerColumn, KeepsSparsePointsAsTheyAreAndABreakOnce) {
  const double nan = std::nan("");
  const std::vector<PlotPoint> pts{{0, 1}, {1, 2}, {2, nan}, {2.5, nan}, {3, 5}, {4, 4}, {5, nan}};
  const std::vector<PlotPoint> thin = thin_per_column(pts, 0.0, 4.0, 1000);
  ASSERT_EQ(thin.size(), 5u);
  EXPECT_EQ(thin[1].v, 2.0);
  EXPECT_TRUE(std::isnan(thin[2].v));  // one break, none at the end
  EXPECT_EQ(thin[3].t, 3.0);
  EXPECT_EQ(thin[4].v, 4.0);
}

struct Attribute {
  std::string name;
  std::string value;
};

// Every name="value" in `svg` (std::regex recurses per character: too deep for long paths).
std::vector<Attribute> attributes(std::string_view svg) {
  std::vector<Attribute> out;
  const auto is_name = [](char c) {
    return std::isalpha(static_cast<unsigned char>(c)) || c == ':' || c == '-';
  };
  for (std::size_t eq = svg.find("=\""); eq != std::string_view::npos;
       eq = svg.find("=\"", eq + 1)) {
    std::size_t begin = eq;
    while (begin > 0 && is_name(svg[begin - 1])) --begin;
    const std::size_t end = svg.find('"', eq + 2);
    if (begin == eq || end == std::string_view::npos) continue;
    out.push_back({std::string(svg.substr(begin, eq - begin)),
                   std::string(svg.substr(eq + 2, end - eq - 2))});
    eq = end;
  }
  return out;
}

std::string attribute(std::string_view tag, std::string_view name) {
  for (const Attribute& a : attributes(tag)) {
    if (a.name == name) return a.value;
  }
  return {};
}

// The numbers in an attribute's value, as strtod reads them.
std::vector<double> numbers_in(const std::string& value) {
  std::vector<double> out;
  const char* p = value.c_str();
  while (*p != '\0') {
    char* end = nullptr;
    const double v = std::strtod(p, &end);
    if (end == p) {
      ++p;
      continue;
    }
    out.push_back(v);
    p = end;
  }
  return out;
}

std::size_t count(const std::string& s, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
  return n;
}

// Every number in a geometric attribute is finite and within reach of the 1200 x 800 view.
void expect_finite_geometry(const std::string& svg) {
  std::size_t numbers = 0;
  for (const Attribute& a : attributes(svg)) {
    if (a.name != "d" && a.name != "x" && a.name != "y" && a.name != "width" &&
        a.name != "height" && a.name != "transform") {
      continue;
    }
    std::string lower = a.value;
    std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
    EXPECT_EQ(lower.find("nan"), std::string::npos) << a.name << "=" << a.value;
    EXPECT_EQ(lower.find("inf"), std::string::npos) << a.name << "=" << a.value;
    for (const double v : numbers_in(a.value)) {
      EXPECT_TRUE(std::isfinite(v));
      EXPECT_LE(std::abs(v), 1300.0) << a.name << "=" << a.value;
      ++numbers;
    }
  }
  EXPECT_GT(numbers, 100u);
}

TEST(RenderSvg, ASelfContainedDocumentWithTheThreePanelsAndFiniteGeometry) {
  const PlotInput in = read(seed_output(true));
  ASSERT_TRUE(in.ok());
  const std::string svg = render_svg(in.assets[0], {});
  EXPECT_EQ(svg.rfind("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg ", 0), 0u);
  EXPECT_NE(svg.find(R"(viewBox="0 0 1200 800")"), std::string::npos);
  EXPECT_EQ(count(svg, "<svg"), 1u);
  EXPECT_EQ(svg.substr(svg.size() - 7), "</svg>\n");
  for (const char* panel : {"panel-output", "panel-divergence", "panel-inputs"}) {
    EXPECT_EQ(count(svg, std::string("id=\"") + panel + "\""), 1u) << panel;
  }
  for (const char* line :
       {"class=\"meas\"", "class=\"pred\"", "class=\"div\"", "class=\"thr\"", "class=\"in0\""}) {
    // The line, and its legend's swatch.
    EXPECT_EQ(count(svg, std::string("<path ") + line + " d=\"M"), 2u) << line;
  }
  EXPECT_NE(svg.find("<title>plant: model first-order-lag version 1</title>"), std::string::npos);
  EXPECT_NE(svg.find("time from the first sample (s)"), std::string::npos);
  // Nothing that runs or reaches out: no script, no link, no external reference.
  EXPECT_EQ(svg.find("<script"), std::string::npos);
  EXPECT_EQ(svg.find("href"), std::string::npos);
  EXPECT_EQ(svg.find("@import"), std::string::npos);
  for (const Attribute& a : attributes(svg)) {
    if (a.value.find("url(") != std::string::npos) {
      EXPECT_EQ(a.value.rfind("url(#", 0), 0u);
    }
  }
  expect_finite_geometry(svg);
  EXPECT_EQ(render_svg(in.assets[0], {}), svg);  // deterministic
}

TEST(RenderSvg, TheAlertSpanHasItsExactEdges) {
  const PlotInput in = read(seed_output(true));
  const AssetPlot& a = in.assets.at(0);
  const std::string svg = render_svg(a, {});
  // The span in the divergence panel, with its times and title.
  const std::size_t at = svg.find(R"(data-alert="divergence" data-signal="y")");
  ASSERT_NE(at, std::string::npos);
  ASSERT_EQ(count(svg, "data-alert="), 1u);
  const std::size_t begin = svg.rfind("<rect ", at);
  const std::size_t end = svg.find("</rect>", at);
  const std::string tag = svg.substr(begin, end - begin);
  EXPECT_EQ(attribute(tag, "class"), "alert");
  EXPECT_EQ(attribute(tag, "y"), "360");
  EXPECT_EQ(attribute(tag, "data-begin"), "1732200003.06");  // the alert's own ts, as written
  EXPECT_EQ(attribute(tag, "data-end"), "1732200007.98");
  const std::string x = attribute(tag, "x");
  const double expected = 90.0 + (1732200003.06 - a.t_first) / (a.t_last - a.t_first) * 1080.0;
  EXPECT_NEAR(std::stod(x), expected, 0.0006);
  EXPECT_NEAR(std::stod(x) + std::stod(attribute(tag, "width")), 1170.0, 0.0011);
  EXPECT_NE(tag.find("><title>divergence alert on y: raised at 3.06 s, still raised at the "
                     "end</title>"),
            std::string::npos)
      << tag;
  // Shaded over the three panels, its raise marked in the divergence panel.
  EXPECT_EQ(count(svg, "<rect class=\"alert\" x=\"" + x + "\""), 3u);
  EXPECT_EQ(count(svg, "<path class=\"edge\" d=\"M" + x + ",360V530\"/>"), 1u);
}

TEST(RenderSvg, AlertsCloserThanAPixelAreDrawnAsOneSpanOthersApart) {
  AssetPlot a;
  a.asset = "a";
  a.t_first = 0.0;
  a.t_last = 1080.0;  // one second a pixel
  a.outputs = {{"y", {{0.0, 1, 1, 0, 0.15}, {1080.0, 1, 1, 0, 0.15}}}};
  a.alerts = {{"divergence", "y", 100.0, 100.5, true, true},
              {"divergence", "y", 101.25, 102.0, true, true},
              {"divergence", "y", 500.0, 600.0, true, true}};
  const std::string svg = render_svg(a, {});
  EXPECT_EQ(count(svg, "<rect class=\"alert\" x="), 2u * 3u + 1u);  // + its legend's swatch
  EXPECT_NE(svg.find(R"(data-count="2" data-begin="100" data-end="102")"), std::string::npos);
  EXPECT_NE(svg.find(R"(data-begin="500" data-end="600")"), std::string::npos);
  EXPECT_NE(svg.find(R"(<rect class="alert" x="190" y="360" width="2")"), std::string::npos);
}

TEST(RenderSvg, StaysSmallHoweverManySamples) {
  std::mt19937_64 rng(5);
  std::normal_distribution<double> noise(0.0, 0.01);
  const auto figure = [&](std::size_t n) {
    AssetPlot a;
    a.asset = "plant";
    a.traced = true;
    a.outputs = {{"y", {}}};
    a.inputs = {{"u", {}}};
    for (std::size_t k = 0; k < n; ++k) {
      const double t = kT0 + 0.02 * static_cast<double>(k);
      const double y = 3.0 + noise(rng);
      const double pred = 3.0 + noise(rng);
      a.outputs[0].points.push_back({t, y, pred, y - pred, 0.15});
      a.inputs[0].points.push_back({t, 3.0 + noise(rng)});
    }
    a.t_first = kT0;
    a.t_last = a.outputs[0].points.back().t;
    return render_svg(a, {});
  };
  const std::string hour = figure(180'000);
  const std::string minute = figure(3'000);
  EXPECT_LT(hour.size(), 130'000u);
  EXPECT_LT(minute.size(), 130'000u);
  expect_finite_geometry(hour);
}

TEST(RenderSvg, TextIsEscapedForXml) {
  AssetPlot a;
  a.asset = "pump<1>";
  a.models = {"a&b \"quoted\" 'single' version \x01"};
  a.outputs = {{"y", {{0.0, 1, 1, 0, 0.15}, {1.0, 2, 2, 0, 0.15}}}};
  a.t_last = 1.0;
  PlotOptions o;
  o.source = "runs/<today>&co.jsonl";
  o.units = {{"y", "m/s²"}};
  const std::string svg = render_svg(a, o);
  EXPECT_NE(svg.find("<title>pump&lt;1&gt;: model a&amp;b &quot;quoted&quot; &apos;single&apos; "
                     "version ?</title>"),
            std::string::npos);
  EXPECT_NE(svg.find("runs/&lt;today&gt;&amp;co.jsonl"), std::string::npos);
  EXPECT_NE(svg.find(">y (m/s²)</text>"), std::string::npos);
  EXPECT_EQ(svg.find("<today>"), std::string::npos);
  EXPECT_NE(svg.find("no input in the data"), std::string::npos);
}

}  // namespace
}  // namespace twind::app
