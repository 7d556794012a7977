// The engine: every asset's twin behind one message entry point. This is the functional core
// that both drivers (replay over a recording, live over MQTT) feed: topic + payload + arrival
// time in, alert transitions and states out through a Sink. No I/O and no clock.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "twind/codec/payload.hpp"
#include "twind/config/config.hpp"
#include "twind/core/twin.hpp"
#include "twind/core/types.hpp"

namespace twind::core {

/// Where the engine's results go. Called synchronously on the engine's thread.
class Sink : public AlertSink {
 public:
  /// A tick's state of one twin, due at `ts`.
  virtual void on_state(const AssetTwin& twin, double ts) = 0;
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
  std::array<std::uint64_t, kRejectKinds> rejected{};  ///< by Reject

  [[nodiscard]] std::uint64_t rejected_total() const noexcept;
};

class Engine {
 public:
  /// Builds every asset of a validated configuration; twins start waiting for data at `start`.
  /// Throws model::ModelError if a model cannot be built.
  Engine(const config::Config& config, double start);

  /// Swaps in a new validated configuration without losing what the twins know. An asset whose
  /// model and signals (names, roles, order) are unchanged keeps its twin (state, alerts, seq)
  /// under the new thresholds, bounds and topics; an asset whose model or signals changed starts
  /// again from the measurements; new assets start at `now`; removed ones are dropped. Alerts
  /// cleared by the change go to `sink`. Returns one line per change, e.g.
  /// `plant: y.threshold 0.15 -> 0.2`. Throws model::ModelError before changing anything if a
  /// new model cannot be built.
  std::vector<std::string> reconfigure(const config::Config& next, double now, Sink& sink);

  /// One inbound message. Decodes it, routes every value to its twin and integrates; alert
  /// transitions go to the sink as they are decided. Never throws for any payload.
  void on_message(std::string_view topic, std::string_view payload, double arrival, Sink& sink);

  /// A tick at `now`: stale checks, then one state per asset, in configuration order.
  void tick(double now, Sink& sink);

  [[nodiscard]] const Counters& counters() const noexcept { return counters_; }
  [[nodiscard]] std::size_t size() const noexcept { return twins_.size(); }
  [[nodiscard]] const AssetTwin& twin(std::size_t i) const noexcept { return twins_[i]; }
  /// Topics the engine listens on (for subscribing), in a stable order.
  [[nodiscard]] const std::vector<std::string>& topics() const noexcept { return topics_; }

 private:
  struct Route {
    std::uint32_t asset = 0;
    std::uint32_t signal = kFrame;  // kFrame: a frame topic, values are named by their keys
    static constexpr std::uint32_t kFrame = UINT32_MAX;
  };
  struct TopicHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };
  void reject(std::string_view topic, Reject reason, double arrival, Sink& sink);
  void deliver(const Route& route, std::string_view topic, const codec::Payload& payload,
               double arrival, Sink& sink);
  void offer(AssetTwin& twin, std::size_t signal, double value, double ts, double arrival,
             std::string_view topic, Sink& sink);

  void build_routes();

  std::vector<config::AssetSpec> specs_;  // what each twin was built from, for reconfigure()
  std::vector<AssetTwin> twins_;
  std::unordered_map<std::string, std::vector<Route>, TopicHash, std::equal_to<>> routes_;
  std::vector<std::string> topics_;
  codec::PayloadDecoder decoder_;
  codec::Payload payload_;
  Counters counters_;
};

}  // namespace twind::core
