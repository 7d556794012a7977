// The fleet load generator against the continuous closed form of a first-order plant under a held
// input, x(t) = x_ss + (x(a) - x_ss) e^{p (t - a)} with x_ss = -u / p (the steady-state form, not
// the expm1 update the implementation uses), and against the sampling schedule of its contract.
#include "twind/sim/fleet.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace twind::sim {
namespace {

constexpr double kNan = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kUnixT0 = 1732200000.0;

std::vector<FleetSample> run(const FleetOptions& options, std::size_t samples) {
  FleetSim sut(options);
  std::vector<FleetSample> out(samples);
  for (auto& s : out) sut.pop(s);
  return out;
}

// Samples of one asset, in order.
std::vector<FleetSample> of_asset(const std::vector<FleetSample>& all, std::size_t asset) {
  std::vector<FleetSample> out;
  for (const auto& s : all) {
    if (s.asset == asset) out.push_back(s);
  }
  return out;
}

// x at time t from x(a) under input u held since a, plant pole p (gain 1).
double closed_form(double xa, double u, double p, double a, double t) {
  const double steady = -u / p;
  return steady + (xa - steady) * std::exp(p * (t - a));
}

TEST(FleetSim, HealthyAssetFollowsTheContinuousClosedFormOfItsHeldInputBetweenSamples) {
  FleetOptions options;
  options.assets = 5;
  options.t0 = kUnixT0;

  const auto samples = run(options, 5 * 200);

  for (std::size_t i = 0; i < 5; ++i) {
    const auto mine = of_asset(samples, i);
    for (std::size_t k = 1; k < mine.size(); ++k) {
      const FleetSample& a = mine[k - 1];
      const FleetSample& b = mine[k];
      EXPECT_NEAR(b.y, closed_form(a.y, a.u, -1.0, a.ts, b.ts), 1e-12)
          << "asset " << i << " sample " << k;
    }
  }
}

TEST(FleetSim, OtherNominalPoleFollowsItsOwnClosedForm) {
  FleetOptions options;
  options.assets = 3;
  options.rate = 5.0;
  options.nominal_pole = -0.25;

  const auto samples = run(options, 3 * 100);

  for (std::size_t i = 0; i < 3; ++i) {
    const auto mine = of_asset(samples, i);
    for (std::size_t k = 1; k < mine.size(); ++k) {
      EXPECT_NEAR(mine[k].y,
                  closed_form(mine[k - 1].y, mine[k - 1].u, -0.25, mine[k - 1].ts, mine[k].ts),
                  1e-12);
    }
  }
}

TEST(FleetSim, FirstSampleOfEveryAssetIsTheSteadyStateOfItsFirstInput) {
  FleetOptions options;
  options.assets = 20;
  options.nominal_pole = -0.5;  // steady state 2 u

  const auto samples = run(options, 20);

  for (const auto& s : samples) {
    EXPECT_EQ(s.k, 0U);
    EXPECT_NEAR(s.y, 2.0 * s.u, 1e-12) << "asset " << s.asset;
  }
}

TEST(FleetSim, ConstantInputDecaysFromTheWearInstantTowardsTheWornSteadyState) {
  // u = 4 throughout: nominal steady state 4 until wear_at, then 2 + 2 e^{-2 (t - t_wear)},
  // evaluated from the wear instant itself (1.3 s, between samples of every asset).
  FleetOptions options;
  options.assets = 4;
  options.rate = 2.0;
  options.u_min = 4.0;
  options.u_max = 4.0;
  options.wear_at = 1.3;
  options.wear_assets = 4;
  options.t0 = 100.0;

  const auto samples = run(options, 4 * 20);

  const double wear = 101.3;
  for (const auto& s : samples) {
    const double expected = s.ts < wear ? 4.0 : 2.0 + 2.0 * std::exp(-2.0 * (s.ts - wear));
    EXPECT_NEAR(s.y, expected, 1e-12) << "asset " << s.asset << " at " << s.ts;
    EXPECT_EQ(s.u, 4.0);
  }
}

TEST(FleetSim, OnlyTheFirstKAssetsChangePoleAndOnlyFromWearAt) {
  FleetOptions options;
  options.assets = 10;
  options.wear_assets = 3;
  options.wear_at = 4.05;  // inside a sampling interval of every asset
  options.t0 = kUnixT0;

  const auto samples = run(options, 10 * 40);

  const double wear = kUnixT0 + 4.05;
  for (std::size_t i = 0; i < 10; ++i) {
    const auto mine = of_asset(samples, i);
    for (std::size_t k = 1; k < mine.size(); ++k) {
      const FleetSample& a = mine[k - 1];
      const FleetSample& b = mine[k];
      const double nominal = closed_form(a.y, a.u, -1.0, a.ts, b.ts);
      if (i >= 3 || b.ts <= wear) {
        EXPECT_NEAR(b.y, nominal, 1e-9) << "asset " << i << " sample " << k;
        continue;
      }
      // Worn from the wear instant on: the nominal piece up to it, the worn piece after it.
      const double at_wear = a.ts < wear ? closed_form(a.y, a.u, -1.0, a.ts, wear) : a.y;
      const double from = a.ts < wear ? wear : a.ts;
      EXPECT_NEAR(b.y, closed_form(at_wear, a.u, -2.0, from, b.ts), 1e-9)
          << "asset " << i << " sample " << k;
      EXPECT_GT(std::abs(b.y - nominal), 1e-3) << "asset " << i << " sample " << k;
    }
  }
}

TEST(FleetSim, PoleReportsTheWornPoleOnlyForWearingAssetsFromWearAt) {
  FleetOptions options;
  options.assets = 10;
  options.wear_assets = 2;
  options.wear_at = 7.0;
  options.t0 = 50.0;
  const FleetSim sut(options);

  EXPECT_EQ(sut.pole(0, 56.9), -1.0);
  EXPECT_EQ(sut.pole(0, 57.0), -2.0);
  EXPECT_EQ(sut.pole(1, 80.0), -2.0);
  EXPECT_EQ(sut.pole(2, 80.0), -1.0);
  EXPECT_EQ(sut.pole(9, 80.0), -1.0);
}

TEST(FleetSim, NegativeWearAtMeansNoAssetEverWears) {
  FleetOptions options;
  options.assets = 4;
  options.wear_assets = 4;
  options.wear_at = -1.0;

  const auto samples = run(options, 4 * 50);

  for (std::size_t i = 0; i < 4; ++i) {
    const auto mine = of_asset(samples, i);
    for (std::size_t k = 1; k < mine.size(); ++k) {
      EXPECT_NEAR(mine[k].y,
                  closed_form(mine[k - 1].y, mine[k - 1].u, -1.0, mine[k - 1].ts, mine[k].ts),
                  1e-12);
    }
  }
}

TEST(FleetSim, SamplesComeInTimeOrderEvenlySpreadOverThePeriod) {
  FleetOptions options;
  options.assets = 7;
  options.rate = 2.0;
  options.t0 = 10.0;
  FleetSim sut(options);

  std::vector<FleetSample> samples;
  for (int n = 0; n < 7 * 12; ++n) {
    const double due = sut.next_due();
    FleetSample s;
    sut.pop(s);
    EXPECT_EQ(s.ts, due);
    samples.push_back(s);
  }

  const double spacing = 1.0 / (7 * 2.0);
  for (std::size_t n = 0; n < samples.size(); ++n) {
    // Period k holds every asset once, in index order, asset i at phase i / (N rate).
    EXPECT_EQ(samples[n].asset, n % 7);
    EXPECT_EQ(samples[n].k, n / 7);
    EXPECT_NEAR(samples[n].ts,
                10.0 + static_cast<double>(n / 7) * 0.5 + static_cast<double>(n % 7) * spacing,
                1e-12);
    if (n > 0) {
      EXPECT_NEAR(samples[n].ts - samples[n - 1].ts, spacing, 1e-12);
    }
  }
}

TEST(FleetSim, SpacingHoldsAtUnixTimeForTenThousandAssets) {
  FleetOptions options;
  options.assets = 10000;
  options.t0 = kUnixT0;
  FleetSim sut(options);

  FleetSample previous;
  sut.pop(previous);
  for (int n = 1; n < 30000; ++n) {
    FleetSample s;
    sut.pop(s);
    // 50 us apart; Unix time in seconds resolves about 0.24 us.
    ASSERT_NEAR(s.ts - previous.ts, 50e-6, 0.5e-6) << "sample " << n;
    previous = s;
  }
  EXPECT_EQ(previous.asset, 9999U);
  EXPECT_EQ(previous.k, 2U);
}

TEST(FleetSim, SameOptionsGiveTheSameSequence) {
  FleetOptions options;
  options.assets = 50;
  options.wear_assets = 5;
  options.wear_at = 3.0;
  options.noise_std = 0.05;

  const auto first = run(options, 50 * 30);
  const auto second = run(options, 50 * 30);

  ASSERT_EQ(first.size(), second.size());
  for (std::size_t n = 0; n < first.size(); ++n) {
    EXPECT_EQ(first[n].asset, second[n].asset);
    EXPECT_EQ(first[n].ts, second[n].ts);
    EXPECT_EQ(first[n].u, second[n].u);
    EXPECT_EQ(first[n].y, second[n].y);
  }
}

TEST(FleetSim, AnotherSeedGivesOtherInputs) {
  FleetOptions options;
  options.assets = 10;
  FleetOptions other = options;
  other.seed = 2;

  const auto a = run(options, 10 * 8);
  const auto b = run(other, 10 * 8);

  std::size_t different = 0;
  for (std::size_t n = 0; n < a.size(); ++n) different += a[n].u != b[n].u ? 1U : 0U;
  EXPECT_EQ(different, a.size());
}

TEST(FleetSim, InputIsHeldForHoldSamplesWithinItsBoundsAndDiffersBetweenAssets) {
  FleetOptions options;
  options.assets = 30;
  options.hold_samples = 3;
  options.u_min = 0.0;
  options.u_max = 5.0;

  const auto samples = run(options, 30 * 60);

  std::set<double> first_levels;
  for (std::size_t i = 0; i < 30; ++i) {
    const auto mine = of_asset(samples, i);
    std::set<double> levels;
    for (std::size_t k = 0; k < mine.size(); ++k) {
      EXPECT_GE(mine[k].u, 0.0);
      EXPECT_LE(mine[k].u, 5.0);
      if (k % 3 != 0) {
        EXPECT_EQ(mine[k].u, mine[k - 1].u) << "asset " << i << " sample " << k;
      }
      levels.insert(mine[k].u);
    }
    EXPECT_EQ(levels.size(), 20U) << "asset " << i;  // 60 samples, a new level every 3
    first_levels.insert(mine[0].u);
  }
  EXPECT_EQ(first_levels.size(), 30U);
}

TEST(FleetSim, InputLevelsSpreadOverTheirWholeRange) {
  FleetOptions options;
  options.assets = 1000;
  options.hold_samples = 1;

  const auto samples = run(options, 1000 * 4);

  // 4000 uniform draws on [0, 5]: each fifth of the range holds 800 +- 4 sigma (~101).
  std::vector<int> bins(5, 0);
  for (const auto& s : samples) ++bins[static_cast<std::size_t>(std::min(4.0, std::floor(s.u)))];
  for (int count : bins) {
    EXPECT_GT(count, 700);
    EXPECT_LT(count, 900);
  }
}

TEST(FleetSim, NoiseHasTheRequestedSpreadAndLeavesThePlantUntouched) {
  FleetOptions clean;
  clean.assets = 100;
  FleetOptions noisy = clean;
  noisy.noise_std = 0.1;

  const auto a = run(clean, 100 * 200);
  const auto b = run(noisy, 100 * 200);

  double sum = 0.0;
  double sum_sq = 0.0;
  for (std::size_t n = 0; n < a.size(); ++n) {
    EXPECT_EQ(a[n].u, b[n].u);
    const double e = b[n].y - a[n].y;
    sum += e;
    sum_sq += e * e;
  }
  const double count = static_cast<double>(a.size());
  const double mean = sum / count;
  const double sd = std::sqrt(sum_sq / count - mean * mean);
  // 20,000 draws: the mean within 4 standard errors (0.1 / sqrt(20000) = 0.0007), the standard
  // deviation within 4 of its standard errors (0.1 / sqrt(40000) = 0.0005).
  EXPECT_NEAR(mean, 0.0, 0.003);
  EXPECT_NEAR(sd, 0.1, 0.002);
}

TEST(FleetSim, FramePayloadReadsBackToTheSameNumbers) {
  FleetOptions options;
  options.assets = 3;
  options.t0 = kUnixT0;
  options.noise_std = 0.01;
  FleetSim sut(options);
  FleetSample s;
  for (int n = 0; n < 10; ++n) sut.pop(s);

  std::string out;
  append_fleet_frame(out, s);

  const auto j = nlohmann::json::parse(out);
  ASSERT_EQ(j.size(), 3U);
  EXPECT_EQ(j.at("ts").get<double>(), s.ts);
  EXPECT_EQ(j.at("u").get<double>(), s.u);
  EXPECT_EQ(j.at("y").get<double>(), s.y);
}

struct IdCase {
  std::size_t index;
  std::size_t assets;
  const char* id;
};

class FleetAssetId : public ::testing::TestWithParam<IdCase> {};

TEST_P(FleetAssetId, IsPAndTheIndexZeroPaddedToTheWidthOfTheLargest) {
  const IdCase& c = GetParam();

  EXPECT_EQ(fleet_asset_id(c.index, c.assets), c.id);
}

INSTANTIATE_TEST_SUITE_P(Widths, FleetAssetId,
                         ::testing::Values(IdCase{0, 1, "p00000"}, IdCase{0, 10000, "p00000"},
                                           IdCase{42, 1000, "p00042"},
                                           IdCase{9999, 10000, "p09999"},
                                           IdCase{99999, 100000, "p99999"},
                                           IdCase{100000, 100001, "p100000"},
                                           IdCase{5, 100001, "p000005"}));

TEST(FleetSim, AssetIdUsesTheFleetSize) {
  FleetOptions options;
  options.assets = 200000;
  const FleetSim sut(options);

  EXPECT_EQ(sut.asset_id(7), "p000007");
}

struct BadOption {
  const char* name;
  void (*apply)(FleetOptions&);
  const char* field;
};

class FleetBadOptions : public ::testing::TestWithParam<BadOption> {};

TEST_P(FleetBadOptions, AreRejectedNamingTheField) {
  FleetOptions options;
  GetParam().apply(options);

  try {
    const FleetSim sut(options);
    FAIL() << "accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()).rfind(std::string(GetParam().field) + ": got ", 0), 0U)
        << e.what();
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, FleetBadOptions,
    ::testing::Values(
        BadOption{"NoAssets", [](FleetOptions& o) { o.assets = 0; }, "assets"},
        BadOption{"ZeroRate", [](FleetOptions& o) { o.rate = 0.0; }, "rate"},
        BadOption{"NegativeRate", [](FleetOptions& o) { o.rate = -2.0; }, "rate"},
        BadOption{"NanRate", [](FleetOptions& o) { o.rate = kNan; }, "rate"},
        BadOption{"InfiniteRate", [](FleetOptions& o) { o.rate = kInf; }, "rate"},
        BadOption{"NanT0", [](FleetOptions& o) { o.t0 = kNan; }, "t0"},
        BadOption{"InfiniteWearAt", [](FleetOptions& o) { o.wear_at = kInf; }, "wear_at"},
        BadOption{"MoreWearingThanAssets", [](FleetOptions& o) { o.wear_assets = o.assets + 1; },
                  "wear_assets"},
        BadOption{"ZeroNominalPole", [](FleetOptions& o) { o.nominal_pole = 0.0; }, "nominal_pole"},
        BadOption{"UnstableWornPole", [](FleetOptions& o) { o.worn_pole = 0.5; }, "worn_pole"},
        BadOption{"NanWornPole", [](FleetOptions& o) { o.worn_pole = kNan; }, "worn_pole"},
        BadOption{"NanUMin", [](FleetOptions& o) { o.u_min = kNan; }, "u_min"},
        BadOption{"UMaxBelowUMin", [](FleetOptions& o) { o.u_max = o.u_min - 1.0; }, "u_max"},
        BadOption{"NoHold", [](FleetOptions& o) { o.hold_samples = 0; }, "hold_samples"},
        BadOption{"NegativeNoise", [](FleetOptions& o) { o.noise_std = -0.1; }, "noise_std"},
        BadOption{"NanNoise", [](FleetOptions& o) { o.noise_std = kNan; }, "noise_std"}),
    [](const ::testing::TestParamInfo<BadOption>& row) { return std::string(row.param.name); });

}  // namespace
}  // namespace twind::sim
