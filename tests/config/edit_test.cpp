// Rewriting a configuration's models (twind fit): everything else in the asset stays, its
// diagnosis settings too, whose hypotheses name the model's entries.
#include "twind/config/edit.hpp"

#include <gtest/gtest.h>

#include <string>

#include "diagnostics.hpp"
#include "twind/config/config.hpp"

namespace twind::config {
namespace {

using namespace testing;  // NOLINT(google-build-using-namespace): the tests' helpers

// A model in block style with `diagnose` after it, its list at the key's own indentation; one in
// flow style with `diagnose` before it.
constexpr const char* kConfig = R"(assets:
  - id: block
    model:
      name: m
      version: 1
      A: [[-1]]
      B: [[1]]
      C: [[1]]
    diagnose:
      enabled: true
      hypotheses:
      - A[0][0]
      - "B[0][0]"  # the actuator
    signals:
      - {name: u, role: input, topic: block/u}
      - {name: y, role: output, topic: block/y}
  - id: flow
    diagnose: {enabled: true, hypotheses: ["A[0][0]", output_gain(y)]}
    model: {name: m, version: 1, A: [[-1]], B: [[1]], C: [[1]]}
    signals:
      - {name: u, role: input, topic: flow/u}
      - {name: y, role: output, topic: flow/y}
)";

TEST(EditConfiguration, KeepsTheDiagnoseSettingsOfTheAssetsWhoseModelItRewrites) {
  const LoadResult before = load(kConfig);
  ASSERT_TRUE(before.ok()) << all_of(before);
  ModelSpec fitted = before.config->assets[0].model;
  fitted.id.version = "2";
  fitted.a = model::Matrix{1, 1, {-2.0}};
  fitted.b = model::Matrix{1, 1, {2.0}};

  const std::string text = edit_configuration(
      kConfig, {AssetEdit{"block", fitted, {"fitted"}, {}}, AssetEdit{"flow", fitted, {}, {}}});

  const LoadResult after = load(text);
  ASSERT_TRUE(after.ok()) << all_of(after) << text;
  for (std::size_t i = 0; i < 2; ++i) {
    SCOPED_TRACE(before.config->assets[i].id);
    EXPECT_EQ(after.config->assets[i].model, fitted);
    EXPECT_EQ(after.config->assets[i].diagnose, before.config->assets[i].diagnose);
    EXPECT_EQ(after.config->assets[i].diagnose.hypotheses.size(), 2U);
  }
  EXPECT_NE(text.find("      hypotheses:\n      - A[0][0]\n      - \"B[0][0]\"  # the actuator\n"),
            std::string::npos)
      << text;
}

}  // namespace
}  // namespace twind::config
