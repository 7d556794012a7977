#include "twind/core/asset.hpp"

#include "twind/config/config.hpp"
#include "twind/config/model_build.hpp"
#include "twind/model/linear.hpp"
#include "twind/model/rotating_machine.hpp"

namespace twind::core {
namespace {

void check_dimensions(const AssetDef& def) {
  if (def.n_inputs != def.model->inputs() || def.n_outputs != def.model->outputs()) {
    throw model::ModelError("asset " + def.entry + ": the model has " +
                            std::to_string(def.model->inputs()) + " inputs and " +
                            std::to_string(def.model->outputs()) + " outputs, the signals " +
                            std::to_string(def.n_inputs) + " and " + std::to_string(def.n_outputs));
  }
}

}  // namespace

std::size_t AssetDef::find_signal(std::string_view name) const noexcept {
  for (std::size_t i = 0; i < signals.size(); ++i) {
    if (signals[i].name == name) return i;
  }
  return signals.size();
}

std::string expand_topic(std::string_view pattern, std::string_view asset) {
  static constexpr std::string_view kPlaceholder = "{asset}";
  std::string out;
  out.reserve(pattern.size() + asset.size());
  std::size_t pos = 0;
  while (true) {
    const std::size_t hit = pattern.find(kPlaceholder, pos);
    if (hit == std::string_view::npos) break;
    out.append(pattern.substr(pos, hit - pos));
    out.append(asset);
    pos = hit + kPlaceholder.size();
  }
  out.append(pattern.substr(pos));
  return out;
}

std::shared_ptr<const AssetDef> compile_asset(const config::AssetSpec& spec,
                                              const config::TopicsSpec& topics) {
  auto def = std::make_shared<AssetDef>();
  def->entry = spec.is_template() ? spec.template_name : spec.id;
  def->model = config::build_model(spec.model);
  def->model_id = spec.model.id;
  def->model_spec = spec.model;
  def->diagnose = spec.diagnose.enabled;
  def->hypotheses = spec.diagnose.hypotheses;
  def->raise_after = spec.detector.raise_after;
  def->clear_after = spec.detector.clear_after;
  def->severity = spec.detector.severity;
  def->stale_severity = spec.detector.stale_severity;
  def->state_topic = topics.state;
  def->alert_topic = topics.alert;
  def->diagnosis_topic = topics.diagnosis;
  def->model_topic = topics.model;

  // Inputs first, then outputs, each in the order of the file: that order is the model's.
  for (const Role role : {Role::input, Role::output}) {
    std::size_t index = 0;
    for (const config::SignalSpec& s : spec.signals) {
      if (s.role != role) continue;
      SignalDef d;
      d.name = s.name;
      d.role = s.role;
      d.index = index++;
      d.min = s.min;
      d.max = s.max;
      d.has_threshold = s.threshold.has_value();
      d.threshold = s.threshold.value_or(0.0);
      d.clear_threshold = s.clear_threshold.value_or(d.threshold);
      d.stale_after = s.stale_after.value_or(0.0);
      if (s.detector == config::DetectorKind::cusum && s.cusum) {
        d.has_cusum = true;
        d.cusum_sigma = s.cusum->sigma;
        d.cusum_k = s.cusum->k;
        d.cusum_h = s.cusum->h;
      }
      def->signals.push_back(std::move(d));
    }
    (role == Role::input ? def->n_inputs : def->n_outputs) = index;
  }
  check_dimensions(*def);
  return def;
}

std::shared_ptr<const AssetDef> with_model(const AssetDef& def,
                                           std::shared_ptr<const model::Model> model,
                                           model::ModelId id, const config::ModelSpec* spec) {
  auto copy = std::make_shared<AssetDef>(def);
  if (spec != nullptr) copy->model_spec = *spec;
  copy->model = std::move(model);
  copy->model_id = std::move(id);
  check_dimensions(*copy);
  return copy;
}

}  // namespace twind::core
