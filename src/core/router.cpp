#include "twind/core/router.hpp"

#include <algorithm>
#include <cmath>

namespace twind::core {
namespace {

constexpr std::string_view kAsset = "{asset}";
constexpr std::string_view kPartition = "{partition}";

}  // namespace

Pattern Pattern::of(std::string_view topic, std::uint32_t entry, std::uint32_t signal) {
  const std::size_t at = topic.find(kAsset);
  Pattern p;
  p.prefix = std::string(topic.substr(0, at));
  p.suffix = std::string(topic.substr(at + kAsset.size()));
  p.entry = entry;
  p.signal = signal;
  if (const std::size_t part = p.prefix.find(kPartition); part != std::string::npos) {
    p.partitioned = true;
    p.mid = p.prefix.substr(part + kPartition.size());
    p.prefix.resize(part);
  }
  return p;
}

bool Pattern::match(std::string_view topic, std::string_view& id,
                    std::uint32_t& partition) const noexcept {
  if (topic.size() <= prefix.size() + mid.size() + suffix.size()) return false;
  if (!topic.starts_with(prefix) || !topic.ends_with(suffix)) return false;
  std::string_view rest = topic.substr(prefix.size(), topic.size() - prefix.size() - suffix.size());
  partition = kNoPartition;
  if (partitioned) {
    // A partition is a number: digits up to the next level.
    std::uint64_t n = 0;
    std::size_t i = 0;
    for (; i < rest.size() && rest[i] >= '0' && rest[i] <= '9' && i < 9; ++i) {
      n = n * 10 + static_cast<std::uint64_t>(rest[i] - '0');
    }
    if (i == 0 || !rest.substr(i).starts_with(mid)) return false;
    partition = static_cast<std::uint32_t>(n);
    rest.remove_prefix(i + mid.size());
  }
  id = rest;
  return !id.empty() && id.find('/') == std::string_view::npos;
}

std::string Pattern::with(std::string_view level, std::string_view partition) const {
  std::string out = prefix;
  if (partitioned) {
    out += partition;
    out += mid;
  }
  out += level;
  out += suffix;
  return out;
}

Router::Router(const Fleet& fleet, std::string_view command_topic,
               const std::vector<bool>& subscribed) {
  // Single assets by their literal topics; templates' assets by pattern (one entry per topic
  // per asset would cost memory per asset for nothing a prefix test cannot do).
  for (std::size_t a = 0; a < fleet.size(); ++a) {
    const config::AssetSpec& spec = fleet.entry(fleet.entry_of(a)).spec;
    if (spec.is_template()) continue;
    const AssetDef& def = fleet.twin(a).def();
    const auto add = [&](const std::string& topic, std::uint32_t signal) {
      auto [it, inserted] = routes_.try_emplace(topic);
      if (inserted) topics_.push_back(topic);
      it->second.push_back(Route{static_cast<std::uint32_t>(a), signal});
    };
    // The definition lists inputs first: route by name so each topic reaches its signal.
    for (const config::SignalSpec& s : spec.signals) {
      if (!s.topic.empty()) add(s.topic, static_cast<std::uint32_t>(def.find_signal(s.name)));
    }
    for (const std::string& topic : spec.frame_topics) add(topic, Route::kFrame);
  }
  const std::span<const Entry> entries = fleet.entries();
  for (std::uint32_t e = 0; e < entries.size(); ++e) {
    const Entry& entry = entries[e];
    if (!entry.spec.is_template()) continue;
    const std::size_t first = patterns_.size();
    for (const config::SignalSpec& s : entry.spec.signals) {
      if (s.topic.empty()) continue;
      const auto signal = static_cast<std::uint32_t>(entry.def->find_signal(s.name));
      patterns_.push_back(Pattern::of(s.topic, e, signal));
    }
    for (const std::string& topic : entry.spec.frame_topics) {
      patterns_.push_back(Pattern::of(topic, e, Route::kFrame));
    }
    for (std::size_t p = first; p < patterns_.size(); ++p) {
      if (patterns_[p].partitioned) {
        for (std::size_t part = 0; part < subscribed.size(); ++part) {
          if (subscribed[part]) topics_.push_back(patterns_[p].with("+", std::to_string(part)));
        }
      } else if (entry.spec.discover) {
        topics_.push_back(patterns_[p].with("+"));
      } else {
        for (const std::string& id : entry.spec.ids) topics_.push_back(patterns_[p].with(id));
      }
    }
  }
  if (!command_topic.empty()) {
    command_ = Pattern::of(command_topic, 0, Route::kFrame);
    topics_.push_back(command_->with("+"));
  }
}

TopicMatch Router::match(std::string_view topic) const noexcept {
  TopicMatch m;
  if (command_ && command_->match(topic, m.id, m.partition)) {
    m.kind = TopicMatch::Kind::command;
    return m;
  }
  for (const Pattern& p : patterns_) {
    if (p.match(topic, m.id, m.partition)) {
      m.kind = TopicMatch::Kind::pattern;
      m.pattern = &p;
      return m;
    }
  }
  m.id = {};
  return m;
}

bool worth_a_twin(const AssetDef& def, std::uint32_t signal,
                  const codec::Payload& payload) noexcept {
  const auto fits = [&](std::size_t s, double v) {
    const SignalDef& sd = def.signals[s];
    return std::isfinite(v) && v >= sd.min && v <= sd.max;
  };
  if (!payload.is_frame)
    return signal != Route::kFrame && fits(signal, payload.fields.front().value);
  return std::any_of(payload.fields.begin(), payload.fields.end(), [&](const codec::Field& f) {
    const std::size_t s = def.find_signal(f.name);
    return s < def.signals.size() && fits(s, f.value);
  });
}

}  // namespace twind::core
