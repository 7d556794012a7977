// SISO transfer functions, realised in controllable canonical form.
#include <cmath>
#include <cstddef>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "twind/model/linear.hpp"

namespace twind::model {
namespace {

void check_coefficients(const std::vector<double>& coefficients, const char* name) {
  if (coefficients.empty()) {
    throw ModelError(std::string(name) + " is empty, expected at least one coefficient");
  }
  for (std::size_t i = 0; i < coefficients.size(); ++i) {
    if (!std::isfinite(coefficients[i])) {
      std::ostringstream message;
      message << name << "[" << i << "] is " << coefficients[i] << ", expected a finite number";
      throw ModelError(message.str());
    }
  }
}

}  // namespace

StateSpace transfer_function_to_state_space(const std::vector<double>& num,
                                            const std::vector<double>& den) {
  check_coefficients(num, "num");
  check_coefficients(den, "den");
  if (den[0] == 0.0) {
    throw ModelError("den[0] is 0, expected a non-zero leading coefficient");
  }
  // Leading zeros of num do not raise its degree; an all-zero num is the zero system.
  std::size_t first = 0;
  while (first + 1 < num.size() && num[first] == 0.0) {
    ++first;
  }
  const std::size_t num_degree = num.size() - 1 - first;
  const std::size_t n = den.size() - 1;
  if (num_degree > n) {
    throw ModelError("num has degree " + std::to_string(num_degree) + ", expected at most " +
                     std::to_string(n) + " (degree of den)");
  }

  // Monic denominator s^n + a1 s^(n-1) + ... + an; numerator b0 s^n + ... + bn on the same scale.
  const double lead = den[0];
  std::vector<double> a(n + 1);
  std::vector<double> b(n + 1, 0.0);
  for (std::size_t i = 0; i <= n; ++i) {
    a[i] = den[i] / lead;
  }
  for (std::size_t i = first; i < num.size(); ++i) {
    b[n - (num.size() - 1 - i)] = num[i] / lead;
  }

  // The same realisation as MATLAB's and SciPy's tf2ss: companion A with -a in its first row,
  // B = e1, C = b - b0 a (the strictly proper part), D = b0.
  StateSpace ss{Matrix{n, n, std::vector<double>(n * n, 0.0)},
                Matrix{n, 1, std::vector<double>(n, 0.0)},
                Matrix{1, n, std::vector<double>(n, 0.0)}, Matrix{1, 1, {b[0]}}};
  for (std::size_t j = 0; j < n; ++j) {
    ss.a.data[j] = -a[j + 1];
    ss.c.data[j] = b[j + 1] - b[0] * a[j + 1];
  }
  for (std::size_t i = 1; i < n; ++i) {
    ss.a.data[i * n + (i - 1)] = 1.0;
  }
  if (n > 0) {
    ss.b.data[0] = 1.0;
  }
  return ss;
}

std::shared_ptr<const Model> make_transfer_function(ModelId id, std::vector<double> num,
                                                    std::vector<double> den) {
  StateSpace ss = transfer_function_to_state_space(num, den);
  return make_continuous_state_space(std::move(id), std::move(ss.a), std::move(ss.b),
                                     std::move(ss.c), std::move(ss.d));
}

}  // namespace twind::model
