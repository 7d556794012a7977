// Parsing and validation of twind's YAML configuration, in layers:
// load_file(path) -> load_string(text, name) -> validate(tree) -> Config.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "twind/config/config.hpp"

namespace twind::config {

/// One finding, printed as `file:line:col: message` (line and column 1-based, pointing at the
/// offending key or value). Errors refuse the configuration; warnings do not.
struct Diagnostic {
  std::string file;
  int line = 0;
  int column = 0;
  std::string message;  ///< `key.path: got X, expected Y`
  bool is_error = true;
  [[nodiscard]] std::string str() const;
};

struct LoadResult {
  std::optional<Config> config;  ///< set only when there is no error
  std::vector<Diagnostic> diagnostics;
  [[nodiscard]] bool ok() const noexcept { return config.has_value(); }
};

/// Reads and validates a file. Never throws: an unreadable file is one diagnostic at 1:1.
[[nodiscard]] LoadResult load_file(const std::string& path);

/// Validates YAML text; `name` is used as the file in diagnostics. Never throws.
[[nodiscard]] LoadResult load_string(std::string_view text, const std::string& name);

/// One row of the key table that drives both validation and docs/configuration.md's key table.
struct KeyDoc {
  std::string path;  ///< e.g. `assets[].signals[].threshold`
  std::string type;  ///< e.g. `number`, `duration`, `string`
  std::string default_value;
  std::string meaning;
  std::string rule;  ///< e.g. `> 0`, `<= threshold`
};
[[nodiscard]] const std::vector<KeyDoc>& key_table();

/// Renders key_table() as a Markdown table (for `twind check --keys` and docs/configuration.md).
[[nodiscard]] std::string key_table_markdown();

}  // namespace twind::config
