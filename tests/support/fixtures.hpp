// Configurations built in code for the core and app tests (no YAML): the seed plant of
// config/twind.yaml and small variations of it.
#pragma once

#include <cstdio>
#include <string>

#include "twind/config/config.hpp"

namespace twind::testing {

/// The seed plant of config/twind.yaml: G(s) = 1/(s+1), u on plant/u, y on plant/y, frames on
/// plant/frame, threshold 0.15 (clear 0.1) on y, bounds +-1000, y stale after 1.5 s, tick 0.5 s.
inline config::Config seed_config() {
  config::Config c;
  c.source = "seed";
  c.tick = 0.5;
  config::AssetSpec a;
  a.id = "plant";
  a.model.id = {"first-order-lag", "1"};
  a.model.a = {1, 1, {-1.0}};
  a.model.b = {1, 1, {1.0}};
  a.model.c = {1, 1, {1.0}};
  a.model.d = {1, 1, {0.0}};
  config::SignalSpec u;
  u.name = "u";
  u.role = Role::input;
  u.topic = "plant/u";
  u.min = -1000;
  u.max = 1000;
  config::SignalSpec y;
  y.name = "y";
  y.role = Role::output;
  y.topic = "plant/y";
  y.min = -1000;
  y.max = 1000;
  y.threshold = 0.15;
  y.clear_threshold = 0.1;
  y.stale_after = 1.5;
  a.signals = {u, y};
  a.frame_topics = {"plant/frame"};
  c.assets.push_back(a);
  return c;
}

/// A frame of the seed plant, `{"ts": ..., "u": ..., "y": ...}`, numbers read back exactly.
inline std::string frame_payload(double ts, double u, double y) {
  char buf[128];
  std::snprintf(buf, sizeof buf, R"({"ts": %.17g, "u": %.17g, "y": %.17g})", ts, u, y);
  return buf;
}

/// The seed plant as config/fleet.yaml's template: every asset under plant/+/u, plant/+/y and
/// plant/+/frame, discovered up to `max_assets`, publishing twin/{asset}/state and .../alert.
inline config::Config fleet_config(std::size_t max_assets = 1000) {
  config::Config c = seed_config();
  config::AssetSpec& t = c.assets[0];
  t.id.clear();
  t.template_name = "plant";
  t.discover = true;
  t.max_assets = max_assets;
  t.signals[0].topic = "plant/{asset}/u";
  t.signals[1].topic = "plant/{asset}/y";
  t.frame_topics = {"plant/{asset}/frame"};
  c.topics.state = "twin/{asset}/state";
  c.topics.alert = "twin/{asset}/alert";
  return c;
}

}  // namespace twind::testing
