#include "model_reader.hpp"

#include <algorithm>
#include <cmath>
#include <exception>

#include "scalars.hpp"

namespace twind::config::detail {

namespace {

// Builds a linear model as the twin will be built, so that whatever the model layer refuses
// beyond the readers' rules is refused here, at the model, rather than when the twin is built.
void refuse_unbuildable(Reader& r, const Value& v, const ModelSpec& m) {
  try {
    if (m.kind == ModelKind::transfer_function) {
      (void)model::make_transfer_function(m.id, m.num, m.den);
    } else if (m.domain == Domain::discrete) {
      (void)model::make_discrete_state_space(m.id, m.a, m.b, m.c, m.d, m.dt);
    } else {
      (void)model::make_continuous_state_space(m.id, m.a, m.b, m.c, m.d);
    }
  } catch (const model::ModelError& e) {
    r.error(v.pos, v.path,
            std::string(m.kind == ModelKind::transfer_function
                            ? "cannot be built (its state-space realisation): "
                            : "cannot be built: ") +
                e.what());
  }
}

}  // namespace

void read_model(Reader& r, const Value& v, const SignalsInfo& si, ModelSpec& m) {
  if (!r.expect_map(v, "a mapping (the model: name, version, kind, ...)")) return;
  const std::size_t errors_before = r.errors();
  const Fields f = r.fields(v, "assets[].model");
  if (const Value* e = find(f, "name")) {
    if (const auto s = r.as_nonempty_string(*e)) m.id.name = *s;
  }
  if (const Value* e = find(f, "version")) {
    // As text, so that 3.10 stays 3.10 rather than becoming 3.1.
    if (!e->node.IsScalar() || e->node.Scalar().empty()) {
      r.expected(*e, "a version, like 3 or \"1.2.0\"");
    } else {
      m.id.version = e->node.Scalar();
    }
  }
  std::optional<ModelKind> kind = ModelKind::state_space;
  if (const Value* e = find(f, "kind")) {
    kind = r.as_enum<ModelKind>(*e, {{"state_space", ModelKind::state_space},
                                     {"transfer_function", ModelKind::transfer_function},
                                     {"rotating_machine", ModelKind::rotating_machine}});
  }
  if (kind == ModelKind::rotating_machine) {
    m.kind = *kind;
    read_rotating_machine(r, v, f, si, m);
    return;
  }
  std::optional<Domain> domain = Domain::continuous;
  if (const Value* e = find(f, "domain")) {
    domain =
        r.as_enum<Domain>(*e, {{"continuous", Domain::continuous}, {"discrete", Domain::discrete}});
  }
  std::optional<double> dt;
  if (const Value* e = find(f, "dt")) dt = r.as_duration(*e);
  // With the kind unknown, which keys belong is unknown too.
  if (!kind) return;
  m.kind = *kind;
  refuse_keys(r, f, {"parameters"},
              std::string("not allowed in a ") +
                  (*kind == ModelKind::state_space ? "state_space" : "transfer_function") +
                  " model, expected parameters only with kind: rotating_machine");
  if (*kind == ModelKind::state_space) {
    read_state_space(r, v, f, si, domain, dt, m);
  } else {
    read_transfer_function(r, v, f, si, domain, m);
  }
  if (r.errors() == errors_before && si.counts_known()) refuse_unbuildable(r, v, m);
}

void refuse_keys(Reader& r, const Fields& f, std::initializer_list<std::string_view> keys,
                 const std::string& message) {
  for (const std::string_view key : keys) {
    if (const Value* e = find(f, key)) r.error(e->key_pos, e->path, message);
  }
}

void require_signal_counts(Reader& r, const SignalsInfo& si, std::size_t inputs,
                           std::size_t outputs, const std::string& expected) {
  if (si.counts_known() && (si.inputs.size() != inputs || si.outputs.size() != outputs)) {
    r.error(si.where->pos, si.where->path,
            "got " + plural(si.inputs.size(), "input") + " and " +
                plural(si.outputs.size(), "output") + ", expected " + expected);
  }
}

void warn_if_unstable(Reader& r, const Value& at, const model::Matrix& a) {
  double scale = 1.0;
  for (const double x : a.data) scale = std::max(scale, std::abs(x));
  double worst = 0.0;
  try {
    worst = model::max_real_eigenvalue(a);
  } catch (const std::exception&) {
    return;  // not a finding about the configuration
  }
  // Rounding in the eigen-solver can put a pole on the imaginary axis (an integrator) a hair
  // to the right of it.
  if (worst > 1e-9 * scale) {
    r.report(at.pos, at.path,
             "unstable pole (max real part " + format_number(worst) +
                 " > 0); the twin will drift from any plant",
             false);
  }
}

}  // namespace twind::config::detail
