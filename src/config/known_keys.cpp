// Mappings whose keys the key table lists: which keys each mapping allows and requires, and the
// refusal of every other key.
#include <algorithm>
#include <map>
#include <string>

#include "reader.hpp"
#include "scalars.hpp"

namespace twind::config::detail {

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

std::string unknown_key(std::string_view name, const std::vector<const KeyDoc*>& allowed) {
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

Fields Reader::fields(const Value& map, std::string_view table_path) {
  const std::vector<const KeyDoc*> allowed = children(table_path);
  Fields f;
  std::map<std::string, int, std::less<>> first_line;
  for (auto it = map.node.begin(); it != map.node.end(); ++it) {
    const YAML::Node key = it->first;
    const YAML::Node value = it->second;
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

}  // namespace twind::config::detail
