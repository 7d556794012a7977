#include "support/subscriber.hpp"

#include <mqtt/async_client.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <stdexcept>

// LeakSanitizer's default suppressions for a test process that links the Subscriber (called by
// the sanitizer runtime of an ASan build, ignored otherwise). Once in a full ASan run, a test
// process exited with one 124,800-byte block lost inside libpaho-mqtt3as, allocated when a Paho
// client was created (the distribution's library has no symbols; a block of this size from
// MQTTAsync_createWithOptions is reported upstream, eclipse-paho/paho.mqtt.cpp#541). That is the
// library's bookkeeping in the test's own clients, not twind's: twind runs in child processes,
// which do not link this and keep the full leak check.
extern "C" const char* __lsan_default_suppressions();
extern "C" const char* __lsan_default_suppressions() {
  return "leak:libpaho-mqtt3as.so\n";
}

namespace twind::testing {
namespace {

constexpr std::chrono::seconds kTimeout{5};

std::string unique_id() {
  static std::atomic<int> counter{0};
  return "twind-test-sub-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
}

}  // namespace

struct Subscriber::Impl {
  mutable std::mutex mu;
  mutable std::condition_variable cv;
  std::vector<Received> received;
  std::unique_ptr<::mqtt::async_client> cli;  // last: destroyed first, before what it calls into
};

Subscriber::Subscriber(const std::string& uri, const std::vector<std::string>& filters, int qos,
                       std::string client_id)
    : impl_(std::make_unique<Impl>()) {
  if (client_id.empty()) client_id = unique_id();
  impl_->cli = std::make_unique<::mqtt::async_client>(
      uri, client_id, ::mqtt::create_options_builder().mqtt_version(MQTTVERSION_3_1_1).finalize(),
      nullptr);
  Impl* impl = impl_.get();
  impl_->cli->set_message_callback([impl](::mqtt::const_message_ptr m) {
    Received r{std::chrono::steady_clock::now(),
               std::chrono::system_clock::now(),
               m->get_topic(),
               m->get_payload(),
               m->is_retained(),
               m->get_qos()};
    std::lock_guard lock(impl->mu);
    impl->received.push_back(std::move(r));
    impl->cv.notify_all();
  });
  try {
    auto opts = ::mqtt::connect_options_builder()
                    .mqtt_version(MQTTVERSION_3_1_1)
                    .clean_session(true)
                    .connect_timeout(kTimeout)
                    .finalize();
    if (!impl_->cli->connect(opts)->wait_for(kTimeout + std::chrono::seconds(1))) {
      throw std::runtime_error("Subscriber: connect to " + uri + " timed out");
    }
    if (!filters.empty()) {
      std::vector<int> qoss(filters.size(), qos);
      auto tok = impl_->cli->subscribe(::mqtt::string_collection::create(filters), qoss);
      if (!tok->wait_for(kTimeout)) throw std::runtime_error("Subscriber: subscribe timed out");
    }
  } catch (const ::mqtt::exception& e) {
    throw std::runtime_error("Subscriber on " + uri + ": " + e.what());
  }
}

Subscriber::~Subscriber() {
  try {
    if (impl_->cli->is_connected()) impl_->cli->disconnect()->wait_for(kTimeout);
    impl_->cli->disable_callbacks();
  } catch (const ::mqtt::exception&) {  // NOLINT(bugprone-empty-catch): the broker may be gone
  }
}

std::vector<Received> Subscriber::messages() const {
  std::lock_guard lock(impl_->mu);
  return impl_->received;
}

std::vector<std::string> Subscriber::payloads(const std::string& topic) const {
  std::lock_guard lock(impl_->mu);
  std::vector<std::string> out;
  for (const Received& r : impl_->received) {
    if (r.topic == topic) out.push_back(r.payload);
  }
  return out;
}

bool Subscriber::wait_for(const std::function<bool(const std::vector<Received>&)>& done,
                          std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mu);
  return impl_->cv.wait_for(lock, timeout, [&] { return done(impl_->received); });
}

bool Subscriber::wait_for_count(const std::string& topic, std::size_t n,
                                std::chrono::milliseconds timeout) const {
  return wait_for(
      [&](const std::vector<Received>& all) {
        std::size_t count = 0;
        for (const Received& r : all) count += r.topic == topic ? 1U : 0U;
        return count >= n;
      },
      timeout);
}

void Subscriber::publish(const std::string& topic, const std::string& payload, int qos,
                         bool retained) {
  try {
    auto tok = impl_->cli->publish(topic, payload.data(), payload.size(), qos, retained);
    if (!tok->wait_for(kTimeout)) throw std::runtime_error("Subscriber: publish timed out");
  } catch (const ::mqtt::exception& e) {
    throw std::runtime_error("Subscriber: publish on " + topic + ": " + e.what());
  }
}

bool Subscriber::connected() const {
  return impl_->cli->is_connected();
}

}  // namespace twind::testing
