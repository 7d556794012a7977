// A process that connects through twind's Paho client with a will and then waits to be killed:
// the will test SIGKILLs it. Usage: mqtt_will_child URI CLIENT_ID WILL_TOPIC WILL_PAYLOAD
// Prints "connected" on stdout once connected; exits by itself after 30 s so that a failed test
// leaves nothing behind.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "twind/mqtt/client.hpp"

namespace {

class PrintingHandler final : public twind::mqtt::Handler {
 public:
  void on_connected() override { say("connected\n"); }
  void on_disconnected(const std::string& cause) override { say("disconnected: " + cause + "\n"); }
  void on_message(std::string_view, std::string_view) override {}

 private:
  static void say(const std::string& line) {
    // write(2) is unbuffered: the test reads the file while we sleep.
    [[maybe_unused]] const auto n = ::write(STDOUT_FILENO, line.data(), line.size());
  }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: %s URI CLIENT_ID WILL_TOPIC WILL_PAYLOAD\n", argv[0]);
    return 2;
  }
  twind::mqtt::ConnectOptions options;
  options.uri = argv[1];
  options.client_id = argv[2];
  options.keepalive = std::chrono::seconds(5);
  options.will = twind::mqtt::Will{argv[3], argv[4], 1, true};
  options.min_retry = std::chrono::milliseconds(100);
  options.max_retry = std::chrono::milliseconds(500);
  PrintingHandler handler;
  auto client = twind::mqtt::make_paho_client(options);
  client->start(handler);
  std::this_thread::sleep_for(std::chrono::seconds(30));
  client->stop(std::nullopt, std::chrono::milliseconds(1000));
  return 0;
}
