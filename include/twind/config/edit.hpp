// Rewriting a configuration file in place of hand edits (`twind fit`): an asset's model and some
// of its signals replaced, comment lines added above the model, every other byte of the file
// (comments, order, style) kept.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "twind/config/config.hpp"

namespace twind::config {

/// The text cannot be edited as asked (not YAML, no such asset or signal).
class EditError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct AssetEdit {
  std::string name;  ///< the entry's `id`, or its `template`
  std::optional<ModelSpec> model;
  std::vector<std::string> comments;  ///< lines written above the entry's `model` key, after "# "
  std::vector<SignalSpec> signals;    ///< signals (found by name) written anew
};

/// `text` (a configuration file) with each edit applied. A model written in flow style (`{...}`)
/// is replaced by one in flow style, one in block style by a block at the same indentation (its
/// comments inside are not kept); a signal by a flow mapping. Throws EditError.
[[nodiscard]] std::string edit_configuration(std::string_view text,
                                             const std::vector<AssetEdit>& edits);

/// A model as one YAML flow mapping, every number in the shortest form that reads back to the
/// same double: `{name: first-order-lag, version: "2", kind: transfer_function, num: [1], ...}`.
[[nodiscard]] std::string model_yaml(const ModelSpec& model);

/// The same as a block mapping, its second and later lines indented by `indent` spaces.
[[nodiscard]] std::string model_yaml_block(const ModelSpec& model, std::size_t indent);

/// A signal as one YAML flow mapping (only the keys that differ from their defaults).
[[nodiscard]] std::string signal_yaml(const SignalSpec& signal);

/// The shortest text that reads back to `v` (`1`, `0.15`, `1e-07`).
[[nodiscard]] std::string number_text(double v);

}  // namespace twind::config
