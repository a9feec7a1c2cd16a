// Memory accounting: allocating and touching N bytes reports N (tracked exactly, RSS within 1%).
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "dtypebench/gpu.hpp"
#include "dtypebench/memory.hpp"
#include "tests/test_util.hpp"

namespace dtypebench {
namespace {

TEST(Memory, TrackedPeakIsExact) {
  PeakScope scope;
  {
    Buffer<double> a(1000003);
    Buffer<float> b(77);
    EXPECT_EQ(mem::live_bytes() >= a.bytes() + b.bytes(), true);
  }
  EXPECT_EQ(scope.tracked_peak(), 1000003 * sizeof(double) + 77 * sizeof(float));
}

TEST(Memory, PeakSeesOnlyTheHighestPoint) {
  PeakScope scope;
  { Buffer<char> a(3 << 20); }
  { Buffer<char> b(5 << 20); }
  EXPECT_EQ(scope.tracked_peak(), size_t(5) << 20);
}

TEST(Memory, RssHighWaterMarkWithinOnePercent) {
  if (!mem::reset_rss_hwm()) GTEST_SKIP() << "/proc/self/clear_refs is not writable here";
  const size_t n = size_t(256) << 20;
  PeakScope scope;
  {
    Buffer<char> a(n);
    std::memset(a.data(), 1, n);  // touch every page
    EXPECT_EQ(a[n - 1], 1);
  }
  const double got = static_cast<double>(scope.rss_peak());
  EXPECT_NEAR(got, static_cast<double>(n), 0.01 * n) << "rss peak " << got;
  EXPECT_EQ(scope.tracked_peak(), n);
}

TEST(Memory, TooLargeIsAClearError) {
  const size_t huge = mem::total_bytes() * 4 + (size_t(1) << 40);
  try {
    Buffer<char> a(huge);
    FAIL() << "allocated " << huge << " bytes";
  } catch (const OutOfMemory& e) {
    EXPECT_NE(std::string(e.what()).find("cannot allocate"), std::string::npos) << e.what();
  }
}

// Device memory: the tracked peak is exact, and a buffer that cannot fit is an OutOfMemory the
// benchmarks turn into a skip, after which the device still works (the run goes on).
TEST(Memory, DeviceTrackedPeakIsExact) {
  DB_REQUIRE_GPU();
  const size_t live0 = gpu::device_live_bytes();
  gpu::device_reset_peak();
  {
    gpu::DeviceBuffer<double> a(1000003);
    { gpu::DeviceBuffer<float> b(77); }
    gpu::DeviceBuffer<char> c(5);
    EXPECT_EQ(gpu::device_live_bytes() - live0, a.bytes() + c.bytes());
  }
  EXPECT_EQ(gpu::device_peak_bytes() - live0, 1000003 * sizeof(double) + 77 * sizeof(float));
  EXPECT_EQ(gpu::device_live_bytes(), live0);
}

TEST(Memory, DeviceTooLargeIsAClearErrorAndTheDeviceGoesOn) {
  DB_REQUIRE_GPU();
  const size_t live0 = gpu::device_live_bytes();
  const size_t huge = 2 * gpu::device().mem_bytes + (size_t(1) << 30);
  try {
    gpu::DeviceBuffer<char> a(huge);
    FAIL() << "allocated " << huge << " bytes on the GPU";
  } catch (const OutOfMemory& e) {
    EXPECT_NE(std::string(e.what()).find("on the GPU"), std::string::npos) << e.what();
  }
  EXPECT_EQ(gpu::device_live_bytes(), live0);  // nothing tracked for the failed allocation
  // the failure left no error behind: the next allocation, copy and sync work
  const size_t n = 4099;
  gpu::DeviceBuffer<int> d(n);
  std::vector<int> in(n), out(n, -1);
  for (size_t i = 0; i < n; ++i) in[i] = static_cast<int>(i * 7 + 1);
  gpu::copy_to_device(d.data(), in.data(), n * sizeof(int));
  gpu::synchronize();
  gpu::copy_to_host(out.data(), d.data(), n * sizeof(int));
  EXPECT_EQ(out, in);
}

TEST(Memory, FormatBytes) {
  EXPECT_EQ(mem::format_bytes(512), "512 B");
  EXPECT_EQ(mem::format_bytes(1536), "1.50 KiB");
  EXPECT_EQ(mem::format_bytes(3.0 * (1 << 30)), "3.00 GiB");
}

}  // namespace
}  // namespace dtypebench
