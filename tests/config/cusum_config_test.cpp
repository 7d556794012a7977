// The CUSUM keys of an output signal: detector and cusum (sigma, k, h), accepted and refused.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <string_view>

#include "diagnostics.hpp"
#include "twind/config/config.hpp"
#include "twind/config/loader.hpp"

namespace twind::config {
namespace {

using namespace testing;  // NOLINT(google-build-using-namespace): the tests' helpers

TEST(CusumConfig, OutputWithCusumIsReadWithItsSettings) {
  const LoadResult sut = load(R"(
assets:
  - id: plant
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1], [1], [1]]}
    signals:
      - {name: u, role: input, topic: p/u}
      - {name: y1, role: output, topic: p/y1, threshold: 0.15, detector: cusum, cusum: {sigma: 0.01, k: 0.25, h: 20}}
      - {name: y2, role: output, topic: p/y2, detector: cusum, cusum: {sigma: 2, h: 8}}
      - {name: y3, role: output, topic: p/y3, detector: threshold, threshold: 1}
)");

  ASSERT_TRUE(sut.ok()) << all_of(sut);
  const AssetSpec& a = sut.config->assets[0];
  EXPECT_EQ(a.signals[0].detector, DetectorKind::threshold);
  EXPECT_FALSE(a.signals[0].cusum.has_value());
  EXPECT_EQ(a.signals[1].detector, DetectorKind::cusum);
  EXPECT_EQ(a.signals[1].cusum, (CusumSpec{0.01, 0.25, 20.0}));
  EXPECT_EQ(a.signals[1].threshold, 0.15);
  EXPECT_EQ(a.signals[2].detector, DetectorKind::cusum);
  EXPECT_EQ(a.signals[2].cusum, (CusumSpec{2.0, 0.5, 8.0}));  // k defaults to 0.5
  EXPECT_FALSE(a.signals[2].threshold.has_value());
  EXPECT_EQ(a.signals[3].detector, DetectorKind::threshold);
  EXPECT_FALSE(a.signals[3].cusum.has_value());
}

TEST(CusumConfig, KOfZeroIsAccepted) {
  const LoadResult sut = load(R"(
assets:
  - id: plant
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: p/u}
      - {name: y, role: output, topic: p/y, detector: cusum, cusum: {sigma: 1, k: 0, h: 5}}
)");

  ASSERT_TRUE(sut.ok()) << all_of(sut);
  EXPECT_EQ(sut.config->assets[0].signals[1].cusum, (CusumSpec{1.0, 0.0, 5.0}));
}

struct BadCusum {
  const char* name;
  const char* y;        // the output's line, after `      - `
  const char* where;    // line:col of the single error
  const char* message;  // a substring of its message
};

void PrintTo(const BadCusum& c, std::ostream* os) {
  *os << c.name;
}

class BadCusums : public ::testing::TestWithParam<BadCusum> {};

// The output's line is line 6; the input's line 5 holds `u` unless the row's name says Input.
TEST_P(BadCusums, AreRefusedWithOneErrorAtTheOffendingNode) {
  const BadCusum& row = GetParam();
  const bool on_input = std::string_view(row.name).rfind("Input", 0) == 0;
  const std::string input = on_input ? std::string(row.y) : "{name: u, role: input, topic: p/u}";
  const std::string output = on_input ? "{name: y, role: output, topic: p/y}" : std::string(row.y);
  const std::string yaml = R"(assets:
  - id: plant
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - )" + input + "\n      - " +
                           output + "\n";

  const LoadResult sut = load(yaml);

  expect_one_error(sut, row.where, row.message);
}

const BadCusum kBadCusums[] = {
    {"InputWithDetector", "{name: u, role: input, topic: p/u, detector: cusum}", "5:44",
     "assets[0].signals[0].detector: got \"cusum\", expected no detector on an input"},
    {"InputWithCusum", "{name: u, role: input, topic: p/u, cusum: {sigma: 1, h: 5}}", "5:44",
     "assets[0].signals[0].cusum: got a mapping, expected no cusum on an input"},
    {"UnknownDetector", "{name: y, role: output, topic: p/y, detector: ewma}", "6:55",
     "assets[0].signals[1].detector: got \"ewma\", expected threshold or cusum"},
    {"CusumDetectorWithoutCusum", "{name: y, role: output, topic: p/y, detector: cusum}", "6:9",
     "assets[0].signals[1].cusum: missing, expected a mapping (sigma, k, h) since detector is "
     "cusum"},
    {"CusumWithoutDetector", "{name: y, role: output, topic: p/y, cusum: {sigma: 1, h: 5}}", "6:45",
     "assets[0].signals[1].cusum: got a mapping without detector: cusum, expected detector: "
     "cusum as well"},
    {"CusumWithThresholdDetector",
     "{name: y, role: output, topic: p/y, threshold: 1, detector: threshold, cusum: {sigma: 1, "
     "h: 5}}",
     "6:80",
     "assets[0].signals[1].cusum: got a mapping with detector: threshold, expected detector: "
     "cusum (or no cusum)"},
    {"CusumNotAMapping", "{name: y, role: output, topic: p/y, detector: cusum, cusum: 5}", "6:69",
     "assets[0].signals[1].cusum: got \"5\", expected a mapping (sigma, k, h)"},
    {"SigmaMissing", "{name: y, role: output, topic: p/y, detector: cusum, cusum: {h: 5}}", "6:69",
     "assets[0].signals[1].cusum.sigma: missing required key (number)"},
    {"HMissing", "{name: y, role: output, topic: p/y, detector: cusum, cusum: {sigma: 1}}", "6:69",
     "assets[0].signals[1].cusum.h: missing required key (number)"},
    {"SigmaZero", "{name: y, role: output, topic: p/y, detector: cusum, cusum: {sigma: 0, h: 5}}",
     "6:77", "assets[0].signals[1].cusum.sigma: got 0, expected a number > 0"},
    {"SigmaNegative",
     "{name: y, role: output, topic: p/y, detector: cusum, cusum: {sigma: -0.01, h: 5}}", "6:77",
     "assets[0].signals[1].cusum.sigma: got -0.01, expected a number > 0"},
    {"SigmaQuoted",
     "{name: y, role: output, topic: p/y, detector: cusum, cusum: {sigma: \"0.01\", h: 5}}", "6:77",
     "assets[0].signals[1].cusum.sigma: got \"0.01\", expected a number (without quotes)"},
    {"SigmaInfinite",
     "{name: y, role: output, topic: p/y, detector: cusum, cusum: {sigma: .inf, h: 5}}", "6:77",
     "assets[0].signals[1].cusum.sigma: got .inf, expected a finite number"},
    {"KNegative",
     "{name: y, role: output, topic: p/y, detector: cusum, cusum: {sigma: 1, k: -0.5, h: 5}}",
     "6:83", "assets[0].signals[1].cusum.k: got -0.5, expected a number >= 0"},
    {"HZero", "{name: y, role: output, topic: p/y, detector: cusum, cusum: {sigma: 1, h: 0}}",
     "6:83", "assets[0].signals[1].cusum.h: got 0, expected a number > 0"},
    {"HNotANumber",
     "{name: y, role: output, topic: p/y, detector: cusum, cusum: {sigma: 1, h: high}}", "6:83",
     "assets[0].signals[1].cusum.h: got \"high\", expected a number"},
    {"UnknownCusumKey",
     "{name: y, role: output, topic: p/y, detector: cusum, cusum: {sigma: 1, h: 5, hh: 6}}", "6:86",
     "assets[0].signals[1].cusum.hh: unknown key, expected one of: sigma, k, h"},
};

INSTANTIATE_TEST_SUITE_P(EveryRule, BadCusums, ::testing::ValuesIn(kBadCusums),
                         [](const ::testing::TestParamInfo<BadCusum>& row) {
                           return std::string(row.param.name);
                         });

}  // namespace
}  // namespace twind::config
