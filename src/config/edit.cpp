#include "twind/config/edit.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cmath>

namespace twind::config {
namespace {

// The first line of the report twind fit writes above a model.
constexpr std::string_view kReportStart = "# twind fit: ";

std::string quoted(std::string_view s) {
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + '"';
}

std::string list(const std::vector<double>& v) {
  std::string out = "[";
  for (std::size_t i = 0; i < v.size(); ++i) out += (i > 0 ? ", " : "") + number_text(v[i]);
  return out + "]";
}

std::string matrix(const model::Matrix& m) {
  std::string out = "[";
  for (std::size_t r = 0; r < m.rows; ++r) {
    out += r > 0 ? ", [" : "[";
    for (std::size_t c = 0; c < m.cols; ++c) out += (c > 0 ? ", " : "") + number_text(m(r, c));
    out += "]";
  }
  return out + "]";
}

std::string seconds(double s) {
  return number_text(s) + "s";
}

// A replacement of text[pos, pos + length) by `with`.
struct Splice {
  std::size_t pos = 0;
  std::size_t length = 0;
  std::string with;
};

// The end of the flow collection opening at text[pos] ('{' or '['): past its closing bracket.
std::size_t flow_end(std::string_view text, std::size_t pos) {
  int depth = 0;
  for (std::size_t i = pos; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '"' || c == '\'') {
      for (++i; i < text.size(); ++i) {
        if (c == '"' && text[i] == '\\') {
          ++i;
        } else if (text[i] == c) {
          if (c == '\'' && i + 1 < text.size() && text[i + 1] == '\'') {
            ++i;  // '' inside single quotes
          } else {
            break;
          }
        }
      }
    } else if (c == '#' && i > 0 && (text[i - 1] == ' ' || text[i - 1] == '\t')) {
      while (i < text.size() && text[i] != '\n') ++i;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      if (--depth == 0) return i + 1;
    }
  }
  throw EditError("a flow collection is not closed");
}

std::size_t line_start(std::string_view text, std::size_t pos) {
  const std::size_t nl = text.rfind('\n', pos == 0 ? 0 : pos - 1);
  return pos == 0 || nl == std::string_view::npos ? 0 : nl + 1;
}

// The end of a block node starting at `pos` in column `column`: the end of its last line that is
// indented at least as far (blank and comment lines in between belong to it; trailing ones not).
std::size_t block_end(std::string_view text, std::size_t pos, std::size_t column) {
  std::size_t end = text.find('\n', pos);
  if (end == std::string_view::npos) return text.size();
  std::size_t next = end + 1;
  while (next < text.size()) {
    std::size_t eol = text.find('\n', next);
    if (eol == std::string_view::npos) eol = text.size();
    const std::string_view line = text.substr(next, eol - next);
    const std::size_t indent = line.find_first_not_of(' ');
    if (indent == std::string_view::npos || line[indent] == '#') {
      next = eol + 1;
      continue;
    }
    if (indent < column) break;
    end = eol;
    next = eol + 1;
  }
  return end;
}

// Replaces the node (a mapping) at `mark` by `with`.
Splice replace_node(std::string_view text, const YAML::Mark& mark, std::string with) {
  const auto pos = static_cast<std::size_t>(mark.pos);
  if (pos >= text.size()) throw EditError("a node's position is outside the text");
  const std::size_t end = text[pos] == '{' || text[pos] == '['
                              ? flow_end(text, pos)
                              : block_end(text, pos, static_cast<std::size_t>(mark.column));
  return {pos, end - pos, std::move(with)};
}

}  // namespace

std::string number_text(double v) {
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

namespace {

// The model's keys and their values, in the order a person writes them.
std::vector<std::pair<std::string, std::string>> model_members(const ModelSpec& m) {
  std::vector<std::pair<std::string, std::string>> out = {{"name", quoted(m.id.name)},
                                                          {"version", quoted(m.id.version)}};
  switch (m.kind) {
    case ModelKind::rotating_machine: {
      const model::RotatingMachineParams& p = m.machine;
      out.emplace_back("kind", "rotating_machine");
      out.emplace_back(
          "parameters",
          "{tau_mech: " + seconds(p.tau_mech_s) + ", rpm_rated: " + number_text(p.rpm_rated) +
              ", p_idle: " + number_text(p.p_idle_w) + ", k_speed: " + number_text(p.k_speed_w) +
              ", r_th: " + number_text(p.r_th_k_per_w) + ", c_th: " + number_text(p.c_th_j_per_k) +
              ", t_ambient: " + number_text(p.t_ambient_c) + ", v_base: " +
              number_text(p.v_base_mm_s) + ", k_imb: " + number_text(p.k_imb_mm_s) + "}");
      break;
    }
    case ModelKind::transfer_function:
      out.emplace_back("kind", "transfer_function");
      out.emplace_back("num", list(m.num));
      out.emplace_back("den", list(m.den));
      break;
    case ModelKind::state_space:
      out.emplace_back("kind", "state_space");
      if (m.domain == Domain::discrete) {
        out.emplace_back("domain", "discrete");
        out.emplace_back("dt", seconds(m.dt));
      }
      out.emplace_back("A", matrix(m.a));
      out.emplace_back("B", matrix(m.b));
      out.emplace_back("C", matrix(m.c));
      if (std::any_of(m.d.data.begin(), m.d.data.end(), [](double v) { return v != 0.0; })) {
        out.emplace_back("D", matrix(m.d));
      }
      break;
  }
  return out;
}

}  // namespace

std::string model_yaml(const ModelSpec& m) {
  std::string out = "{";
  for (const auto& [key, value] : model_members(m)) {
    out += (out.size() > 1 ? ", " : "") + key + ": " + value;
  }
  return out + "}";
}

std::string model_yaml_block(const ModelSpec& m, std::size_t indent) {
  std::string out;
  for (const auto& [key, value] : model_members(m)) {
    if (!out.empty()) out += "\n" + std::string(indent, ' ');
    out += key + ": " + value;
  }
  return out;
}

std::string signal_yaml(const SignalSpec& s) {
  const SignalSpec defaults;
  std::string out = "{name: " + s.name + ", role: " + (s.role == Role::input ? "input" : "output");
  if (!s.topic.empty()) out += ", topic: " + quoted(s.topic);
  if (s.min != defaults.min) out += ", min: " + number_text(s.min);
  if (s.max != defaults.max) out += ", max: " + number_text(s.max);
  if (s.threshold) out += ", threshold: " + number_text(*s.threshold);
  if (s.clear_threshold && s.clear_threshold != s.threshold) {
    out += ", clear_threshold: " + number_text(*s.clear_threshold);
  }
  if (s.stale_after) out += ", stale_after: " + seconds(*s.stale_after);
  if (s.detector == DetectorKind::cusum && s.cusum) {
    out += ", detector: cusum, cusum: {sigma: " + number_text(s.cusum->sigma) +
           ", k: " + number_text(s.cusum->k) + ", h: " + number_text(s.cusum->h) + "}";
  }
  return out + "}";
}

std::string edit_configuration(std::string_view text, const std::vector<AssetEdit>& edits) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    throw EditError(std::string("not YAML: ") + e.what());
  }
  const YAML::Node assets = root.IsMap() ? root["assets"] : YAML::Node();
  if (!assets || !assets.IsSequence()) throw EditError("no assets list");
  std::vector<Splice> splices;
  for (const AssetEdit& edit : edits) {
    YAML::Node entry;
    for (const YAML::Node& a : assets) {
      if (!a.IsMap()) continue;
      for (const char* key : {"id", "template"}) {
        if (a[key] && a[key].IsScalar() && a[key].Scalar() == edit.name) entry = a;
      }
    }
    if (!entry) throw EditError("no asset or template " + edit.name + " in the file");
    if (edit.model || !edit.comments.empty()) {
      for (auto it = entry.begin(); it != entry.end(); ++it) {
        if (it->first.Scalar() != "model") continue;
        if (edit.model) {
          const YAML::Mark mark = it->second.Mark();
          const auto pos = static_cast<std::size_t>(mark.pos);
          const bool flow = pos < text.size() && text[pos] == '{';
          splices.push_back(replace_node(
              text, mark,
              flow ? model_yaml(*edit.model)
                   : model_yaml_block(*edit.model, static_cast<std::size_t>(mark.column))));
        }
        if (!edit.comments.empty()) {
          const auto key_pos = static_cast<std::size_t>(it->first.Mark().pos);
          std::size_t start = line_start(text, key_pos);
          const std::size_t indent = text.find_first_not_of(' ', start) - start;
          // A report of an earlier fit, in the comment lines right above, gives way to this one.
          std::size_t from = start;
          std::size_t previous = std::string_view::npos;
          while (from > 0) {
            const std::size_t above = line_start(text, from - 1);
            const std::string_view line = text.substr(above, from - above);
            const std::size_t first = line.find_first_not_of(' ');
            if (first == std::string_view::npos || line[first] != '#') break;
            if (line.substr(first).starts_with(kReportStart)) previous = above;
            from = above;
          }
          if (previous != std::string_view::npos) {
            splices.push_back({previous, start - previous, ""});
            start = previous;
          }
          std::string lines;
          for (const std::string& c : edit.comments) {
            lines += std::string(indent, ' ') + (c.empty() ? "#" : "# " + c) + "\n";
          }
          splices.push_back({start, 0, std::move(lines)});
        }
      }
    }
    for (const SignalSpec& s : edit.signals) {
      bool found = false;
      if (entry["signals"] && entry["signals"].IsSequence()) {
        for (const YAML::Node& node : entry["signals"]) {
          if (node.IsMap() && node["name"] && node["name"].Scalar() == s.name) {
            splices.push_back(replace_node(text, node.Mark(), signal_yaml(s)));
            found = true;
          }
        }
      }
      if (!found) throw EditError("no signal " + s.name + " in " + edit.name);
    }
  }
  // From the end, so that earlier positions stay valid; an insertion before a replacement at
  // the same place.
  std::sort(splices.begin(), splices.end(), [](const Splice& a, const Splice& b) {
    return a.pos != b.pos ? a.pos > b.pos : a.length > b.length;
  });
  std::string out(text);
  for (const Splice& s : splices) out.replace(s.pos, s.length, s.with);
  return out;
}

}  // namespace twind::config
