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

struct RecordedModelChange {
  std::string asset;
  core::ModelChange change;
  std::string json;
};

struct RecordedReject {
  std::string topic;
  Reject reason = Reject::malformed;
};

class CollectingSink final : public core::Sink {
 public:
  void on_alert(const core::AssetTwin& twin, const core::AlertEvent& e) override {
    alerts.push_back({twin.id(), e});
  }
  void on_state(const core::AssetTwin& twin, double ts) override {
    RecordedState s{twin.id(), ts, twin.status(), {}};
    core::encode_state(twin, ts, s.json);
    states.push_back(std::move(s));
  }
  void on_model_change(const core::AssetTwin& twin, const core::ModelChange& c) override {
    RecordedModelChange m{twin.id(), c, {}};
    core::encode_model_change(twin, c, m.json);
    model_changes.push_back(std::move(m));
  }
  void on_reply(const core::CommandReply& reply) override { replies.push_back(reply); }
  void on_discovered(const core::AssetTwin& twin) override { discovered.push_back(twin.id()); }
  void on_handed_over(const core::AssetTwin& twin) override { handed.push_back(twin.id()); }
  void on_let_go(const core::AssetTwin& twin) override { let_go.push_back(twin.id()); }
  void on_diagnosis(const core::AssetTwin& twin, const core::DiagnosisReport& r) override {
    diagnosed.push_back(twin.id());
    diagnoses.push_back(r);
  }
  void on_reject(std::string_view topic, Reject reason, double) override {
    rejects.push_back({std::string(topic), reason});
  }

  std::vector<RecordedAlert> alerts;
  std::vector<std::string> handed;  ///< on_handed_over, by asset
  std::vector<std::string> let_go;  ///< on_let_go, by asset
  std::vector<RecordedState> states;
  std::vector<RecordedReject> rejects;
  std::vector<RecordedModelChange> model_changes;
  std::vector<core::CommandReply> replies;
  std::vector<std::string> discovered;
  std::vector<core::DiagnosisReport> diagnoses;
  std::vector<std::string> diagnosed;  ///< the asset of each diagnosis
};

}  // namespace twind::testing
