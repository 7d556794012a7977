// The walk over a configuration document: the top-level keys, then each asset (single or
// template) with its family, frames, signals, model, detector and diagnosis, then the topic checks
// across them all. The sections' rules are in their readers.
#include "validate.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "broker_reader.hpp"
#include "cluster_reader.hpp"
#include "detector_reader.hpp"
#include "model_reader.hpp"
#include "reader.hpp"
#include "signals_reader.hpp"
#include "topics.hpp"

namespace twind::config::detail {
namespace {

// How many assets the file makes, as far as the topics' defaults are concerned: a template
// stands for many, whose topics must then be told apart.
std::size_t asset_count(const Value* assets) {
  if (assets == nullptr || !assets->node.IsSequence()) return 0;
  std::size_t n = assets->node.size();
  for (const YAML::Node& a : assets->node) {
    if (a.IsMap() && a["template"]) n = std::max<std::size_t>(n, 2);
  }
  return n;
}

class ConfigWalk {
 public:
  ConfigWalk(const std::string& file, std::vector<Diagnostic>& out) : r_(file, out), topics_(r_) {}

  std::optional<Config> run(const YAML::Node& root) {
    const Pos start{};
    if (!root.IsMap()) {
      if (root.IsNull() || !root.IsDefined()) {
        r_.error(start, "", "expected a mapping at the top level");
      } else {
        r_.error(pos_of(root, start), "",
                 "got " + got(root) + ", expected a mapping at the top level");
      }
      return std::nullopt;
    }
    const Pos top = pos_of(root, start);
    const Fields f = r_.fields(Value{root, top, top, ""}, "");
    Config cfg;
    if (const Value* v = find(f, "tick_spread")) {
      if (const auto b = r_.as_bool(*v)) cfg.tick_spread = *b;
    }
    if (const Value* v = find(f, "tick")) {
      if (const auto d = r_.as_duration(*v)) cfg.tick = *d;
    }
    if (const Value* v = find(f, "max_payload_bytes")) {
      if (const auto n = r_.as_integer(*v, 16, 16LL * 1024 * 1024)) {
        cfg.max_payload_bytes = static_cast<std::size_t>(*n);
      }
    }
    if (const Value* v = find(f, "broker")) read_broker(r_, *v, cfg.broker);
    cluster_ = find(f, "cluster");
    if (cluster_ != nullptr) cfg.cluster = read_cluster(r_, *cluster_);
    topics_.set_partitioned(cluster_ != nullptr);
    const Value* assets = find(f, "assets");
    topics_.read_section(find(f, "topics"), asset_count(assets), cfg.topics);
    if (assets != nullptr) read_assets(*assets, cfg.assets);
    topics_.check_uses(cfg.topics, asset_ids_, !template_names_.empty());
    if (r_.errors() > 0) return std::nullopt;
    return cfg;
  }

 private:
  void read_assets(const Value& v, std::vector<AssetSpec>& out) {
    if (!r_.expect_list(v, "a list of assets")) return;
    if (v.node.size() == 0) {
      r_.expected(v, "at least one asset");
      return;
    }
    for (std::size_t i = 0; i < v.node.size(); ++i) {
      if (auto a = read_asset(element(v, i))) out.push_back(std::move(*a));
    }
  }

  std::optional<AssetSpec> read_asset(const Value& v) {
    if (!r_.expect_map(v, "a mapping (an asset: id or template, model, signals, ...)")) {
      return std::nullopt;
    }
    const std::size_t errors_before = r_.errors();
    const Fields f = r_.fields(v, "assets[]");
    AssetSpec a;
    const Value* tmpl = find(f, "template");
    read_identity(v, find(f, "id"), tmpl, a);
    if (cluster_ != nullptr) check_replicated(v, f, tmpl);
    read_family(f, tmpl != nullptr, v, a);
    // Topics are read with the asset's id ({asset} is replaced in a single asset's topics) or as
    // the template's patterns.
    const TopicScope scope{tmpl != nullptr, a.id};
    bool has_frames = false;
    if (const Value* e = find(f, "frames")) has_frames = read_frames(*e, scope, a.frame_topics);
    const std::size_t errors_before_model = r_.errors();
    SignalsInfo si;
    if (const Value* e = find(f, "signals")) si = read_signals(r_, topics_, *e, has_frames, scope);
    const Value* model = find(f, "model");
    if (model != nullptr) read_model(r_, *model, si, a.model);
    a.signals = std::move(si.inputs);
    a.signals.insert(a.signals.end(), si.outputs.begin(), si.outputs.end());
    // The diagnosis' hypotheses name the model's entries and the signals: they are checked
    // against a model and signals read without a finding, not blamed for a refused one.
    const bool model_known =
        model != nullptr && si.roles_known && r_.errors() == errors_before_model;
    if (const Value* e = find(f, "detector")) read_detector(r_, *e, a.detector);
    if (const Value* e = find(f, "diagnose")) {
      read_diagnose(r_, *e, model_known ? &a.model : nullptr, a.signals, a.diagnose);
    }
    if (r_.errors() != errors_before) return std::nullopt;
    return a;
  }

  // With a cluster, every asset is discovered on a partitioned topic: a replica makes the twins of
  // the partitions it owns as their assets appear.
  void check_replicated(const Value& entry, const Fields& f, const Value* tmpl) {
    if (tmpl == nullptr) {
      if (const Value* id = find(f, "id")) {
        r_.error(id->key_pos, id->path,
                 "not with cluster: a replica's assets are a template's, discovered on "
                 "partitioned topics; expected template (with discover: true)");
      }
      return;
    }
    const Value* d = find(f, "discover");
    if (d == nullptr) {
      r_.missing(entry, "discover", "true (with cluster, a replica's assets are discovered)");
    } else if (d->node.IsScalar() && d->node.Scalar() == "false") {
      r_.expected(*d, "true (with cluster, a replica's assets are discovered)");
    }
    if (const Value* ids = find(f, "ids")) {
      r_.error(ids->key_pos, ids->path,
               "not with cluster: the replica owning an asset's partition makes its twin when it "
               "appears; expected no ids");
    }
  }

  // `id` (one asset) or `template` (a family), each name used once.
  void read_identity(const Value& entry, const Value* id, const Value* tmpl, AssetSpec& a) {
    if (id != nullptr && tmpl != nullptr) {
      r_.error(tmpl->key_pos, tmpl->path,
               "not with id, expected either id (one asset) or template (a family of assets)");
    } else if (id == nullptr && tmpl == nullptr) {
      r_.missing(entry, "id", "string, or template for a family of assets");
    } else if (id != nullptr) {
      if (const auto s = r_.as_string(*id)) {
        if (claim_asset_id(*id, *s)) a.id = *s;
      }
    } else if (const auto s = r_.as_string(*tmpl)) {
      if (!is_asset_id(*s)) {
        r_.expected(*tmpl, "a name of 1 to 64 letters, digits, _, . and -");
      } else if (const auto [it, fresh] = template_names_.emplace(*s, tmpl->path); !fresh) {
        r_.expected(*tmpl, "a name not already used (by " + it->second + ")");
      } else {
        a.template_name = *s;
      }
    }
  }

  bool claim_asset_id(const Value& at, const std::string& id) {
    if (!is_asset_id(id)) {
      r_.expected(at, "an id of 1 to 64 letters, digits, _, . and -");
      return false;
    }
    if (const auto [it, fresh] = asset_ids_.emplace(id, at.path); !fresh) {
      r_.expected(at, "an id not already used (by " + it->second + ")");
      return false;
    }
    return true;
  }

  // ids, discover and max_assets: a template's family.
  void read_family(const Fields& f, bool is_template, const Value& entry, AssetSpec& a) {
    const Value* ids = find(f, "ids");
    const Value* discover = find(f, "discover");
    const Value* max_assets = find(f, "max_assets");
    if (!is_template) {
      for (const Value* e : {ids, discover, max_assets}) {
        if (e != nullptr) {
          r_.error(e->key_pos, e->path, "not allowed with id, expected it only in a template");
        }
      }
      return;
    }
    if (ids != nullptr && r_.expect_list(*ids, "a list of asset ids, like [pump1, pump2]")) {
      for (std::size_t i = 0; i < ids->node.size(); ++i) {
        const Value item = element(*ids, i);
        if (const auto s = r_.as_string(item)) {
          if (claim_asset_id(item, *s)) a.ids.push_back(*s);
        }
      }
    }
    if (discover != nullptr) {
      if (const auto b = r_.as_bool(*discover)) a.discover = *b;
    }
    if (max_assets != nullptr) {
      if (const auto n = r_.as_integer(*max_assets, 1, 1000000)) {
        a.max_assets = static_cast<std::size_t>(*n);
      }
    }
    const bool no_ids = ids == nullptr || (ids->node.IsSequence() && ids->node.size() == 0);
    if (no_ids && (discover == nullptr || (discover->node.IsScalar() && !a.discover))) {
      r_.error(entry.pos, entry.path,
               "a template without assets, expected ids (a list), discover: true, or both");
    }
  }

  // Returns whether the asset declares frames (also when some of them are bad, so that a signal
  // without a topic is not blamed for it).
  bool read_frames(const Value& v, const TopicScope& scope, std::vector<std::string>& out) {
    if (!r_.expect_list(v, "a list of topics, like [plant/frame]")) return true;
    for (std::size_t i = 0; i < v.node.size(); ++i) {
      const Value item = element(v, i);
      if (const auto s = r_.as_string(item)) {
        if (auto topic = topics_.inbound(item, *s, scope)) out.push_back(std::move(*topic));
      }
    }
    return v.node.size() > 0;
  }

  Reader r_;
  TopicChecks topics_;
  const Value* cluster_ = nullptr;                     // the `cluster` section, if any
  std::map<std::string, std::string> asset_ids_;       // id -> path of its first use
  std::map<std::string, std::string> template_names_;  // name -> path of its first use
};

}  // namespace

std::optional<Config> validate(const YAML::Node& root, const std::string& file,
                               std::vector<Diagnostic>& out) {
  return ConfigWalk(file, out).run(root);
}

}  // namespace twind::config::detail
