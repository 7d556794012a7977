// Counts alert transitions on their way from a twin to the driver's sink (and passes its trace
// on, when the driver's sink traces). For the engine's own sources: every path that lets a twin
// decide alerts (messages, ticks, reloads, commands) goes through one.
#pragma once

#include "twind/core/sink.hpp"

namespace twind::core {

class CountingSink final : public AlertSink {
 public:
  CountingSink(Sink& sink, Counters& counters) : sink_(sink), counters_(counters) {
    set_traces(sink.traces());
  }
  void on_alert(const AssetTwin& twin, const AlertEvent& event) override {
    ++counters_.alerts;
    sink_.on_alert(twin, event);
  }
  void on_trace(const AssetTwin& twin, const TraceSample& sample) override {
    sink_.on_trace(twin, sample);
  }

 private:
  Sink& sink_;
  Counters& counters_;
};

}  // namespace twind::core
