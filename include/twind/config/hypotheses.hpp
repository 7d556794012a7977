// The names of the diagnosis' hypotheses (`assets[].diagnose.hypotheses`) and what each points at
// in an asset. The validator refuses a name that points at nothing; the diagnosis builds every
// hypothesis from its name, the default set's too, so the file and the diagnosis read names alike.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "twind/config/config.hpp"

namespace twind::config {

/// What may have changed: a number of the model, a sensor's gain or bias, an actuator's gain.
enum class HypothesisKind { parameter, output_gain, output_bias, input_gain };

/// What a name points at.
struct HypothesisTarget {
  HypothesisKind kind = HypothesisKind::parameter;
  /// parameter: the entry's position (row-major in A, then B; num then den; the machine's
  /// parameters in the order of RotatingMachineParams); the others: the input's or output's index.
  std::size_t index = 0;
  /// As the diagnosis reports it: the parameter (`A[0][1]`, `tau_mech`), or the signal's name.
  std::string name;
};

/// The rotating machine's parameters as the file writes them, in the order of
/// RotatingMachineParams.
inline constexpr std::string_view kMachineParameters[] = {
    "tau_mech", "rpm_rated", "p_idle", "k_speed", "r_th", "c_th", "t_ambient", "v_base", "k_imb"};

/// What `text` names in an asset of `model` and `signals` (each role in the model's order):
/// `A[i][j]` or `B[i][j]`, any entry within the matrix (state space); `num[k]`, or `den[k]` with
/// k >= 1 (transfer function); a parameter but rpm_rated (rotating machine); `output_gain(NAME)`
/// or `output_bias(NAME)` for an output, `input_gain(NAME)` for an input. Indices in decimal
/// without leading zeros, as the diagnosis writes them. Nothing when it names nothing.
[[nodiscard]] std::optional<HypothesisTarget> find_hypothesis(
    const ModelSpec& model, const std::vector<SignalSpec>& signals, std::string_view text);

/// The names find_hypothesis() takes, concisely, for `expected ...`: `A[0][0], B[0][0],
/// output_gain(y), output_bias(y) or input_gain(u)`; `A[i][j] with i, j < 2, ...`.
[[nodiscard]] std::string hypothesis_choices(const ModelSpec& model,
                                             const std::vector<SignalSpec>& signals);

}  // namespace twind::config
