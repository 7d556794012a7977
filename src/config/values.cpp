// Typed values: strings, numbers, integers, durations, booleans, choices, lists of numbers and
// matrices, each refused with what it got and what was expected.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "reader.hpp"
#include "scalars.hpp"

namespace twind::config::detail {
namespace {

// yaml-cpp tags plain scalars "?" and quoted ones "!": only plain text can be a number or a
// boolean, as in YAML's core schema.
bool is_plain(const YAML::Node& n) {
  return n.Tag() == "?";
}

}  // namespace

std::string Reader::alternatives(const std::vector<std::string_view>& words) {
  std::string out;
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (i > 0) out += i + 1 == words.size() ? " or " : ", ";
    out += words[i];
  }
  return out;
}

std::optional<std::string> Reader::as_string(const Value& v) {
  if (!v.node.IsScalar()) {
    expected(v, "a string");
    return std::nullopt;
  }
  return v.node.Scalar();
}

std::optional<std::string> Reader::as_nonempty_string(const Value& v) {
  auto s = as_string(v);
  if (s && s->empty()) {
    expected(v, "a non-empty string");
    return std::nullopt;
  }
  return s;
}

std::optional<double> Reader::as_number(const Value& v) {
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

std::optional<long long> Reader::as_integer(const Value& v, long long lo, long long hi) {
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

std::optional<double> Reader::as_duration(const Value& v) {
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

std::optional<bool> Reader::as_bool(const Value& v) {
  if (v.node.IsScalar() && is_plain(v.node)) {
    const std::string& s = v.node.Scalar();
    if (s == "true" || s == "True" || s == "TRUE") return true;
    if (s == "false" || s == "False" || s == "FALSE") return false;
  }
  expected(v, "true or false");
  return std::nullopt;
}

std::optional<std::vector<double>> Reader::as_numbers(const Value& v) {
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

std::optional<model::Matrix> Reader::as_matrix(const Value& v) {
  static const std::string kLike = "a matrix: a list of rows of numbers, like [[-1, 0], [0, -2]]";
  if (!expect_list(v, kLike)) return std::nullopt;
  const std::size_t rows = v.node.size();
  const bool flat = rows > 0 && std::all_of(v.node.begin(), v.node.end(),
                                            [](const YAML::Node& n) { return n.IsScalar(); });
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

}  // namespace twind::config::detail
