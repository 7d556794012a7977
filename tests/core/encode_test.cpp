#include "twind/core/encode.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "../support/fixtures.hpp"
#include "../support/recording_sink.hpp"

namespace twind::core {
namespace {

using nlohmann::json;
using testing::CollectingSink;
using testing::seed_config;

TEST(EncodeState, StateBeforeAnyDataIsStartingWithNullsNotZeros) {
  Engine engine(seed_config(), 0.0);
  CollectingSink sink;
  engine.tick(0.5, sink);
  const json j = json::parse(sink.states.at(0).json);
  EXPECT_EQ(j["asset"], "plant");
  EXPECT_EQ(j["seq"], 1);
  EXPECT_EQ(j["ts"], 0.5);
  EXPECT_EQ(j["model"], json({{"name", "first-order-lag"}, {"version", "1"}}));
  EXPECT_TRUE(j["signals"]["u"]["value"].is_null());
  EXPECT_TRUE(j["signals"]["y"]["measured"].is_null());
  EXPECT_TRUE(j["signals"]["y"]["predicted"].is_null());
  EXPECT_TRUE(j["divergence"].is_null());
  EXPECT_EQ(j["status"], "starting");
  EXPECT_EQ(j["active_alerts"], json::array());
}

TEST(EncodeState, StateCarriesMeasuredPredictedResidualAndActiveAlerts) {
  Engine engine(seed_config(), 0.0);
  CollectingSink sink;
  engine.on_message("plant/u", "0", 1.0, sink);
  engine.on_message("plant/y", "0", 1.0, sink);
  engine.on_message("plant/y", "0.25", 1.25, sink);  // the model predicts 0: residual 0.25
  engine.tick(1.5, sink);
  const json j = json::parse(sink.states.at(0).json);
  EXPECT_EQ(j["signals"]["u"]["value"], 0.0);
  EXPECT_EQ(j["signals"]["y"]["measured"], 0.25);
  EXPECT_EQ(j["signals"]["y"]["predicted"], 0.0);
  EXPECT_EQ(j["signals"]["y"]["residual"], 0.25);
  EXPECT_EQ(j["divergence"], 0.25);
  EXPECT_EQ(j["threshold"], 0.15);
  EXPECT_EQ(j["status"], "alert");
  ASSERT_EQ(j["active_alerts"].size(), 1u);
  EXPECT_EQ(j["active_alerts"][0]["id"], "divergence");
  EXPECT_EQ(j["active_alerts"][0]["signal"], "y");
  EXPECT_EQ(j["active_alerts"][0]["since"], 1.25);
}

TEST(EncodeAlert, AlertCarriesTheContractFields) {
  Engine engine(seed_config(), 0.0);
  CollectingSink sink;
  engine.on_message("plant/u", "0", 1.0, sink);
  engine.on_message("plant/y", "0", 1.0, sink);
  engine.on_message("plant/y", "0.18", 2.06, sink);
  ASSERT_EQ(sink.alerts.size(), 1u);
  std::string out;
  encode_alert(engine.twin(0), sink.alerts[0].event, out);
  const json j = json::parse(out);
  EXPECT_EQ(j["asset"], "plant");
  EXPECT_EQ(j["ts"], 2.06);
  EXPECT_EQ(j["id"], "divergence");
  EXPECT_EQ(j["signal"], "y");
  EXPECT_EQ(j["state"], "raised");
  EXPECT_EQ(j["severity"], "critical");
  EXPECT_EQ(j["value"], 0.18);
  EXPECT_EQ(j["threshold"], 0.15);
  EXPECT_EQ(j["message"], "divergence 0.18 > 0.15 on y");
}

TEST(EncodeState, SameTwinAndTimeGiveTheSameBytes) {
  auto run = [] {
    Engine engine(seed_config(), 0.0);
    CollectingSink sink;
    engine.on_message("plant/frame", R"({"u": 1.1, "y": 0.3})", 1.0, sink);
    engine.on_message("plant/y", "0.7", 1.7, sink);
    engine.tick(2.0, sink);
    return sink.states.at(0).json;
  };
  EXPECT_EQ(run(), run());
}

}  // namespace
}  // namespace twind::core
