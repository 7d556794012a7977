// The model interface every twin integrates. No Eigen here: vectors cross it as spans, so the
// engine and everything above it compile without Eigen's headers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace twind::model {

/// Identity of a model as reported in `twin/state` ("model": {"name", "version"}).
struct ModelId {
  std::string name;
  std::string version;
  friend bool operator==(const ModelId&, const ModelId&) = default;
};

/// Per-twin memory a model may keep between calls to advance(). Owned by the twin, one per twin,
/// zero-initialised; a model reads and writes only its own fields.
struct StepMemo {
  /// Discrete models: event time accumulated since the last whole step, in seconds.
  double carry = 0.0;
  /// Continuous models: the interval key (ns) of `hint`, or -1.
  std::int64_t dt_key = -1;
  /// Continuous models: the cached discretisation for dt_key, owned by the model (stable for the
  /// model's lifetime).
  const void* hint = nullptr;
};

/// A plant model x' = f(x, u), y = h(x, u) (or its discrete-time form).
///
/// Contract: immutable after construction and shared by every twin that uses it; every const
/// member function may be called from several threads at once. No I/O, no clock: time is the
/// `dt` handed in. Spans must have the sizes states()/inputs()/outputs() report.
class Model {
 public:
  Model() = default;
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;
  virtual ~Model() = default;

  [[nodiscard]] virtual const ModelId& id() const noexcept = 0;
  [[nodiscard]] virtual std::size_t states() const noexcept = 0;
  [[nodiscard]] virtual std::size_t inputs() const noexcept = 0;
  [[nodiscard]] virtual std::size_t outputs() const noexcept = 0;

  /// Advances x by dt >= 0 seconds of event time with u held constant over the interval
  /// (zero-order hold). Returns false when the new state is not finite; x is then unspecified
  /// and the caller must re-initialise it.
  virtual bool advance(std::span<double> x, std::span<const double> u, double dt,
                       StepMemo& memo) const = 0;

  /// y = h(x, u): the outputs the model predicts for state x under input u.
  virtual void output(std::span<const double> x, std::span<const double> u,
                      std::span<double> y) const = 0;

  /// The state that best explains measured outputs y under input u (least squares through the
  /// output map; minimum norm where it is not unique). Used to start a twin from its first
  /// measurements so a daemon started mid-run raises no false alarm.
  virtual void initial_state(std::span<const double> y, std::span<const double> u,
                             std::span<double> x) const = 0;
};

}  // namespace twind::model
