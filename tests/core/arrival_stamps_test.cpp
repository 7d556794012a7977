// Bare numbers on separate topics: u on plant/<id>/u, then y on plant/<id>/y, no ts, so that the
// engine places each at its arrival. A fleet of healthy seed plants (sim::FleetSim, the plants of
// twin-sim --fleet) is joined mid-run, as when twind starts or restarts under a running fleet,
// with arrival stamps that carry the delays seen live at such a start. No twin may raise a
// divergence that the lateness of its arrival clock explains; a wearing plant still must.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <functional>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "../support/fixtures.hpp"
#include "../support/recording_sink.hpp"
#include "twind/core/engine.hpp"
#include "twind/json/writer.hpp"
#include "twind/sim/fleet.hpp"

namespace twind::core {
namespace {

using testing::CollectingSink;
using testing::fleet_config;
using testing::RecordedAlert;

constexpr double kT0 = 1732200000.0;
constexpr double kRate = 2.0;

// One MQTT message as the engine receives it.
struct Message {
  double arrival = 0.0;
  std::string topic;
  std::string payload;
};

// Decides, for a message of the fleet, whether it is received and when: its arrival time, or a
// negative number when it is lost. `ts` is the true time of its sample, `is_y` says which half.
using Delivery = std::function<double(double ts, bool is_y, std::size_t asset)>;

struct Options {
  std::size_t assets = 1000;
  double join = 2.3;       // seconds after the fleet's start at which the engine starts listening
  double duration = 10.0;  // seconds of fleet run
  std::size_t wearing = 0;
  double wear_at = -1.0;
  double settled = 6.0;  // seconds after the join from which Outcome::worst_settled counts
};

// Every sample of the fleet from `join` on, u then y, as bare numbers, in arrival order.
std::vector<Message> bare_stream(const Options& o, const Delivery& deliver) {
  sim::FleetOptions f;
  f.assets = o.assets;
  f.rate = kRate;
  f.t0 = kT0;
  f.wear_assets = o.wearing;
  f.wear_at = o.wear_at;
  sim::FleetSim fleet(f);
  std::vector<Message> out;
  sim::FleetSample s;
  while (fleet.next_due() < kT0 + o.duration) {
    fleet.pop(s);
    if (s.ts < kT0 + o.join) continue;
    const std::string prefix = "plant/" + fleet.asset_id(s.asset);
    for (const bool is_y : {false, true}) {
      const double arrival = deliver(s.ts, is_y, s.asset);
      if (arrival < 0.0) continue;
      std::string text;
      json::append_number(text, is_y ? s.y : s.u);
      out.push_back({arrival, prefix + (is_y ? "/y" : "/u"), std::move(text)});
    }
  }
  // In arrival order; each asset's own messages keep their publication order (u before y at an
  // equal time: the sort is stable).
  std::stable_sort(out.begin(), out.end(),
                   [](const Message& a, const Message& b) { return a.arrival < b.arrival; });
  return out;
}

struct Outcome {
  std::vector<RecordedAlert> divergences;  // raised
  std::size_t twins = 0;
  std::size_t initialised = 0;
  double worst = 0.0;          // largest |residual| of a healthy twin's y after its start
  double worst_settled = 0.0;  // the same from `settled` seconds after the join on
};

Outcome replay(const Options& o, const Delivery& deliver) {
  const std::vector<Message> stream = bare_stream(o, deliver);
  Engine sut(fleet_config(o.assets), kT0 + o.join);
  CollectingSink sink;
  double next_tick = std::ceil((kT0 + o.join) / sut.tick_interval()) * sut.tick_interval();
  Outcome r;
  std::map<std::string, double> worst;
  std::map<std::string, double> worst_settled;
  for (const Message& m : stream) {
    while (next_tick <= m.arrival) {
      sut.tick(next_tick, sink);
      next_tick += sut.tick_interval();
    }
    sut.on_message(m.topic, m.payload, m.arrival, sink);
    if (m.topic.ends_with("/y")) {
      const AssetTwin* twin = sut.find(m.topic.substr(6, m.topic.size() - 8));
      if (twin != nullptr && twin->initialised()) {
        double& w = worst[twin->id()];
        w = std::max(w, std::abs(twin->signal(1).residual));
        if (m.arrival >= kT0 + o.join + o.settled) {
          double& ws = worst_settled[twin->id()];
          ws = std::max(ws, std::abs(twin->signal(1).residual));
        }
      }
    }
  }
  for (const RecordedAlert& a : sink.alerts) {
    if (a.event.id == AlertId::divergence && a.event.raised) r.divergences.push_back(a);
  }
  r.twins = sut.size();
  for (std::size_t i = 0; i < sut.size(); ++i) {
    if (sut.twin(i).initialised()) ++r.initialised;
  }
  for (const auto& [id, w] : worst) {
    if (id >= sim::fleet_asset_id(o.wearing, o.assets)) r.worst = std::max(r.worst, w);
  }
  for (const auto& [id, w] : worst_settled) {
    if (id >= sim::fleet_asset_id(o.wearing, o.assets)) {
      r.worst_settled = std::max(r.worst_settled, w);
    }
  }
  return r;
}

std::string describe(const std::vector<RecordedAlert>& alerts) {
  std::string out;
  for (const RecordedAlert& a : alerts) {
    out += a.asset + " " + std::to_string(a.event.value) + " at +" +
           std::to_string(a.event.ts - kT0) + " s; ";
  }
  return out;
}

// Expects divergences from the wearing plants and from them only, each after its wear and
// within `within` seconds of it.
void expect_only_the_wearing_raise(const Options& o, const Outcome& r, double within = 1e9) {
  std::set<std::string> raised;
  for (const RecordedAlert& a : r.divergences) {
    raised.insert(a.asset);
    EXPECT_GT(a.event.ts, kT0 + o.wear_at) << describe(r.divergences);
    EXPECT_LT(a.event.ts, kT0 + o.wear_at + within) << describe(r.divergences);
  }
  std::set<std::string> wearing;
  for (std::size_t i = 0; i < o.wearing; ++i) wearing.insert(sim::fleet_asset_id(i, o.assets));
  EXPECT_EQ(raised, wearing) << describe(r.divergences);
}

// The delay of a message on an idle loopback broker: 0.3 ms, y 15 us behind its u.
double on_time(double ts, bool is_y) {
  return ts + 0.0003 + (is_y ? 0.000015 : 0.0);
}

// A stall: what is published during `length` seconds from `from` reaches twind only at its end,
// back to back in publication order, 2 us apart (a sender, a broker or twind's own read loop held
// up by a loaded machine; the start of a connection). The samples of the stall arrive up to
// `length` late, those after it on time: a step of the input stamped 200 ms late moves a healthy
// twin's prediction by up to 1.0.
Delivery stalled(double from, double length) {
  return [from, length](double ts, bool is_y, std::size_t asset) {
    if (ts < from || ts >= from + length) return on_time(ts, is_y);
    return from + length + 0.000002 * static_cast<double>(2 * asset + (is_y ? 1 : 0));
  };
}

TEST(ArrivalStamps, HealthyFleetOnTimeRaisesNothing) {
  const Outcome r = replay({}, [](double ts, bool is_y, std::size_t) { return on_time(ts, is_y); });

  EXPECT_TRUE(r.divergences.empty()) << describe(r.divergences);
  EXPECT_EQ(r.twins, 1000u);
  EXPECT_EQ(r.initialised, 1000u);
  EXPECT_LT(r.worst, 0.01);
}

// A start-up burst: what is published in the first 120 ms after the engine starts listening is
// delivered only at its end, all at once (the connection, the subscription and the discovery of
// a thousand twins at once). The twins whose first sample falls in it would start from a
// measurement stamped up to 120 ms after it was taken, while their next samples arrive on time.
TEST(ArrivalStamps, StartUpBurstThatDelaysEachTwinsFirstSampleRaisesNothing) {
  const Options o;
  // Nothing is heard before the join: the burst is a stall from it.
  const Outcome r = replay(o, stalled(kT0 + o.join, 0.12));

  EXPECT_TRUE(r.divergences.empty()) << describe(r.divergences);
  EXPECT_EQ(r.initialised, 1000u);
  EXPECT_LT(r.worst, 0.01);
}

// The engine listens to y some milliseconds before u (the subscriptions of a client that
// subscribes filter by filter, or a u lost on the way): the twins whose sample falls in between
// see its y without its u, and their first u is the next sample's, 0.5 s later.
TEST(ArrivalStamps, FirstYWhoseUWasLostRaisesNothing) {
  const Options o;
  const double u_from = kT0 + o.join + 0.02;
  const Outcome r = replay(o, [&](double ts, bool is_y, std::size_t) {
    if (!is_y && ts < u_from) return -1.0;
    return on_time(ts, is_y);
  });

  EXPECT_TRUE(r.divergences.empty()) << describe(r.divergences);
  EXPECT_EQ(r.initialised, 1000u);
  EXPECT_LT(r.worst, 0.01);
}

// The same bursts do not blind the twins: the first ten plants wear at 6 s and each raises.
TEST(ArrivalStamps, TheWearingPlantsAndOnlyThemRaiseAfterAStartUpBurstAndLostUs) {
  Options o;
  o.wearing = 10;
  o.wear_at = 6.0;
  const Delivery burst = stalled(kT0 + o.join, 0.12);
  const Outcome r = replay(o, [&](double ts, bool is_y, std::size_t asset) {
    if (!is_y && ts < kT0 + o.join + 0.02) return -1.0;
    return burst(ts, is_y, asset);
  });

  expect_only_the_wearing_raise(o, r);
}

// Each sample reaches twind up to 60 ms late, its u and its y together (a sender or a broker
// slowed by a loaded machine, or twind's own read loop): a step of the input placed 30 ms late
// moves a healthy twin's prediction by 0.15 after a step of 5. Placed on each signal's rhythm,
// no healthy twin raises.
Delivery jittered(double jitter) {
  return [jitter](double ts, bool is_y, std::size_t asset) {
    // The same delay for a sample's u and y: a pure function of the sample.
    std::mt19937_64 rng(static_cast<std::uint64_t>(std::llround(ts * 1e6)) ^ (asset << 40));
    const double late = std::uniform_real_distribution<double>(0.0, jitter)(rng);
    return on_time(ts, is_y) + late;
  };
}

TEST(ArrivalStamps, HealthyFleetWhoseSamplesArriveUpTo60msLateRaisesNothing) {
  Options o;
  o.duration = 30.0;
  const Outcome r = replay(o, jittered(0.06));

  EXPECT_TRUE(r.divergences.empty()) << r.divergences.size() << ": " << describe(r.divergences);
  EXPECT_EQ(r.initialised, 1000u);
  EXPECT_LT(r.worst_settled, 0.075);
  RecordProperty("worst", std::to_string(r.worst));
  RecordProperty("worst_settled", std::to_string(r.worst_settled));
}

TEST(ArrivalStamps, TheWearingPlantsAndOnlyThemRaiseWhenSamplesArriveUpTo60msLate) {
  Options o;
  o.duration = 30.0;
  o.wearing = 10;
  o.wear_at = 15.0;
  const Outcome r = replay(o, jittered(0.06));

  expect_only_the_wearing_raise(o, r);
}

// While the twins still learn their signals' rhythm (1.2 s after the join), nothing tells a late
// sample from an early one: the comparisons the stall makes doubtful are not judged.
TEST(ArrivalStamps, HealthyFleetStalled200msWhileLearningTheRhythmRaisesNothing) {
  Options o;
  const Outcome r = replay(o, stalled(kT0 + o.join + 1.2, 0.2));

  EXPECT_TRUE(r.divergences.empty()) << r.divergences.size() << ": " << describe(r.divergences);
  EXPECT_EQ(r.initialised, 1000u);
  EXPECT_LT(r.worst_settled, 0.01);
}

// Once the rhythm is learnt, a sample later than half a period is not placed on it (it may be
// the first of a new rhythm): its twin learns again, and judges again once it has.
TEST(ArrivalStamps, HealthyFleetStalled400msOnceTheRhythmIsLearntRaisesNothing) {
  Options o;
  o.duration = 20.0;
  o.settled = 12.0;
  const Outcome r = replay(o, stalled(kT0 + o.join + 6.0, 0.4));

  EXPECT_TRUE(r.divergences.empty()) << r.divergences.size() << ": " << describe(r.divergences);
  EXPECT_LT(r.worst_settled, 0.01);
}

// The comparisons left unjudged during stalls blind no twin for long: with a stall while
// learning and another later, the wearing plants and only they raise.
TEST(ArrivalStamps, TheWearingPlantsAndOnlyThemRaiseAcrossStalls) {
  Options o;
  o.duration = 20.0;
  o.wearing = 10;
  o.wear_at = 12.0;
  const Delivery first = stalled(kT0 + o.join + 1.2, 0.2);
  const Delivery second = stalled(kT0 + o.join + 6.0, 0.4);
  const Outcome r = replay(o, [&](double ts, bool is_y, std::size_t asset) {
    return ts < kT0 + o.join + 4.0 ? first(ts, is_y, asset) : second(ts, is_y, asset);
  });

  expect_only_the_wearing_raise(o, r, 2.0);
}

}  // namespace
}  // namespace twind::core
