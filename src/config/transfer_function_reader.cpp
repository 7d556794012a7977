// `kind: transfer_function`: a SISO continuous-time num(s) / den(s), checked as the model layer
// realises it (divided by den[0], in controllable canonical form).
#include <cmath>
#include <exception>
#include <string>

#include "model_reader.hpp"

namespace twind::config::detail {
namespace {

// den: at least 2 coefficients, led by a non-zero one.
bool check_denominator(Reader& r, const Value& entry, const std::vector<double>& den) {
  if (den.size() < 2) {
    r.error(entry.pos, entry.path,
            "got " + plural(den.size(), "coefficient") +
                ", expected at least 2 (a denominator of order 1 or more, like [1, 1])");
    return false;
  }
  if (den.size() - 1 > kMaxStates) {
    r.error(entry.pos, entry.path,
            "got a denominator of order " + std::to_string(den.size() - 1) + ", expected at most " +
                std::to_string(kMaxStates) + " (a reduced-order model of the machine)");
    return false;
  }
  if (den[0] == 0.0) {
    const Value lead = element(entry, 0);
    r.error(lead.pos, lead.path,
            "got " + lead.node.Scalar() + ", expected a non-zero leading coefficient");
    return false;
  }
  return true;
}

// num: at least 1 coefficient and no more than den (proper), once den is known to be good.
bool check_numerator(Reader& r, const Value& entry, const std::vector<double>& num,
                     const std::vector<double>* den) {
  if (num.empty()) {
    r.expected(entry, "at least one coefficient");
    return false;
  }
  if (den != nullptr && num.size() > den->size()) {
    r.error(entry.pos, entry.path,
            "got " + plural(num.size(), "coefficient") + ", expected at most " +
                std::to_string(den->size()) +
                " (as many as den: the transfer function must be proper)");
    return false;
  }
  return true;
}

// The realisation divides every coefficient by den[0]: a leading coefficient too small for the
// others makes its numbers overflow. Refused at den[0], naming the first quotient that does.
bool check_leading_divides(Reader& r, const Value& num_entry, const std::vector<double>& num,
                           const Value& den_entry, const std::vector<double>& den) {
  const Value lead = element(den_entry, 0);
  const auto overflows = [&](const Value& list, std::string_view name,
                             const std::vector<double>& xs, std::size_t from) {
    for (std::size_t i = from; i < xs.size(); ++i) {
      if (std::isfinite(xs[i] / den[0])) continue;
      r.error(lead.pos, lead.path,
              "got " + lead.node.Scalar() +
                  ", expected a leading coefficient that divides every coefficient to a finite "
                  "number (" +
                  std::string(name) + "[" + std::to_string(i) + "] / den[0] = " +
                  element(list, i).node.Scalar() + " / " + lead.node.Scalar() + ")");
      return true;
    }
    return false;
  };
  return !overflows(den_entry, "den", den, 1) && !overflows(num_entry, "num", num, 0);
}

}  // namespace

void read_transfer_function(Reader& r, const Value& v, const Fields& f, const SignalsInfo& si,
                            std::optional<Domain> domain, ModelSpec& m) {
  refuse_keys(r, f, {"A", "B", "C", "D"},
              "not allowed in a transfer_function model, expected num and den (or kind: "
              "state_space)");
  if (domain == Domain::discrete) {
    r.expected(*find(f, "domain"), "continuous (a transfer_function is continuous-time here)");
  }
  refuse_keys(r, f, {"dt"}, "not allowed in a transfer_function model (it is continuous-time)");
  m.domain = Domain::continuous;
  const Value* num_entry = find(f, "num");
  const Value* den_entry = find(f, "den");
  if (num_entry == nullptr) r.missing(v, "num", "list of numbers, for a transfer_function model");
  if (den_entry == nullptr) r.missing(v, "den", "list of numbers, for a transfer_function model");
  std::optional<std::vector<double>> num;
  std::optional<std::vector<double>> den;
  if (num_entry != nullptr) num = r.as_numbers(*num_entry);
  if (den_entry != nullptr) den = r.as_numbers(*den_entry);
  const bool den_ok = den && check_denominator(r, *den_entry, *den);
  const bool num_ok = num && check_numerator(r, *num_entry, *num, den_ok ? &*den : nullptr);
  require_signal_counts(r, si, 1, 1, "exactly 1 input and 1 output for a transfer_function model");
  if (num) m.num = *num;
  if (den) m.den = *den;
  if (!num_ok || !den_ok || !check_leading_divides(r, *num_entry, m.num, *den_entry, m.den)) {
    return;
  }
  try {
    warn_if_unstable(r, *den_entry, model::transfer_function_to_state_space(m.num, m.den).a);
  } catch (const model::ModelError&) {
    // read_model() reports it when it builds the model.
  }
}

}  // namespace twind::config::detail
