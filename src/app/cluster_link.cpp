#include "twind/app/cluster_link.hpp"

#include <unistd.h>

#include <array>
#include <nlohmann/json.hpp>

#include "twind/json/writer.hpp"
#include "twind_version.hpp"

namespace twind::app {
namespace {

constexpr std::string_view kMember = "{member}";

std::string host_name() {
  std::array<char, 256> buf{};
  if (::gethostname(buf.data(), buf.size() - 1) != 0) return {};
  std::string name(buf.data());
  if (const auto dot = name.find('.'); dot != std::string::npos) name.resize(dot);
  return name;
}

std::string replaced(std::string s, std::string_view from, std::string_view to) {
  for (std::size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
  return s;
}

}  // namespace

std::string resolve_member(config::Config& c, const std::string& member) {
  if (!c.cluster) {
    return member.empty() ? "" : "--member is for a replica: the configuration has no cluster";
  }
  std::string name = !member.empty() ? member : c.cluster->member;
  if (name.empty()) name = host_name();
  if (!config::is_member_name(name)) {
    return "the member name \"" + name +
           "\" is not 1 to 64 letters, digits, _ and -; give one with --member";
  }
  c.cluster->member = name;
  if (c.broker.client_id.find(kMember) != std::string::npos) {
    c.broker.client_id = replaced(c.broker.client_id, kMember, name);
  } else {
    c.broker.client_id += "-" + name;
  }
  c.topics.status = replaced(c.cluster->members, kMember, name);
  return "";
}

std::string members_filter(const std::string& pattern) {
  return replaced(pattern, kMember, "+");
}

std::optional<std::string_view> member_of(const std::string& pattern, std::string_view topic) {
  const std::size_t at = pattern.find(kMember);
  const std::string_view before = std::string_view(pattern).substr(0, at);
  const std::string_view after = std::string_view(pattern).substr(at + kMember.size());
  if (topic.size() <= before.size() + after.size() || !topic.starts_with(before) ||
      !topic.ends_with(after)) {
    return std::nullopt;
  }
  const std::string_view name =
      topic.substr(before.size(), topic.size() - before.size() - after.size());
  if (name.find('/') != std::string_view::npos) return std::nullopt;
  return name;
}

std::string announcement_payload(std::string_view state, std::string_view member,
                                 const core::MemberAnnouncement* a, double ts) {
  std::string out;
  json::Writer w(out);
  w.begin_object().key("state").value(state).key("member").value(member);
  w.key("version").value(TWIND_VERSION).key("ts").value(ts);
  if (a != nullptr) {
    w.key("seq").value(a->seq).key("run").value(a->run);
    w.key("holds").begin_array();
    for (const std::uint32_t p : a->holds) w.value(p);
    w.end_array().key("taking").begin_array();
    for (const std::uint32_t p : a->taking) w.value(p);
    w.end_array();
  }
  w.end_object();
  return out;
}

std::optional<core::MemberAnnouncement> parse_announcement(std::string_view payload) {
  core::MemberAnnouncement a;
  if (payload.empty()) return a;  // a cleared retained announcement: gone
  const nlohmann::json j = nlohmann::json::parse(payload, nullptr, false);
  if (!j.is_object() || !j.contains("state") || !j["state"].is_string()) return std::nullopt;
  const std::string state = j["state"].get<std::string>();
  if (state == "offline") return a;
  if (state != "online" && state != "behind") return std::nullopt;
  a.online = true;
  const auto numbers = [&](const char* key, std::vector<std::uint32_t>& out) {
    if (!j.contains(key) || !j[key].is_array()) return;
    for (const auto& v : j[key]) {
      if (v.is_number_unsigned()) out.push_back(v.get<std::uint32_t>());
    }
  };
  if (j.contains("seq") && j["seq"].is_number_unsigned()) a.seq = j["seq"].get<std::uint64_t>();
  if (j.contains("run") && j["run"].is_number_unsigned()) a.run = j["run"].get<std::uint64_t>();
  numbers("holds", a.holds);
  numbers("taking", a.taking);
  return a;
}

std::optional<AlertRecord> parse_alert_record(std::string_view payload) {
  AlertRecord r;
  if (payload.empty()) return r;
  const nlohmann::json j = nlohmann::json::parse(payload, nullptr, false);
  if (!j.is_object() || !j.contains("member") || !j["member"].is_string() ||
      !j.contains("active_alerts") || !j["active_alerts"].is_array()) {
    return std::nullopt;
  }
  r.member = j["member"].get<std::string>();
  if (j.contains("run") && j["run"].is_number_unsigned()) r.run = j["run"].get<std::uint64_t>();
  for (const auto& a : j["active_alerts"]) {
    if (!a.is_object() || !a.contains("id") || !a["id"].is_string() || !a.contains("signal") ||
        !a["signal"].is_string() || !a.contains("since") || !a["since"].is_number()) {
      return std::nullopt;
    }
    core::HandedRecord h;
    const std::string id = a["id"].get<std::string>();
    if (id == to_string(AlertId::divergence)) {
      h.id = AlertId::divergence;
    } else if (id == to_string(AlertId::stale)) {
      h.id = AlertId::stale;
    } else if (id == to_string(AlertId::model_diverged)) {
      h.id = AlertId::model_diverged;
    } else {
      continue;  // a later version's: not for this one to settle
    }
    h.signal = a["signal"].get<std::string>();
    h.since = a["since"].get<double>();
    if (a.contains("detector") && a["detector"] == to_string(core::Detector::cusum)) {
      h.detector = core::Detector::cusum;
    }
    r.alerts.push_back(std::move(h));
  }
  return r;
}

}  // namespace twind::app
