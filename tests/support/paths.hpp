// Where the live tests find twind, twin-sim and the bundled configurations (the build defines
// TWIND_BINARY_DIR and TWIND_SOURCE_DIR for every test).
#pragma once

#include <string>

namespace twind::testing {

inline const std::string kTwind = std::string(TWIND_BINARY_DIR) + "/twind";
inline const std::string kSim = std::string(TWIND_BINARY_DIR) + "/twin-sim";
inline const std::string kSeed = std::string(TWIND_SOURCE_DIR) + "/config/twind.yaml";
inline const std::string kFleet = std::string(TWIND_SOURCE_DIR) + "/config/fleet.yaml";

}  // namespace twind::testing
