// A program that makes one sanitizer report on demand, for the test of the support code that
// scans children's stderr (built in sanitizer builds only; twind itself is never made to fail).
//   sanitizer_canary --leak             leaks 64 bytes, exits 0 (LeakSanitizer reports at exit)
//   sanitizer_canary --leak-on-sigterm  prints "waiting", leaks once SIGTERM comes, exits 0
//   sanitizer_canary --undefined        overflows a signed int (UndefinedBehaviorSanitizer)
//   sanitizer_canary --race             two threads write one int unsynchronised (ThreadSanitizer)
#include <pthread.h>

#include <climits>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <thread>

namespace {

// Allocated and forgotten on a thread of its own: once the thread is joined no stack holds the
// pointer, so the leak check finds the block unreachable.
void leak() {
  std::thread([] {
    void* volatile block = std::malloc(64);
    std::memset(block, 1, 64);
  }).join();
}

int overflow() {
  volatile int big = INT_MAX;
  return big + 1;
}

int shared = 0;  // NOLINT: the race is the point

void race() {
  auto writer = [] {
    for (int i = 0; i < 1000; ++i) shared = shared + 1;
  };
  std::thread a(writer);
  std::thread b(writer);
  a.join();
  b.join();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s --leak|--leak-on-sigterm|--undefined|--race\n", argv[0]);
    return 2;
  }
  const std::string_view mode = argv[1];
  if (mode == "--leak") {
    leak();
  } else if (mode == "--leak-on-sigterm") {
    sigset_t term;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &term, nullptr);
    std::printf("waiting\n");
    std::fflush(stdout);
    int sig = 0;
    sigwait(&term, &sig);
    leak();
  } else if (mode == "--undefined") {
    std::printf("%d\n", overflow());
  } else if (mode == "--race") {
    race();
    std::printf("%d\n", shared);
  } else {
    std::fprintf(stderr, "unknown mode %s\n", argv[1]);
    return 2;
  }
  return 0;
}
