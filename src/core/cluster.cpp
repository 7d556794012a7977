#include "twind/core/cluster.hpp"

#include <algorithm>
#include <utility>

namespace twind::core {
namespace {

std::uint64_t mix(std::uint64_t z) noexcept {  // splitmix64's finaliser
  z = (z ^ (z >> 30U)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27U)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31U);
}

}  // namespace

std::uint32_t partition_of(std::string_view id, std::uint32_t partitions) noexcept {
  std::uint32_t h = 2166136261U;
  for (const char c : id) {
    h ^= static_cast<unsigned char>(c);
    h *= 16777619U;
  }
  return partitions == 0 ? 0 : h % partitions;
}

std::uint64_t rendezvous_score(std::string_view member, std::uint32_t p) noexcept {
  std::uint64_t h = 14695981039346656037ULL;  // FNV-1a, 64 bits
  for (const char c : member) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  return mix(h ^ mix(p + 1ULL));
}

Ownership::Ownership(std::string self, std::uint32_t partitions)
    : self_(std::move(self)),
      partitions_(partitions),
      held_(partitions, false),
      taking_(partitions, false),
      taking_since_(partitions, 0) {
  assign();
}

void Ownership::on_member(std::string_view member, MemberAnnouncement announcement) {
  if (member == self_) return;
  if (!announcement.online) {
    if (const auto it = others_.find(member); it != others_.end()) others_.erase(it);
    return;
  }
  others_.insert_or_assign(std::string(member), std::move(announcement));
}

void Ownership::restart() {
  others_.clear();
  held_.assign(partitions_, false);
  taking_.assign(partitions_, false);
  restart_seq_ = seq_ + 1;
  assign();
}

void Ownership::assign() {
  const std::vector<std::string> names = members();
  const std::size_t cap = (partitions_ + names.size() - 1) / names.size();
  struct Pair {
    std::uint64_t score;
    std::uint32_t member;
    std::uint32_t p;
  };
  std::vector<Pair> pairs;
  pairs.reserve(static_cast<std::size_t>(partitions_) * names.size());
  for (std::uint32_t m = 0; m < names.size(); ++m) {
    for (std::uint32_t p = 0; p < partitions_; ++p) {
      pairs.push_back({rendezvous_score(names[m], p), m, p});
    }
  }
  // Ties (never seen with 64 bits) go by name, then partition: alike everywhere.
  std::sort(pairs.begin(), pairs.end(), [](const Pair& a, const Pair& b) {
    if (a.score != b.score) return a.score > b.score;
    return a.member != b.member ? a.member < b.member : a.p < b.p;
  });
  std::vector<std::size_t> load(names.size(), 0);
  std::vector<bool> done(partitions_, false);
  owner_.assign(partitions_, std::string());
  for (const Pair& x : pairs) {
    if (done[x.p] || load[x.member] >= cap) continue;
    done[x.p] = true;
    ++load[x.member];
    owner_[x.p] = names[x.member];
  }
}

bool Ownership::lists(const std::string& member, std::uint32_t p, bool taking_too) const {
  const auto it = others_.find(member);
  if (it == others_.end()) return false;
  const auto has = [p](const std::vector<std::uint32_t>& v) {
    return std::find(v.begin(), v.end(), p) != v.end();
  };
  return has(it->second.holds) || (taking_too && has(it->second.taking));
}

bool Ownership::decide() {
  assign();
  if (!is_synced()) return false;
  bool changed = false;
  for (std::uint32_t p = 0; p < partitions_; ++p) {
    const std::string& target = owner(p);
    if (target == self_) {
      if (held_[p]) continue;
      if (!taking_[p]) {
        taking_[p] = true;
        taking_since_[p] = seq_ + 1;
        changed = true;
        continue;
      }
      // Held once this member's `taking` has come back and no other member holds or takes it:
      // its holder let go (or is gone), and any other taker came later.
      const bool others = std::any_of(others_.begin(), others_.end(),
                                      [&](const auto& m) { return lists(m.first, p, true); });
      if (echoed_ >= taking_since_[p] && !others) {
        held_[p] = true;
        taking_[p] = false;
        changed = true;
      }
    } else {
      if (taking_[p]) {
        taking_[p] = false;  // no longer ours to take
        changed = true;
      }
      // Let go once the member it goes to has subscribed (says it takes or holds it).
      if (held_[p] && lists(target, p, true)) {
        held_[p] = false;
        changed = true;
      }
    }
  }
  return changed;
}

std::vector<bool> Ownership::subscribed() const {
  std::vector<bool> out(partitions_);
  for (std::uint32_t p = 0; p < partitions_; ++p) out[p] = held_[p] || taking_[p];
  return out;
}

std::vector<std::string> Ownership::members() const {
  std::vector<std::string> out{self_};
  for (const auto& [name, a] : others_) out.push_back(name);
  std::sort(out.begin(), out.end());
  return out;
}

MemberAnnouncement Ownership::announce() {
  MemberAnnouncement a;
  a.online = true;
  a.seq = ++seq_;
  for (std::uint32_t p = 0; p < partitions_; ++p) {
    if (held_[p]) a.holds.push_back(p);
    if (taking_[p]) a.taking.push_back(p);
  }
  return a;
}

}  // namespace twind::core
