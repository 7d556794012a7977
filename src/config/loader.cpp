#include "twind/config/loader.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <exception>
#include <memory>
#include <system_error>
#include <utility>

#include "scalars.hpp"
#include "validate.hpp"

namespace twind::config {
namespace {

Diagnostic at_start(const std::string& file, std::string message) {
  return Diagnostic{file, 1, 1, std::move(message), true};
}

// yaml-cpp's messages name the parser's state ("end of map not found"); add what a person
// usually has to fix. `at`: the text at the error.
std::string syntax_message(const std::string& msg, std::string_view at) {
  // A [ right after an item of a flow collection: a missing comma (`[[1] [2]]`), or text with
  // brackets (`[A[0][0]]`), where the brackets start a list.
  if (at.starts_with('[')) {
    if (msg == YAML::ErrorMsg::END_OF_SEQ_FLOW) {
      return "YAML syntax error: " + msg +
             "; a [ after an item of a list needs a comma before it, or quotes around the text "
             "it belongs to, like \"A[0][0]\"";
    }
    if (msg == YAML::ErrorMsg::END_OF_MAP_FLOW) {
      return "YAML syntax error: " + msg +
             "; a [ after a value needs quotes around the text it belongs to, like \"A[0][0]\"";
    }
  }
  static const std::array<std::pair<const char*, const char*>, 9> kHints{{
      {YAML::ErrorMsg::END_OF_MAP, "check the indentation, and that each key ends with ': '"},
      {YAML::ErrorMsg::MAP_VALUE, "check the indentation, and that each key ends with ': '"},
      {YAML::ErrorMsg::MAP_KEY, "check the indentation, and that each key ends with ': '"},
      {YAML::ErrorMsg::END_OF_SEQ, "check the indentation of the list's '- ' items"},
      {YAML::ErrorMsg::BLOCK_ENTRY, "check the indentation of the list's '- ' items"},
      {YAML::ErrorMsg::END_OF_SEQ_FLOW, "a [ is not closed by a ]"},
      {YAML::ErrorMsg::END_OF_MAP_FLOW, "a { is not closed by a }"},
      {YAML::ErrorMsg::FLOW_END, "a ] or } closes nothing"},
      {YAML::ErrorMsg::TAB_IN_INDENTATION, "indent with spaces, not tabs"},
  }};
  std::string out = "YAML syntax error: " + msg;
  for (const auto& [what, hint] : kHints) {
    if (msg == what) {
      out += std::string("; ") + hint;
      break;
    }
  }
  return out;
}

Diagnostic at_mark(const std::string& file, const YAML::Mark& mark, std::string message) {
  if (mark.is_null() || mark.line < 0 || mark.column < 0) return at_start(file, std::move(message));
  return Diagnostic{file, mark.line + 1, mark.column + 1, std::move(message), true};
}

}  // namespace

std::string Diagnostic::str() const {
  return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " +
         (is_error ? "" : "warning: ") + message;
}

LoadResult load_string(std::string_view text, const std::string& name) {
  LoadResult result;
  auto& diags = result.diagnostics;
  // A configuration needs 4 levels of brackets at most ([[-1, 0], [0, -2]] in a flow mapping).
  constexpr int kMaxDepth = 64;
  if (detail::nested_deeper_than(text, kMaxDepth)) {
    diags.push_back(at_start(name, "got brackets nested more than " + std::to_string(kMaxDepth) +
                                       " deep, expected a configuration"));
    return result;
  }
  // A configuration is text: a control character is a damaged or wrong file, and yaml-cpp 0.7
  // loops forever on some ("\0," found by scripts/fuzz.sh).
  const auto control = std::find_if(text.begin(), text.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && c != '\t' && c != '\n' && c != '\r') || u == 0x7f;
  });
  const auto bad =
      control != text.end()
          ? std::optional<std::size_t>(static_cast<std::size_t>(control - text.begin()))
          : detail::stray_comma(text);
  if (bad) {
    const std::string_view before = text.substr(0, *bad);
    const auto line = static_cast<int>(std::count(before.begin(), before.end(), '\n')) + 1;
    const std::size_t line_start = before.rfind('\n');
    const auto column =
        static_cast<int>(line_start == std::string_view::npos ? *bad + 1 : *bad - line_start);
    diags.push_back(Diagnostic{
        name, line, column,
        control != text.end()
            ? "got control character " + std::to_string(static_cast<unsigned char>(*control)) +
                  ", expected text (YAML)"
            : "got a ',' outside [ ] or { }, expected a value (quote text that starts with a "
              "comma)",
        true});
    return result;
  }
  try {
    const std::vector<YAML::Node> docs = YAML::LoadAll(std::string(text));
    if (docs.empty()) {
      diags.push_back(at_start(name, "expected a mapping at the top level"));
    } else {
      if (docs.size() > 1) {
        // A stray `---` would otherwise silently hide everything after it.
        diags.push_back(at_mark(name, docs[1].Mark(),
                                "got " + std::to_string(docs.size()) +
                                    " YAML documents, expected one (a line --- starts another)"));
      }
      result.config = detail::validate(docs[0], name, diags);
    }
  } catch (const YAML::Exception& e) {
    const auto pos = static_cast<std::size_t>(std::max(e.mark.pos, 0));
    const std::string_view at = pos < text.size() ? text.substr(pos) : std::string_view();
    diags.push_back(at_mark(name, e.mark, syntax_message(e.msg, e.mark.is_null() ? "" : at)));
  } catch (const std::exception& e) {
    diags.push_back(at_start(name, std::string("cannot load: ") + e.what()));
  }
  std::stable_sort(diags.begin(), diags.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return a.line != b.line ? a.line < b.line : a.column < b.column;
  });
  const bool refused =
      std::any_of(diags.begin(), diags.end(), [](const Diagnostic& d) { return d.is_error; });
  if (refused) {
    result.config.reset();
  } else if (result.config) {
    result.config->source = name;
  }
  return result;
}

LoadResult load_file(const std::string& path) {
  const auto unreadable = [&](int err) {
    LoadResult r;
    r.diagnostics.push_back(at_start(
        path, "cannot read file: " + std::error_code(err, std::generic_category()).message()));
    return r;
  };
  errno = 0;
  const std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                             &std::fclose);
  if (!file) return unreadable(errno);
  std::string text;
  std::array<char, 1 << 16> buf{};
  std::size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), file.get())) > 0) text.append(buf.data(), n);
  // A directory opens fine and fails on the first read (EISDIR).
  if (std::ferror(file.get()) != 0) return unreadable(errno != 0 ? errno : EIO);
  return load_string(text, path);
}

}  // namespace twind::config
