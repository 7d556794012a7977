// Recording live traffic against a real broker: `twind record` keeps exactly what was published,
// and `twind run --record` keeps what the live twin read, so that `twind replay` of the recording
// decides the same alerts. Debian's mosquitto on a free loopback port, twind and twin-sim as child
// processes. Label: integration.
#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <csignal>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "support/eventually.hpp"
#include "support/mosquitto.hpp"
#include "support/paths.hpp"
#include "support/process.hpp"
#include "support/subscriber.hpp"
#include "twind/codec/recording.hpp"

namespace twind::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

void write_file(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

struct Line {
  double t = 0.0;
  std::string topic;
  std::string payload;
};

// Every line of a recording, parsed; a line that does not parse fails the test.
std::vector<Line> recording(const std::string& path) {
  const std::string text = read_file(path);
  EXPECT_TRUE(text.empty() || text.back() == '\n') << "a torn last line in " << path;
  std::vector<Line> out;
  codec::RecordingParser parser;
  for (const std::string& l : lines_of(text)) {
    codec::RecordLine rec;
    const auto r = parser.parse(l, rec);
    EXPECT_TRUE(r.ok) << r.error << ": " << l;
    if (r.ok) out.push_back({rec.t, std::string(rec.topic), std::string(rec.payload)});
  }
  return out;
}

// The seed configuration with broker.client set to `kind`, written into `dir`.
std::string seed_for(const std::string& kind, const TempDir& dir) {
  const std::string text = std::regex_replace(read_file(kSeed), std::regex("\\nbroker:\\n"),
                                              "\nbroker:\n  client: " + kind + "\n");
  const std::string path = dir.path() + "/twind.yaml";
  write_file(path, text);
  return path;
}

class LiveRecord : public ::testing::TestWithParam<std::string> {};
INSTANTIATE_TEST_SUITE_P(Clients, LiveRecord, ::testing::Values("threaded", "driven", "native"),
                         [](const auto& p) {
                           std::string name = p.param;
                           name[0] = static_cast<char>(name[0] - 'a' + 'A');
                           return name;
                         });

// What a peer publishes on the topics the seed configuration reads, byte for byte, in order,
// stamped with the time it arrived; what it publishes elsewhere, not. SIGTERM leaves whole lines.
TEST_P(LiveRecord, RecordsExactlyWhatWasPublishedOnTheTopicsTheConfigurationReads) {
  Mosquitto broker;
  TempDir dir;
  const std::string out = dir.path() + "/rec.jsonl";
  Process twind(
      {kTwind, "record", "-c", seed_for(GetParam(), dir), "-o", out, "--broker", broker.uri()},
      {.env = {}, .dir = dir.path(), .name = "twind"});
  ASSERT_TRUE(twind.wait_for_line("connected to the broker", 10s, true)) << twind.stderr_text();

  const std::vector<std::pair<std::string, std::string>> published = {
      {"plant/u", "1"},
      {"plant/y", " 2.97\n"},
      {"plant/frame", R"({"ts": 1732200000.04, "u": 3.0, "y": 2.98})"},
      {"plant/y", R"({"value": 2.5, "ts": 1732200000.06})"},
      {"plant/y", std::string("\xff\xfe\x00 binary \"\\", 13)},
      {"plant/u", ""},
      {"twin/plant/cmd", R"({"id": "1", "cmd": "get_model"})"},
      {"plant/u", "caf\xc3\xa9 \x01\t"},
  };
  Subscriber peer(broker.uri(), {"nothing/here"});
  const double before = unix_seconds(std::chrono::system_clock::now());
  for (std::size_t i = 0; i < published.size(); ++i) {
    peer.publish(published[i].first, published[i].second);
    if (i == 2) peer.publish("other/topic", "not read by the configuration");
  }
  // In the file while twind record runs (it writes at least once a second).
  ASSERT_TRUE(eventually([&] { return lines_of(read_file(out)).size() >= published.size(); }, 5s))
      << read_file(out) << twind.stderr_text();
  const double after = unix_seconds(std::chrono::system_clock::now());
  const ExitStatus status = twind.terminate();
  EXPECT_TRUE(status.exited && status.code == 0) << twind.stderr_text();

  const std::vector<Line> lines = recording(out);
  ASSERT_EQ(lines.size(), published.size()) << read_file(out);
  double previous = before;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    EXPECT_EQ(lines[i].topic, published[i].first) << i;
    EXPECT_EQ(lines[i].payload, published[i].second) << i;
    EXPECT_GE(lines[i].t, previous) << i;
    EXPECT_LE(lines[i].t, after) << i;
    previous = lines[i].t;
  }
  EXPECT_NE(read_file(out).find("payload_base64"), std::string::npos);
}

TEST(LiveRecordDuration, StopsByItselfAfterTheDuration) {
  Mosquitto broker;
  TempDir dir;
  const std::string out = dir.path() + "/rec.jsonl";
  const auto start = std::chrono::steady_clock::now();
  Process twind(
      {kTwind, "record", "-c", kSeed, "-o", out, "--broker", broker.uri(), "--duration", "0.5"},
      {.env = {}, .dir = dir.path(), .name = "twind"});
  const auto status = twind.wait_exit(10s);
  ASSERT_TRUE(status) << twind.stderr_text();
  EXPECT_TRUE(status->exited && status->code == 0) << twind.stderr_text();
  EXPECT_GE(std::chrono::steady_clock::now() - start, 500ms);
  EXPECT_EQ(read_file(out), "");
}

// An alert transition as the tests compare them: id, signal, raised/cleared, and the deciding
// sample's event time.
using Transition = std::tuple<std::string, std::string, std::string, double>;
Transition transition(const std::string& payload) {
  const json a = json::parse(payload);
  return {a["id"].get<std::string>(), a.value("signal", ""), a["state"].get<std::string>(),
          a["ts"].get<double>()};
}

// The live twin with --record beside a wearing plant, and the replay of what it recorded: the
// same alert transitions. Each way of working the connection stamps arrivals on its own path (a
// threaded client's on its receive thread, before the inbox): the recording holds the stamps the
// engine used.
TEST_P(LiveRecord, RunRecordReplaysToTheLiveAlertTransitions) {
  Mosquitto broker;
  TempDir dir;
  const std::string rec = dir.path() + "/rec.jsonl";
  const std::string config = seed_for(GetParam(), dir);
  Subscriber sub(broker.uri(), {"twin/alert"});
  Process twind(
      {kTwind, "run", "-c", config, "--broker", broker.uri(), "--http", "off", "--record", rec},
      {.env = {}, .dir = dir.path(), .name = "twind"});
  ASSERT_TRUE(twind.wait_for_line("connected to the broker", 10s, true)) << twind.stderr_text();
  Process sim({kSim, "--broker", broker.uri(), "--duration", "3", "--wear-at", "1.5"},
              {.env = {}, .dir = dir.path(), .name = "twin-sim"});
  const auto sim_exit = sim.wait_exit(15s);
  ASSERT_TRUE(sim_exit) << sim.stdout_text();
  ASSERT_TRUE(sim_exit->exited && sim_exit->code == 0) << sim.stdout_text();
  ASSERT_TRUE(sub.wait_for_count("twin/alert", 1, 5s)) << twind.stderr_text();
  // Everything twin-sim sent (u and y for each sample) has reached twind's recording.
  std::smatch m;
  const std::string sim_out = sim.stdout_text();
  ASSERT_TRUE(std::regex_search(sim_out, m, std::regex("([0-9]+) samples published"))) << sim_out;
  const std::size_t samples = std::stoul(m[1]);
  ASSERT_TRUE(eventually([&] { return lines_of(read_file(rec)).size() >= 2 * samples; }, 5s))
      << lines_of(read_file(rec)).size() << " lines recorded of " << 2 * samples << "\n"
      << twind.stderr_text();
  const ExitStatus status = twind.terminate();
  EXPECT_TRUE(status.exited && status.code == 0) << twind.stderr_text();

  const std::vector<Line> recorded = recording(rec);
  ASSERT_FALSE(recorded.empty());
  const double last = recorded.back().t;
  for (const Line& l : recorded) {
    EXPECT_TRUE(l.topic == "plant/u" || l.topic == "plant/y") << l.topic;
  }

  const std::string out = dir.path() + "/replay.jsonl";
  Process replay({kTwind, "replay", "-c", config, "-i", rec, "-o", out},
                 {.env = {}, .dir = dir.path(), .name = "replay"});
  const auto replay_exit = replay.wait_exit(30s);
  ASSERT_TRUE(replay_exit) << replay.stderr_text();
  EXPECT_TRUE(replay_exit->exited && replay_exit->code == 0) << replay.stderr_text();
  EXPECT_NE(replay.stderr_text().find("(0 bad)"), std::string::npos) << replay.stderr_text();

  std::vector<Transition> replayed;
  for (const Line& l : recording(out)) {
    if (l.topic == "twin/alert") replayed.push_back(transition(l.payload));
  }
  // What twind published before it stopped has reached the subscriber.
  EXPECT_TRUE(sub.wait_for_count("twin/alert", replayed.size(), 2s));
  // Live, a tick after the recording's last message may still raise `stale` (the plant went
  // quiet when twin-sim stopped): nothing in the recording can show it to a replay.
  std::vector<Transition> live;
  for (const std::string& p : sub.payloads("twin/alert")) {
    const Transition t = transition(p);
    if (std::get<0>(t) == "stale" && std::get<3>(t) > last) continue;
    live.push_back(t);
  }
  ASSERT_FALSE(live.empty());
  EXPECT_EQ(std::get<0>(live.front()), "divergence");
  EXPECT_EQ(std::get<2>(live.front()), "raised");
  EXPECT_EQ(replayed, live) << twind.stderr_text();
}

// A recording on a full disk: said once, counted in /metrics, and the twin goes on, alerts and
// all; SIGTERM still stops it with 0.
TEST(LiveRunRecord, AFullDiskIsCountedAndTheTwinGoesOn) {
  Mosquitto broker;
  TempDir dir;
  const int port = Mosquitto::free_port();
  Subscriber sub(broker.uri(), {"twin/#"});
  Process twind({kTwind, "run", "-c", kSeed, "--broker", broker.uri(), "--http",
                 "127.0.0.1:" + std::to_string(port), "--record", "/dev/full"},
                {.env = {}, .dir = dir.path(), .name = "twind"});
  ASSERT_TRUE(twind.wait_for_line("connected to the broker", 10s, true)) << twind.stderr_text();
  sub.publish("plant/u", "1");
  sub.publish("plant/y", "1");
  sub.publish("plant/y", "3");  // the twin predicts about 1: divergence
  ASSERT_TRUE(sub.wait_for_count("twin/alert", 1, 5s)) << twind.stderr_text();
  EXPECT_TRUE(twind.wait_for_line("cannot write /dev/full: No space left on device", 5s, true))
      << twind.stderr_text();

  httplib::Client http("127.0.0.1", port);
  std::string metrics;
  EXPECT_TRUE(eventually(
      [&] {
        const auto res = http.Get("/metrics");
        if (!res || res->status != 200) return false;
        metrics = res->body;
        return metrics.find("twind_record_errors_total 3\n") != std::string::npos;
      },
      5s))
      << metrics;
  EXPECT_NE(metrics.find("twind_record_failing 1\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("twind_record_lines_total 0\n"), std::string::npos) << metrics;
  const std::size_t states = sub.payloads("twin/state").size();
  EXPECT_TRUE(sub.wait_for_count("twin/state", states + 2, 5s));  // still ticking
  const ExitStatus status = twind.terminate();
  EXPECT_TRUE(status.exited && status.code == 0) << twind.stderr_text();
  const std::string log = twind.stderr_text();
  EXPECT_EQ(log.find("cannot write /dev/full"), log.rfind("cannot write /dev/full")) << log;
}

}  // namespace
}  // namespace twind::testing
