// Internal to twind_config: reading typed values out of a YAML tree. Every finding becomes a
// Diagnostic at the node it is about; the readers of the sections (broker, topics, signals,
// models) and the walk over the document are built on this.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <functional>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "twind/config/loader.hpp"
#include "twind/model/linear.hpp"

namespace twind::config::detail {

// 1-based, as editors count.
struct Pos {
  int line = 1;
  int column = 1;
  friend bool operator<(const Pos& a, const Pos& b) {
    return a.line != b.line ? a.line < b.line : a.column < b.column;
  }
};

/// Where `n` is, or `fallback` when yaml-cpp has no mark for it.
[[nodiscard]] Pos pos_of(const YAML::Node& n, Pos fallback);

/// A node with its name in messages and where messages about it point.
struct Value {
  YAML::Node node;
  Pos pos;      ///< the value; its key's position when the value is empty, since yaml-cpp
                ///< marks an empty value at the next token, often on the next line
  Pos key_pos;  ///< the key, for "this key is not allowed here" (== pos for list items)
  std::string path;
};

/// A mapping's entries by key.
using Fields = std::map<std::string, Value, std::less<>>;

[[nodiscard]] const Value* find(const Fields& f, std::string_view key);

/// `parent.key`, or `key` at the top level.
[[nodiscard]] std::string child_path(const std::string& parent, std::string_view key);

/// Item `i` of a list, named `path[i]`.
[[nodiscard]] Value element(const Value& list, std::size_t i);

/// What a node holds, for the `got X` half of a message: a quoted scalar, `a list`, `nothing`...
[[nodiscard]] std::string got(const YAML::Node& n);

/// `1 row`, `2 rows`.
[[nodiscard]] std::string plural(std::size_t n, std::string_view word);

/// The keys the key table allows directly under `parent` ("" for the top level), in table order.
[[nodiscard]] std::vector<const KeyDoc*> children(std::string_view parent);

/// The last part of a key table path (`threshold` of `assets[].signals[].threshold`).
[[nodiscard]] std::string_view key_name(const KeyDoc& k);

/// `unknown key, expected one of: ...`, with a `did you mean` for a near miss.
[[nodiscard]] std::string unknown_key(std::string_view name,
                                      const std::vector<const KeyDoc*>& allowed);

template <class E>
using Choices = std::initializer_list<std::pair<std::string_view, E>>;

/// Reports findings into one list of diagnostics, counting the errors, and reads typed values,
/// reporting what is wrong with each. A reader returns nothing when it reported an error.
class Reader {
 public:
  Reader(const std::string& file, std::vector<Diagnostic>& out) : file_(file), out_(out) {}

  // ---- reporting
  void report(Pos p, const std::string& path, const std::string& message, bool is_error);
  void error(Pos p, const std::string& path, const std::string& message) {
    report(p, path, message, true);
  }
  /// `path: got <v>, expected <what>` at the value.
  void expected(const Value& v, const std::string& what);
  /// `parent.key: missing required key (<what>)` at the parent.
  void missing(const Value& parent, std::string_view key, const std::string& what);
  /// Errors reported so far: a reader compares counts to learn whether its part was clean.
  [[nodiscard]] std::size_t errors() const noexcept { return errors_; }

  // ---- mappings and lists
  bool expect_map(const Value& v, const std::string& what);
  bool expect_list(const Value& v, const std::string& what);
  /// The entries of a mapping whose allowed keys are the key table's children of `table_path`:
  /// refuses unknown, duplicate and non-scalar keys and reports missing required ones.
  Fields fields(const Value& map, std::string_view table_path);

  // ---- typed values
  std::optional<std::string> as_string(const Value& v);
  std::optional<std::string> as_nonempty_string(const Value& v);
  /// A finite number, written without quotes.
  std::optional<double> as_number(const Value& v);
  std::optional<long long> as_integer(const Value& v, long long lo, long long hi);
  /// Seconds, from `<number><unit>`; finite and > 0.
  std::optional<double> as_duration(const Value& v);
  std::optional<bool> as_bool(const Value& v);
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
  std::optional<std::vector<double>> as_numbers(const Value& v);
  std::optional<model::Matrix> as_matrix(const Value& v);

 private:
  // "a or b", "a, b or c".
  static std::string alternatives(const std::vector<std::string_view>& words);

  const std::string& file_;
  std::vector<Diagnostic>& out_;
  std::size_t errors_ = 0;
};

}  // namespace twind::config::detail
