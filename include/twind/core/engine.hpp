// The engine: every asset's twin behind one message entry point. This is the functional core
// that both drivers (replay over a recording, live over MQTT) feed: topic + payload + arrival
// time in; alert transitions, states, model changes and command replies out through a Sink.
// No I/O and no clock.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "twind/codec/payload.hpp"
#include "twind/config/config.hpp"
#include "twind/core/twin.hpp"
#include "twind/core/types.hpp"

namespace twind::config {
struct Command;
}

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
  /// A twin was made for an asset first seen on a template's topics.
  virtual void on_discovered(const AssetTwin& twin) { (void)twin; }
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
  std::array<std::uint64_t, kRejectKinds> rejected{};  ///< by Reject

  [[nodiscard]] std::uint64_t rejected_total() const noexcept;
};

class Engine {
 public:
  /// Builds every asset of a validated configuration (single assets, and the listed ids of
  /// templates); twins start waiting for data at `start`. Throws model::ModelError if a model
  /// cannot be built.
  Engine(const config::Config& config, double start);

  /// Swaps in a new validated configuration without losing what the twins know. A twin whose
  /// entry (single asset or template) keeps its signals keeps its state, alerts and seq under
  /// the new settings; if the entry's model changed it takes the new one (state kept where the
  /// number of states agrees, see AssetTwin::swap_model) and the change goes to the sink. A model
  /// taken by command outlives a reload that leaves the entry's model as it was. A twin whose
  /// signals changed starts again; twins no longer configured are dropped; alerts either clears
  /// go to the sink. Returns one line per change, e.g. `plant: y.threshold 0.15 -> 0.2`. Throws
  /// model::ModelError before changing anything if a new model cannot be built.
  std::vector<std::string> reconfigure(const config::Config& next, double now, Sink& sink);

  /// One inbound message: telemetry for a twin (making the twin first when its template
  /// discovers it) or a command. Decodes it, routes every value to its twin and integrates;
  /// alert transitions, model changes and replies go to the sink as they are decided. Never
  /// throws for any payload.
  void on_message(std::string_view topic, std::string_view payload, double arrival, Sink& sink);

  /// A tick at `now`, a multiple of tick_interval(): stale checks, then one state per asset due
  /// then, in configuration order (single assets and templates' ids as listed, then discovered
  /// assets in order of discovery). Without tick_spread every asset is due on every tick; with
  /// it, the period is cut into slots() sub-ticks and each asset is due on the one its id hashes
  /// to, once per period.
  void tick(double now, Sink& sink);

  /// Time between two calls of tick(): the configured tick, divided by slots().
  [[nodiscard]] double tick_interval() const noexcept {
    return tick_ / static_cast<double>(slots_);
  }
  /// Sub-ticks per period: 1 without tick_spread.
  [[nodiscard]] std::uint32_t slots() const noexcept { return slots_; }
  /// The sub-tick (0 .. slots()-1) that the tick at `now` is.
  [[nodiscard]] std::uint32_t slot_of(double now) const noexcept;

  [[nodiscard]] const Counters& counters() const noexcept { return counters_; }
  [[nodiscard]] std::size_t size() const noexcept { return twins_.size(); }
  [[nodiscard]] const AssetTwin& twin(std::size_t i) const noexcept { return twins_[i]; }
  /// The twin of asset `id`, or nullptr.
  [[nodiscard]] const AssetTwin* find(std::string_view id) const noexcept;
  /// Topic filters to subscribe to, in a stable order: single assets' topics, templates' topics
  /// (with + for {asset} when they discover), the command topic with + for {asset}.
  [[nodiscard]] const std::vector<std::string>& topics() const noexcept { return topics_; }

 private:
  struct Route {
    std::uint32_t asset = 0;
    std::uint32_t signal = kFrame;  // kFrame: a frame topic, values are named by their keys
    static constexpr std::uint32_t kFrame = UINT32_MAX;
  };
  // A template's topic: prefix{asset}suffix.
  struct Pattern {
    std::string prefix;
    std::string suffix;
    std::uint32_t signal = Route::kFrame;
    /// `topic` (holding {asset} once) split around its {asset}.
    static Pattern of(const std::string& topic, std::uint32_t signal);
    [[nodiscard]] bool match(std::string_view topic, std::string_view& id) const noexcept;
  };
  struct Entry {
    config::AssetSpec spec;
    std::shared_ptr<const AssetDef> def;
    std::vector<Pattern> patterns;  // templates only
    std::size_t discovered = 0;
  };
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };
  using Index = std::unordered_map<std::string, std::uint32_t, Hash, std::equal_to<>>;

  static std::vector<Entry> build_entries(const config::Config& config);
  void add_twin(std::string id, std::uint32_t entry, double start);
  void build_routes();
  void reject(std::string_view topic, Reject reason, double arrival, Sink& sink);
  void deliver(const Route& route, std::string_view topic, const codec::Payload& payload,
               double arrival, Sink& sink);
  void offer(AssetTwin& twin, std::size_t signal, double value, double ts, double arrival,
             std::string_view topic, Sink& sink);
  void on_template_topic(std::uint32_t entry, const Pattern& pattern, std::string_view id,
                         std::string_view topic, std::string_view payload, double arrival,
                         Sink& sink);
  void on_command(std::string_view asset, std::string_view payload, double arrival, Sink& sink);
  void run_command(std::uint32_t asset, const config::Command& command, CommandReply& reply,
                   Sink& sink);
  void change_model(std::uint32_t asset, std::shared_ptr<const AssetDef> def, ModelCause cause,
                    double now, Sink& sink, CommandReply* reply);

  void set_schedule(const config::Config& config);

  config::TopicsSpec topic_spec_;
  double tick_ = 0.5;
  std::uint32_t slots_ = 1;
  std::vector<std::uint16_t> slot_;  // per twin: its sub-tick within the period
  std::vector<Entry> entries_;
  std::vector<AssetTwin> twins_;
  std::vector<std::uint32_t> entry_of_;  // per twin
  Index index_;                          // asset id -> twin
  std::unordered_map<std::string, std::vector<Route>, Hash, std::equal_to<>> routes_;
  std::optional<Pattern> command_;
  std::vector<std::string> topics_;
  codec::PayloadDecoder decoder_;
  codec::Payload payload_;
  Counters counters_;
};

}  // namespace twind::core
