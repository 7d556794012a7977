// What changed: single-fault hypotheses about an asset, each with one free number, estimated
// from the samples around a divergence through the twin's own event-time simulation, and
// ranked by how well each explains them. No I/O, no clock.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "twind/config/config.hpp"
#include "twind/config/hypotheses.hpp"
#include "twind/ident/fit.hpp"

namespace twind::ident {

/// One number of the asset that may have changed.
struct Hypothesis {
  using Kind = config::HypothesisKind;
  Kind kind = Kind::parameter;
  /// parameter: `A[0][0]`, `B[1][0]`, `num[0]`, `den[1]`, or a rotating machine's parameter
  /// (`tau_mech`, ...); the others: the signal's name.
  std::string name;
  /// parameter: the entry's position (row-major in A, then B; num then den; the machine's
  /// parameters in the order of RotatingMachineParams); the others: the input's or output's index.
  std::size_t index = 0;
  double nominal = 0.0;  ///< its value in the model; 1 for a gain, 0 for a bias
};

/// "parameter", "output_gain", "output_bias" or "input_gain".
[[nodiscard]] const char* to_string(Hypothesis::Kind kind) noexcept;

/// The single-fault hypotheses of `asset`: those `asset.diagnose.hypotheses` names, in its order,
/// or by default each non-zero entry of A and B (state space), each coefficient of num and each
/// of den but den[0] (transfer function), each physical parameter but rpm_rated (rotating
/// machine); a gain and a bias on each output; a gain on each input. A listed name the model
/// does not have (one taken by command since) is left out.
[[nodiscard]] std::vector<Hypothesis> hypotheses(const config::AssetSpec& asset);

struct Estimate {
  Hypothesis hypothesis;
  double estimate = 0.0;
  double ci95 = 0.0;   ///< half-width of the 95 % interval
  double onset = 0.0;  ///< the change time that explains the samples best
  double rms = 0.0;    ///< residual rms after the onset, with the estimate
  double cost = 0.0;   ///< residual sum of squares over the window
};

struct Diagnosis {
  std::size_t samples = 0;    ///< output comparisons in the window
  std::vector<double> noise;  ///< the residuals' noise the judgement is against, per output
  double nominal_rms = 0.0;   ///< residual rms after the best onset with the nominal model
  /// The best estimate explains the samples after its onset to within the noise.
  bool explained = false;
  std::optional<Estimate> best;
  std::optional<Estimate> runner_up;
  /// runner_up's cost over best's (infinity without a runner-up): how much better the best
  /// explains the samples; below 1 (by less than kKeepBest in cost) when the best is the
  /// incumbent, kept.
  double margin = 0.0;
  /// The model with the best estimate in place, when the best is a parameter of the model, or an
  /// input gain of a linear model (its B column and D column scaled).
  std::optional<config::ModelSpec> identified;
  /// Set when the best hypothesis' number is still moving: estimated again on each half of the
  /// samples after the onset (or of the later half, halved again, where a half is not explained
  /// on its own), the halves' numbers differ by more than twice their 95 % intervals together.
  /// `best` is then the later half's estimate (the change as it stands now, not its average
  /// since the onset), and this is where its samples start.
  std::optional<double> moving_from;
};

struct DiagnoseOptions {
  /// The residuals' noise (standard deviation, the same for every output in its own unit, or one
  /// per output); empty: estimated from the samples before the earliest onset.
  std::vector<double> noise;
  /// Explained when the best estimate's rms after the onset is at most this many times the
  /// noise.
  double explained_within = 1.5;
  std::size_t max_iterations = 30;
  /// The change is in place from the window's first sample (a window cut after the onset, while
  /// a change is followed): no onset is searched, and `noise` must be given.
  bool changed_from_start = false;
  /// Check whether the best hypothesis' number is still moving (Diagnosis::moving_from).
  bool track = true;
  /// The hypothesis (kind and name) said best before, for the same alert: it stays the best
  /// while another explains the samples no better than chance would (its residual sum of
  /// squares, in units of the noise, lower by less than kKeepBest), so that hypotheses the
  /// samples cannot tell apart do not take turns.
  std::optional<Hypothesis> incumbent;
};

/// The chi-square with one degree of freedom at 95 %: a hypothesis whose residual sum of
/// squares (in units of the noise) is lower by less than this explains the samples no better.
inline constexpr double kKeepBest = 3.84;

/// Estimates every hypothesis from `window` (one asset's samples, in the twin's order; its start
/// the nominal model's, with the initial state estimated), the change at each of `onsets` (event
/// times inside the window), keeps each hypothesis' best onset, and ranks them by cost; then
/// checks whether the best one's number is still moving (DiagnoseOptions::track). An empty
/// window, or one without a comparison, gives a Diagnosis with no best.
[[nodiscard]] Diagnosis diagnose(const config::AssetSpec& asset,
                                 std::span<const Hypothesis> candidates, const Series& window,
                                 std::span<const double> onsets,
                                 const DiagnoseOptions& options = {});

}  // namespace twind::ident
