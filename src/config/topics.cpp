#include "topics.hpp"

#include <algorithm>

#include "scalars.hpp"

namespace twind::config::detail {
namespace {

constexpr std::string_view kPlaceholder = "{asset}";

bool has_placeholder(std::string_view topic) {
  return topic.find(kPlaceholder) != std::string_view::npos;
}

// The path of the first earlier use that `u` overlaps, and whether a pattern is involved.
struct Clash {
  std::string path;
  bool via_pattern = false;
};

Clash find_clash(std::string_view topic,
                 const std::map<std::string, std::string, std::less<>>& literal,
                 const std::vector<std::pair<std::string, std::string>>& patterns) {
  const bool is_pattern = has_placeholder(topic);
  for (const auto& [pattern, path] : patterns) {
    if (topics_overlap(topic, pattern)) return {path, true};
  }
  if (is_pattern) {
    for (const auto& [other, path] : literal) {
      if (topics_overlap(topic, other)) return {path, true};
    }
  } else if (const auto it = literal.find(topic); it != literal.end()) {
    return {it->second, false};
  }
  return {};
}

}  // namespace

void TopicChecks::read_section(const Value* v, std::size_t asset_count, TopicsSpec& t) {
  const bool several = asset_count > 1;
  if (several) {
    t.state = "twin/{asset}/state";
    t.alert = "twin/{asset}/alert";
    t.diagnosis = "twin/{asset}/diagnosis";
  }
  if (v == nullptr) return;
  if (!r_.expect_map(*v, "a mapping (state, alert, status)")) {
    section_ok_ = false;
    return;
  }
  const Fields f = r_.fields(*v, "topics");
  read_pattern(f, "state", t.state, "twin/{asset}/state", several, asset_count);
  read_pattern(f, "alert", t.alert, "twin/{asset}/alert", several, asset_count);
  read_pattern(f, "diagnosis", t.diagnosis, "twin/{asset}/diagnosis", several, asset_count);
  read_pattern(f, "model", t.model, "twin/{asset}/model", true, asset_count);
  read_pattern(f, "command", t.command, "twin/{asset}/cmd", true, asset_count);
  read_status(f, t.status);
  if (section_ok_) check_distinct(f, t);
}

// A topic of twind's that may (or, `required`, must) hold {asset} as a whole level.
void TopicChecks::read_pattern(const Fields& f, std::string_view key, std::string& dst,
                               std::string_view example, bool required, std::size_t asset_count) {
  const Value* e = find(f, key);
  if (e == nullptr) return;
  const auto s = r_.as_string(*e);
  if (!s) {
    section_ok_ = false;
  } else if (key == "command" && *s == "off") {
    dst.clear();
  } else if (const auto problem = topic_problem(*s)) {
    r_.expected(*e, *problem);
    section_ok_ = false;
  } else if (!has_placeholder(*s) && s->find_first_of("{}") == std::string::npos && !required) {
    dst = *s;
  } else if (!is_asset_pattern(*s)) {
    std::string what =
        "a topic with {asset} once, as a whole level and its only placeholder, like " +
        std::string(example);
    if (asset_count > 1 && (key == "state" || key == "alert" || key == "diagnosis")) {
      what += ", since there are " + std::to_string(asset_count) + " assets";
    }
    r_.expected(*e, what);
    section_ok_ = false;
  } else {
    dst = *s;
  }
}

void TopicChecks::read_status(const Fields& f, std::string& dst) {
  const Value* e = find(f, "status");
  if (e == nullptr) return;
  const auto s = r_.as_string(*e);
  if (!s) {
    section_ok_ = false;
  } else if (const auto problem = topic_problem(*s)) {
    r_.expected(*e, *problem);
    section_ok_ = false;
  } else if (s->find_first_of("{}") != std::string::npos) {
    r_.expected(*e, "a fixed topic without {asset} (the status is the daemon's, not an asset's)");
    section_ok_ = false;
  } else {
    dst = *s;
  }
}

// State, alert and status on one topic would be told apart only by their content.
void TopicChecks::check_distinct(const Fields& f, const TopicsSpec& t) {
  const std::string reply = t.command.empty() ? std::string() : reply_topic(t.command);
  const std::vector<std::pair<std::string_view, const std::string*>> named{
      {"state", &t.state},        {"alert", &t.alert},     {"status", &t.status},
      {"model", &t.model},        {"command", &t.command}, {"command (its /reply)", &reply},
      {"diagnosis", &t.diagnosis}};
  for (std::size_t i = 1; i < named.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      const std::string_view key = named[i].first.substr(0, named[i].first.find(' '));
      const Value* e = find(f, key);
      if (e != nullptr && !named[i].second->empty() && !named[j].second->empty() &&
          topics_overlap(*named[i].second, *named[j].second)) {
        r_.expected(*e, "a topic other than topics." + std::string(named[j].first));
        section_ok_ = false;
      }
    }
  }
}

std::optional<std::string> TopicChecks::inbound(const Value& at, const std::string& topic,
                                                const TopicScope& scope) {
  if (const auto problem = topic_problem(topic)) {
    r_.expected(at, *problem);
    return std::nullopt;
  }
  if (scope.is_template && partitioned_) {
    if (!is_partitioned_pattern(topic)) {
      r_.expected(at,
                  "a topic with {partition} and then {asset}, each once as a whole level, like "
                  "twin_in/{partition}/plant/{asset}/frame (with cluster, the broker's mapping "
                  "puts each asset's partition in its topics)");
      return std::nullopt;
    }
  } else if (scope.is_template) {
    if (!is_asset_pattern(topic)) {
      r_.expected(at,
                  std::string("a topic with {asset} once, as a whole level and its only "
                              "placeholder, like plant/{asset}/y (the template's assets are told "
                              "apart by it)") +
                      (topic.find("{partition}") != std::string::npos
                           ? "; {partition} needs a cluster section"
                           : ""));
      return std::nullopt;
    }
  } else if (replace_all(topic, kPlaceholder, "").find_first_of("{}") != std::string::npos) {
    r_.expected(at, "a topic whose only placeholder is {asset}");
    return std::nullopt;
  }
  // The file's topics are what the asset uses, so a single asset's {asset} is expanded; an
  // invalid id has been reported already.
  std::string used = scope.is_template ? topic : replace_all(topic, kPlaceholder, scope.id);
  uses_.push_back(TopicUse{used, at.pos, at.path});
  return used;
}

TopicChecks::Outbound TopicChecks::outbound(const TopicsSpec& topics,
                                            const std::map<std::string, std::string>& asset_ids,
                                            bool any_template) const {
  Outbound out;
  if (!section_ok_) return out;
  const auto add = [&](const std::string& topic, const std::string& key, bool any_id) {
    if (topic.empty()) return;
    if (any_id || !has_placeholder(topic)) {
      out.emplace_back(topic, key);
      return;
    }
    for (const auto& [id, path] : asset_ids) {
      out.emplace_back(replace_all(topic, kPlaceholder, id), key);
    }
  };
  add(topics.status, "topics.status", false);
  add(topics.state, "topics.state", any_template);
  add(topics.alert, "topics.alert", any_template);
  add(topics.model, "topics.model", any_template);
  add(topics.diagnosis, "topics.diagnosis", any_template);
  // twind subscribes to commands with + in place of {asset}, whatever the assets.
  add(topics.command, "topics.command", true);
  if (!topics.command.empty()) add(reply_topic(topics.command), "topics.command's reply", true);
  return out;
}

// No message may reach twind through two of its subscriptions (it would be counted twice) or on
// a topic twind publishes to (it would read its own output). Templates' {asset} stands for any
// id.
void TopicChecks::check_uses(const TopicsSpec& topics,
                             const std::map<std::string, std::string>& asset_ids,
                             bool any_template) {
  std::stable_sort(uses_.begin(), uses_.end(),
                   [](const TopicUse& a, const TopicUse& b) { return a.pos < b.pos; });
  const Outbound own = outbound(topics, asset_ids, any_template);
  std::map<std::string, std::string, std::less<>> literal;    // topic -> path of its first use
  std::vector<std::pair<std::string, std::string>> patterns;  // earlier uses with {asset}
  for (const TopicUse& u : uses_) {
    const auto out = std::find_if(own.begin(), own.end(),
                                  [&](const auto& o) { return topics_overlap(u.topic, o.first); });
    if (out != own.end()) {
      r_.error(u.pos, u.path,
               "got " + quote(u.topic) + ", expected a topic other than twind's own (it is " +
                   out->second + ")");
      continue;
    }
    const Clash clash = find_clash(u.topic, literal, patterns);
    if (!clash.path.empty()) {
      r_.error(u.pos, u.path,
               "got " + quote(u.topic) + ", expected a topic not already used (by " + clash.path +
                   (clash.via_pattern ? "; {asset} stands for any id" : "") + ")");
      continue;
    }
    if (has_placeholder(u.topic)) {
      patterns.emplace_back(u.topic, u.path);
    } else {
      literal.emplace(u.topic, u.path);
    }
  }
}

}  // namespace twind::config::detail
