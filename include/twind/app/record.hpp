// `twind record`: the traffic a configuration reads, recorded as `twind replay` reads it.
#pragma once

#include <cstdint>
#include <string>

#include "twind/app/record_file.hpp"

namespace twind::app {

struct RecordOptions {
  std::string config_path;
  std::string output;           ///< the recording
  std::string broker_override;  ///< replaces broker.uri when set
  double duration = 0.0;        ///< seconds; 0: until SIGINT or SIGTERM
  std::uint64_t max_bytes = kDefaultRecordMaxBytes;
  unsigned keep = kDefaultRecordKeep;
};

/// Connects with the configuration's broker settings (client id `<broker.client_id>-record`, no
/// will, clean session), subscribes to the topic filters twind run subscribes to for the same
/// configuration (core::Router::topics()), and records every message that arrives until
/// `duration` has passed or SIGINT or SIGTERM. Returns the exit code: 0 done; 1 the recording
/// could not be opened or lost lines to a write error; 2 an invalid configuration, an
/// unreadable password or an unusable broker URI.
int record_traffic(const RecordOptions& options);

}  // namespace twind::app
