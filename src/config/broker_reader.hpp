// Internal to twind_config: the `broker` section, with its TLS settings and credentials.
#pragma once

#include "reader.hpp"
#include "twind/config/config.hpp"

namespace twind::config::detail {

/// Reads `broker` into `b`, keeping the defaults of what is absent.
void read_broker(Reader& r, const Value& v, BrokerSpec& b);

}  // namespace twind::config::detail
