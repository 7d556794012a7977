// Counts heap allocations in a test binary: replaces glibc's malloc family (Eigen allocates
// through malloc, and libstdc++'s operator new does too, so both are seen). Include it in exactly
// one source file of a binary of its own, since it replaces malloc for the whole process.
// Sanitizers that own malloc are left alone: kMallocReplaced is then false and tests skip.
#pragma once

#include <atomic>
#include <cstddef>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define TWIND_MALLOC_REPLACED 0
#else
#define TWIND_MALLOC_REPLACED 1
#endif

namespace twind::testing {

inline constexpr bool kMallocReplaced = TWIND_MALLOC_REPLACED != 0;

inline std::atomic<bool> g_counting{false};
inline std::atomic<long> g_allocations{0};

inline void note_allocation() noexcept {
  if (g_counting.load(std::memory_order_relaxed)) {
    g_allocations.fetch_add(1, std::memory_order_relaxed);
  }
}

/// Counts heap allocations made while `body` runs (0 when malloc is not replaced).
template <typename Body>
long allocations_during(Body body) {
  g_allocations.store(0);
  g_counting.store(true);
  body();
  g_counting.store(false);
  return g_allocations.load();
}

}  // namespace twind::testing

#if TWIND_MALLOC_REPLACED
// glibc documents replacing malloc by defining these four; its own entry points do the work.
extern "C" {
void* __libc_malloc(std::size_t size);
void* __libc_calloc(std::size_t count, std::size_t size);
void* __libc_realloc(void* ptr, std::size_t size);
void __libc_free(void* ptr);

void* malloc(std::size_t size) noexcept {
  twind::testing::note_allocation();
  return __libc_malloc(size);
}
void* calloc(std::size_t count, std::size_t size) noexcept {
  twind::testing::note_allocation();
  return __libc_calloc(count, size);
}
void* realloc(void* ptr, std::size_t size) noexcept {
  twind::testing::note_allocation();
  return __libc_realloc(ptr, size);
}
void free(void* ptr) noexcept {
  __libc_free(ptr);
}
}
#endif
