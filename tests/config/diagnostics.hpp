// Helpers shared by the configuration tests: loading YAML text and reading its diagnostics.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "twind/config/loader.hpp"

namespace twind::config::testing {

/// Raw string literals in the tests start with a newline so that the YAML's first line is line 1.
inline LoadResult load(std::string_view text, const std::string& name = "t.yaml") {
  if (!text.empty() && text.front() == '\n') text.remove_prefix(1);
  return load_string(text, name);
}

inline std::vector<Diagnostic> errors_of(const LoadResult& r) {
  std::vector<Diagnostic> out;
  std::copy_if(r.diagnostics.begin(), r.diagnostics.end(), std::back_inserter(out),
               [](const Diagnostic& d) { return d.is_error; });
  return out;
}

inline std::vector<Diagnostic> warnings_of(const LoadResult& r) {
  std::vector<Diagnostic> out;
  std::copy_if(r.diagnostics.begin(), r.diagnostics.end(), std::back_inserter(out),
               [](const Diagnostic& d) { return !d.is_error; });
  return out;
}

/// `line:col`
inline std::string where(const Diagnostic& d) {
  return std::to_string(d.line) + ":" + std::to_string(d.column);
}

/// Every diagnostic, one `file:line:col: message` a line: for failure messages.
inline std::string all_of(const LoadResult& r) {
  std::string out;
  for (const Diagnostic& d : r.diagnostics) out += d.str() + "\n";
  return out;
}

/// The table rows' check: refused, with exactly one error, at `at`, whose message contains
/// `message`.
inline void expect_one_error(const LoadResult& r, std::string_view at, std::string_view message) {
  EXPECT_FALSE(r.ok());
  const std::vector<Diagnostic> errors = errors_of(r);
  ASSERT_EQ(errors.size(), 1U) << all_of(r);
  EXPECT_EQ(where(errors[0]), at) << all_of(r);
  EXPECT_THAT(errors[0].message, ::testing::HasSubstr(std::string(message)));
}

}  // namespace twind::config::testing
