// The persistent subscriber of tests/chaos/chaos.sh: it records every alert twind delivers, across
// broker kills and freezes, so that the script can compare twind's `twind_alerts_total` with the
// distinct alerts that reached a subscriber.
//
//   twind_alert_log URI CLIENT_ID OUT_FILE [FILTER]      FILTER default twin/+/alert
//
// MQTT 3.1.1, clean_session=false, QoS 1, a fixed client id: while it is away (the broker killed
// and restarted from its persistence file, or frozen), the broker queues the alerts for it. It
// reconnects by itself (every 250 ms while disconnected, from its main thread); when the broker
// answers a reconnection with session_present=0 (the broker forgot the session, so whatever it
// queued is gone), it subscribes again and says so on stderr ("session lost"), so that a broker's
// loss is told apart from twind's. Each payload is appended to OUT_FILE as one line and flushed
// (twind writes compact JSON, one line). SIGINT/SIGTERM: disconnect, print the counts, exit 0.
#include <mqtt/async_client.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>

namespace {

std::atomic<bool> g_stop{false};

extern "C" void on_signal(int /*signal*/) {
  g_stop = true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4 && argc != 5) {
    std::fprintf(stderr, "usage: twind_alert_log URI CLIENT_ID OUT_FILE [FILTER]\n");
    return 2;
  }
  const std::string uri = argv[1];
  const std::string client_id = argv[2];
  const std::string filter = argc == 5 ? argv[4] : "twin/+/alert";
  std::FILE* out = std::fopen(argv[3], "a");
  if (out == nullptr) {
    std::perror(argv[3]);
    return 2;
  }
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);

  std::mutex mu;  // the file and the counts; the callback runs on Paho's thread
  std::uint64_t received = 0;
  std::uint64_t connects = 0;
  std::uint64_t sessions_lost = 0;

  ::mqtt::async_client cli(
      uri, client_id, ::mqtt::create_options_builder().mqtt_version(MQTTVERSION_3_1_1).finalize(),
      nullptr);
  cli.set_message_callback([&](::mqtt::const_message_ptr m) {
    const std::lock_guard lock(mu);
    const std::string& payload = m->get_payload_str();
    std::fwrite(payload.data(), 1, payload.size(), out);
    std::fputc('\n', out);
    std::fflush(out);
    ++received;
  });
  cli.set_connection_lost_handler([](const std::string& cause) {
    std::fprintf(stderr, "twind_alert_log: connection lost: %s\n", cause.c_str());
  });

  const auto opts = ::mqtt::connect_options_builder()
                        .mqtt_version(MQTTVERSION_3_1_1)
                        .clean_session(false)
                        .keep_alive_interval(std::chrono::seconds(2))
                        .connect_timeout(std::chrono::seconds(2))
                        .finalize();
  bool subscribed_once = false;
  while (!g_stop) {
    if (!cli.is_connected()) {
      try {
        auto tok = cli.connect(opts);
        if (!tok->wait_for(std::chrono::seconds(3))) throw ::mqtt::exception(-1, "connect timeout");
        const bool session = tok->get_connect_response().is_session_present();
        ++connects;
        if (!session) {
          if (subscribed_once) {
            ++sessions_lost;
            std::fprintf(stderr, "twind_alert_log: session lost (session_present=0)\n");
          }
          if (!cli.subscribe(filter, 1)->wait_for(std::chrono::seconds(3))) {
            throw ::mqtt::exception(-1, "subscribe timeout");
          }
          subscribed_once = true;
        }
        std::fprintf(stderr, "twind_alert_log: connected (session_present=%d), subscribed\n",
                     session ? 1 : 0);
      } catch (const ::mqtt::exception&) {
        // The broker is away: try again shortly. A half-open attempt is closed before the next.
        try {
          if (cli.is_connected()) cli.disconnect()->wait_for(std::chrono::seconds(1));
        } catch (const ::mqtt::exception&) {  // NOLINT(bugprone-empty-catch): retried below
        }
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  try {
    cli.disconnect()->wait_for(std::chrono::seconds(2));
  } catch (const ::mqtt::exception&) {  // NOLINT(bugprone-empty-catch): exiting anyway
  }
  const std::lock_guard lock(mu);
  std::fclose(out);
  std::fprintf(stderr, "twind_alert_log: received=%llu connects=%llu sessions_lost=%llu\n",
               static_cast<unsigned long long>(received), static_cast<unsigned long long>(connects),
               static_cast<unsigned long long>(sessions_lost));
  return 0;
}
