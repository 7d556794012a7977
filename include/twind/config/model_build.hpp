// From a model's specification to the model the twins run, and the version a changed model
// takes: shared by the engine (reloads, commands, rebaselines) and by twind fit.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "twind/config/config.hpp"
#include "twind/model/model.hpp"

namespace twind::config {

/// Builds the model a specification names. Throws model::ModelError on an inconsistent
/// specification (which the configuration loader has normally refused already).
[[nodiscard]] std::shared_ptr<const model::Model> build_model(const ModelSpec& spec);

/// The version after `version` for a changed model: its last number incremented ("3" -> "4",
/// "1.9" -> "1.10", "v2-rc" -> "v3-rc"), or ".1" appended when it has none.
[[nodiscard]] std::string next_version(std::string_view version);

}  // namespace twind::config
