// Numerical safety: a model whose state explodes (an unstable model, an absurd input) never puts
// NaN, infinity or a runaway number into twin/state; the twin raises model_diverged,
// re-initialises from the measurements and carries on.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "../support/fixtures.hpp"
#include "../support/recording_sink.hpp"
#include "twind/core/engine.hpp"

namespace twind::core {
namespace {

using nlohmann::json;
using testing::CollectingSink;
using testing::seed_config;

using testing::frame_payload;

// Every number in a JSON document, wherever it is.
void numbers_of(const json& j, std::vector<double>& out) {
  if (j.is_number()) out.push_back(j.get<double>());
  if (j.is_structured()) {
    for (const auto& e : j) numbers_of(e, out);
  }
}

std::vector<AlertEvent> of_kind(const CollectingSink& s, AlertId id) {
  std::vector<AlertEvent> out;
  for (const auto& a : s.alerts) {
    if (a.event.id == id) out.push_back(a.event);
  }
  return out;
}

void expect_states_finite_and_bounded(const CollectingSink& sink) {
  for (const auto& s : sink.states) {
    // NaN and infinity are not JSON: a state holding one would not even parse.
    const json j = json::parse(s.json);
    std::vector<double> numbers;
    numbers_of(j["signals"], numbers);
    for (const double x : numbers) {
      EXPECT_TRUE(std::isfinite(x)) << s.json;
      EXPECT_LE(std::abs(x), AssetTwin::kStateLimit) << s.json;
    }
  }
}

TEST(NumericalSafety, UnstableModelRaisesModelDivergedOnceAndPublishesOnlyBoundedNumbers) {
  config::Config c = seed_config();
  c.assets[0].model.a = {1, 1, {50.0}};  // pole at +50: e^{50 t}, 1e12 within 0.6 s
  Engine sut(c, 0.0);
  CollectingSink sink;

  for (int k = 1; k <= 1500; ++k) {  // 30 s at 50 Hz, the plant itself steady at y = u = 1
    const double t = 0.02 * k;
    sut.on_message("plant/frame", frame_payload(t, 1.0, 1.0), t, sink);
    if (k % 25 == 0) sut.tick(t, sink);
  }

  const auto diverged = of_kind(sink, AlertId::model_diverged);
  ASSERT_EQ(diverged.size(), 1u) << "raised once and kept, not flapping";
  EXPECT_TRUE(diverged[0].raised);
  EXPECT_LT(diverged[0].ts, 1.0);
  ASSERT_EQ(sink.states.size(), 60u);
  expect_states_finite_and_bounded(sink);
  const json last = json::parse(sink.states.back().json);
  EXPECT_EQ(last["status"], "alert");
  EXPECT_EQ(last["active_alerts"][0]["id"], "model_diverged");
  for (const double x : sut.twin(0).state()) EXPECT_LE(std::abs(x), AssetTwin::kStateLimit);
}

TEST(NumericalSafety, AbsurdInputDivergesThenTheTwinRecoversAndClearsTheAlert) {
  config::Config c = seed_config();
  c.assets[0].signals[0].min = -1e300;  // no bounds on u: the absurd value is let through
  c.assets[0].signals[0].max = 1e300;
  Engine sut(c, 0.0);
  CollectingSink sink;
  double t = 0.0;
  const auto run = [&](double until, double u) {
    while (t < until - 1e-9) {
      t += 0.02;
      sut.on_message("plant/frame", frame_payload(t, u, 1.0), t, sink);
      if (std::fmod(t + 1e-9, 0.5) < 0.02) sut.tick(t, sink);
    }
  };

  run(2.0, 1.0);
  run(2.02, 1e300);  // held for the next 20 ms: x leaves every bound
  run(20.0, 1.0);

  const auto diverged = of_kind(sink, AlertId::model_diverged);
  ASSERT_EQ(diverged.size(), 2u);
  EXPECT_TRUE(diverged[0].raised);
  EXPECT_NEAR(diverged[0].ts, 2.04, 1e-9);  // the first sample integrated over the absurd input
  EXPECT_FALSE(diverged[1].raised);
  EXPECT_GE(diverged[1].ts - diverged[0].ts, AssetTwin::kDivergedClearSeconds);
  expect_states_finite_and_bounded(sink);
  EXPECT_EQ(sut.twin(0).status(), Status::ok);
  EXPECT_NEAR(sut.twin(0).signal(1).residual, 0.0, 1e-9);  // carries on, explaining the plant
}

TEST(NumericalSafety, RebaselineClearsModelDiverged) {
  config::Config c = seed_config();
  c.assets[0].model.a = {1, 1, {50.0}};
  Engine sut(c, 0.0);
  CollectingSink sink;
  for (int k = 1; k <= 100; ++k) {
    sut.on_message("plant/frame", frame_payload(0.02 * k, 1.0, 1.0), 0.02 * k, sink);
  }
  ASSERT_TRUE(sut.twin(0).model_diverged());

  sut.on_message("twin/plant/cmd", R"({"command": "rebaseline", "model": {"name": "fixed",
      "version": "2", "A": [[-1]], "B": [[1]], "C": [[1]]}})",
                 2.1, sink);

  EXPECT_FALSE(sut.twin(0).model_diverged());
  EXPECT_FALSE(of_kind(sink, AlertId::model_diverged).back().raised);
}

}  // namespace
}  // namespace twind::core
