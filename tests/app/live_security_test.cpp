// twind run against a real Mosquitto that asks for TLS, passwords, client certificates and an
// ACL. Certificates are made with openssl and the password file with mosquitto_passwd at test
// time. The broker has three listeners on loopback:
//   - plaintext, anonymous, no ACL: the test's own observer and telemetry source;
//   - TLS with a password file and the ACL;
//   - TLS requiring a client certificate (its CN is the user name), with the same ACL.
// Label: integration.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <csignal>
#include <fstream>
#include <regex>
#include <thread>

#include "support/eventually.hpp"
#include "support/mosquitto.hpp"
#include "support/paths.hpp"
#include "support/pki.hpp"
#include "support/process.hpp"
#include "support/subscriber.hpp"

namespace twind::testing {
namespace {

using namespace std::chrono_literals;

const std::string kPassword = "Tw1nd-s3cret-pw";
const std::string kDeniedPassword = "D3nied-s3cret-pw";

void write_file(const std::string& path, const std::string& text, mode_t mode = 0600) {
  std::ofstream(path) << text;
  ::chmod(path.c_str(), mode);
}

std::size_t count_matches(const std::string& text, const std::string& pattern) {
  const std::regex re(pattern);
  return static_cast<std::size_t>(
      std::distance(std::sregex_iterator(text.begin(), text.end(), re), std::sregex_iterator()));
}

struct SecureBroker {
  SecureBroker() {
    pki.make();
    const std::string passwd = dir.path() + "/passwd";
    run_checked({"mosquitto_passwd", "-b", "-c", passwd, "twind", kPassword});
    run_checked({"mosquitto_passwd", "-b", passwd, "twind-denied", kDeniedPassword});
    run_checked({"mosquitto_passwd", "-b", passwd, "twind-gap", kDeniedPassword});
    // twind reads its telemetry and writes its own topics; twind-denied may not write states.
    acl = dir.path() + "/acl";
    write_acl(false);
    MosquittoOptions o;
    o.prelude = {"per_listener_settings true"};
    o.extra_config = {"listener " + std::to_string(password_port) + " 127.0.0.1",
                      "cafile " + pki.ca,
                      "certfile " + pki.server_cert,
                      "keyfile " + pki.server_key,
                      "allow_anonymous false",
                      "password_file " + passwd,
                      "acl_file " + acl,
                      "listener " + std::to_string(certificate_port) + " 127.0.0.1",
                      "cafile " + pki.ca,
                      "certfile " + pki.server_cert,
                      "keyfile " + pki.server_key,
                      "require_certificate true",
                      "use_identity_as_username true",
                      "allow_anonymous false",
                      "acl_file " + acl};
    broker = std::make_unique<Mosquitto>(o);
    for (int port : {password_port, certificate_port}) {
      if (!eventually([&] { return Mosquitto::accepts(port); }, 5s)) {
        throw std::runtime_error("TLS listener down:\n" + log());
      }
    }
  }

  // twind-gap may publish its states and alerts once `gap_over`, and reads them always.
  void write_acl(bool gap_over) const {
    write_file(acl,
               "user twind\ntopic read plant/#\ntopic readwrite twin/#\n\n"
               "user twind-client\ntopic read plant/#\ntopic readwrite twin/#\n\n"
               "user twind-denied\ntopic read plant/#\ntopic readwrite twin/status\n"
               "topic readwrite twin/alert\ntopic read twin/state\n\n"
               "user twind-gap\ntopic read plant/#\ntopic readwrite twin/status\n" +
                   std::string(gap_over ? "topic readwrite twin/#\n"
                                        : "topic read twin/state\ntopic read twin/alert\n"));
  }

  [[nodiscard]] std::string log() const { return broker->log(); }
  // Connections the broker accepted on `port` (each attempt of a client is one).
  [[nodiscard]] std::size_t connections_on(int port) const {
    return count_matches(
        log(), "New connection from 127\\.0\\.0\\.1:[0-9]+ on port " + std::to_string(port));
  }

  TestPki pki;
  TempDir dir{"twind-secure"};
  std::string acl;
  int password_port = Mosquitto::free_port();
  int certificate_port = Mosquitto::free_port();
  std::unique_ptr<Mosquitto> broker;
};

// The seed configuration with its broker section replaced by `broker_yaml` (indented keys).
std::string seed_with_broker(const std::string& broker_yaml) {
  const std::string seed = read_file(kSeed);
  const std::regex section("broker:\n(  [^\n]*\n)*");
  return std::regex_replace(seed, section, "broker:\n" + broker_yaml,
                            std::regex_constants::format_first_only);
}

// twind run on a configuration written into `dir`, its log on stderr.
struct Twind {
  Twind(const std::string& dir, const std::string& broker_yaml, const std::string& name = "twind")
      : config(dir + "/" + name + ".yaml") {
    write_file(config, seed_with_broker(broker_yaml), 0644);
    process = std::make_unique<Process>(
        std::vector<std::string>{kTwind, "run", "-c", config, "--http", "off"},
        ProcessOptions{.env = {}, .dir = dir, .name = name});
  }
  [[nodiscard]] std::string log() const { return process->stderr_text(); }

  std::string config;
  std::unique_ptr<Process> process;
};

// Nothing secret in a log: no password, no line of any private key.
void expect_no_secret(const std::string& log, const TestPki& pki) {
  EXPECT_EQ(log.find(kPassword), std::string::npos) << log;
  EXPECT_EQ(log.find(kDeniedPassword), std::string::npos) << log;
  for (const std::string& key : pki.private_keys()) {
    std::istringstream lines(key);
    for (std::string line; std::getline(lines, line);) {
      if (line.empty() || line.starts_with("-----")) continue;
      EXPECT_EQ(log.find(line), std::string::npos) << "a private key line in the log:\n" << log;
    }
  }
}

// The `ts` of every twin/state `sub` received, in arrival order.
std::vector<double> state_times(const Subscriber& sub) {
  std::vector<double> out;
  const std::regex ts("\"ts\":([0-9.]+)");
  for (const std::string& p : sub.payloads("twin/state")) {
    std::smatch m;
    if (std::regex_search(p, m, ts)) out.push_back(std::stod(m[1]));
  }
  return out;
}

bool online_from(const Subscriber& sub, std::chrono::milliseconds timeout) {
  return sub.wait_for(
      [](const std::vector<Received>& ms) {
        for (const Received& r : ms) {
          if (r.topic == "twin/status" && !r.retained &&
              r.payload.find("\"online\"") != std::string::npos) {
            return true;
          }
        }
        return false;
      },
      timeout);
}

// Stops twind with SIGTERM and expects the clean exit (code 0) of docs/interfaces.md.
void expect_clean_exit(Twind& t) {
  const ExitStatus st = t.process->terminate(5000ms);
  EXPECT_TRUE(st.exited && st.code == 0) << "signal " << st.signal << "\n" << t.log();
}

class Security : public ::testing::Test {
 protected:
  SecureBroker secure;
  TempDir dir{"twind-security"};
  std::string password_file = dir.path() + "/password";

  void SetUp() override { write_file(password_file, kPassword + "\n"); }
  [[nodiscard]] std::string tls_uri(int port) const {
    return "ssl://127.0.0.1:" + std::to_string(port);
  }
  // The broker section for the TLS listener with a password: `user`, the password file, `ca`.
  [[nodiscard]] std::string with_password(const std::string& user, const std::string& ca) const {
    return "  uri: " + tls_uri(secure.password_port) + "\n  client_id: twind\n  username: " + user +
           "\n  password_file: " + password_file + "\n  tls:\n    ca_file: " + ca + "\n";
  }
};

TEST_F(Security, TlsWithAPasswordConnectsAndTheTwinRunsOnTelemetryFromThePlaintextSide) {
  Subscriber observer(secure.broker->uri(), {"twin/#"});
  Twind t(dir.path(), with_password("twind", secure.pki.ca));

  ASSERT_TRUE(t.process->wait_for_line("connected to the broker", 10s, true))
      << t.log() << secure.log();
  ASSERT_TRUE(online_from(observer, 5s)) << t.log();
  observer.publish("plant/u", "1");
  observer.publish("plant/y", "1");
  ASSERT_TRUE(observer.wait_for(
      [](const std::vector<Received>& ms) {
        for (const Received& r : ms) {
          if (r.topic == "twin/state" && r.payload.find("\"status\":\"ok\"") != std::string::npos)
            return true;
        }
        return false;
      },
      5s))
      << t.log();
  // Past the publication check's timeout (5 s from twind's first publications, at its connection,
  // before its first state): the check runs after each tick's states, so a state 5.5 s after the
  // first shows that a check past the timeout has finished.
  const double first_state = state_times(observer).front();
  ASSERT_TRUE(eventually([&] { return state_times(observer).back() >= first_state + 5.5; }, 15s))
      << t.log();

  EXPECT_EQ(t.log().find("never delivered"), std::string::npos) << t.log();
  EXPECT_EQ(t.log().find(" error "), std::string::npos) << t.log();
  expect_clean_exit(t);
  expect_no_secret(t.log(), secure.pki);
}

TEST_F(Security, AClientCertificateAloneIsEnough) {
  Subscriber observer(secure.broker->uri(), {"twin/#"});
  Twind t(dir.path(), "  uri: " + tls_uri(secure.certificate_port) +
                          "\n  client_id: twind\n  tls:\n    ca_file: " + secure.pki.ca +
                          "\n    cert_file: " + secure.pki.client_cert +
                          "\n    key_file: " + secure.pki.client_key + "\n");

  ASSERT_TRUE(t.process->wait_for_line("connected to the broker", 10s, true))
      << t.log() << secure.log();
  ASSERT_TRUE(online_from(observer, 5s)) << t.log();
  EXPECT_TRUE(observer.wait_for_count("twin/state", 2, 3s)) << t.log();
  expect_clean_exit(t);
  expect_no_secret(t.log(), secure.pki);
}

TEST_F(Security, WithoutItsClientCertificateTwindIsRefusedAtTheHandshake) {
  Twind t(dir.path(), "  uri: " + tls_uri(secure.certificate_port) +
                          "\n  client_id: twind\n  tls:\n    ca_file: " + secure.pki.ca + "\n");

  const auto line = t.process->wait_for_line("cannot reach the broker", 10s, true);
  ASSERT_TRUE(line) << t.log();
  // Still there and trying: the broker sees another attempt after the report.
  const std::size_t attempts = secure.connections_on(secure.certificate_port);
  EXPECT_TRUE(
      eventually([&] { return secure.connections_on(secure.certificate_port) > attempts; }, 10s))
      << secure.log();
  // The reason is OpenSSL's and names the certificate (its exact words, here "tlsv13 alert
  // certificate required", depend on the TLS version and on when the refusal is read).
  EXPECT_NE(line->find("TLS: "), std::string::npos) << *line;
  EXPECT_NE(line->find("certificate"), std::string::npos) << *line;
  EXPECT_TRUE(t.process->running());
  EXPECT_EQ(t.log().find("connected to the broker"), std::string::npos) << t.log();
  expect_clean_exit(t);
}

// A failure that will not go away: one clear line, retries that back off (not a tight loop), no
// crash, and a prompt, clean exit on SIGTERM.
void expect_one_line_and_backoff(Twind& t, const SecureBroker& secure, int port,
                                 const std::string& reason) {
  const auto line = t.process->wait_for_line("cannot reach the broker", 10s, true);
  ASSERT_TRUE(line) << t.log();
  // The broker's log tells each attempt (a new connection on the port); it is read every 10 ms
  // for 6 s, and each attempt timed when it first shows.
  const auto t0 = std::chrono::steady_clock::now();
  const std::size_t before = secure.connections_on(port);
  std::vector<double> at;  // seconds since t0
  while (std::chrono::steady_clock::now() - t0 < 6s) {
    const std::size_t seen = secure.connections_on(port) - before;
    const double now = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    while (at.size() < seen) at.push_back(now);
    std::this_thread::sleep_for(10ms);
  }
  const std::size_t attempts = at.size();
  std::string times;
  for (const double a : at) times += " " + std::to_string(a);

  EXPECT_NE(line->find(reason), std::string::npos) << *line;
  EXPECT_NE(line->find(" error "), std::string::npos) << *line;
  EXPECT_EQ(count_matches(t.log(), "cannot reach the broker"), 1U) << t.log();
  // Backoff from 0.25 s doubling (+-20 %) makes 4 or 5 attempts in 6 s: retries happen, but
  // fewer than even a fixed 0.5 s period would make, let alone a tight loop (hundreds), and the
  // waits grow. A busy machine only delays attempts, which lowers the count: at least 3 need
  // 1.75 s of backoff, and the last wait is still longer than the first.
  EXPECT_GE(attempts, 3U) << "no retries in 6 s\n" << secure.log();
  EXPECT_LE(attempts, 10U) << "retries are not backing off: attempts at" << times;
  if (attempts >= 3) {
    EXPECT_GT(at[attempts - 1] - at[attempts - 2], at[1] - at[0])
        << "the waits between attempts do not grow: attempts at" << times;
  }
  EXPECT_TRUE(t.process->running()) << t.log();
  EXPECT_EQ(t.log().find("connected to the broker"), std::string::npos) << t.log();
  expect_clean_exit(t);
  expect_no_secret(t.log(), secure.pki);
}

TEST_F(Security, AWrongCaIsOneClearLineAndRetriesWithBackoff) {
  Twind t(dir.path(), with_password("twind", secure.pki.rogue_ca));
  expect_one_line_and_backoff(t, secure, secure.password_port, "certificate verify failed");
}

TEST_F(Security, AWrongPasswordIsOneClearLineAndRetriesWithBackoff) {
  write_file(password_file, "not-the-password\n");
  Twind t(dir.path(), with_password("twind", secure.pki.ca));
  // Mosquitto answers a wrong password with CONNACK 5 under MQTT 3.1.1.
  expect_one_line_and_backoff(t, secure, secure.password_port, "not authorized");
  EXPECT_EQ(t.log().find("not-the-password"), std::string::npos) << t.log();
}

TEST_F(Security, TlsAskedForNeverFallsBackToPlaintext) {
  // The plaintext listener would take anyone: a client that fell back would connect.
  Subscriber observer(secure.broker->uri(), {"twin/#"});
  Twind t(dir.path(), "  uri: ssl://127.0.0.1:" + std::to_string(secure.broker->port()) +
                          "\n  client_id: twind\n  tls:\n    ca_file: " + secure.pki.ca + "\n");

  const auto line = t.process->wait_for_line("cannot reach the broker", 10s, true);
  ASSERT_TRUE(line) << t.log();
  EXPECT_NE(line->find("a plaintext listener?"), std::string::npos) << *line;
  EXPECT_FALSE(online_from(observer, 3s));
  EXPECT_TRUE(observer.payloads("twin/state").empty());
  EXPECT_EQ(t.log().find("connected to the broker"), std::string::npos) << t.log();
  expect_clean_exit(t);

  // TLS settings with a plaintext URI are refused before anything is sent.
  const std::string plain = dir.path() + "/plain.yaml";
  write_file(plain,
             seed_with_broker("  uri: " + secure.broker->uri() +
                              "\n  tls:\n    ca_file: " + secure.pki.ca + "\n"),
             0644);
  for (const std::string command : {"check", "run"}) {
    std::vector<std::string> argv{kTwind, command, "-c", plain};
    if (command == "run") argv.insert(argv.end(), {"--http", "off"});
    Process p(argv, ProcessOptions{.env = {}, .dir = dir.path(), .name = command});
    const auto st = p.wait_exit(10s);
    ASSERT_TRUE(st) << command << " did not exit";
    EXPECT_TRUE(st->exited && st->code == 2) << command << ": " << p.stderr_text();
    EXPECT_NE((p.stdout_text() + p.stderr_text()).find("ssl://"), std::string::npos)
        << p.stdout_text() << p.stderr_text();
  }
}

TEST_F(Security, AnAclDenyingTheStateTopicIsReportedAndTheOthersAreNot) {
  write_file(password_file, kDeniedPassword + "\n");
  Subscriber observer(secure.broker->uri(), {"twin/#"});
  Twind t(dir.path(), with_password("twind-denied", secure.pki.ca));

  const auto line = t.process->wait_for_line("never delivered", 12s, true);
  ASSERT_TRUE(line) << t.log() << secure.log();
  EXPECT_NE(line->find("twin/state"), std::string::npos) << *line;
  EXPECT_NE(line->find("ACL"), std::string::npos) << *line;
  EXPECT_NE(line->find(" error "), std::string::npos) << *line;
  EXPECT_TRUE(online_from(observer, 1s));  // the status topic is allowed, and not reported
  // Reported once, not on every check: two more states denied by the broker after the report
  // (the check runs after each tick's states) before counting.
  const std::string denied_state = "Denied PUBLISH from twind [^\n]*'twin/state'";  // client id
  const std::size_t denied_before = count_matches(secure.log(), denied_state);
  EXPECT_TRUE(eventually(
      [&] { return count_matches(secure.log(), denied_state) >= denied_before + 2; }, 10s))
      << secure.log();
  EXPECT_EQ(count_matches(t.log(), "never delivered"), 1U) << t.log();
  EXPECT_TRUE(observer.payloads("twin/state").empty());
  // The broker saw the denial too.
  EXPECT_NE(secure.log().find("Denied PUBLISH"), std::string::npos);
  expect_clean_exit(t);
  expect_no_secret(t.log(), secure.pki);
}

// A broker that acknowledged twind's alerts and dropped them for a while (here its ACL, until it
// is changed and reloaded; a clustered broker electing leaders does the same): once twind's
// states come back to it, it publishes the alerts of that gap once more, and a subscriber gets
// the alert it missed, under its id.
TEST_F(Security, AlertsTheBrokerDroppedArePublishedOnceMoreWhenItDeliversAgain) {
  write_file(password_file, kDeniedPassword + "\n");
  Subscriber observer(secure.broker->uri(), {"twin/#"});
  Twind t(dir.path(), with_password("twind-gap", secure.pki.ca));
  ASSERT_TRUE(t.process->wait_for_line("connected to the broker", 10s, true))
      << t.log() << secure.log();
  ASSERT_TRUE(online_from(observer, 5s)) << t.log();
  observer.publish("plant/u", "1");
  observer.publish("plant/y", "1");
  observer.publish("plant/y", "3");  // raised: acknowledged, dropped
  ASSERT_TRUE(t.process->wait_for_line("ALERT: divergence", 5s, true)) << t.log();
  ASSERT_TRUE(t.process->wait_for_line("never delivered", 12s, true)) << t.log();
  EXPECT_TRUE(observer.payloads("twin/alert").empty());

  secure.write_acl(true);
  secure.broker->reload();
  observer.publish("plant/y", "3");  // the plant still worn: twind's states go on
  ASSERT_TRUE(t.process->wait_for_line("published once more", 15s, true))
      << t.log() << secure.log();
  ASSERT_TRUE(observer.wait_for(
      [](const std::vector<Received>& ms) {
        for (const Received& r : ms) {
          if (r.topic == "twin/alert" &&
              r.payload.find(R"("id":"divergence")") != std::string::npos &&
              r.payload.find(R"("state":"raised")") != std::string::npos) {
            return true;
          }
        }
        return false;
      },
      5s))
      << t.log();
  expect_clean_exit(t);
  expect_no_secret(t.log(), secure.pki);
}

}  // namespace
}  // namespace twind::testing
