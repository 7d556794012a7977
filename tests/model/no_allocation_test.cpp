// The per-sample path (advance with a repeated interval, output) must not touch the heap. This
// binary replaces glibc's malloc family to count calls: Eigen allocates through malloc, and
// libstdc++'s operator new does too, so both are seen. Sanitizers that own malloc skip it.
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <memory>

#include "twind/model/linear.hpp"
#include "twind/model/model.hpp"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define TWIND_MALLOC_REPLACED 0
#else
#define TWIND_MALLOC_REPLACED 1
#endif

namespace {

std::atomic<bool> g_counting{false};
std::atomic<long> g_allocations{0};

}  // namespace

#if TWIND_MALLOC_REPLACED
namespace {

void note_allocation() {
  if (g_counting.load(std::memory_order_relaxed)) {
    g_allocations.fetch_add(1, std::memory_order_relaxed);
  }
}

}  // namespace

// glibc documents replacing malloc by defining these four; its own entry points do the work.
extern "C" {
void* __libc_malloc(std::size_t size);
void* __libc_calloc(std::size_t count, std::size_t size);
void* __libc_realloc(void* ptr, std::size_t size);
void __libc_free(void* ptr);

void* malloc(std::size_t size) noexcept {
  note_allocation();
  return __libc_malloc(size);
}
void* calloc(std::size_t count, std::size_t size) noexcept {
  note_allocation();
  return __libc_calloc(count, size);
}
void* realloc(void* ptr, std::size_t size) noexcept {
  note_allocation();
  return __libc_realloc(ptr, size);
}
void free(void* ptr) noexcept {
  __libc_free(ptr);
}
}
#endif

namespace twind::model {
namespace {

// Counts heap allocations made while `body` runs.
template <typename Body>
long allocations_during(Body body) {
  g_allocations.store(0);
  g_counting.store(true);
  body();
  g_counting.store(false);
  return g_allocations.load();
}

class NoAllocation : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!TWIND_MALLOC_REPLACED) {
      GTEST_SKIP() << "allocation counting needs glibc's malloc, not a sanitizer's";
    }
  }
};

TEST_F(NoAllocation, CountingSeesAnAllocation) {
  // Guards the other tests against a counter that silently sees nothing.
  std::unique_ptr<std::array<int, 4>> kept;  // outlives the lambda, so the call cannot be elided

  const long count = allocations_during([&] { kept = std::make_unique<std::array<int, 4>>(); });

  EXPECT_GE(count, 1);
}

TEST_F(NoAllocation, ContinuousAdvanceWithRepeatedIntervalDoesNotAllocate) {
  const auto sut = make_continuous_state_space(
      {"oscillator", "1"}, Matrix{2, 2, {0.0, 1.0, -4.0, -0.1}}, Matrix{2, 1, {0.0, 1.0}},
      Matrix{1, 2, {1.0, 0.0}}, Matrix{1, 1, {0.0}});
  std::array<double, 2> x{1.0, 0.0};
  const std::array<double, 1> u{0.5};
  std::array<double, 1> y{};
  StepMemo memo;
  ASSERT_TRUE(sut->advance(x, u, 0.02, memo));  // fills the cache and the thread's scratch

  const long count = allocations_during([&] {
    for (int i = 0; i < 1000; ++i) {
      (void)sut->advance(x, u, 0.02, memo);
      sut->output(x, u, y);
    }
  });

  EXPECT_EQ(count, 0);
}

TEST_F(NoAllocation, DiscreteAdvanceOfAFewStepsDoesNotAllocate) {
  const auto sut =
      make_discrete_state_space({"discrete", "1"}, Matrix{1, 1, {0.9}}, Matrix{1, 1, {1.0}},
                                Matrix{1, 1, {1.0}}, Matrix{1, 1, {0.0}}, 0.01);
  std::array<double, 1> x{1.0};
  const std::array<double, 1> u{0.5};
  StepMemo memo;
  ASSERT_TRUE(sut->advance(x, u, 0.03, memo));

  const long count = allocations_during([&] {
    for (int i = 0; i < 1000; ++i) {
      (void)sut->advance(x, u, 0.025, memo);
    }
  });

  EXPECT_EQ(count, 0);
}

}  // namespace
}  // namespace twind::model
