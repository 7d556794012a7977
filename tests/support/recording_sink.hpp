// A core::Sink that keeps everything the engine decided, for assertions.
#pragma once

#include <string>
#include <vector>

#include "twind/core/encode.hpp"
#include "twind/core/engine.hpp"

namespace twind::testing {

struct RecordedAlert {
  std::string asset;
  core::AlertEvent event;
};

struct RecordedState {
  std::string asset;
  double ts = 0.0;
  Status status = Status::starting;
  std::string json;
};

struct RecordedReject {
  std::string topic;
  Reject reason = Reject::malformed;
};

class CollectingSink final : public core::Sink {
 public:
  void on_alert(const core::AssetTwin& twin, const core::AlertEvent& e) override {
    alerts.push_back({twin.def().id, e});
  }
  void on_state(const core::AssetTwin& twin, double ts) override {
    RecordedState s{twin.def().id, ts, twin.status(), {}};
    core::encode_state(twin, ts, s.json);
    states.push_back(std::move(s));
  }
  void on_reject(std::string_view topic, Reject reason, double) override {
    rejects.push_back({std::string(topic), reason});
  }

  std::vector<RecordedAlert> alerts;
  std::vector<RecordedState> states;
  std::vector<RecordedReject> rejects;
};

}  // namespace twind::testing
