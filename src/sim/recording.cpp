#include "twind/sim/recording.hpp"

#include "twind/codec/recording.hpp"
#include "twind/json/writer.hpp"

namespace twind::sim {

RecordingSummary record(const Scenario& scenario, const RecordingOptions& options,
                        std::string& out) {
  RecordingSummary summary;
  ClosedLoop loop(scenario, options.t0);
  std::string payload;
  const auto samples = static_cast<std::size_t>(options.duration / scenario.dt + 0.5);
  for (std::size_t k = 0; k < samples; ++k) {
    const Sample s = loop.step();
    if (s.wear_injected) summary.wear_time = s.t;
    ++summary.samples;
    if (!options.frame_topic.empty()) {
      payload.clear();
      json::Writer w(payload);
      w.begin_object().key("ts").value(s.t).key("u").value(s.u).key("y").value(s.y).end_object();
      codec::append_record_line(out, s.t, options.frame_topic, payload);
      continue;
    }
    // The output is measured first and the controller answers: y then u, at the same instant.
    payload.clear();
    json::append_number(payload, s.y);
    codec::append_record_line(out, s.t, options.y_topic, payload);
    payload.clear();
    json::append_number(payload, s.u);
    codec::append_record_line(out, s.t, options.u_topic, payload);
  }
  return summary;
}

}  // namespace twind::sim
