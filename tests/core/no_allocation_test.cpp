// The engine's per-message path (routing, decoding, the twin step, the detector) and its tick
// must not touch the heap once warmed up. This binary counts calls of glibc's malloc family
// (tests/support/malloc_count.hpp).
#include <gtest/gtest.h>

#include <cstddef>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "../support/fixtures.hpp"
#include "../support/malloc_count.hpp"
#include "twind/core/engine.hpp"

namespace twind::core {
namespace {

using testing::allocations_during;

// Takes everything and keeps nothing: the allocations counted are the engine's own.
class NullSink final : public Sink {
 public:
  void on_alert(const AssetTwin& /*twin*/, const AlertEvent& /*event*/) override { ++calls; }
  void on_state(const AssetTwin& /*twin*/, double /*ts*/) override { ++calls; }
  void on_model_change(const AssetTwin& /*twin*/, const ModelChange& /*change*/) override {
    ++calls;
  }
  void on_reply(const CommandReply& /*reply*/) override { ++calls; }
  std::size_t calls = 0;
};

struct Message {
  std::string_view topic;
  std::string_view payload;
};

// Feeds `sut` a plant at rest (u = y = 1) every 20 ms from t = 1 s: 10 frames on `frame_topic`
// to warm up, then 1000 steps of a frame and the `others`, with a tick every 0.5 s. Returns the
// allocations of those 1000 steps. The warm-up keeps the run's 20 ms rhythm: a new interval is
// discretised once, which allocates by design (the model caches it per interval).
long allocations_of_a_steady_run(Engine& sut, std::string_view frame_topic,
                                 const std::vector<Message>& others) {
  constexpr int kWarm = 10;
  constexpr int kRun = 1000;
  NullSink sink;
  std::vector<std::string> frames;  // made before counting starts
  std::vector<double> times;
  for (int k = 0; k < kWarm + kRun; ++k) {
    times.push_back(1.0 + 0.02 * k);
    frames.push_back(testing::frame_payload(times.back(), 1.0, 1.0));
  }
  for (std::size_t k = 0; k < kWarm; ++k) sut.on_message(frame_topic, frames[k], times[k], sink);
  sut.tick(1.0, sink);

  return allocations_during([&] {
    for (std::size_t k = kWarm; k < frames.size(); ++k) {
      sut.on_message(frame_topic, frames[k], times[k], sink);
      for (const Message& m : others) sut.on_message(m.topic, m.payload, times[k], sink);
      if (k % 25 == 0) sut.tick(times[k], sink);
    }
  });
}

class EngineNoAllocation : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::kMallocReplaced) {
      GTEST_SKIP() << "allocation counting needs glibc's malloc, not a sanitizer's";
    }
  }
};

TEST_F(EngineNoAllocation, CountingSeesAnAllocation) {
  // Guards the other tests against a counter that silently sees nothing.
  std::unique_ptr<std::vector<int>> kept;  // outlives the lambda, so the call cannot be elided

  const long count = allocations_during([&] { kept = std::make_unique<std::vector<int>>(4); });

  EXPECT_GE(count, 1);
}

TEST_F(EngineNoAllocation, SingleAssetMessagesAndTicksDoNotAllocate) {
  Engine sut(testing::seed_config(), 0.0);

  const long count = allocations_of_a_steady_run(
      sut, "plant/frame",
      {{"plant/y", "1"}, {"plant/u", R"({"value": 1})"}, {"plant/nothing", "1"}});  // unknown topic

  EXPECT_EQ(count, 0);
  EXPECT_EQ(sut.twin(0).status(), Status::ok);
  EXPECT_EQ(sut.counters().values, 2 * 10 + 4 * 1000u);
  EXPECT_EQ(sut.counters().rejected_total(), 1000u);
  EXPECT_EQ(sut.counters().states, 41u);
}

TEST_F(EngineNoAllocation, CusumOutputMessagesAndTicksDoNotAllocate) {
  config::Config c = testing::seed_config();
  c.assets[0].signals[1].detector = config::DetectorKind::cusum;
  c.assets[0].signals[1].cusum = config::CusumSpec{0.01, 0.5, 20.0};
  // The run is in alert: its diagnosis (which allocates, off the tracking path) is not measured.
  c.assets[0].diagnose.enabled = false;
  Engine sut(c, 0.0);

  const long count = allocations_of_a_steady_run(
      sut, "plant/frame", {{"plant/y", "1.03"}, {"plant/u", R"({"value": 1})"}});

  EXPECT_EQ(count, 0);
  // y at 1.03 every other message: the CUSUM ran (and raised on it), the threshold did not.
  EXPECT_EQ(sut.twin(0).status(), Status::alert);
  EXPECT_EQ(sut.twin(0).signal(1).divergence_detector, Detector::cusum);
  EXPECT_EQ(sut.counters().values, 2 * 10 + 4 * 1000u);
}

TEST_F(EngineNoAllocation, TemplateAssetMessagesDoNotAllocateOnceDiscovered) {
  Engine sut(testing::fleet_config(), 0.0);

  const long count = allocations_of_a_steady_run(sut, "plant/p1/frame", {{"plant/p1/y", "1"}});

  EXPECT_EQ(count, 0);
  ASSERT_EQ(sut.size(), 1u);
  EXPECT_EQ(sut.twin(0).status(), Status::ok);
  EXPECT_EQ(sut.counters().values, 2 * 10 + 3 * 1000u);
}

// Bare numbers stamped on their arrival: every interval between two samples is new (jitter of
// up to a millisecond), so the model's cache of discretisations fills during the warm-up and
// each later interval is one it has never seen.
TEST_F(EngineNoAllocation, BareNumbersWithJitteredArrivalsDoNotAllocate) {
  config::Config c = testing::seed_config();
  // y is held while u moves, so the run is in alert: its diagnosis is not measured here.
  c.assets[0].diagnose.enabled = false;
  Engine sut(c, 0.0);
  NullSink sink;
  std::vector<double> times;  // u at t, y 20 us after it
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> jitter(0.0, 0.001);
  for (int k = 0; k < 1200; ++k) times.push_back(1.0 + 0.5 * k + jitter(rng));
  const std::vector<std::string> inputs = {"0.5", "1", "2.5", "1.5"};
  const auto step = [&](std::size_t k) {
    sut.on_message("plant/u", inputs[(k / 8) % inputs.size()], times[k], sink);
    sut.on_message("plant/y", "1", times[k] + 0.00002, sink);
    if (k % 2 == 0) sut.tick(times[k], sink);
  };
  for (std::size_t k = 0; k < 200; ++k) step(k);

  const long count = allocations_during([&] {
    for (std::size_t k = 200; k < times.size(); ++k) step(k);
  });

  EXPECT_EQ(count, 0);
  EXPECT_EQ(sut.counters().values, 2 * 1200u);
}

}  // namespace
}  // namespace twind::core
