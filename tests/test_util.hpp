// Shared by the tests: a fresh seed per run (printed, so a failure can be replayed) and the GPU
// skip.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <random>

#include "dtypebench/gpu.hpp"

namespace dtypebench {
namespace test {

// DTYPEBENCH_SEED=<n> replays a run; otherwise each run draws new inputs.
inline uint64_t fresh_seed() {
  static const uint64_t base = [] {
    const char* env = std::getenv("DTYPEBENCH_SEED");
    const uint64_t s = env ? std::strtoull(env, nullptr, 10) : std::random_device{}();
    std::printf("[ seed     ] DTYPEBENCH_SEED=%llu\n", static_cast<unsigned long long>(s));
    return s;
  }();
  static uint64_t k = 0;
  return base * 1000003u + (k++);
}

}  // namespace test
}  // namespace dtypebench

#define DB_REQUIRE_GPU()                                  \
  do {                                                    \
    if (!::dtypebench::gpu::device().available)           \
      GTEST_SKIP() << ::dtypebench::gpu::device().reason; \
  } while (0)
