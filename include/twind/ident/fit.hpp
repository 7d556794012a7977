// System identification: an asset's model estimated from recorded samples of healthy operation,
// through the same event-time simulation the twin runs (zero-order hold between samples, as the
// samples came: any rate, jittered, separate topics or frames). No I/O, no clock. Eigen stays in
// the sources.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "twind/config/config.hpp"
#include "twind/ident/physical.hpp"

namespace twind::ident {

/// One measurement: at event time `t` signal `signal` (its index in AssetSpec::signals, inputs
/// first, as the twin numbers them) had `value`.
struct Sample {
  double t = 0.0;
  std::uint32_t signal = 0;
  double value = 0.0;
};

/// One asset's samples in the order the twin takes them (t non-decreasing).
struct Series {
  std::string asset;
  std::vector<Sample> samples;
};

/// The data cannot give a trustworthy model: not persistently exciting, too few samples, a fit
/// far worse than the noise on data it was not fitted to. what() says which, and what to do.
class FitError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct FitOptions {
  /// Order of the fitted model: a transfer function's denominator degree, or a single-input
  /// single-output state space realised in controllable canonical form. Unset: the order the
  /// configuration writes.
  std::optional<std::size_t> order;
  /// Share of the time span, at its end, kept out of the estimation to judge the fit on.
  double holdout = 0.3;
  std::size_t max_iterations = 200;
  /// A template pools at most this many of its assets' series (each with its own initial state).
  std::size_t max_series = 10;
};

/// One estimated (or held) parameter.
struct Parameter {
  std::string name;  ///< A[0][0], B[1][0], num[0], den[1], tau_mech, ...
  std::string unit;  ///< empty for the entries of a linear model
  double start = 0.0;
  double value = 0.0;
  double ci95 = 0.0;  ///< half-width of the 95 % confidence interval
  bool held = false;  ///< taken from the configuration, not estimated
};

struct OutputFit {
  std::string signal;
  std::size_t samples = 0;          ///< comparisons in the estimation part
  std::size_t holdout_samples = 0;  ///< comparisons in the hold-out part
  double interval = 0.0;            ///< median seconds between two of its samples
  double noise = 0.0;               ///< standard deviation of the residuals, estimation part
  double noise_floor = 0.0;         ///< the measurement noise as its second differences show it
  double holdout_rms = 0.0;
  double holdout_nrmse = 0.0;  ///< per cent: 100 * rms residual / standard deviation of y
  double holdout_max = 0.0;    ///< largest |residual| in the hold-out part
  double holdout_max_t = 0.0;  ///< its event time
};

/// How much an input moved over the data: an input that never moves identifies nothing.
struct Excitation {
  std::string signal;
  double min = 0.0;
  double max = 0.0;
  double stddev = 0.0;
  std::size_t changes = 0;  ///< samples whose value differs from the one before
};

struct FitReport {
  std::vector<Parameter> parameters;
  std::vector<OutputFit> outputs;
  std::vector<Excitation> inputs;
  std::vector<std::string> assets;  ///< the series pooled
  std::size_t iterations = 0;
  double start = 0.0;  ///< event time of the first sample used
  double split = 0.0;  ///< estimation before, hold-out from here
  double end = 0.0;
  std::string method;  ///< one line: what was estimated and how
};

struct FitResult {
  config::ModelSpec model;  ///< the fitted model, its version incremented
  FitReport report;
  /// Per output: the fitted model's residuals over every comparison of the first series (both
  /// parts), in time order, and how many comparisons a second it made: for calibration.
  std::vector<std::vector<double>> residuals;
  std::vector<double> rates;
};

/// Estimates `asset`'s model from `series` (one or several assets of the same entry):
///  - state_space: every non-zero entry of A, B and D the configuration writes (C is held: it
///    says what the states are), or, with options.order on a single-input single-output asset,
///    a transfer function of that order realised in controllable canonical form;
///  - transfer_function: the denominator's coefficients (den[0] = 1) and the numerator's, of the
///    configuration's orders (or options.order, strictly proper), started from a state-variable-
///    filter least-squares estimate;
///  - rotating_machine: tau_mech, k_speed, r_th, c_th, v_base, k_imb (rpm_rated, p_idle and
///    t_ambient are held: with them free the temperature could not tell them from r_th).
/// Each series' initial state is estimated too. Output error minimised by Levenberg-Marquardt,
/// confidence intervals from the Jacobian at the optimum. Throws FitError (see above), and
/// model::ModelError when the configuration's model cannot be built.
[[nodiscard]] FitResult fit(const config::AssetSpec& asset, std::span<const Series> series,
                            const FitOptions& options = {});

}  // namespace twind::ident
