#include "twind/config/command.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstddef>
#include <exception>

#include "scalars.hpp"
#include "twind/json/scanner.hpp"
#include "validate.hpp"

namespace twind::config {
namespace {

// A command's model needs 3 levels ({"model": {"A": [[...]]}}).
constexpr int kMaxDepth = 16;

}  // namespace

CommandParse parse_command(std::string_view payload, const std::vector<SignalSpec>* signals) {
  CommandParse result;
  const std::size_t first = payload.find_first_not_of(" \t\r\n");
  // A JSON object: a flow mapping, which cannot hold YAML's indentation-nested block collections,
  // so nested_deeper_than() bounds the parser's recursion.
  if (first == std::string_view::npos || payload[first] != '{') {
    result.error = "1:1: got no JSON object, expected one like {\"command\": \"get_model\"}";
    return result;
  }
  // Strict JSON before yaml-cpp sees it: yaml-cpp 0.7 loops forever, allocating, on a ',' outside
  // a flow collection (yaml-cpp issue #1040), e.g. after the object's closing brace; and depth
  // bounds its recursion.
  json::Scanner json(payload);
  json.skip_ws();
  if (!json.skip_value(kMaxDepth) || (json.skip_ws(), !json.at_end())) {
    result.error = "1:" + std::to_string(json.offset() + 1) +
                   ": not valid JSON here, expected one JSON object (brackets nested at most " +
                   std::to_string(kMaxDepth) + " deep)";
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
