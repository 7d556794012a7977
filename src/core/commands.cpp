#include "twind/core/commands.hpp"

#include <exception>
#include <memory>
#include <string>
#include <utility>

#include "counting_sink.hpp"
#include "twind/config/command.hpp"
#include "twind/config/model_build.hpp"

namespace twind::core {
namespace {

// Swaps (or rebaselines) twin `a`'s model and publishes the change.
void change_model(Fleet& fleet, std::uint32_t a, std::shared_ptr<const AssetDef> def,
                  ModelCause cause, double now, Sink& sink, Counters& counters,
                  CommandReply* reply) {
  AssetTwin& twin = fleet.twin(a);
  CountingSink counting(sink, counters);
  ModelChange change;
  change.before = twin.def().model_id;
  change.after = def->model_id;
  change.cause = cause;
  change.ts = now;
  if (cause == ModelCause::rebaseline) {
    twin.rebaseline(std::move(def), now, counting);
    change.state_kept = false;
  } else {
    change.state_kept = twin.swap_model(std::move(def), now, counting);
  }
  if (reply != nullptr) reply->state_kept = change.state_kept;
  ++counters.model_changes;
  sink.on_model_change(twin, change);
}

// Carries out a parsed command on twin `a`; sets reply.error when it is refused.
void execute(Fleet& fleet, std::uint32_t a, const config::Command& command, CommandReply& reply,
             Sink& sink, Counters& counters) {
  const std::uint32_t e = fleet.entry_of(a);
  Entry& entry = fleet.entry(e);
  if (command.template_scope && !entry.spec.is_template()) {
    reply.error = "scope: got template, expected asset (" + fleet.twin(a).id() +
                  " is a single asset, not made from a template)";
    return;
  }
  if (command.kind == config::CommandKind::get_model) return;

  // The definition the command asks for, built before anything changes.
  const AssetTwin& target = fleet.twin(a);
  const AssetDef& base = command.template_scope ? *entry.def : target.def();
  std::shared_ptr<const AssetDef> def;
  try {
    if (command.identified) {
      const DiagnosisMark& mark = target.diagnosis_mark();
      if (!mark.identified) {
        reply.error =
            "identified: no model identified for " + target.id() +
            " (a diagnosis identifies one when a parameter of the model, or an input's gain, "
            "explains a divergence best; see its twin/diagnosis)";
        return;
      }
      config::ModelSpec spec = *mark.identified;
      spec.id = base.model_id;
      spec.id.version = config::next_version(spec.id.version);
      def = with_model(base, config::build_model(spec), spec.id, &spec);
      reply.adopted = CommandReply::Adopted{mark.kind, mark.name, mark.estimate};
    } else if (command.model) {
      def =
          with_model(base, config::build_model(*command.model), command.model->id, &*command.model);
    } else {
      model::ModelId id = base.model_id;
      id.version = config::next_version(id.version);
      def = with_model(base, base.model, std::move(id));
    }
  } catch (const std::exception& ex) {
    reply.error = std::string("model: ") + ex.what();
    return;
  }
  reply.previous = target.def().model_id;
  const ModelCause cause = command.kind == config::CommandKind::rebaseline ? ModelCause::rebaseline
                                                                           : ModelCause::command;
  if (!command.template_scope) {
    reply.assets = 1;
    change_model(fleet, a, def, cause, reply.ts, sink, counters, &reply);
    return;
  }
  // The template itself changes: its assets now, and those discovered later.
  entry.def = def;
  if (command.model) entry.spec.model = *command.model;
  entry.spec.model.id = def->model_id;
  for (std::uint32_t i = 0; i < fleet.size(); ++i) {
    if (fleet.entry_of(i) != e) continue;
    ++reply.assets;
    change_model(fleet, i, def, cause, reply.ts, sink, counters, i == a ? &reply : nullptr);
  }
}

}  // namespace

CommandReply run_command(Fleet& fleet, std::string_view asset, std::string_view payload,
                         double arrival, std::string_view command_topic, std::size_t max_bytes,
                         Sink& sink, Counters& counters) {
  CommandReply reply;
  reply.topic = config::reply_topic(expand_topic(command_topic, asset));
  reply.asset = asset;
  reply.ts = arrival;
  const std::optional<std::uint32_t> a = fleet.index_of(asset);
  const config::CommandParse parse = [&] {
    if (payload.size() > max_bytes) {
      config::CommandParse p;
      p.error = "got " + std::to_string(payload.size()) + " bytes, expected at most " +
                std::to_string(max_bytes) + " (max_payload_bytes)";
      return p;
    }
    return config::parse_command(payload,
                                 a ? &fleet.entry(fleet.entry_of(*a)).spec.signals : nullptr);
  }();
  reply.request_id = parse.request_id;
  reply.command = parse.kind;
  if (!parse.command) {
    reply.error = parse.error;
  } else if (!a) {
    reply.error = "unknown asset " + std::string(asset);
  } else {
    execute(fleet, *a, *parse.command, reply, sink, counters);
  }
  reply.ok = reply.error.empty();
  if (a) {
    const AssetTwin& twin = fleet.twin(*a);
    reply.model = twin.def().model_id;
    reply.status = twin.status();
  }
  return reply;
}

}  // namespace twind::core
