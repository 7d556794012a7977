// The /metrics exposition's per-output CUSUM gauge and the process's memory.
#include "twind/app/metrics.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "../support/fixtures.hpp"
#include "../support/recording_sink.hpp"
#include "twind/core/engine.hpp"

namespace twind::app {
namespace {

config::Config with_cusum_on_y() {
  config::Config c = testing::seed_config();
  c.assets[0].signals[1].detector = config::DetectorKind::cusum;
  c.assets[0].signals[1].cusum = config::CusumSpec{0.01, 0.5, 20.0};
  return c;
}

// The seed plant at rest (u = y = 1) for 1 s, then y 0.02 above it (2 sigma) for `biased`
// samples, every 0.1 s.
void feed(core::Engine& engine, int biased) {
  testing::CollectingSink sink;
  for (int k = 0; k < 10 + biased; ++k) {
    const double t = 1.0 + 0.1 * k;
    engine.on_message("plant/frame", testing::frame_payload(t, 1.0, k < 10 ? 1.0 : 1.02), t + 0.005,
                      sink);
  }
}

TEST(Metrics, CusumGaugeReportsTheStatisticOfEachOutputWithACusum) {
  core::Engine engine(with_cusum_on_y(), 0.0);
  feed(engine, 4);  // S+ = 4 x (2 - 0.5) = 6, within rounding

  const std::string text = prometheus_text(engine, DaemonCounters{}, mqtt::ClientStats{}, true);

  EXPECT_NE(text.find("# HELP twind_asset_cusum "), std::string::npos) << text;
  EXPECT_NE(text.find("# TYPE twind_asset_cusum gauge\n"), std::string::npos) << text;
  const std::string series = "\ntwind_asset_cusum{asset=\"plant\",signal=\"y\"} ";
  const std::size_t at = text.find(series);
  ASSERT_NE(at, std::string::npos) << text;
  EXPECT_NEAR(std::stod(text.substr(at + series.size())), 6.0, 1e-6);
  EXPECT_NEAR(std::stod(text.substr(at + series.size())), engine.twin(0).detector(1).cusum(), 1e-9);
}

TEST(Metrics, CusumGaugeHasNoSeriesForOutputsWithoutACusum) {
  core::Engine engine(testing::seed_config(), 0.0);
  feed(engine, 4);

  const std::string text = prometheus_text(engine, DaemonCounters{}, mqtt::ClientStats{}, true);

  EXPECT_EQ(text.find("twind_asset_cusum{"), std::string::npos) << text;
  EXPECT_NE(text.find("twind_asset_divergence{asset=\"plant\"}"), std::string::npos) << text;
}

// The value of the unlabelled series NAME in TEXT, or -1 if it is not there.
double gauge(const std::string& text, const std::string& name) {
  const std::size_t at = text.find("\n" + name + " ");
  return at == std::string::npos ? -1.0 : std::stod(text.substr(at + name.size() + 2));
}

TEST(Metrics, HeapGaugeCountsWhatTheProcessHoldsAndNotWhatItFreed) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "a sanitizer's allocator serves malloc here: glibc's statistics do not see it";
#else
  core::Engine engine(testing::seed_config(), 0.0);
  const auto heap = [&] {
    return gauge(prometheus_text(engine, DaemonCounters{}, mqtt::ClientStats{}, true),
                 "twind_heap_bytes");
  };
  constexpr std::size_t kBlock = 8 << 20;
  const double before = heap();
  ASSERT_GT(before, 0.0);
  auto block = std::make_unique<char[]>(kBlock);
  block[0] = block[kBlock - 1] = 1;
  const double holding = heap();
  block.reset();
  const double after = heap();

  EXPECT_GE(holding - before, static_cast<double>(kBlock));
  EXPECT_LT(holding - before, static_cast<double>(kBlock) + 65536.0);
  EXPECT_LT(after - before, 65536.0);
#endif
}

TEST(Metrics, ResidentMemoryGaugeIsTheProcessSize) {
  core::Engine engine(testing::seed_config(), 0.0);
  const std::string text = prometheus_text(engine, DaemonCounters{}, mqtt::ClientStats{}, true);
  EXPECT_NE(text.find("# TYPE process_resident_memory_bytes gauge\n"), std::string::npos) << text;
  // A test binary with GoogleTest and the engine loaded: more than 1 MB, less than 1 GB.
  EXPECT_GT(gauge(text, "process_resident_memory_bytes"), 1e6);
  EXPECT_LT(gauge(text, "process_resident_memory_bytes"), 1e9);
}

}  // namespace
}  // namespace twind::app
