#include "twind/config/command.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstddef>
#include <exception>

#include "validate.hpp"

namespace twind::config {
namespace {

// yaml-cpp parses nested collections recursively; a payload of 60,000 '[' would exhaust the
// stack. A command's model needs 3 levels ({"model": {"A": [[...]]}}).
constexpr int kMaxDepth = 16;

// Brackets nested deeper than kMaxDepth, ignoring those inside quoted strings.
bool too_deep(std::string_view text) {
  int depth = 0;
  char quote = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quote != 0) {
      if (c == '\\' && quote == '"') {
        ++i;
      } else if (c == quote) {
        quote = 0;
      }
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxDepth) return true;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return false;
}

}  // namespace

CommandParse parse_command(std::string_view payload, const std::vector<SignalSpec>* signals) {
  CommandParse result;
  const std::size_t first = payload.find_first_not_of(" \t\r\n");
  // A JSON object: a flow mapping, which cannot hold YAML's indentation-nested block collections,
  // so too_deep() bounds the parser's recursion.
  if (first == std::string_view::npos || payload[first] != '{') {
    result.error = "1:1: got no JSON object, expected one like {\"command\": \"get_model\"}";
    return result;
  }
  if (too_deep(payload)) {
    result.error = "1:1: got brackets nested more than " + std::to_string(kMaxDepth) +
                   " deep, expected a command";
    return result;
  }
  std::vector<Diagnostic> diags;
  try {
    const YAML::Node root = YAML::Load(std::string(payload));
    result.command = detail::validate_command(root, signals, result, diags);
  } catch (const YAML::Exception& e) {
    const int line = e.mark.is_null() ? 1 : e.mark.line + 1;
    const int column = e.mark.is_null() ? 1 : e.mark.column + 1;
    diags.push_back(Diagnostic{"", line, column, "not valid JSON: " + e.msg, true});
  } catch (const std::bad_alloc&) {
    throw;
  } catch (const std::exception& e) {
    diags.push_back(Diagnostic{"", 1, 1, std::string("cannot read: ") + e.what(), true});
  }
  std::stable_sort(diags.begin(), diags.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return a.line != b.line ? a.line < b.line : a.column < b.column;
  });
  for (const Diagnostic& d : diags) {
    if (!d.is_error) continue;  // an unstable pole warns in a file; a command is taken as given
    if (!result.error.empty()) result.error += "; ";
    result.error += std::to_string(d.line) + ":" + std::to_string(d.column) + ": " + d.message;
  }
  if (!result.error.empty()) result.command.reset();
  return result;
}

}  // namespace twind::config
