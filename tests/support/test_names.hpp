// Names for value-parameterised test rows.
#pragma once

#include <string>
#include <string_view>

namespace twind::testing {

/// A test name from a row's label: "lone high surrogate" -> "LoneHighSurrogate" (GoogleTest
/// accepts only alphanumerics).
inline std::string name_of(std::string_view label) {
  std::string name;
  bool upper = true;
  for (const char c : label) {
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alnum) {
      upper = true;
      continue;
    }
    name.push_back(upper && c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c);
    upper = false;
  }
  return name;
}

}  // namespace twind::testing
