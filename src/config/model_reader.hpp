// Internal to twind_config: reading a model (`assets[].model`, or a command's `model`) against
// the signals of its asset. The configuration's walk and the command reader share it, so a model
// is accepted by command exactly when it would be accepted in the file.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "reader.hpp"
#include "twind/config/config.hpp"

namespace twind::config::detail {

/// The signals a model is checked against.
struct SignalsInfo {
  std::vector<SignalSpec> inputs;   ///< file order
  std::vector<SignalSpec> outputs;  ///< file order
  bool roles_known = false;         ///< every role was read, so the counts above are meaningful
  std::optional<Value> where;       ///< the signals list (a command: its model)
  /// Whether the model's dimensions can be checked: without an input or an output the signal
  /// list is wrong already (and says so).
  [[nodiscard]] bool counts_known() const noexcept {
    return roles_known && !inputs.empty() && !outputs.empty();
  }
};

/// Reads a model mapping into `m`: its keys, then its kind's rules, then whether the model layer
/// can build it (every refusal at the model, or at the key it is about).
void read_model(Reader& r, const Value& v, const SignalsInfo& si, ModelSpec& m);

// ---- the kinds, each in its own file; `f` holds the model's entries

void read_state_space(Reader& r, const Value& v, const Fields& f, const SignalsInfo& si,
                      std::optional<Domain> domain, std::optional<double> dt, ModelSpec& m);
void read_transfer_function(Reader& r, const Value& v, const Fields& f, const SignalsInfo& si,
                            std::optional<Domain> domain, ModelSpec& m);
void read_rotating_machine(Reader& r, const Value& v, const Fields& f, const SignalsInfo& si,
                           ModelSpec& m);

// ---- what the kinds share

/// Refuses each of `keys` present in `f`, at its key, with `message`.
void refuse_keys(Reader& r, const Fields& f, std::initializer_list<std::string_view> keys,
                 const std::string& message);

/// Refuses signal counts other than `inputs` and `outputs`, at the signal list, with `got N inputs
/// and M outputs, expected <expected>`. A missing input or output is the list's own finding.
void require_signal_counts(Reader& r, const SignalsInfo& si, std::size_t inputs,
                           std::size_t outputs, const std::string& expected);

/// Warns at `at` when the continuous-time system matrix `a` has a pole in the right half-plane.
void warn_if_unstable(Reader& r, const Value& at, const model::Matrix& a);

}  // namespace twind::config::detail
