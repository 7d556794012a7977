#include "twind/mqtt/internal/backoff.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <vector>

namespace twind::mqtt::internal {
namespace {

using std::chrono::milliseconds;

TEST(Backoff, NominalWaitDoublesFromMinUntilCappedAtMax) {
  Backoff sut(milliseconds(100), milliseconds(1000), 1);
  std::vector<milliseconds> nominal;

  for (int i = 0; i < 6; ++i) {
    nominal.push_back(sut.nominal());
    (void)sut.next();
  }

  const std::vector<milliseconds> expected{milliseconds(100),  milliseconds(200),
                                           milliseconds(400),  milliseconds(800),
                                           milliseconds(1000), milliseconds(1000)};
  EXPECT_EQ(nominal, expected);
}

TEST(Backoff, EveryWaitStaysWithinTwentyPercentOfItsNominalValue) {
  for (std::uint64_t seed = 0; seed < 200; ++seed) {
    Backoff sut(milliseconds(250), milliseconds(8000), seed);
    for (int i = 0; i < 8; ++i) {
      const double nominal = static_cast<double>(sut.nominal().count());

      const double wait = static_cast<double>(sut.next().count());

      ASSERT_GE(wait, 0.8 * nominal - 1.0) << "seed " << seed << " step " << i;
      ASSERT_LE(wait, 1.2 * nominal) << "seed " << seed << " step " << i;
    }
  }
}

TEST(Backoff, JitterSpreadsWaitsOverTheWholeBand) {
  double lowest = 1e9;
  double highest = 0.0;
  for (std::uint64_t seed = 0; seed < 1000; ++seed) {
    Backoff sut(milliseconds(1000), milliseconds(1000), seed);
    const double wait = static_cast<double>(sut.next().count());
    lowest = std::min(lowest, wait);
    highest = std::max(highest, wait);
  }

  EXPECT_LT(lowest, 850.0);
  EXPECT_GT(highest, 1150.0);
}

TEST(Backoff, ResetStartsAgainFromMin) {
  Backoff sut(milliseconds(100), milliseconds(1000), 7);
  (void)sut.next();
  (void)sut.next();

  sut.reset();

  EXPECT_EQ(sut.nominal(), milliseconds(100));
}

TEST(Backoff, NonPositiveMinAndMaxBelowMinAreClamped) {
  Backoff zero(milliseconds(0), milliseconds(0), 3);
  Backoff inverted(milliseconds(500), milliseconds(100), 3);

  EXPECT_EQ(zero.nominal(), milliseconds(1));
  (void)inverted.next();
  EXPECT_EQ(inverted.nominal(), milliseconds(500));
}

}  // namespace
}  // namespace twind::mqtt::internal
