// The diagnosis' hypotheses by name: a model's entries, coefficients and parameters as the
// diagnosis reports them, and the signals' gains and biases as `output_gain(y)`.
#include "twind/config/hypotheses.hpp"

#include <array>
#include <utility>

namespace twind::config {
namespace {

// The gains and biases of the signals, by the role of the signal they are about.
struct SignalForm {
  std::string_view prefix;
  HypothesisKind kind;
  Role role;
};
constexpr SignalForm kSignalForms[] = {{"output_gain", HypothesisKind::output_gain, Role::output},
                                       {"output_bias", HypothesisKind::output_bias, Role::output},
                                       {"input_gain", HypothesisKind::input_gain, Role::input}};

// rpm_rated: a reference (the loss model's rated speed), not a property that wears.
constexpr std::size_t kRpmRated = 1;

std::optional<HypothesisTarget> find_signal(const std::vector<SignalSpec>& signals,
                                            std::string_view text) {
  for (const SignalForm& f : kSignalForms) {
    if (!text.starts_with(f.prefix) || text.size() < f.prefix.size() + 2 ||
        text[f.prefix.size()] != '(' || text.back() != ')') {
      continue;
    }
    const std::string_view name =
        text.substr(f.prefix.size() + 1, text.size() - f.prefix.size() - 2);
    std::size_t index = 0;
    for (const SignalSpec& s : signals) {
      if (s.role != f.role) continue;
      if (s.name == name) return HypothesisTarget{f.kind, index, s.name};
      ++index;
    }
    return std::nullopt;
  }
  return std::nullopt;
}

// The `count` subscripts of `label[a]` or `label[a][b]`, as written; false for another shape.
bool subscripts(std::string_view text, std::string_view label, std::size_t count,
                std::array<std::string_view, 2>& out) {
  if (!text.starts_with(label)) return false;
  text.remove_prefix(label.size());
  for (std::size_t k = 0; k < count; ++k) {
    const std::size_t close = text.find(']');
    if (text.empty() || text.front() != '[' || close == std::string_view::npos) return false;
    out[k] = text.substr(1, close - 1);
    text.remove_prefix(close + 1);
  }
  return text.empty();
}

// A subscript as the diagnosis writes it (decimal, no sign, no leading zero), below `bound`.
std::optional<std::size_t> index_below(std::string_view digits, std::size_t bound) {
  if (digits.empty() || digits.size() > 9 || (digits.size() > 1 && digits.front() == '0')) {
    return std::nullopt;
  }
  std::size_t v = 0;
  for (const char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<std::size_t>(c - '0');
  }
  if (v >= bound) return std::nullopt;
  return v;
}

std::optional<HypothesisTarget> find_parameter(const ModelSpec& model, std::string_view text) {
  const auto parameter = [&](std::size_t index) {
    return HypothesisTarget{HypothesisKind::parameter, index, std::string(text)};
  };
  std::array<std::string_view, 2> sub;
  switch (model.kind) {
    case ModelKind::state_space: {
      std::size_t offset = 0;
      for (const auto& [label, m] : {std::pair{"A", &model.a}, std::pair{"B", &model.b}}) {
        if (subscripts(text, label, 2, sub)) {
          const auto i = index_below(sub[0], m->rows);
          const auto j = index_below(sub[1], m->cols);
          if (!i || !j) return std::nullopt;
          return parameter(offset + *i * m->cols + *j);
        }
        offset += m->data.size();
      }
      return std::nullopt;
    }
    case ModelKind::transfer_function:
      if (subscripts(text, "num", 1, sub)) {
        const auto k = index_below(sub[0], model.num.size());
        if (!k) return std::nullopt;
        return parameter(*k);
      }
      if (subscripts(text, "den", 1, sub)) {
        // den[0] is not a hypothesis: the others are its multiples.
        const auto k = index_below(sub[0], model.den.size());
        if (!k || *k == 0) return std::nullopt;
        return parameter(model.num.size() + *k);
      }
      return std::nullopt;
    case ModelKind::rotating_machine:
      for (std::size_t i = 0; i < std::size(kMachineParameters); ++i) {
        if (i != kRpmRated && text == kMachineParameters[i]) return parameter(i);
      }
      return std::nullopt;
  }
  return std::nullopt;
}

// `A[0][0]`, `A[i][j] with i, j < 2`, `B[i][0] with i < 2`, `B[i][j] with i < 2 and j < 3`.
std::string entries(std::string_view label, const model::Matrix& m) {
  const std::string l(label);
  const std::string rows = std::to_string(m.rows);
  const std::string cols = std::to_string(m.cols);
  if (m.rows == 1 && m.cols == 1) return l + "[0][0]";
  if (m.rows == m.cols) return l + "[i][j] with i, j < " + rows;
  if (m.cols == 1) return l + "[i][0] with i < " + rows;
  if (m.rows == 1) return l + "[0][j] with j < " + cols;
  return l + "[i][j] with i < " + rows + " and j < " + cols;
}

}  // namespace

std::optional<HypothesisTarget> find_hypothesis(const ModelSpec& model,
                                                const std::vector<SignalSpec>& signals,
                                                std::string_view text) {
  if (text.ends_with(')')) return find_signal(signals, text);
  return find_parameter(model, text);
}

std::string hypothesis_choices(const ModelSpec& model, const std::vector<SignalSpec>& signals) {
  std::vector<std::string> items;
  switch (model.kind) {
    case ModelKind::state_space:
      items.push_back(entries("A", model.a));
      items.push_back(entries("B", model.b));
      break;
    case ModelKind::transfer_function:
      items.push_back(model.num.size() == 1
                          ? std::string("num[0]")
                          : "num[k] with k < " + std::to_string(model.num.size()));
      items.push_back(model.den.size() == 2
                          ? std::string("den[1]")
                          : "den[k] with 1 <= k < " + std::to_string(model.den.size()));
      break;
    case ModelKind::rotating_machine:
      for (std::size_t i = 0; i < std::size(kMachineParameters); ++i) {
        if (i != kRpmRated) items.emplace_back(kMachineParameters[i]);
      }
      break;
  }
  for (const SignalForm& f : kSignalForms) {
    std::string names;
    for (const SignalSpec& s : signals) {
      if (s.role == f.role) names += (names.empty() ? "" : "|") + s.name;
    }
    if (!names.empty()) items.push_back(std::string(f.prefix) + "(" + names + ")");
  }
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += i + 1 == items.size() ? " or " : ", ";
    out += items[i];
  }
  return out;
}

}  // namespace twind::config
