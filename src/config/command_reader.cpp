// A command document (id, command, scope, model) read like a configuration: its model by the
// configuration's own model reader, against the asset's signals.
#include <yaml-cpp/yaml.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "model_reader.hpp"
#include "reader.hpp"
#include "validate.hpp"

namespace twind::config::detail {
namespace {

const std::vector<const KeyDoc*>& command_keys() {
  static const std::vector<KeyDoc> docs{{"id", "", "", "", ""},
                                        {"command", "", "", "", ""},
                                        {"scope", "", "", "", ""},
                                        {"model", "", "", "", ""},
                                        {"identified", "", "", "", ""}};
  static const std::vector<const KeyDoc*> keys{&docs[0], &docs[1], &docs[2], &docs[3], &docs[4]};
  return keys;
}

// The envelope's entries as read, before the rules across them.
struct Envelope {
  Command command;
  std::optional<CommandKind> kind;
  std::optional<Value> model;
  std::optional<Value> identified;
  bool has_command = false;
};

void read_entry(Reader& r, const std::string& name, const Value& v, Envelope& e,
                CommandParse& parse) {
  if (name == "id") {
    // A string or a number, echoed as written so that the sender can match its reply.
    if (!v.node.IsScalar() || v.node.Scalar().size() > 128) {
      r.expected(v, "a string or number of at most 128 characters");
    } else {
      e.command.request_id = v.node.Scalar();
      parse.request_id = e.command.request_id;
    }
  } else if (name == "command") {
    e.has_command = true;
    if (v.node.IsScalar() && v.node.Scalar().size() <= 64) parse.kind = v.node.Scalar();
    e.kind = r.as_enum<CommandKind>(v, {{"set_model", CommandKind::set_model},
                                        {"rebaseline", CommandKind::rebaseline},
                                        {"get_model", CommandKind::get_model}});
  } else if (name == "scope") {
    if (const auto t = r.as_enum<bool>(v, {{"asset", false}, {"template", true}})) {
      e.command.template_scope = *t;
    }
  } else if (name == "model") {
    e.model = v;
  } else if (name == "identified") {
    e.identified = v;
    if (const auto b = r.as_bool(v)) e.command.identified = *b;
  } else {
    r.error(v.key_pos, name, unknown_key(name, command_keys()));
  }
}

Envelope read_envelope(Reader& r, const YAML::Node& root, Pos top, CommandParse& parse) {
  Envelope e;
  std::map<std::string, int, std::less<>> first_line;
  for (auto it = root.begin(); it != root.end(); ++it) {
    const Pos kp = pos_of(it->first, top);
    if (!it->first.IsScalar()) {
      r.error(kp, "", "got " + got(it->first) + " as a key, expected a key name");
      continue;
    }
    const std::string name = it->first.Scalar();
    if (const auto [seen, fresh] = first_line.emplace(name, kp.line); !fresh) {
      r.error(kp, name, "duplicate key, expected each key once");
      continue;
    }
    const Value v{it->second, it->second.IsNull() ? kp : pos_of(it->second, kp), kp, name};
    read_entry(r, name, v, e, parse);
  }
  return e;
}

// The model against the asset's signals, as the configuration's would be.
ModelSpec read_command_model(Reader& r, const Value& model,
                             const std::vector<SignalSpec>& signals) {
  SignalsInfo si;
  for (const SignalSpec& s : signals) (s.role == Role::input ? si.inputs : si.outputs).push_back(s);
  si.roles_known = true;
  si.where = model;
  ModelSpec m;
  read_model(r, model, si, m);
  return m;
}

}  // namespace

std::optional<Command> validate_command(const YAML::Node& root,
                                        const std::vector<SignalSpec>* signals, CommandParse& parse,
                                        std::vector<Diagnostic>& out) {
  static const std::string kFile = "command";
  Reader r(kFile, out);
  const Pos start{};
  if (!root.IsMap()) {
    r.error(root.IsDefined() && !root.IsNull() ? pos_of(root, start) : start, "",
            "got " + (root.IsDefined() ? got(root) : std::string("nothing")) +
                ", expected a JSON object like {\"command\": \"get_model\"}");
    return std::nullopt;
  }
  const Pos top = pos_of(root, start);
  Envelope e = read_envelope(r, root, top, parse);
  if (!e.has_command) {
    r.error(top, "command", "missing required key (set_model, rebaseline or get_model)");
  }
  if (e.kind) e.command.kind = *e.kind;
  if (e.kind == CommandKind::set_model && !e.model) {
    r.error(top, "model", "missing required key (the new model: name, version, kind, ...)");
  }
  if (e.kind == CommandKind::get_model && e.model) {
    r.error(e.model->key_pos, "model", "not allowed with get_model, expected no model");
  }
  if (e.identified && e.kind && e.kind != CommandKind::rebaseline) {
    r.error(e.identified->key_pos, "identified",
            "not allowed with " + std::string(to_string(*e.kind)) +
                ", expected it with rebaseline only");
  }
  if (e.command.identified && e.model) {
    r.error(e.model->key_pos, "model",
            "not allowed with \"identified\": true, expected one of them (the model to adopt, "
            "or the one the diagnosis identified)");
  }
  if (e.command.identified && e.command.template_scope) {
    r.error(e.identified->key_pos, "identified",
            "not allowed with scope template, expected scope asset (each asset's diagnosis "
            "identifies its own model)");
  }
  if (e.model && signals != nullptr && e.kind != CommandKind::get_model) {
    e.command.model = read_command_model(r, *e.model, *signals);
  }
  if (r.errors() > 0) return std::nullopt;
  return std::move(e.command);
}

}  // namespace twind::config::detail
