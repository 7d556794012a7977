#include "twind/app/live_feed.hpp"

#include <cmath>
#include <limits>

#include "twind/core/twin.hpp"
#include "twind/json/writer.hpp"

namespace twind::app {

namespace {
constexpr double kNone = std::numeric_limits<double>::quiet_NaN();  // written as null
}  // namespace

LiveFeed::LiveFeed(LiveFeedOptions options) : options_(options) {}

LiveFeed::Asset& LiveFeed::asset_of(const core::AssetTwin& twin) {
  Asset& a = assets_[twin.id()];
  const auto& signals = twin.def().signals;
  std::size_t inputs = 0;
  for (const auto& s : signals) inputs += s.role == Role::input ? 1U : 0U;
  const std::size_t width = 4 + inputs + 2 * (signals.size() - inputs);
  if (a.width != width || a.inputs.size() != inputs) {
    // First seen, or its signals changed (a reload): its history starts again.
    a.inputs.clear();
    a.outputs.clear();
    for (const auto& s : signals) (s.role == Role::input ? a.inputs : a.outputs).push_back(s.name);
    a.width = width;
    a.rows.assign(options_.history * width, kNone);
    a.head = 0;
    a.count = 0;
  }
  return a;
}

void LiveFeed::state(const core::AssetTwin& twin, double ts, std::string_view payload) {
  const bool streaming = streams_.load(std::memory_order_relaxed) > 0;
  if (options_.history == 0 && !streaming) return;
  const std::lock_guard lock(mutex_);
  if (options_.history > 0) {
    Asset& a = asset_of(twin);
    const std::size_t slot = (a.head + a.count) % options_.history;
    double* row = a.rows.data() + slot * a.width;
    if (a.count < options_.history) {
      ++a.count;
    } else {
      a.head = (a.head + 1) % options_.history;
    }
    // ts, in alert (1) or not (0), divergence, threshold, each input, each output's measured
    // and predicted values.
    std::size_t c = 0;
    row[c++] = ts;
    row[c++] = twin.status() == Status::alert ? 1.0 : 0.0;
    const auto div = twin.divergence();
    row[c++] = div ? div->value : kNone;
    row[c++] = div && div->has_threshold ? div->threshold : kNone;
    const auto& signals = twin.def().signals;
    for (std::size_t i = 0; i < signals.size(); ++i) {
      if (signals[i].role != Role::input) continue;
      const core::SignalView& v = twin.signal(i);
      row[c++] = v.has_value ? v.value : kNone;
    }
    for (std::size_t i = 0; i < signals.size(); ++i) {
      if (signals[i].role == Role::input) continue;
      const core::SignalView& v = twin.signal(i);
      row[c++] = v.has_value ? v.value : kNone;
      row[c++] = v.has_prediction ? v.predicted : kNone;
    }
  }
  if (streaming) push(Kind::state, twin.id(), payload);
}

void LiveFeed::alert(const core::AssetTwin& twin, std::string_view payload) {
  const std::lock_guard lock(mutex_);
  Asset& a = asset_of(twin);
  a.alerts.emplace_back(payload);
  while (a.alerts.size() > options_.alerts) a.alerts.pop_front();
  push(Kind::alert, twin.id(), payload);
}

void LiveFeed::diagnosis(const core::AssetTwin& twin, std::string_view payload) {
  const std::lock_guard lock(mutex_);
  asset_of(twin).diagnosis = payload;
  push(Kind::diagnosis, twin.id(), payload);
}

void LiveFeed::push(Kind kind, const std::string& asset, std::string_view payload) {
  ring_.push_back({++seq_, kind, asset, std::string(payload)});
  while (ring_.size() > options_.events) ring_.pop_front();
}

void LiveFeed::flush() {
  {
    const std::lock_guard lock(mutex_);
    if (flushed_ == seq_) return;
    flushed_ = seq_;
  }
  woken_.notify_all();
}

std::optional<std::string> LiveFeed::history_json(std::string_view asset) const {
  const std::lock_guard lock(mutex_);
  const auto it = assets_.find(std::string(asset));
  if (it == assets_.end()) return std::nullopt;
  const Asset& a = it->second;
  std::string out;
  out.reserve(64 + a.count * a.width * 20);
  json::Writer w(out);
  w.begin_object();
  w.key("asset").value(asset);
  w.key("inputs").begin_array();
  for (const std::string& s : a.inputs) w.value(s);
  w.end_array();
  w.key("outputs").begin_array();
  for (const std::string& s : a.outputs) w.value(s);
  w.end_array();
  w.key("columns").begin_array();
  w.value("ts").value("alert").value("divergence").value("threshold");
  for (const std::string& s : a.inputs) w.value(s);
  for (const std::string& s : a.outputs) w.value(s).value(s + ".predicted");
  w.end_array();
  w.key("rows").begin_array();
  for (std::size_t k = 0; k < a.count && options_.history > 0; ++k) {
    const double* row = a.rows.data() + ((a.head + k) % options_.history) * a.width;
    w.begin_array();
    for (std::size_t c = 0; c < a.width; ++c) w.value(row[c]);
    w.end_array();
  }
  w.end_array();
  w.key("alerts").begin_array();
  for (const std::string& p : a.alerts) w.raw(p);
  w.end_array();
  w.key("diagnosis");
  if (a.diagnosis.empty()) {
    w.null();
  } else {
    w.raw(a.diagnosis);
  }
  w.end_object();
  return out;
}

LiveFeed::Batch LiveFeed::wait(std::uint64_t after, std::string_view asset,
                               std::chrono::milliseconds timeout) {
  Batch b;
  std::unique_lock lock(mutex_);
  const auto ready = [&] { return closed_ || flushed_ > after; };
  woken_.wait_for(lock, timeout, ready);
  b.closed = closed_;
  b.next = std::max(after, flushed_);
  if (!ring_.empty() && ring_.front().seq > after + 1 && after < flushed_) b.missed = true;
  for (const Event& e : ring_) {
    if (e.seq <= after || e.seq > flushed_) continue;
    if (asset.empty() ? e.kind == Kind::state : e.asset != asset) continue;
    b.events.push_back(e);
  }
  return b;
}

std::uint64_t LiveFeed::cursor() const {
  const std::lock_guard lock(mutex_);
  return flushed_;
}

bool LiveFeed::open_stream() {
  std::size_t n = streams_.load();
  do {
    if (n >= options_.streams) return false;
  } while (!streams_.compare_exchange_weak(n, n + 1));
  return true;
}

void LiveFeed::close_stream() {
  streams_.fetch_sub(1);
}

void LiveFeed::close() {
  {
    const std::lock_guard lock(mutex_);
    closed_ = true;
  }
  woken_.notify_all();
}

}  // namespace twind::app
