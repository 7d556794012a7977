// Checks docker-compose.yml, docker/mosquitto.conf, docker/Dockerfile,
// docker/prometheus.Dockerfile and monitoring/ against each other and against the repository,
// without a Docker engine (none runs on CI machines): yaml-cpp parses the compose file, so a
// syntax error fails here too.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

const fs::path kRepo = TWIND_REPO_DIR;

std::string read_text(const fs::path& p) {
  std::ifstream in(p);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// `${NAME:-default}` replaced by its default: the file as `docker compose up` reads it with none
// of its variables set. "" when a variable has no default.
std::string with_defaults(std::string s) {
  for (auto open = s.find("${"); open != std::string::npos; open = s.find("${", open)) {
    const auto close = s.find('}', open);
    const auto dash = s.find(":-", open);
    if (close == std::string::npos || dash == std::string::npos || dash > close) return "";
    s.replace(open, close + 1 - open, s.substr(dash + 2, close - dash - 2));
  }
  return s;
}

// A list of strings, variables replaced by their defaults.
std::vector<std::string> strings(const YAML::Node& list) {
  std::vector<std::string> out;
  if (list && list.IsSequence()) {
    for (const auto& n : list) out.push_back(with_defaults(n.as<std::string>()));
  }
  return out;
}

std::string scalar(const YAML::Node& n) {
  return with_defaults(n.as<std::string>());
}

// Every string anywhere under `n`.
void collect_strings(const YAML::Node& n, std::vector<std::string>& out) {
  if (n.IsScalar()) out.push_back(n.as<std::string>());
  if (n.IsSequence()) {
    for (const auto& child : n) collect_strings(child, out);
  }
  if (n.IsMap()) {
    for (const auto& entry : n) collect_strings(entry.second, out);
  }
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// The value following `flag` in an argument list, or "" when absent.
std::string argument_after(const std::vector<std::string>& args, const std::string& flag) {
  const auto it = std::find(args.begin(), args.end(), flag);
  return it == args.end() || it + 1 == args.end() ? std::string() : *(it + 1);
}

// "mosquitto.conf": directive -> values, in order (comments and blank lines dropped).
std::multimap<std::string, std::string> read_mosquitto_conf() {
  std::multimap<std::string, std::string> out;
  std::istringstream in(read_text(kRepo / "docker/mosquitto.conf"));
  for (std::string line; std::getline(in, line);) {
    const auto first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line[first] == '#') continue;
    std::istringstream words(line.substr(first));
    std::string key;
    std::string rest;
    words >> key;
    std::getline(words >> std::ws, rest);
    out.emplace(key, rest);
  }
  return out;
}

// A listener of mosquitto.conf: its port, its address ("" for every interface) and its protocol
// (`protocol` lines apply to the listener above them; mqtt unless one says otherwise).
struct Listener {
  std::string port;
  std::string address;
  std::string protocol = "mqtt";
};

std::vector<Listener> read_listeners() {
  std::vector<Listener> out;
  std::istringstream in(read_text(kRepo / "docker/mosquitto.conf"));
  for (std::string line; std::getline(in, line);) {
    std::istringstream words(line);
    std::string key;
    words >> key;
    if (key == "listener") {
      Listener l;
      words >> l.port >> l.address;
      out.push_back(l);
    } else if (key == "protocol" && !out.empty()) {
      words >> out.back().protocol;
    }
  }
  return out;
}

// The one listener of `protocol`, or a listener without a port when there is not exactly one.
Listener listener_of(const std::string& protocol) {
  Listener found;
  int n = 0;
  for (const Listener& l : read_listeners()) {
    if (l.protocol == protocol) {
      found = l;
      ++n;
    }
  }
  return n == 1 ? found : Listener{};
}

// Dockerfile instructions with their continuation lines joined, comments dropped.
std::vector<std::string> read_dockerfile(const std::string& name = "docker/Dockerfile") {
  std::vector<std::string> out;
  std::istringstream in(read_text(kRepo / name));
  std::string joined;
  for (std::string line; std::getline(in, line);) {
    const auto first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line[first] == '#') continue;
    if (!line.empty() && line.back() == '\\') {
      joined += line.substr(0, line.size() - 1) + " ";
      continue;
    }
    out.push_back(joined + line);
    joined.clear();
  }
  return out;
}

class ComposeFile : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_THROW(compose_ = YAML::LoadFile((kRepo / "docker-compose.yml").string()));
    services_ = compose_["services"];
    ASSERT_TRUE(services_ && services_.IsMap());
  }

  YAML::Node service(const std::string& name) const { return services_[name]; }

  YAML::Node compose_;
  YAML::Node services_;
};

TEST_F(ComposeFile, EveryVariableHasADefault) {
  std::vector<std::string> all;
  collect_strings(compose_, all);
  int variables = 0;
  for (const std::string& s : all) {
    if (s.find("${") == std::string::npos) continue;
    ++variables;
    EXPECT_FALSE(with_defaults(s).empty()) << s;
    EXPECT_EQ(with_defaults(s).find('$'), std::string::npos) << s;
  }
  EXPECT_GT(variables, 0);  // the ports, the image and the wear time
}

TEST(ComposeVariables, DefaultsReplaceTheVariables) {
  EXPECT_EQ(with_defaults("127.0.0.1:${PORT:-1883}:1883"), "127.0.0.1:1883:1883");
  EXPECT_EQ(with_defaults("${A:-x}-${B:-y}"), "x-y");
  EXPECT_EQ(with_defaults("plain"), "plain");
  EXPECT_EQ(with_defaults("${NO_DEFAULT}"), "");
}

TEST_F(ComposeFile, DefinesMosquittoTwindAndTwinSim) {
  EXPECT_TRUE(service("mosquitto"));
  EXPECT_TRUE(service("twind"));
  EXPECT_TRUE(service("twin-sim"));
}

TEST_F(ComposeFile, MosquittoIsEclipseMosquitto2WithTheRepositorysConfigReadOnly) {
  const YAML::Node m = service("mosquitto");

  EXPECT_EQ(scalar(m["image"]), "eclipse-mosquitto:2");
  EXPECT_TRUE(contains(strings(m["volumes"]),
                       "./docker/mosquitto.conf:/mosquitto/config/mosquitto.conf:ro"));
}

TEST_F(ComposeFile, EveryBindMountSourceExistsInTheRepository) {
  for (const auto& entry : services_) {
    for (const std::string& v : strings(entry.second["volumes"])) {
      if (v.rfind("./", 0) != 0) continue;  // a named volume
      const fs::path source = kRepo / v.substr(2, v.find(':') - 2);
      EXPECT_TRUE(fs::exists(source)) << entry.first << ": " << v;
    }
  }
}

TEST_F(ComposeFile, EveryNamedVolumeIsDeclared) {
  const YAML::Node declared = compose_["volumes"];
  for (const auto& entry : services_) {
    for (const std::string& v : strings(entry.second["volumes"])) {
      if (v.rfind("./", 0) == 0 || v.rfind('/', 0) == 0) continue;
      const std::string name = v.substr(0, v.find(':'));
      EXPECT_TRUE(declared && declared[name]) << entry.first << ": volume " << name;
    }
  }
}

TEST_F(ComposeFile, EveryPublishedPortIsBoundToTheHostsLoopbackOnly) {
  int published = 0;
  for (const auto& entry : services_) {
    for (const std::string& p : strings(entry.second["ports"])) {
      ++published;
      EXPECT_EQ(p.rfind("127.0.0.1:", 0), 0u) << entry.first << ": " << p;
    }
  }
  EXPECT_EQ(published, 5);  // the broker's 1883 and 9001 (WebSockets), twind's 9100,
                            // Prometheus' 9090, Grafana's 3000
}

TEST_F(ComposeFile, TwindIsBuiltFromDockerfileWithTheRepositoryAsContext) {
  const YAML::Node build = service("twind")["build"];

  ASSERT_TRUE(build);
  EXPECT_EQ(build["context"].as<std::string>(), ".");
  EXPECT_EQ(build["dockerfile"].as<std::string>(), "docker/Dockerfile");
  EXPECT_TRUE(fs::exists(kRepo / build["dockerfile"].as<std::string>()));
}

TEST_F(ComposeFile, ServicesFromTheImageRunOnAReadOnlyRootWithATmpfsTmp) {
  for (const char* name : {"twind", "twin-sim"}) {
    const YAML::Node s = service(name);
    EXPECT_TRUE(s["read_only"] && s["read_only"].as<bool>()) << name;
    EXPECT_TRUE(contains(strings(s["tmpfs"]), "/tmp")) << name;
  }
}

TEST_F(ComposeFile, TwindReadsTheRepositorysConfigMountedReadOnlyAtEtcTwind) {
  const YAML::Node t = service("twind");
  const std::vector<std::string> command = strings(t["command"]);

  EXPECT_TRUE(contains(strings(t["volumes"]), "./config:/etc/twind:ro"));
  ASSERT_FALSE(command.empty());
  EXPECT_EQ(command.front(), "run");
  const std::string config = argument_after(command, "-c");
  ASSERT_EQ(config.rfind("/etc/twind/", 0), 0u) << config;
  EXPECT_TRUE(fs::exists(kRepo / "config" / config.substr(std::string("/etc/twind/").size())))
      << config << " is not in config/";
}

TEST_F(ComposeFile, BrokerUriNamesTheMosquittoServiceAndTheListenerPort) {
  const std::string port = listener_of("mqtt").port;
  ASSERT_FALSE(port.empty()) << "docker/mosquitto.conf: not exactly one MQTT listener";
  const std::string expected = "tcp://mosquitto:" + port;

  for (const char* name : {"twind", "twin-sim"}) {
    EXPECT_EQ(argument_after(strings(service(name)["command"]), "--broker"), expected) << name;
  }
  EXPECT_TRUE(contains(strings(service("mosquitto")["ports"]), "127.0.0.1:" + port + ":" + port));
}

TEST_F(ComposeFile, ClientsStartAfterTheBroker) {
  for (const char* name : {"twind", "twin-sim"}) {
    EXPECT_TRUE(service(name)["depends_on"]["mosquitto"]) << name;
  }
}

TEST_F(ComposeFile, TwindRestartsUnlessStoppedAndKeepsTheImagesHealthcheck) {
  const YAML::Node t = service("twind");

  EXPECT_EQ(t["restart"].as<std::string>(), "unless-stopped");
  EXPECT_FALSE(t["healthcheck"]) << "the image's HEALTHCHECK is the one to use";
}

TEST_F(ComposeFile, TwinSimIsTheSameImageRunAsTwinSimOnceWithWearAt30) {
  const YAML::Node s = service("twin-sim");

  EXPECT_EQ(s["image"].as<std::string>(), service("twind")["image"].as<std::string>());
  EXPECT_EQ(scalar(s["image"]), "twind:local");
  EXPECT_EQ(strings(s["entrypoint"]), std::vector<std::string>{"twin-sim"});
  EXPECT_EQ(argument_after(strings(s["command"]), "--wear-at"), "30");
  EXPECT_EQ(s["restart"].as<std::string>(), "no");
}

// podman-compose 1.0 hands a CMD check to a shell unquoted ($SYS/... became /...) and ignores
// `disable: true`; these forms mean the same to docker compose and to podman-compose.
TEST_F(ComposeFile, MosquittosHealthcheckHasNothingAShellWouldExpand) {
  const std::vector<std::string> test = strings(service("mosquitto")["healthcheck"]["test"]);

  ASSERT_FALSE(test.empty());
  EXPECT_EQ(test.front(), "CMD");
  for (const std::string& word : test) {
    EXPECT_EQ(word.find_first_of("$`'\"\\*?;&|<>()"), std::string::npos) << word;
  }
}

TEST_F(ComposeFile, TwinSimsHealthcheckIsNoneNotDisabled) {
  const YAML::Node check = service("twin-sim")["healthcheck"];

  ASSERT_TRUE(check);
  EXPECT_EQ(strings(check["test"]), std::vector<std::string>{"NONE"});
  EXPECT_FALSE(check["disable"]);
}

TEST_F(ComposeFile, TwinSimRunsLongEnoughToReachTheWear) {
  const std::vector<std::string> command = strings(service("twin-sim")["command"]);
  const std::string duration = argument_after(command, "--duration");

  // twin-sim's default duration (8 s) would end the run before a wear at 30 s.
  ASSERT_FALSE(duration.empty());
  EXPECT_GT(std::stod(duration), std::stod(argument_after(command, "--wear-at")) + 10.0);
}

TEST_F(ComposeFile, TwindsHttpEndpointListensOnTheContainersInterfacesAtThePublishedPort) {
  const std::string http = argument_after(strings(service("twind")["command"]), "--http");

  // twind's default (127.0.0.1) would be unreachable through the published port.
  EXPECT_EQ(http.rfind("0.0.0.0:", 0), 0u) << http;
  const std::string port = http.substr(http.find(':') + 1);
  EXPECT_TRUE(contains(strings(service("twind")["ports"]), "127.0.0.1:" + port + ":" + port));
}

TEST_F(ComposeFile, TwindsPublishedPortIsTheOneTheImageExposesAndProbes) {
  std::string exposed;
  std::string healthcheck;
  for (const std::string& line : read_dockerfile()) {
    if (line.rfind("EXPOSE ", 0) == 0) exposed = line.substr(7);
    if (line.rfind("HEALTHCHECK ", 0) == 0) healthcheck = line;
  }

  ASSERT_FALSE(exposed.empty());
  EXPECT_TRUE(contains(strings(service("twind")["ports"]), "127.0.0.1:" + exposed + ":" + exposed));
  EXPECT_NE(healthcheck.find("http://127.0.0.1:" + exposed + "/healthz"), std::string::npos)
      << healthcheck;
}

// --- the `monitoring` profile: Prometheus and Grafana ------------------------------------------

TEST_F(ComposeFile, PrometheusAndGrafanaAreInTheMonitoringProfileAndNothingElseIs) {
  for (const auto& entry : services_) {
    const std::string name = entry.first.as<std::string>();
    const std::vector<std::string> profiles = strings(entry.second["profiles"]);
    if (name == "prometheus" || name == "grafana") {
      EXPECT_EQ(profiles, std::vector<std::string>{"monitoring"}) << name;
    } else {
      EXPECT_TRUE(profiles.empty()) << name << " would not start without a profile";
    }
  }
  EXPECT_TRUE(service("prometheus"));
  EXPECT_TRUE(service("grafana"));
}

TEST_F(ComposeFile, PrometheusIsBuiltFromDebiansPackageOnBookwormSlim) {
  const YAML::Node build = service("prometheus")["build"];

  ASSERT_TRUE(build);
  const fs::path dockerfile =
      fs::path(build["context"].as<std::string>()) / build["dockerfile"].as<std::string>();
  ASSERT_TRUE(fs::exists(kRepo / dockerfile)) << dockerfile;
  const std::vector<std::string> lines = read_dockerfile(dockerfile.string());
  EXPECT_TRUE(contains(lines, "FROM debian:bookworm-slim"));
  bool installs = false;
  std::string cmd;
  for (const std::string& line : lines) {
    if (line.find("apt-get install") != std::string::npos &&
        line.find(" prometheus ") != std::string::npos) {
      installs = true;
    }
    if (line.rfind("CMD ", 0) == 0) cmd = line;
  }
  EXPECT_TRUE(installs) << "no `apt-get install ... prometheus` in " << dockerfile;
  EXPECT_NE(cmd.find("--config.file=/etc/prometheus/prometheus.yml"), std::string::npos) << cmd;
  EXPECT_NE(cmd.find("--storage.tsdb.path=/prometheus"), std::string::npos) << cmd;
  EXPECT_NE(cmd.find("--web.listen-address=:9090"), std::string::npos) << cmd;
  EXPECT_TRUE(contains(strings(service("prometheus")["ports"]),
                       "127.0.0.1:" + with_defaults("${TWIND_PROMETHEUS_PORT:-9090}") + ":9090"));
}

TEST_F(ComposeFile, PrometheusRunsTheRepositorysConfigurationAndRules) {
  const std::vector<std::string> volumes = strings(service("prometheus")["volumes"]);

  EXPECT_TRUE(contains(volumes,
                       "./monitoring/prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro"));
  EXPECT_TRUE(contains(volumes, "./monitoring/prometheus/rules:/etc/prometheus/rules:ro"));
  EXPECT_TRUE(contains(volumes, "prometheus-data:/prometheus"));
  // rule_files are relative to the configuration's directory: /etc/prometheus/rules/.
  const YAML::Node conf = YAML::LoadFile((kRepo / "monitoring/prometheus/prometheus.yml").string());
  EXPECT_EQ(strings(conf["rule_files"]), std::vector<std::string>{"rules/*.yml"});
}

TEST_F(ComposeFile, PrometheusScrapesTheTwindServiceAtItsHttpPort) {
  const std::string http = argument_after(strings(service("twind")["command"]), "--http");
  const std::string port = http.substr(http.find(':') + 1);
  const YAML::Node conf = YAML::LoadFile((kRepo / "monitoring/prometheus/prometheus.yml").string());

  ASSERT_EQ(conf["scrape_configs"].size(), 1u);
  const YAML::Node job = conf["scrape_configs"][0];
  // The rules' TwindDown matches up{job="twind"}.
  EXPECT_EQ(job["job_name"].as<std::string>(), "twind");
  EXPECT_EQ(strings(job["static_configs"][0]["targets"]),
            std::vector<std::string>{"twind:" + port});
}

TEST_F(ComposeFile, GrafanaIsTheOfficialImagePinnedToAVersion) {
  const std::string image = scalar(service("grafana")["image"]);
  const std::string repo = "grafana/grafana:";

  ASSERT_EQ(image.rfind(repo, 0), 0u) << image;
  const std::string tag = image.substr(repo.size());
  EXPECT_EQ(std::count(tag.begin(), tag.end(), '.'), 2) << tag << " is not a version x.y.z";
  EXPECT_EQ(tag.find_first_not_of("0123456789."), std::string::npos) << tag;
  EXPECT_TRUE(contains(strings(service("grafana")["ports"]),
                       "127.0.0.1:" + with_defaults("${TWIND_GRAFANA_PORT:-3000}") + ":3000"));
}

TEST_F(ComposeFile, GrafanaIsProvisionedWithPrometheusAndTwindsDashboard) {
  const std::vector<std::string> volumes = strings(service("grafana")["volumes"]);
  const YAML::Node datasources = YAML::LoadFile(
      (kRepo / "monitoring/grafana/provisioning/datasources/prometheus.yml").string());
  const YAML::Node dashboards =
      YAML::LoadFile((kRepo / "monitoring/grafana/provisioning/dashboards/twind.yml").string());

  EXPECT_TRUE(contains(volumes,
                       "./monitoring/grafana/provisioning/datasources:"
                       "/etc/grafana/provisioning/datasources:ro"));
  EXPECT_TRUE(contains(volumes,
                       "./monitoring/grafana/provisioning/dashboards:"
                       "/etc/grafana/provisioning/dashboards:ro"));
  // The dashboards' directory is mounted where the provider reads, and holds twind.json.
  const std::string path = dashboards["providers"][0]["options"]["path"].as<std::string>();
  EXPECT_TRUE(contains(volumes, "./monitoring/grafana/dashboards:" + path + ":ro")) << path;
  EXPECT_TRUE(fs::exists(kRepo / "monitoring/grafana/dashboards/twind.json"));
  // The data source is the prometheus service at the port its image listens on.
  EXPECT_EQ(datasources["datasources"][0]["url"].as<std::string>(), "http://prometheus:9090");
  EXPECT_EQ(datasources["datasources"][0]["type"].as<std::string>(), "prometheus");
}

// Browser dashboards (docs/dashboards.md) connect to ws://127.0.0.1:9001.
TEST_F(ComposeFile, TheWebSocketsListenerIsPublishedAtTheDocumentedPort) {
  const std::string port = listener_of("websockets").port;

  ASSERT_EQ(port, "9001") << "docker/mosquitto.conf: not exactly one WebSockets listener on 9001";
  EXPECT_TRUE(contains(strings(service("mosquitto")["ports"]), "127.0.0.1:" + port + ":" + port));
}

TEST(MosquittoConf, ListensOnEveryInterfaceOfTheContainer) {
  const std::vector<Listener> listeners = read_listeners();

  ASSERT_EQ(listeners.size(), 2u);  // MQTT and MQTT over WebSockets
  for (const Listener& l : listeners) {
    // "listener PORT" with no address binds every interface; with one it would bind only that.
    EXPECT_EQ(l.address, "") << "listener " << l.port;
  }
}

TEST(MosquittoConf, AnonymousAccessIsOnAndTheFileSaysHowToTurnItOff) {
  const auto conf = read_mosquitto_conf();
  const std::string text = read_text(kRepo / "docker/mosquitto.conf");

  ASSERT_EQ(conf.count("allow_anonymous"), 1u);
  EXPECT_EQ(conf.find("allow_anonymous")->second, "true");  // Mosquitto 2 refuses all otherwise
  EXPECT_NE(text.find("password_file"), std::string::npos);
  EXPECT_NE(text.find("production"), std::string::npos);
}

TEST(MosquittoConf, PersistenceIsOnInAComposeVolume) {
  const auto conf = read_mosquitto_conf();
  const YAML::Node compose = YAML::LoadFile((kRepo / "docker-compose.yml").string());

  ASSERT_EQ(conf.count("persistence"), 1u);
  EXPECT_EQ(conf.find("persistence")->second, "true");
  ASSERT_EQ(conf.count("persistence_location"), 1u);
  std::string location = conf.find("persistence_location")->second;
  while (location.size() > 1 && location.back() == '/') location.pop_back();
  bool mounted = false;
  for (const std::string& v : strings(compose["services"]["mosquitto"]["volumes"])) {
    const auto colon = v.find(':');
    const std::string source = v.substr(0, colon);
    const std::string target = v.substr(colon + 1, v.find(':', colon + 1) - colon - 1);
    if (target == location && source.rfind("./", 0) != 0) mounted = true;
  }
  EXPECT_TRUE(mounted) << location << " is not a named volume of the mosquitto service";
}

TEST(MosquittoConf, LogsGoToTheContainerLog) {
  const auto conf = read_mosquitto_conf();

  ASSERT_GE(conf.count("log_dest"), 1u);
  const std::string dest = conf.find("log_dest")->second;
  EXPECT_TRUE(dest == "stderr" || dest == "stdout") << dest;
}

}  // namespace
