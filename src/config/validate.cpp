#include "validate.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <exception>
#include <functional>
#include <initializer_list>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "scalars.hpp"
#include "twind/model/linear.hpp"
#include "twind/model/rotating_machine.hpp"

namespace twind::config::detail {
namespace {

using YAML::Node;

// 1-based, as editors count.
struct Pos {
  int line = 1;
  int column = 1;
  friend bool operator<(const Pos& a, const Pos& b) {
    return a.line != b.line ? a.line < b.line : a.column < b.column;
  }
};

Pos pos_of(const Node& n, Pos fallback) {
  const YAML::Mark m = n.Mark();
  if (m.is_null() || m.line < 0 || m.column < 0) return fallback;
  return {m.line + 1, m.column + 1};
}

// A node with its name in messages and where messages about it point.
struct Value {
  Node node;
  Pos pos;      // the value; its key's position when the value is empty, since yaml-cpp
                // marks an empty value at the next token, often on the next line
  Pos key_pos;  // the key, for "this key is not allowed here" (== pos for list items)
  std::string path;
};

using Fields = std::map<std::string, Value, std::less<>>;

const Value* find(const Fields& f, std::string_view key) {
  const auto it = f.find(key);
  return it == f.end() ? nullptr : &it->second;
}

std::string child_path(const std::string& parent, std::string_view key) {
  return parent.empty() ? std::string(key) : parent + "." + std::string(key);
}

std::string got(const Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Sequence:
      return n.size() == 0 ? "an empty list" : "a list";
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Scalar:
      return quote(n.Scalar());
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      break;
  }
  return "nothing";
}

// yaml-cpp tags plain scalars "?" and quoted ones "!": only plain text can be a number or a
// boolean, as in YAML's core schema.
bool is_plain(const Node& n) {
  return n.Tag() == "?";
}

std::string plural(std::size_t n, std::string_view word) {
  return std::to_string(n) + " " + std::string(word) + (n == 1 ? "" : "s");
}

std::string dims(const model::Matrix& m) {
  return "a " + std::to_string(m.rows) + " x " + std::to_string(m.cols) + " matrix";
}

// "a or b", "a, b or c".
std::string alternatives(const std::vector<std::string_view>& words) {
  std::string out;
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (i > 0) out += i + 1 == words.size() ? " or " : ", ";
    out += words[i];
  }
  return out;
}

std::string names_of(const std::vector<SignalSpec>& signals) {
  std::string out;
  for (const SignalSpec& s : signals) out += (out.empty() ? "" : ", ") + s.name;
  return out;
}

std::string replace_all(std::string s, std::string_view from, std::string_view to) {
  for (auto at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
  return s;
}

// The keys the table allows directly under `parent` ("" for the top level), in table order.
std::vector<const KeyDoc*> children(std::string_view parent) {
  std::vector<const KeyDoc*> out;
  for (const KeyDoc& k : key_table()) {
    std::string_view rest = k.path;
    if (!parent.empty()) {
      if (rest.size() <= parent.size() + 1 || rest.substr(0, parent.size()) != parent ||
          rest[parent.size()] != '.') {
        continue;
      }
      rest.remove_prefix(parent.size() + 1);
    }
    if (rest.find('.') == std::string_view::npos && rest.find('[') == std::string_view::npos) {
      out.push_back(&k);
    }
  }
  return out;
}

std::string_view key_name(const KeyDoc& k) {
  const std::string_view p = k.path;
  const auto dot = p.rfind('.');
  return dot == std::string_view::npos ? p : p.substr(dot + 1);
}

template <class E>
using Choices = std::initializer_list<std::pair<std::string_view, E>>;

struct SignalsInfo {
  std::vector<SignalSpec> inputs;   // file order
  std::vector<SignalSpec> outputs;  // file order
  bool roles_known = false;         // every role was read, so the counts above are meaningful
  std::optional<Value> where;       // the signals list
};

class Validator {
 public:
  Validator(const std::string& file, std::vector<Diagnostic>& out) : file_(file), out_(out) {}

  std::optional<Config> run(const Node& root) {
    const Pos start{};
    if (!root.IsMap()) {
      if (root.IsNull() || !root.IsDefined()) {
        report(start, "", "expected a mapping at the top level", true);
      } else {
        report(pos_of(root, start), "",
               "got " + got(root) + ", expected a mapping at the top level", true);
      }
      return std::nullopt;
    }
    const Pos top_pos = pos_of(root, start);
    const Fields f = fields(Value{root, top_pos, top_pos, ""}, "");
    Config cfg;
    if (const Value* v = find(f, "tick_spread")) {
      if (const auto b = as_bool(*v)) cfg.tick_spread = *b;
    }
    if (const Value* v = find(f, "tick")) {
      if (const auto d = as_duration(*v)) cfg.tick = *d;
    }
    if (const Value* v = find(f, "max_payload_bytes")) {
      if (const auto n = as_integer(*v, 16, 16LL * 1024 * 1024)) {
        cfg.max_payload_bytes = static_cast<std::size_t>(*n);
      }
    }
    if (const Value* v = find(f, "broker")) parse_broker(*v, cfg.broker);
    const Value* assets = find(f, "assets");
    std::size_t asset_count =
        assets != nullptr && assets->node.IsSequence() ? assets->node.size() : 0;
    if (assets != nullptr && assets->node.IsSequence()) {
      for (const Node& a : assets->node) {
        // A template stands for many assets, whose topics must then be told apart.
        if (a.IsMap() && a["template"]) asset_count = std::max<std::size_t>(asset_count, 2);
      }
    }
    parse_topics(find(f, "topics"), asset_count, cfg.topics);
    if (assets != nullptr) parse_assets(*assets, cfg.assets);
    check_topic_uses(cfg.topics);
    if (errors_ > 0) return std::nullopt;
    return cfg;
  }

  std::optional<Command> run_command(const Node& root, const std::vector<SignalSpec>* signals,
                                     CommandParse& parse) {
    const Pos start{};
    if (!root.IsMap()) {
      report(root.IsDefined() && !root.IsNull() ? pos_of(root, start) : start, "",
             "got " + (root.IsDefined() ? got(root) : std::string("nothing")) +
                 ", expected a JSON object like {\"command\": \"get_model\"}",
             true);
      return std::nullopt;
    }
    const Pos top = pos_of(root, start);
    Command c;
    std::optional<Value> model;
    std::optional<CommandKind> kind;
    std::map<std::string, int, std::less<>> first_line;
    for (auto it = root.begin(); it != root.end(); ++it) {
      const Pos kp = pos_of(it->first, top);
      if (!it->first.IsScalar()) {
        error(kp, "", "got " + got(it->first) + " as a key, expected a key name");
        continue;
      }
      const std::string name = it->first.Scalar();
      const Value v{it->second, it->second.IsNull() ? kp : pos_of(it->second, kp), kp, name};
      if (const auto [seen, fresh] = first_line.emplace(name, kp.line); !fresh) {
        error(kp, name, "duplicate key, expected each key once");
        continue;
      }
      if (name == "id") {
        // A string or a number, echoed as written so that the sender can match its reply.
        if (!v.node.IsScalar() || v.node.Scalar().size() > 128) {
          expected(v, "a string or number of at most 128 characters");
        } else {
          c.request_id = v.node.Scalar();
          parse.request_id = c.request_id;
        }
      } else if (name == "command") {
        if (v.node.IsScalar() && v.node.Scalar().size() <= 64) parse.kind = v.node.Scalar();
        kind = as_enum<CommandKind>(v, {{"set_model", CommandKind::set_model},
                                        {"rebaseline", CommandKind::rebaseline},
                                        {"get_model", CommandKind::get_model}});
      } else if (name == "scope") {
        if (const auto t = as_enum<bool>(v, {{"asset", false}, {"template", true}})) {
          c.template_scope = *t;
        }
      } else if (name == "model") {
        model = v;
      } else {
        error(kp, name, unknown_key(name, command_keys()));
      }
    }
    if (!first_line.contains("command")) {
      error(top, "command", "missing required key (set_model, rebaseline or get_model)");
    }
    if (kind) c.kind = *kind;
    if (kind == CommandKind::set_model && !model) {
      error(top, "model", "missing required key (the new model: name, version, kind, ...)");
    }
    if (kind == CommandKind::get_model && model) {
      error(model->key_pos, "model", "not allowed with get_model, expected no model");
    }
    if (model && signals != nullptr && kind != CommandKind::get_model) {
      SignalsInfo si;
      for (const SignalSpec& s : *signals) {
        (s.role == Role::input ? si.inputs : si.outputs).push_back(s);
      }
      si.roles_known = true;
      si.where = *model;
      ModelSpec m;
      parse_model(*model, si, m);
      c.model = std::move(m);
    }
    if (errors_ > 0) return std::nullopt;
    return c;
  }

 private:
  static const std::vector<const KeyDoc*>& command_keys() {
    static const std::vector<KeyDoc> docs{{"id", "", "", "", ""},
                                          {"command", "", "", "", ""},
                                          {"scope", "", "", "", ""},
                                          {"model", "", "", "", ""}};
    static const std::vector<const KeyDoc*> keys{&docs[0], &docs[1], &docs[2], &docs[3]};
    return keys;
  }

  struct TopicUse {
    std::string topic;  // a single asset's topic, or a template's pattern with {asset}
    Pos pos;
    std::string path;
  };
  struct TopicScope {
    bool is_template = false;
    std::string id;  // a single asset's id, substituted for {asset} in its topics
  };

  // ---- reporting --------------------------------------------------------------------------

  void report(Pos p, const std::string& path, const std::string& message, bool is_error) {
    out_.push_back(Diagnostic{file_, p.line, p.column,
                              path.empty() ? message : path + ": " + message, is_error});
    if (is_error) ++errors_;
  }
  void error(Pos p, const std::string& path, const std::string& message) {
    report(p, path, message, true);
  }
  // `path: got <v>, expected <expected>` at the value.
  void expected(const Value& v, const std::string& what) {
    error(v.pos, v.path, "got " + got(v.node) + ", expected " + what);
  }
  void missing(const Value& parent, std::string_view key, const std::string& what) {
    error(parent.pos, child_path(parent.path, key), "missing required key (" + what + ")");
  }

  // ---- structure --------------------------------------------------------------------------

  bool expect_map(const Value& v, const std::string& what) {
    if (v.node.IsMap()) return true;
    expected(v, what);
    return false;
  }
  bool expect_list(const Value& v, const std::string& what) {
    if (v.node.IsSequence()) return true;
    expected(v, what);
    return false;
  }

  static Value element(const Value& list, std::size_t i) {
    const Node n = list.node[i];
    const Pos p = n.IsNull() ? list.pos : pos_of(n, list.pos);
    return Value{n, p, p, list.path + "[" + std::to_string(i) + "]"};
  }

  // The entries of a mapping whose allowed keys are the key table's children of `table_path`:
  // refuses unknown, duplicate and non-scalar keys and reports missing required ones.
  Fields fields(const Value& map, std::string_view table_path) {
    const std::vector<const KeyDoc*> allowed = children(table_path);
    Fields f;
    std::map<std::string, int, std::less<>> first_line;
    for (auto it = map.node.begin(); it != map.node.end(); ++it) {
      const Node key = it->first;
      const Node value = it->second;
      const Pos kp = pos_of(key, map.pos);
      if (!key.IsScalar()) {
        error(kp, map.path, "got " + got(key) + " as a key, expected a key name");
        continue;
      }
      const std::string name = key.Scalar();
      const std::string path = child_path(map.path, name);
      const auto doc = std::find_if(allowed.begin(), allowed.end(),
                                    [&](const KeyDoc* k) { return key_name(*k) == name; });
      if (doc == allowed.end()) {
        error(kp, path, unknown_key(name, allowed));
        continue;
      }
      if (const auto seen = first_line.find(name); seen != first_line.end()) {
        // yaml-cpp keeps both entries and a lookup would silently pick one.
        error(kp, path,
              "duplicate key, expected each key once (first given at line " +
                  std::to_string(seen->second) + ")");
        continue;
      }
      first_line.emplace(name, kp.line);
      const Pos vp = value.IsNull() ? kp : pos_of(value, kp);
      f.emplace(name, Value{value, vp, kp, path});
    }
    for (const KeyDoc* k : allowed) {
      if (k->default_value == "required" && find(f, key_name(*k)) == nullptr) {
        missing(map, key_name(*k), k->type);
      }
    }
    return f;
  }

  static std::string unknown_key(std::string_view name, const std::vector<const KeyDoc*>& allowed) {
    std::string list;
    std::string_view suggestion;
    std::size_t best = 3;  // suggest only near misses (typos), not any key
    for (const KeyDoc* k : allowed) {
      const std::string_view candidate = key_name(*k);
      list += (list.empty() ? "" : ", ") + std::string(candidate);
      const std::size_t d = edit_distance(name, candidate);
      if (d < best && d < candidate.size()) {
        best = d;
        suggestion = candidate;
      }
    }
    std::string msg = "unknown key, expected one of: " + list;
    if (!suggestion.empty()) msg += " (did you mean " + std::string(suggestion) + "?)";
    return msg;
  }

  // ---- scalars ----------------------------------------------------------------------------

  std::optional<std::string> as_string(const Value& v) {
    if (!v.node.IsScalar()) {
      expected(v, "a string");
      return std::nullopt;
    }
    return v.node.Scalar();
  }

  std::optional<std::string> as_nonempty_string(const Value& v) {
    auto s = as_string(v);
    if (s && s->empty()) {
      expected(v, "a non-empty string");
      return std::nullopt;
    }
    return s;
  }

  std::optional<double> as_number(const Value& v) {
    const auto n = v.node.IsScalar() ? parse_number(v.node.Scalar()) : std::nullopt;
    if (!n) {
      expected(v, "a number");
      return std::nullopt;
    }
    if (!is_plain(v.node)) {
      expected(v, "a number (without quotes)");
      return std::nullopt;
    }
    if (!std::isfinite(*n)) {
      error(v.pos, v.path, "got " + v.node.Scalar() + ", expected a finite number");
      return std::nullopt;
    }
    return n;
  }

  std::optional<long long> as_integer(const Value& v, long long lo, long long hi) {
    const std::string range = "an integer from " + std::to_string(lo) + " to " + std::to_string(hi);
    if (!v.node.IsScalar() || !is_plain(v.node)) {
      expected(v, range);
      return std::nullopt;
    }
    const std::string& text = v.node.Scalar();
    const auto n = parse_integer(text);
    if (!n || *n < lo || *n > hi) {
      // A number is shown as written; anything else quoted, to make it stand out as text.
      error(v.pos, v.path,
            "got " + (parse_number(text) ? text : quote(text)) + ", expected " + range);
      return std::nullopt;
    }
    return n;
  }

  std::optional<double> as_duration(const Value& v) {
    static const std::string kLike = ", like 500ms or 1.5s";
    if (!v.node.IsScalar()) {
      expected(v, "a duration" + kLike);
      return std::nullopt;
    }
    const Duration d = parse_duration(v.node.Scalar());
    switch (d.status) {
      case Duration::Status::not_a_number:
        expected(v, "a duration" + kLike);
        return std::nullopt;
      case Duration::Status::no_unit:
        // A bare number could mean seconds or milliseconds: refuse rather than guess.
        expected(v, "a duration with a unit" + kLike);
        return std::nullopt;
      case Duration::Status::bad_unit:
        expected(v, "a duration with a unit of ms, s, min or h" + kLike);
        return std::nullopt;
      case Duration::Status::ok:
        break;
    }
    if (!std::isfinite(d.seconds)) {
      expected(v, "a finite duration");
      return std::nullopt;
    }
    if (d.seconds <= 0.0) {
      expected(v, "a duration > 0");
      return std::nullopt;
    }
    return d.seconds;
  }

  std::optional<bool> as_bool(const Value& v) {
    if (v.node.IsScalar() && is_plain(v.node)) {
      const std::string& s = v.node.Scalar();
      if (s == "true" || s == "True" || s == "TRUE") return true;
      if (s == "false" || s == "False" || s == "FALSE") return false;
    }
    expected(v, "true or false");
    return std::nullopt;
  }

  template <class E>
  std::optional<E> as_enum(const Value& v, Choices<E> choices) {
    std::vector<std::string_view> names;
    for (const auto& c : choices) names.push_back(c.first);
    if (v.node.IsScalar()) {
      for (const auto& [name, value] : choices) {
        if (v.node.Scalar() == name) return value;
      }
    }
    expected(v, alternatives(names));
    return std::nullopt;
  }

  std::optional<std::vector<double>> as_numbers(const Value& v) {
    if (!expect_list(v, "a list of numbers, like [1, 2.5]")) return std::nullopt;
    std::vector<double> out;
    bool ok = true;
    for (std::size_t i = 0; i < v.node.size(); ++i) {
      const auto x = as_number(element(v, i));
      ok = ok && x.has_value();
      if (x) out.push_back(*x);
    }
    if (!ok) return std::nullopt;
    return out;
  }

  std::optional<model::Matrix> as_matrix(const Value& v) {
    static const std::string kLike = "a matrix: a list of rows of numbers, like [[-1, 0], [0, -2]]";
    if (!expect_list(v, kLike)) return std::nullopt;
    const std::size_t rows = v.node.size();
    const bool flat = rows > 0 && std::all_of(v.node.begin(), v.node.end(),
                                              [](const Node& n) { return n.IsScalar(); });
    if (flat) {
      // [-1] for [[-1]]: one message for the matrix, not one per number.
      error(v.pos, v.path, "got a list of numbers, expected " + kLike + " (one row: [[1, 2]])");
      return std::nullopt;
    }
    model::Matrix m;
    m.rows = rows;
    bool ok = true;
    for (std::size_t r = 0; r < rows; ++r) {
      const Value row = element(v, r);
      if (!expect_list(row, "a row: a list of numbers")) {
        ok = false;
        continue;
      }
      if (r == 0) {
        m.cols = row.node.size();
      } else if (row.node.size() != m.cols) {
        error(row.pos, row.path,
              "got " + plural(row.node.size(), "number") + ", expected " + std::to_string(m.cols) +
                  " (as many as row 0)");
        ok = false;
        continue;
      }
      for (std::size_t c = 0; c < row.node.size(); ++c) {
        const auto x = as_number(element(row, c));
        ok = ok && x.has_value();
        m.data.push_back(x.value_or(0.0));
      }
    }
    if (!ok) return std::nullopt;
    return m;
  }

  // ---- sections ---------------------------------------------------------------------------

  void parse_broker(const Value& v, BrokerSpec& b) {
    if (!expect_map(v, "a mapping (uri, client_id, ...)")) return;
    const Fields f = fields(v, "broker");
    if (const Value* e = find(f, "uri")) {
      if (const auto s = as_string(*e)) {
        if (const auto problem = uri_problem(*s)) {
          expected(*e, *problem);
        } else {
          b.uri = *s;
        }
      }
    }
    if (const Value* e = find(f, "client_id")) {
      if (const auto s = as_nonempty_string(*e)) b.client_id = *s;
    }
    if (const Value* e = find(f, "keepalive")) {
      if (const auto d = as_duration(*e)) {
        if (*d < 1.0 || *d > 65535.0 || *d != std::floor(*d)) {
          expected(*e,
                   "whole seconds from 1s to 65535s (MQTT counts the keep-alive in seconds, "
                   "in 16 bits)");
        } else {
          b.keepalive = *d;
        }
      }
    }
    if (const Value* e = find(f, "clean_session")) {
      if (const auto x = as_bool(*e)) b.clean_session = *x;
    }
    if (const Value* e = find(f, "check_publish")) {
      if (const auto x = as_bool(*e)) b.check_publish = *x;
    }
    if (const Value* e = find(f, "username")) {
      if (const auto s = as_string(*e)) b.username = *s;
    }
    const Value* file = find(f, "password_file");
    const Value* env = find(f, "password_env");
    if (file != nullptr) {
      if (const auto s = as_string(*file)) b.password_file = *s;
    }
    if (env != nullptr) {
      if (const auto s = as_string(*env)) {
        if (!s->empty() && !is_env_name(*s)) {
          expected(*env, "an environment variable name ([A-Za-z_][A-Za-z0-9_]*)");
        } else {
          b.password_env = *s;
        }
      }
    }
    if (!b.password_file.empty() && !b.password_env.empty()) {
      // Point at whichever comes second: the first one was fine until then.
      const bool env_last = file->key_pos < env->key_pos;
      const Value& last = env_last ? *env : *file;
      expected(last, std::string("no ") + (env_last ? "password_env" : "password_file") + " when " +
                         (env_last ? "password_file" : "password_env") +
                         " is set (the password comes from one place)");
    } else if (b.username.empty() && (!b.password_file.empty() || !b.password_env.empty())) {
      const Value& given = !b.password_file.empty() ? *file : *env;
      expected(given, "a username as well (MQTT sends a password only with a user name)");
    }
    if (const Value* e = find(f, "tls")) {
      parse_tls(*e, b);
      if (!is_tls_uri(b.uri)) {
        // Never plaintext when TLS was asked for: the default URI or a tcp:// one is an error.
        const Value* u = find(f, "uri");
        error(u != nullptr ? u->pos : e->key_pos, u != nullptr ? u->path : e->path,
              (u != nullptr ? "got " + b.uri + " with tls"
                            : "got tls with the default uri " + b.uri) +
                  ", expected an ssl://, mqtts:// or wss:// uri (twind never falls back to "
                  "plaintext when TLS is configured)");
      }
    }
  }

  void parse_tls(const Value& v, BrokerSpec& b) {
    if (!expect_map(v, "a mapping (ca_file, cert_file, key_file)")) return;
    const Fields f = fields(v, "broker.tls");
    TlsSpec tls;
    if (const Value* e = find(f, "ca_file")) {
      if (const auto s = as_nonempty_string(*e)) tls.ca_file = *s;
    }
    const Value* cert = find(f, "cert_file");
    const Value* key = find(f, "key_file");
    if (cert != nullptr) {
      if (const auto s = as_nonempty_string(*cert)) tls.cert_file = *s;
    }
    if (key != nullptr) {
      if (const auto s = as_nonempty_string(*key)) tls.key_file = *s;
    }
    if ((cert == nullptr) != (key == nullptr)) {
      const Value& given = cert != nullptr ? *cert : *key;
      error(given.key_pos, given.path,
            std::string("got ") +
                (cert != nullptr ? "cert_file without key_file" : "key_file without cert_file") +
                ", expected both or neither (a client certificate needs its private key)");
    }
    b.tls = std::move(tls);
  }

  void parse_topics(const Value* v, std::size_t asset_count, TopicsSpec& t) {
    const bool several = asset_count > 1;
    if (several) {
      t.state = "twin/{asset}/state";
      t.alert = "twin/{asset}/alert";
    }
    if (v == nullptr) return;
    if (!expect_map(*v, "a mapping (state, alert, status)")) {
      topics_ok_ = false;
      return;
    }
    const Fields f = fields(*v, "topics");
    const auto read_template = [&](std::string_view key, std::string& dst, std::string_view example,
                                   bool required) {
      const Value* e = find(f, key);
      if (e == nullptr) return;
      const auto s = as_string(*e);
      if (!s) {
        topics_ok_ = false;
      } else if (key == "command" && *s == "off") {
        dst.clear();
      } else if (const auto problem = topic_problem(*s)) {
        expected(*e, *problem);
        topics_ok_ = false;
      } else if (s->find("{asset}") == std::string::npos &&
                 s->find_first_of("{}") == std::string::npos && !required) {
        dst = *s;
      } else if (!is_asset_pattern(*s)) {
        std::string what =
            "a topic with {asset} once, as a whole level and its only placeholder, "
            "like " +
            std::string(example);
        if (several && (key == "state" || key == "alert")) {
          what += ", since there are " + std::to_string(asset_count) + " assets";
        }
        expected(*e, what);
        topics_ok_ = false;
      } else {
        dst = *s;
      }
    };
    read_template("state", t.state, "twin/{asset}/state", several);
    read_template("alert", t.alert, "twin/{asset}/alert", several);
    read_template("model", t.model, "twin/{asset}/model", true);
    read_template("command", t.command, "twin/{asset}/cmd", true);
    if (const Value* e = find(f, "status")) {
      const auto s = as_string(*e);
      if (!s) {
        topics_ok_ = false;
      } else if (const auto problem = topic_problem(*s)) {
        expected(*e, *problem);
        topics_ok_ = false;
      } else if (s->find_first_of("{}") != std::string::npos) {
        expected(*e, "a fixed topic without {asset} (the status is the daemon's, not an asset's)");
        topics_ok_ = false;
      } else {
        t.status = *s;
      }
    }
    if (!topics_ok_) return;
    // State, alert and status on one topic would be told apart only by their content.
    const std::string reply = t.command.empty() ? std::string() : reply_topic(t.command);
    const std::vector<std::pair<std::string_view, const std::string*>> named{
        {"state", &t.state}, {"alert", &t.alert},     {"status", &t.status},
        {"model", &t.model}, {"command", &t.command}, {"command (its /reply)", &reply}};
    for (std::size_t i = 1; i < named.size(); ++i) {
      for (std::size_t j = 0; j < i; ++j) {
        const std::string_view key = named[i].first.substr(0, named[i].first.find(' '));
        const Value* e = find(f, key);
        if (e != nullptr && !named[i].second->empty() && !named[j].second->empty() &&
            topics_overlap(*named[i].second, *named[j].second)) {
          expected(*e, "a topic other than topics." + std::string(named[j].first));
          topics_ok_ = false;
        }
      }
    }
  }

  void parse_assets(const Value& v, std::vector<AssetSpec>& out) {
    if (!expect_list(v, "a list of assets")) return;
    if (v.node.size() == 0) {
      expected(v, "at least one asset");
      return;
    }
    for (std::size_t i = 0; i < v.node.size(); ++i) {
      if (auto a = parse_asset(element(v, i))) out.push_back(std::move(*a));
    }
  }

  std::optional<AssetSpec> parse_asset(const Value& v) {
    if (!expect_map(v, "a mapping (an asset: id or template, model, signals, ...)")) {
      return std::nullopt;
    }
    const std::size_t errors_before = errors_;
    const Fields f = fields(v, "assets[]");
    AssetSpec a;
    const Value* id = find(f, "id");
    const Value* tmpl = find(f, "template");
    if (id != nullptr && tmpl != nullptr) {
      error(tmpl->key_pos, tmpl->path,
            "not with id, expected either id (one asset) or template (a family of assets)");
    } else if (id == nullptr && tmpl == nullptr) {
      missing(v, "id", "string, or template for a family of assets");
    } else if (id != nullptr) {
      if (const auto s = as_string(*id)) {
        if (claim_asset_id(*id, *s)) a.id = *s;
      }
    } else if (const auto s = as_string(*tmpl)) {
      if (!is_asset_id(*s)) {
        expected(*tmpl, "a name of 1 to 64 letters, digits, _, . and -");
      } else if (const auto [it, fresh] = template_names_.emplace(*s, tmpl->path); !fresh) {
        expected(*tmpl, "a name not already used (by " + it->second + ")");
      } else {
        a.template_name = *s;
      }
    }
    parse_family(f, tmpl != nullptr, v, a);
    // Topics are read with the asset's id ({asset} is replaced in a single asset's topics) or as
    // the template's patterns.
    const TopicScope scope{tmpl != nullptr, a.id};
    bool has_frames = false;
    if (const Value* e = find(f, "frames")) has_frames = parse_frames(*e, scope, a.frame_topics);
    SignalsInfo si;
    if (const Value* e = find(f, "signals")) si = parse_signals(*e, has_frames, scope);
    if (const Value* e = find(f, "model")) parse_model(*e, si, a.model);
    if (const Value* e = find(f, "detector")) parse_detector(*e, a.detector);
    if (errors_ != errors_before) return std::nullopt;
    a.signals = std::move(si.inputs);
    a.signals.insert(a.signals.end(), si.outputs.begin(), si.outputs.end());
    return a;
  }

  bool claim_asset_id(const Value& at, const std::string& id) {
    if (!is_asset_id(id)) {
      expected(at, "an id of 1 to 64 letters, digits, _, . and -");
      return false;
    }
    if (const auto [it, fresh] = asset_ids_.emplace(id, at.path); !fresh) {
      expected(at, "an id not already used (by " + it->second + ")");
      return false;
    }
    return true;
  }

  // ids, discover and max_assets: a template's family.
  void parse_family(const Fields& f, bool is_template, const Value& entry, AssetSpec& a) {
    const Value* ids = find(f, "ids");
    const Value* discover = find(f, "discover");
    const Value* max_assets = find(f, "max_assets");
    if (!is_template) {
      for (const Value* e : {ids, discover, max_assets}) {
        if (e != nullptr) {
          error(e->key_pos, e->path, "not allowed with id, expected it only in a template");
        }
      }
      return;
    }
    if (ids != nullptr && expect_list(*ids, "a list of asset ids, like [pump1, pump2]")) {
      for (std::size_t i = 0; i < ids->node.size(); ++i) {
        const Value item = element(*ids, i);
        if (const auto s = as_string(item)) {
          if (claim_asset_id(item, *s)) a.ids.push_back(*s);
        }
      }
    }
    if (discover != nullptr) {
      if (const auto b = as_bool(*discover)) a.discover = *b;
    }
    if (max_assets != nullptr) {
      if (const auto n = as_integer(*max_assets, 1, 1000000)) {
        a.max_assets = static_cast<std::size_t>(*n);
      }
    }
    const bool no_ids = ids == nullptr || (ids->node.IsSequence() && ids->node.size() == 0);
    if (no_ids && (discover == nullptr || (discover->node.IsScalar() && !a.discover))) {
      error(entry.pos, entry.path,
            "a template without assets, expected ids (a list), discover: true, or both");
    }
  }

  // Returns whether the asset declares frames (also when some of them are bad, so that a signal
  // without a topic is not blamed for it).
  bool parse_frames(const Value& v, const TopicScope& scope, std::vector<std::string>& out) {
    if (!expect_list(v, "a list of topics, like [plant/frame]")) return true;
    for (std::size_t i = 0; i < v.node.size(); ++i) {
      const Value item = element(v, i);
      if (const auto s = as_string(item)) {
        if (auto topic = inbound_topic(item, *s, scope)) out.push_back(std::move(*topic));
      }
    }
    return v.node.size() > 0;
  }

  // A signal or frame topic as the asset will use it: checked, recorded for the overlap checks,
  // with {asset} replaced by a single asset's id; a template's keeps its {asset}.
  std::optional<std::string> inbound_topic(const Value& at, const std::string& topic,
                                           const TopicScope& scope) {
    if (const auto problem = topic_problem(topic)) {
      expected(at, *problem);
      return std::nullopt;
    }
    if (scope.is_template) {
      if (!is_asset_pattern(topic)) {
        expected(at,
                 "a topic with {asset} once, as a whole level and its only placeholder, like "
                 "plant/{asset}/y (the template's assets are told apart by it)");
        return std::nullopt;
      }
    } else if (replace_all(topic, "{asset}", "").find_first_of("{}") != std::string::npos) {
      expected(at, "a topic whose only placeholder is {asset}");
      return std::nullopt;
    }
    // The file's topics are what the asset uses, so a single asset's {asset} is expanded; an
    // invalid id has been reported already.
    std::string used = scope.is_template ? topic : replace_all(topic, "{asset}", scope.id);
    topic_uses_.push_back(TopicUse{used, at.pos, at.path});
    return used;
  }

  SignalsInfo parse_signals(const Value& v, bool has_frames, const TopicScope& scope) {
    SignalsInfo si;
    si.where = v;
    if (!expect_list(v, "a list of signals")) return si;
    if (v.node.size() == 0) {
      expected(v, "at least one input and one output signal");
      return si;
    }
    si.roles_known = true;
    std::map<std::string, std::string> names;  // name -> path of its first use
    for (std::size_t i = 0; i < v.node.size(); ++i) {
      SignalSpec s;
      const auto role = parse_signal(element(v, i), has_frames, scope, names, s);
      if (!role) {
        si.roles_known = false;
      } else {
        (*role == Role::input ? si.inputs : si.outputs).push_back(std::move(s));
      }
    }
    if (si.roles_known && (si.inputs.empty() || si.outputs.empty())) {
      error(v.pos, v.path,
            "got " + plural(si.inputs.size(), "input") + " and " +
                plural(si.outputs.size(), "output") +
                ", expected at least one input and one output");
    }
    return si;
  }

  std::optional<Role> parse_signal(const Value& v, bool has_frames, const TopicScope& scope,
                                   std::map<std::string, std::string>& names, SignalSpec& s) {
    if (!expect_map(v, "a mapping (a signal: name, role, ...)")) return std::nullopt;
    const Fields f = fields(v, "assets[].signals[]");
    if (const Value* e = find(f, "name")) {
      if (const auto n = as_string(*e)) {
        if (!is_identifier(*n)) {
          expected(*e, "a name of letters, digits and _ that does not start with a digit");
        } else if (*n == "ts" || *n == "value") {
          expected(*e, "a name other than ts and value (they are keys of the payload format)");
        } else if (const auto [it, fresh] = names.emplace(*n, e->path); !fresh) {
          expected(*e, "a name not already used in this asset (by " + it->second + ")");
        } else {
          s.name = *n;
        }
      }
    }
    std::optional<Role> role;
    if (const Value* e = find(f, "role")) {
      role = as_enum<Role>(*e, {{"input", Role::input}, {"output", Role::output}});
    }
    s.role = role.value_or(Role::input);
    if (const Value* e = find(f, "topic")) {
      if (const auto t = as_string(*e)) {
        if (auto topic = inbound_topic(*e, *t, scope)) s.topic = std::move(*topic);
      }
    } else if (!has_frames) {
      error(v.pos, child_path(v.path, "topic"),
            "missing, expected a topic since the asset has no frames to carry this signal");
    }
    const Value* min = find(f, "min");
    const Value* max = find(f, "max");
    // Assigned rather than initialised from ?: which GCC 12 wrongly finds maybe-uninitialized.
    std::optional<double> lo;
    std::optional<double> hi;
    if (min != nullptr) lo = as_number(*min);
    if (max != nullptr) hi = as_number(*max);
    if (lo) s.min = *lo;
    if (hi) s.max = *hi;
    if (lo && hi && !(*lo < *hi)) {
      error(max->pos, max->path,
            "got " + max->node.Scalar() + ", expected a number > min (" + min->node.Scalar() + ")");
    }
    const Value* thr = find(f, "threshold");
    const Value* clr = find(f, "clear_threshold");
    std::optional<double> threshold;
    std::optional<double> clear;
    if (thr != nullptr) {
      if (const auto x = as_number(*thr)) {
        if (role == Role::input) {
          error(thr->key_pos, thr->path,
                "got " + thr->node.Scalar() +
                    ", expected no threshold on an input (only outputs are compared with the "
                    "model)");
        } else if (*x <= 0.0) {
          error(thr->pos, thr->path, "got " + thr->node.Scalar() + ", expected a number > 0");
        } else {
          threshold = *x;
        }
      }
    }
    if (clr != nullptr) {
      if (const auto x = as_number(*clr)) {
        const std::string written = clr->node.Scalar();
        if (role == Role::input) {
          error(clr->key_pos, clr->path,
                "got " + written +
                    ", expected no clear_threshold on an input (only outputs are compared with "
                    "the model)");
        } else if (*x <= 0.0) {
          error(clr->pos, clr->path, "got " + written + ", expected a number > 0");
        } else if (thr == nullptr) {
          error(clr->key_pos, clr->path,
                "got " + written + " without a threshold, expected a threshold as well");
        } else if (threshold && *x > *threshold) {
          error(clr->pos, clr->path,
                "got " + written + ", expected a number <= threshold (" + thr->node.Scalar() + ")");
        } else {
          clear = *x;
        }
      }
    }
    s.threshold = threshold;
    s.clear_threshold = clear ? clear : threshold;
    if (const Value* e = find(f, "stale_after")) {
      if (const auto d = as_duration(*e)) s.stale_after = *d;
    }
    return role;
  }

  void parse_model(const Value& v, const SignalsInfo& si, ModelSpec& m) {
    if (!expect_map(v, "a mapping (the model: name, version, kind, ...)")) return;
    const Fields f = fields(v, "assets[].model");
    if (const Value* e = find(f, "name")) {
      if (const auto s = as_nonempty_string(*e)) m.id.name = *s;
    }
    if (const Value* e = find(f, "version")) {
      // As text, so that 3.10 stays 3.10 rather than becoming 3.1.
      if (!e->node.IsScalar() || e->node.Scalar().empty()) {
        expected(*e, "a version, like 3 or \"1.2.0\"");
      } else {
        m.id.version = e->node.Scalar();
      }
    }
    std::optional<ModelKind> kind = ModelKind::state_space;
    if (const Value* e = find(f, "kind")) {
      kind = as_enum<ModelKind>(*e, {{"state_space", ModelKind::state_space},
                                     {"transfer_function", ModelKind::transfer_function},
                                     {"rotating_machine", ModelKind::rotating_machine}});
    }
    if (kind == ModelKind::rotating_machine) {
      m.kind = *kind;
      parse_rotating_machine(v, f, si, m);
      return;
    }
    std::optional<Domain> domain = Domain::continuous;
    if (const Value* e = find(f, "domain")) {
      domain =
          as_enum<Domain>(*e, {{"continuous", Domain::continuous}, {"discrete", Domain::discrete}});
    }
    std::optional<double> dt;
    if (const Value* e = find(f, "dt")) dt = as_duration(*e);
    // With the kind unknown, which keys belong is unknown too.
    if (!kind) return;
    m.kind = *kind;
    if (const Value* e = find(f, "parameters")) {
      error(e->key_pos, e->path,
            std::string("not allowed in a ") +
                (*kind == ModelKind::state_space ? "state_space" : "transfer_function") +
                " model, expected parameters only with kind: rotating_machine");
    }
    if (*kind == ModelKind::state_space) {
      parse_state_space(v, f, si, domain, dt, m);
    } else {
      parse_transfer_function(v, f, si, domain, m);
    }
  }

  void parse_rotating_machine(const Value& v, const Fields& f, const SignalsInfo& si,
                              ModelSpec& m) {
    for (const std::string_view key : {"A", "B", "C", "D", "num", "den", "domain", "dt"}) {
      if (const Value* e = find(f, key)) {
        error(e->key_pos, e->path,
              "not allowed in a rotating_machine model, expected parameters (or kind: "
              "state_space or transfer_function)");
      }
    }
    // A missing input or output is reported by the signals list already.
    if (si.roles_known && !si.inputs.empty() && !si.outputs.empty() &&
        (si.inputs.size() != 2 || si.outputs.size() != 3)) {
      error(si.where->pos, si.where->path,
            "got " + plural(si.inputs.size(), "input") + " and " +
                plural(si.outputs.size(), "output") +
                ", expected exactly 2 inputs (speed command in rpm, load fraction) and 3 outputs "
                "(rpm, temperature in degC, vibration in mm/s), in that order, for a "
                "rotating_machine model");
    }
    const Value* params = find(f, "parameters");
    bool params_ok = true;
    if (params != nullptr) params_ok = parse_machine_parameters(*params, m.machine);
    if (!params_ok) return;
    // The model layer's own rules (time constants too far apart for explicit RK4...), in the
    // file's names rather than the struct's.
    try {
      (void)model::make_rotating_machine(m.id, m.machine);
    } catch (const model::ModelError& e) {
      std::string message = e.what();
      for (const auto& [field, key] : kMachineFieldNames) {
        message = replace_all(message, field, key);
      }
      const Value& at = params != nullptr ? *params : v;
      error(at.pos, at.path, message);
    }
  }

  // RotatingMachineParams' member names and the YAML keys they are written as.
  static constexpr std::pair<std::string_view, std::string_view> kMachineFieldNames[] = {
      {"tau_mech_s", "tau_mech"}, {"p_idle_w", "p_idle"},   {"k_speed_w", "k_speed"},
      {"r_th_k_per_w", "r_th"},   {"c_th_j_per_k", "c_th"}, {"t_ambient_c", "t_ambient"},
      {"v_base_mm_s", "v_base"},  {"k_imb_mm_s", "k_imb"}};

  // Returns whether every given parameter was read and within its own range.
  bool parse_machine_parameters(const Value& v, model::RotatingMachineParams& p) {
    if (!expect_map(v, "a mapping (tau_mech, rpm_rated, p_idle, ...)")) return false;
    const std::size_t errors_before = errors_;
    const Fields f = fields(v, "assets[].model.parameters");
    if (const Value* e = find(f, "tau_mech")) {
      if (const auto d = as_duration(*e)) p.tau_mech_s = *d;
    }
    enum class Rule { positive, non_negative, above_absolute_zero };
    const auto number = [&](std::string_view key, double& dst, Rule rule, std::string_view unit) {
      const Value* e = find(f, key);
      if (e == nullptr) return;
      const auto x = as_number(*e);
      if (!x) return;
      const bool ok = rule == Rule::positive       ? *x > 0.0
                      : rule == Rule::non_negative ? *x >= 0.0
                                                   : *x > -273.15;
      if (!ok) {
        const std::string bound = rule == Rule::positive       ? "> 0"
                                  : rule == Rule::non_negative ? ">= 0"
                                                               : "> -273.15 (absolute zero)";
        error(e->pos, e->path,
              "got " + e->node.Scalar() + ", expected a number " + bound + " (" +
                  std::string(unit) + ")");
        return;
      }
      dst = *x;
    };
    number("rpm_rated", p.rpm_rated, Rule::positive, "rpm");
    number("p_idle", p.p_idle_w, Rule::non_negative, "W");
    number("k_speed", p.k_speed_w, Rule::non_negative, "W");
    number("r_th", p.r_th_k_per_w, Rule::positive, "K/W");
    number("c_th", p.c_th_j_per_k, Rule::positive, "J/K");
    number("t_ambient", p.t_ambient_c, Rule::above_absolute_zero, "degC");
    number("v_base", p.v_base_mm_s, Rule::non_negative, "mm/s");
    number("k_imb", p.k_imb_mm_s, Rule::non_negative, "mm/s per (1000 rpm)^2");
    return errors_ == errors_before;
  }

  void parse_state_space(const Value& v, const Fields& f, const SignalsInfo& si,
                         std::optional<Domain> domain, std::optional<double> dt, ModelSpec& m) {
    for (const std::string_view key : {"num", "den"}) {
      if (const Value* e = find(f, key)) {
        error(e->key_pos, e->path,
              "not allowed in a state_space model, expected A, B, C and D (or kind: "
              "transfer_function)");
      }
    }
    const Value* dt_entry = find(f, "dt");
    if (domain == Domain::discrete) {
      if (dt_entry == nullptr) {
        error(v.pos, child_path(v.path, "dt"),
              "missing, expected the sample time of the discrete model, like 20ms");
      } else if (dt) {
        m.dt = *dt;
      }
    } else if (domain == Domain::continuous && dt_entry != nullptr) {
      error(dt_entry->key_pos, dt_entry->path,
            "not allowed in a continuous model, expected dt only with domain: discrete");
    }
    m.domain = domain.value_or(Domain::continuous);

    // Without an input or an output the signal list is wrong already (and says so); the
    // matrices are then checked only against A.
    const bool counts_known = si.roles_known && !si.inputs.empty() && !si.outputs.empty();
    const std::optional<std::size_t> inputs =
        counts_known ? std::optional(si.inputs.size()) : std::nullopt;
    const std::optional<std::size_t> outputs =
        counts_known ? std::optional(si.outputs.size()) : std::nullopt;
    const std::string input_names = " (the number of input signals: " + names_of(si.inputs) + ")";
    const std::string output_names =
        " (the number of output signals: " + names_of(si.outputs) + ")";
    const auto matrix = [&](std::string_view key) -> std::optional<model::Matrix> {
      const Value* e = find(f, key);
      if (e == nullptr) {
        if (key != "D") missing(v, key, "matrix, for a state_space model");
        return std::nullopt;
      }
      return as_matrix(*e);
    };
    // Each shape is checked against what is known to be right; a wrong A or an unreadable
    // signal list leaves the dimensions it defines unchecked rather than blamed.
    const auto check = [&](std::string_view key, const model::Matrix& x,
                           std::optional<std::size_t> rows, const std::string& rows_why,
                           std::optional<std::size_t> cols, const std::string& cols_why) {
      const Value& e = *find(f, key);
      if (rows && x.rows != *rows) {
        error(e.pos, e.path,
              "got " + plural(x.rows, "row") + ", expected " + std::to_string(*rows) + rows_why);
      }
      if (cols && x.rows > 0 && x.cols != *cols) {
        error(e.pos, e.path,
              "got " + plural(x.cols, "column") + ", expected " + std::to_string(*cols) + cols_why);
      }
    };

    std::optional<std::size_t> n;
    if (auto a = matrix("A")) {
      const Value& e = *find(f, "A");
      if (a->rows == 0) {
        error(e.pos, e.path, "got an empty matrix, expected at least one state ([[-1]] or larger)");
      } else if (a->rows != a->cols) {
        error(e.pos, e.path, "got " + dims(*a) + ", expected a square matrix");
      } else {
        n = a->rows;
        m.a = std::move(*a);
      }
    }
    if (auto b = matrix("B")) {
      check("B", *b, n, " (the number of states, rows of A)", inputs, input_names);
      m.b = std::move(*b);
    }
    if (auto c = matrix("C")) {
      check("C", *c, outputs, output_names, n, " (the number of states, columns of A)");
      m.c = std::move(*c);
    }
    if (auto d = matrix("D")) {
      check("D", *d, outputs, output_names, inputs, input_names);
      m.d = std::move(*d);
    } else if (find(f, "D") == nullptr && inputs && outputs) {
      m.d = model::Matrix{*outputs, *inputs, std::vector<double>(*outputs * *inputs, 0.0)};
    }
    if (n && m.domain == Domain::continuous) warn_if_unstable(*find(f, "A"), m.a);
  }

  void parse_transfer_function(const Value& v, const Fields& f, const SignalsInfo& si,
                               std::optional<Domain> domain, ModelSpec& m) {
    for (const std::string_view key : {"A", "B", "C", "D"}) {
      if (const Value* e = find(f, key)) {
        error(e->key_pos, e->path,
              "not allowed in a transfer_function model, expected num and den (or kind: "
              "state_space)");
      }
    }
    if (domain == Domain::discrete) {
      expected(*find(f, "domain"), "continuous (a transfer_function is continuous-time here)");
    }
    if (const Value* e = find(f, "dt")) {
      error(e->key_pos, e->path,
            "not allowed in a transfer_function model (it is continuous-time)");
    }
    m.domain = Domain::continuous;
    const Value* num_entry = find(f, "num");
    const Value* den_entry = find(f, "den");
    if (num_entry == nullptr) missing(v, "num", "list of numbers, for a transfer_function model");
    if (den_entry == nullptr) missing(v, "den", "list of numbers, for a transfer_function model");
    std::optional<std::vector<double>> num;
    std::optional<std::vector<double>> den;
    if (num_entry != nullptr) num = as_numbers(*num_entry);
    if (den_entry != nullptr) den = as_numbers(*den_entry);
    bool den_ok = false;
    if (den) {
      if (den->size() < 2) {
        error(den_entry->pos, den_entry->path,
              "got " + plural(den->size(), "coefficient") +
                  ", expected at least 2 (a denominator of order 1 or more, like [1, 1])");
      } else if ((*den)[0] == 0.0) {
        const Value lead = element(*den_entry, 0);
        error(lead.pos, lead.path,
              "got " + lead.node.Scalar() + ", expected a non-zero leading coefficient");
      } else {
        den_ok = true;
      }
    }
    bool num_ok = false;
    if (num) {
      if (num->empty()) {
        expected(*num_entry, "at least one coefficient");
      } else if (den_ok && num->size() > den->size()) {
        error(num_entry->pos, num_entry->path,
              "got " + plural(num->size(), "coefficient") + ", expected at most " +
                  std::to_string(den->size()) +
                  " (as many as den: the transfer function must be proper)");
      } else {
        num_ok = true;
      }
    }
    // A missing input or output is reported by the signals list already.
    if (si.roles_known && !si.inputs.empty() && !si.outputs.empty() &&
        (si.inputs.size() != 1 || si.outputs.size() != 1)) {
      error(si.where->pos, si.where->path,
            "got " + plural(si.inputs.size(), "input") + " and " +
                plural(si.outputs.size(), "output") +
                ", expected exactly 1 input and 1 output for a transfer_function model");
    }
    if (num) m.num = *num;
    if (den) m.den = *den;
    if (num_ok && den_ok) {
      try {
        const model::StateSpace ss = model::transfer_function_to_state_space(m.num, m.den);
        warn_if_unstable(*den_entry, ss.a);
      } catch (const std::exception&) {
        // The checks above are the model layer's preconditions; a refusal here would be a
        // stricter rule of the model layer's, which the twin reports when it is built.
      }
    }
  }

  void warn_if_unstable(const Value& at, const model::Matrix& a) {
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
      report(at.pos, at.path,
             "unstable pole (max real part " + format_number(worst) +
                 " > 0); the twin will drift from any plant",
             false);
    }
  }

  void parse_detector(const Value& v, DetectorSpec& d) {
    if (!expect_map(v, "a mapping (raise_after, clear_after, severity, stale_severity)")) return;
    const Fields f = fields(v, "assets[].detector");
    if (const Value* e = find(f, "raise_after")) {
      if (const auto n = as_integer(*e, 1, 1000000)) d.raise_after = static_cast<int>(*n);
    }
    if (const Value* e = find(f, "clear_after")) {
      if (const auto n = as_integer(*e, 1, 1000000)) d.clear_after = static_cast<int>(*n);
    }
    const Choices<Severity> severities{
        {"info", Severity::info}, {"warning", Severity::warning}, {"critical", Severity::critical}};
    if (const Value* e = find(f, "severity")) {
      if (const auto s = as_enum<Severity>(*e, severities)) d.severity = *s;
    }
    if (const Value* e = find(f, "stale_severity")) {
      if (const auto s = as_enum<Severity>(*e, severities)) d.stale_severity = *s;
    }
  }

  // No message may reach twind through two of its subscriptions (it would be counted twice) or
  // on a topic twind publishes to (it would read its own output). Templates' {asset} stands for
  // any id.
  void check_topic_uses(const TopicsSpec& topics) {
    std::stable_sort(topic_uses_.begin(), topic_uses_.end(),
                     [](const TopicUse& a, const TopicUse& b) { return a.pos < b.pos; });
    std::vector<std::pair<std::string, std::string>> outbound;  // topic, key that uses it
    if (topics_ok_) {
      const auto add = [&](const std::string& topic, const std::string& key, bool any_id) {
        if (topic.empty()) return;
        if (any_id || topic.find("{asset}") == std::string::npos) {
          outbound.emplace_back(topic, key);
          return;
        }
        for (const auto& [id, path] : asset_ids_) {
          outbound.emplace_back(replace_all(topic, "{asset}", id), key);
        }
      };
      const bool any_id = !template_names_.empty();
      add(topics.status, "topics.status", false);
      add(topics.state, "topics.state", any_id);
      add(topics.alert, "topics.alert", any_id);
      add(topics.model, "topics.model", any_id);
      // twind subscribes to commands with + in place of {asset}, whatever the assets.
      add(topics.command, "topics.command", true);
      if (!topics.command.empty()) add(reply_topic(topics.command), "topics.command's reply", true);
    }
    std::map<std::string, std::string, std::less<>> literal;  // topic -> path of its first use
    std::vector<const TopicUse*> patterns;                    // earlier uses with {asset}
    for (const TopicUse& u : topic_uses_) {
      const auto out = std::find_if(outbound.begin(), outbound.end(), [&](const auto& o) {
        return topics_overlap(u.topic, o.first);
      });
      if (out != outbound.end()) {
        error(u.pos, u.path,
              "got " + quote(u.topic) + ", expected a topic other than twind's own (it is " +
                  out->second + ")");
        continue;
      }
      const bool is_pattern = u.topic.find("{asset}") != std::string::npos;
      std::string clash;
      bool via_pattern = is_pattern;
      for (const TopicUse* p : patterns) {
        if (topics_overlap(u.topic, p->topic)) {
          clash = p->path;
          via_pattern = true;
          break;
        }
      }
      if (clash.empty() && is_pattern) {
        for (const auto& [topic, path] : literal) {
          if (topics_overlap(u.topic, topic)) {
            clash = path;
            break;
          }
        }
      } else if (clash.empty()) {
        if (const auto it = literal.find(u.topic); it != literal.end()) clash = it->second;
      }
      if (!clash.empty()) {
        error(u.pos, u.path,
              "got " + quote(u.topic) + ", expected a topic not already used (by " + clash +
                  (via_pattern ? "; {asset} stands for any id" : "") + ")");
        continue;
      }
      if (is_pattern) {
        patterns.push_back(&u);
      } else {
        literal.emplace(u.topic, u.path);
      }
    }
  }

  const std::string& file_;
  std::vector<Diagnostic>& out_;
  std::size_t errors_ = 0;
  std::map<std::string, std::string> asset_ids_;       // id -> path of its first use
  std::map<std::string, std::string> template_names_;  // name -> path of its first use
  std::vector<TopicUse> topic_uses_;
  bool topics_ok_ = true;
};

}  // namespace

std::optional<Config> validate(const YAML::Node& root, const std::string& file,
                               std::vector<Diagnostic>& out) {
  return Validator(file, out).run(root);
}

std::optional<Command> validate_command(const YAML::Node& root,
                                        const std::vector<SignalSpec>* signals, CommandParse& parse,
                                        std::vector<Diagnostic>& out) {
  static const std::string kFile = "command";
  return Validator(kFile, out).run_command(root, signals, parse);
}

}  // namespace twind::config::detail
