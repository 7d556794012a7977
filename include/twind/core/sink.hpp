// What the engine hands back to its driver: alert transitions, states, model changes and command
// replies through a Sink, and its running counts. Shared by the engine's parts (routing, reload,
// commands) and the drivers.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "twind/base/types.hpp"
#include "twind/core/twin.hpp"
#include "twind/ident/physical.hpp"
#include "twind/model/model.hpp"

namespace twind::core {

/// Why a twin's model changed.
enum class ModelCause : std::uint8_t { reload, command, rebaseline };

[[nodiscard]] constexpr std::string_view to_string(ModelCause c) noexcept {
  return c == ModelCause::reload ? "reload" : c == ModelCause::command ? "command" : "rebaseline";
}

/// One change of one twin's model (published on the definition's model topic).
struct ModelChange {
  model::ModelId before;
  model::ModelId after;
  ModelCause cause = ModelCause::reload;
  bool state_kept = true;  ///< false: re-initialised from the measurements (or waiting for them)
  double ts = 0.0;         ///< the time of the change (the command's arrival, the reload's)
};

/// The answer to one command, published on the command topic + "/reply".
struct CommandReply {
  std::string topic;       ///< where it goes
  std::string asset;       ///< the asset the command was sent to
  std::string request_id;  ///< the sender's "id", echoed
  std::string command;     ///< the command as written (may be empty when unreadable)
  double ts = 0.0;         ///< the command's arrival
  bool ok = false;
  std::string error;  ///< why it was refused (ok == false)
  // When ok:
  model::ModelId model;                    ///< the asset's model after the command
  std::optional<model::ModelId> previous;  ///< the model before, when the command changed it
  std::optional<bool> state_kept;          ///< set_model and rebaseline
  std::size_t assets = 0;                  ///< how many assets the command changed
  Status status = Status::starting;        ///< the asset's status after the command
  /// rebaseline with identified: the diagnosed change the adopted model carries.
  struct Adopted {
    std::string kind;  ///< parameter or input_gain
    std::string name;
    double estimate = 0.0;
  };
  std::optional<Adopted> adopted;
};

/// What a divergence is put down to (Engine, "Diagnosis"): the single change that explains the
/// samples around it best.
struct DiagnosisReport {
  double ts = 0.0;          ///< the tick that made it
  double alert_ts = 0.0;    ///< the divergence alert's event time
  std::size_t samples = 0;  ///< output comparisons in the window
  bool explained = false;   ///< the best change explains them to within the noise
  struct Finding {
    std::string kind;  ///< parameter, output_gain, output_bias or input_gain
    std::string name;  ///< A[0][0], a machine parameter, a signal's name
    double nominal = 0.0;
    double estimate = 0.0;
    double ci95 = 0.0;   ///< half-width
    double onset = 0.0;  ///< the change's estimated event time
  };
  std::optional<Finding> best;
  std::optional<Finding> runner_up;
  double margin = 0.0;  ///< runner-up's residual sum of squares over best's
  /// The change was still moving: `best` is its value over the latest samples (from `since`).
  bool drifting = false;
  double since = 0.0;  ///< the event time of the first sample the best estimate stands on
  /// The model in physical terms (linear models): poles, time constants, DC gains; `after` with
  /// the best change in place, when it is one of the model's.
  std::optional<ident::Physical> before;
  std::optional<ident::Physical> after;
};

/// Where the engine's results go. Called synchronously on the engine's thread.
class Sink : public AlertSink {
 public:
  /// A tick's state of one twin, due at `ts`.
  virtual void on_state(const AssetTwin& twin, double ts) = 0;
  /// The twin's model changed (reload, command or rebaseline).
  virtual void on_model_change(const AssetTwin& twin, const ModelChange& change) = 0;
  /// The answer to a command.
  virtual void on_reply(const CommandReply& reply) = 0;
  /// What a twin's divergence is put down to, when it is first known and whenever it moves.
  virtual void on_diagnosis(const AssetTwin& twin, const DiagnosisReport& report) {
    (void)twin;
    (void)report;
  }
  /// A twin was made for an asset first seen on a template's topics.
  virtual void on_discovered(const AssetTwin& twin) { (void)twin; }
  /// A replica: the alerts handed over to `twin` and not settled yet (AssetTwin::handed_over)
  /// changed otherwise than by an alert transition (which on_alert reports).
  virtual void on_handed_over(const AssetTwin& twin) { (void)twin; }
  /// A replica lets `twin` go (Engine::set_partitions) with alerts raised or handed over and
  /// not settled: what its asset's next holder must settle, said once more. A record said
  /// before may not have reached every node of a clustered broker.
  virtual void on_let_go(const AssetTwin& twin) { (void)twin; }
  /// A message, or one value in a frame, was refused. `arrival` lets the driver rate-limit its
  /// log line per topic. Default: ignore (the engine counts every rejection anyway).
  virtual void on_reject(std::string_view topic, Reject reason, double arrival) {
    (void)topic;
    (void)reason;
    (void)arrival;
  }

 protected:
  ~Sink() = default;
};

struct Counters {
  std::uint64_t messages = 0;  ///< inbound messages offered
  std::uint64_t values = 0;    ///< values accepted by a twin
  std::uint64_t states = 0;
  std::uint64_t alerts = 0;
  std::uint64_t discovered = 0;  ///< twins made by discovery
  std::uint64_t commands = 0;    ///< commands received (each answered)
  std::uint64_t commands_refused = 0;
  std::uint64_t model_changes = 0;
  std::uint64_t reanchored = 0;  ///< twins restarted after input they may have lost
  std::uint64_t unjudged = 0;    ///< comparisons of bare numbers whose timing was unknown
  std::uint64_t shed = 0;        ///< values dropped unprocessed, older than Engine::shed_after()
  std::uint64_t states_thinned = 0;  ///< states not published, the driver being behind
  std::uint64_t diagnoses = 0;       ///< diagnosis updates published
  /// A replica's: messages of partitions it subscribes to but does not hold yet (or any more),
  /// and commands to assets of partitions it does not hold, left to their holder.
  std::uint64_t not_held = 0;
  std::array<std::uint64_t, kRejectKinds> rejected{};  ///< by Reject

  [[nodiscard]] std::uint64_t rejected_total() const noexcept;
};

}  // namespace twind::core
