// The three adapters (Paho threaded, Paho driven, native) behind one factory, so that one set of
// client tests holds for each. A driven
// client is run on a thread of its own, as the daemon's engine thread runs it: the tests, written
// for clients whose publish() and stop() may be called from any thread, call them from theirs,
// and DrivenOnThread carries each such call over to the driving thread and waits for its result.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "twind/mqtt/client.hpp"

namespace twind::mqtt::testing {

class DrivenOnThread final : public Client {
 public:
  explicit DrivenOnThread(std::unique_ptr<Client> inner) : inner_(std::move(inner)) {}
  ~DrivenOnThread() override { stop(std::nullopt, std::chrono::milliseconds(0)); }
  DrivenOnThread(const DrivenOnThread&) = delete;
  DrivenOnThread& operator=(const DrivenOnThread&) = delete;

  void start(Handler& handler) override {
    inner_->start(handler);
    std::lock_guard lock(mu_);
    if (thread_.joinable() || finished_) return;
    thread_ = std::thread([this] { loop(); });
  }
  void subscribe(const std::vector<std::string>& filters, int qos) override {
    inner_->subscribe(filters, qos);
  }
  void subscribe_optional(const std::vector<std::string>& filters, int qos) override {
    inner_->subscribe_optional(filters, qos);
  }
  void unsubscribe(const std::vector<std::string>& filters) override {
    inner_->unsubscribe(filters);
  }
  bool publish(std::string_view topic, std::string_view payload, int qos, bool retained) override {
    const std::string t(topic);
    const std::string p(payload);
    return on_owner([&] { return inner_->publish(t, p, qos, retained); });
  }
  [[nodiscard]] bool connected() const override { return inner_->connected(); }
  [[nodiscard]] std::string connected_uri() const override { return inner_->connected_uri(); }
  [[nodiscard]] ClientStats stats() const override { return inner_->stats(); }
  bool stop(const std::optional<Will>& last, std::chrono::milliseconds timeout) override {
    const bool result = on_owner([&] { return inner_->stop(last, timeout); });
    {
      std::lock_guard lock(mu_);
      finished_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
    return result;
  }

 private:
  // Runs `f` on the driving thread (or here, when there is none) and returns its result.
  bool on_owner(const std::function<bool()>& f) {
    std::unique_lock lock(mu_);
    if (!thread_.joinable() || finished_) {
      lock.unlock();
      return f();
    }
    bool done = false;
    bool result = false;
    calls_.emplace_back([&] {
      const bool r = f();
      std::lock_guard inner(mu_);
      result = r;
      done = true;
    });
    wake_.wait(lock, [&] { return done; });
    return result;
  }

  void loop() {
    while (true) {
      std::deque<std::function<void()>> calls;
      {
        std::lock_guard lock(mu_);
        if (finished_ && calls_.empty()) return;
        calls.swap(calls_);
      }
      for (auto& c : calls) c();
      if (!calls.empty()) wake_.notify_all();
      // Short waits: a call from the test's thread waits for the current drive() to end.
      inner_->drive(std::chrono::milliseconds(1), 256);
    }
  }

  std::unique_ptr<Client> inner_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> calls_;
  bool finished_ = false;
  std::thread thread_;
};

enum class Adapter { threaded, driven, native };

inline std::unique_ptr<Client> make_client(Adapter a, const ConnectOptions& options) {
  switch (a) {
    case Adapter::threaded:
      return make_paho_client(options);
    case Adapter::driven:
      return std::make_unique<DrivenOnThread>(make_paho_driven_client(options));
    case Adapter::native:
      break;
  }
  return std::make_unique<DrivenOnThread>(make_native_client(options));
}

inline std::string adapter_name(Adapter a) {
  switch (a) {
    case Adapter::threaded:
      return "Threaded";
    case Adapter::driven:
      return "Driven";
    case Adapter::native:
      break;
  }
  return "Native";
}

inline void PrintTo(Adapter a, std::ostream* os) {
  *os << adapter_name(a);
}

}  // namespace twind::mqtt::testing
