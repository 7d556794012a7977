#include "reader.hpp"

#include <string>
#include <utility>

#include "scalars.hpp"

namespace twind::config::detail {

Pos pos_of(const YAML::Node& n, Pos fallback) {
  const YAML::Mark m = n.Mark();
  if (m.is_null() || m.line < 0 || m.column < 0) return fallback;
  return {m.line + 1, m.column + 1};
}

const Value* find(const Fields& f, std::string_view key) {
  const auto it = f.find(key);
  return it == f.end() ? nullptr : &it->second;
}

std::string child_path(const std::string& parent, std::string_view key) {
  return parent.empty() ? std::string(key) : parent + "." + std::string(key);
}

Value element(const Value& list, std::size_t i) {
  const YAML::Node n = list.node[i];
  const Pos p = n.IsNull() ? list.pos : pos_of(n, list.pos);
  return Value{n, p, p, list.path + "[" + std::to_string(i) + "]"};
}

std::string got(const YAML::Node& n) {
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

std::string plural(std::size_t n, std::string_view word) {
  return std::to_string(n) + " " + std::string(word) + (n == 1 ? "" : "s");
}

void Reader::report(Pos p, const std::string& path, const std::string& message, bool is_error) {
  out_.push_back(Diagnostic{file_, p.line, p.column, path.empty() ? message : path + ": " + message,
                            is_error});
  if (is_error) ++errors_;
}

void Reader::expected(const Value& v, const std::string& what) {
  error(v.pos, v.path, "got " + got(v.node) + ", expected " + what);
}

void Reader::missing(const Value& parent, std::string_view key, const std::string& what) {
  error(parent.pos, child_path(parent.path, key), "missing required key (" + what + ")");
}

bool Reader::expect_map(const Value& v, const std::string& what) {
  if (v.node.IsMap()) return true;
  expected(v, what);
  return false;
}

bool Reader::expect_list(const Value& v, const std::string& what) {
  if (v.node.IsSequence()) return true;
  expected(v, what);
  return false;
}

}  // namespace twind::config::detail
