// `kind: state_space`: the sample time of a discrete model and the matrices A, B, C and D, each
// shape checked against what is known to be right.
#include <string>
#include <utility>

#include "model_reader.hpp"

namespace twind::config::detail {
namespace {

std::string dims(const model::Matrix& m) {
  return "a " + std::to_string(m.rows) + " x " + std::to_string(m.cols) + " matrix";
}

std::string names_of(const std::vector<SignalSpec>& signals) {
  std::string out;
  for (const SignalSpec& s : signals) out += (out.empty() ? "" : ", ") + s.name;
  return out;
}

void read_sample_time(Reader& r, const Value& v, const Fields& f, std::optional<Domain> domain,
                      std::optional<double> dt, ModelSpec& m) {
  const Value* dt_entry = find(f, "dt");
  if (domain == Domain::discrete) {
    if (dt_entry == nullptr) {
      r.error(v.pos, child_path(v.path, "dt"),
              "missing, expected the sample time of the discrete model, like 20ms");
    } else if (dt) {
      m.dt = *dt;
    }
  } else if (domain == Domain::continuous && dt_entry != nullptr) {
    r.error(dt_entry->key_pos, dt_entry->path,
            "not allowed in a continuous model, expected dt only with domain: discrete");
  }
  m.domain = domain.value_or(Domain::continuous);
}

// A dimension the signals or A define, and why, for `expected N (why)`; unset when unknown.
struct Dimension {
  std::optional<std::size_t> n;
  std::string why;
};

class Matrices {
 public:
  Matrices(Reader& r, const Value& v, const Fields& f) : r_(r), v_(v), f_(f) {}

  // Reads A, B, C and D into `m`; a missing D is zeros when the signal counts are known.
  void read(const SignalsInfo& si, ModelSpec& m) {
    const bool known = si.counts_known();
    const Dimension inputs{known ? std::optional(si.inputs.size()) : std::nullopt,
                           " (the number of input signals: " + names_of(si.inputs) + ")"};
    const Dimension outputs{known ? std::optional(si.outputs.size()) : std::nullopt,
                            " (the number of output signals: " + names_of(si.outputs) + ")"};
    Dimension states{std::nullopt, ""};
    if (auto a = read_a()) {
      states.n = a->rows;
      m.a = std::move(*a);
    }
    const Dimension rows_of_a{states.n, " (the number of states, rows of A)"};
    const Dimension cols_of_a{states.n, " (the number of states, columns of A)"};
    if (auto b = matrix("B")) m.b = checked("B", std::move(*b), rows_of_a, inputs);
    if (auto c = matrix("C")) m.c = checked("C", std::move(*c), outputs, cols_of_a);
    if (auto d = matrix("D")) {
      m.d = checked("D", std::move(*d), outputs, inputs);
    } else if (find(f_, "D") == nullptr && inputs.n && outputs.n) {
      m.d = model::Matrix{*outputs.n, *inputs.n, std::vector<double>(*outputs.n * *inputs.n, 0.0)};
    }
    if (states.n && m.domain == Domain::continuous) warn_if_unstable(r_, *find(f_, "A"), m.a);
  }

 private:
  std::optional<model::Matrix> matrix(std::string_view key) {
    const Value* e = find(f_, key);
    if (e == nullptr) {
      if (key != "D") r_.missing(v_, key, "matrix, for a state_space model");
      return std::nullopt;
    }
    return r_.as_matrix(*e);
  }

  // A, when it is square and not empty: it defines the number of states.
  std::optional<model::Matrix> read_a() {
    auto a = matrix("A");
    if (!a) return std::nullopt;
    const Value& e = *find(f_, "A");
    if (a->rows == 0) {
      r_.error(e.pos, e.path,
               "got an empty matrix, expected at least one state ([[-1]] or larger)");
      return std::nullopt;
    }
    if (a->rows != a->cols) {
      r_.error(e.pos, e.path, "got " + dims(*a) + ", expected a square matrix");
      return std::nullopt;
    }
    if (a->rows > kMaxStates) {
      r_.error(e.pos, e.path,
               "got " + plural(a->rows, "state") + ", expected at most " +
                   std::to_string(kMaxStates) + " (a reduced-order model of the machine)");
      return std::nullopt;
    }
    return a;
  }

  // Each shape is checked against what is known to be right; a wrong A or an unreadable signal
  // list leaves the dimensions it defines unchecked rather than blamed.
  model::Matrix checked(std::string_view key, model::Matrix x, const Dimension& rows,
                        const Dimension& cols) {
    const Value& e = *find(f_, key);
    if (rows.n && x.rows != *rows.n) {
      r_.error(e.pos, e.path,
               "got " + plural(x.rows, "row") + ", expected " + std::to_string(*rows.n) + rows.why);
    }
    if (cols.n && x.rows > 0 && x.cols != *cols.n) {
      r_.error(
          e.pos, e.path,
          "got " + plural(x.cols, "column") + ", expected " + std::to_string(*cols.n) + cols.why);
    }
    return x;
  }

  Reader& r_;
  const Value& v_;
  const Fields& f_;
};

}  // namespace

void read_state_space(Reader& r, const Value& v, const Fields& f, const SignalsInfo& si,
                      std::optional<Domain> domain, std::optional<double> dt, ModelSpec& m) {
  refuse_keys(r, f, {"num", "den"},
              "not allowed in a state_space model, expected A, B, C and D (or kind: "
              "transfer_function)");
  read_sample_time(r, v, f, domain, dt, m);
  Matrices(r, v, f).read(si, m);
}

}  // namespace twind::config::detail
