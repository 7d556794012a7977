// `kind: rotating_machine`: its signal counts and physical parameters, each within its own range,
// then the model layer's rules across them.
#include <string>
#include <utility>

#include "model_reader.hpp"
#include "scalars.hpp"
#include "twind/model/rotating_machine.hpp"

namespace twind::config::detail {
namespace {

// RotatingMachineParams' member names and the YAML keys they are written as.
constexpr std::pair<std::string_view, std::string_view> kMachineFieldNames[] = {
    {"tau_mech_s", "tau_mech"}, {"p_idle_w", "p_idle"},   {"k_speed_w", "k_speed"},
    {"r_th_k_per_w", "r_th"},   {"c_th_j_per_k", "c_th"}, {"t_ambient_c", "t_ambient"},
    {"v_base_mm_s", "v_base"},  {"k_imb_mm_s", "k_imb"}};

enum class Rule { positive, non_negative, above_absolute_zero };

// A number parameter within its rule's range, into `dst`.
void read_parameter(Reader& r, const Fields& f, std::string_view key, double& dst, Rule rule,
                    std::string_view unit) {
  const Value* e = find(f, key);
  if (e == nullptr) return;
  const auto x = r.as_number(*e);
  if (!x) return;
  const bool ok = rule == Rule::positive       ? *x > 0.0
                  : rule == Rule::non_negative ? *x >= 0.0
                                               : *x > -273.15;
  if (!ok) {
    const std::string bound = rule == Rule::positive       ? "> 0"
                              : rule == Rule::non_negative ? ">= 0"
                                                           : "> -273.15 (absolute zero)";
    r.error(e->pos, e->path,
            "got " + e->node.Scalar() + ", expected a number " + bound + " (" + std::string(unit) +
                ")");
    return;
  }
  dst = *x;
}

// Returns whether every given parameter was read and within its own range.
bool read_parameters(Reader& r, const Value& v, model::RotatingMachineParams& p) {
  if (!r.expect_map(v, "a mapping (tau_mech, rpm_rated, p_idle, ...)")) return false;
  const std::size_t errors_before = r.errors();
  const Fields f = r.fields(v, "assets[].model.parameters");
  if (const Value* e = find(f, "tau_mech")) {
    if (const auto d = r.as_duration(*e)) p.tau_mech_s = *d;
  }
  read_parameter(r, f, "rpm_rated", p.rpm_rated, Rule::positive, "rpm");
  read_parameter(r, f, "p_idle", p.p_idle_w, Rule::non_negative, "W");
  read_parameter(r, f, "k_speed", p.k_speed_w, Rule::non_negative, "W");
  read_parameter(r, f, "r_th", p.r_th_k_per_w, Rule::positive, "K/W");
  read_parameter(r, f, "c_th", p.c_th_j_per_k, Rule::positive, "J/K");
  read_parameter(r, f, "t_ambient", p.t_ambient_c, Rule::above_absolute_zero, "degC");
  read_parameter(r, f, "v_base", p.v_base_mm_s, Rule::non_negative, "mm/s");
  read_parameter(r, f, "k_imb", p.k_imb_mm_s, Rule::non_negative, "mm/s per (1000 rpm)^2");
  return r.errors() == errors_before;
}

}  // namespace

void read_rotating_machine(Reader& r, const Value& v, const Fields& f, const SignalsInfo& si,
                           ModelSpec& m) {
  refuse_keys(r, f, {"A", "B", "C", "D", "num", "den", "domain", "dt"},
              "not allowed in a rotating_machine model, expected parameters (or kind: "
              "state_space or transfer_function)");
  require_signal_counts(r, si, 2, 3,
                        "exactly 2 inputs (speed command in rpm, load fraction) and 3 outputs "
                        "(rpm, temperature in degC, vibration in mm/s), in that order, for a "
                        "rotating_machine model");
  const Value* params = find(f, "parameters");
  if (params != nullptr && !read_parameters(r, *params, m.machine)) return;
  // The model layer's own rules (time constants too far apart for explicit RK4...), in the
  // file's names rather than the struct's.
  try {
    (void)model::make_rotating_machine(m.id, m.machine);
  } catch (const model::ModelError& e) {
    std::string message = e.what();
    for (const auto& [field, key] : kMachineFieldNames) message = replace_all(message, field, key);
    const Value& at = params != nullptr ? *params : v;
    r.error(at.pos, at.path, message);
  }
}

}  // namespace twind::config::detail
