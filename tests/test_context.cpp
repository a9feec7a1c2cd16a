// Machine context and cache levels: present, sane, ordered.
#include <gtest/gtest.h>

#include <map>

#include "dtypebench/context.hpp"
#include "dtypebench/gpu.hpp"

namespace dtypebench {
namespace {

TEST(Context, HasEveryKey) {
  std::map<std::string, std::string> kv;
  for (const auto& [k, v] : machine_context()) kv[k] = v;
  for (const char* key : {"git_commit", "cpu_model", "cpu_cores", "l1d_bytes", "l2_bytes",
                          "l3_bytes", "mem_bytes", "compiler", "compiler_flags", "build_type",
                          "omp_max_threads", "gpu_available", "hostname"}) {
    ASSERT_TRUE(kv.count(key)) << key;
    EXPECT_FALSE(kv[key].empty()) << key;
  }
  if (kv["gpu_available"] == "0")
    EXPECT_EQ(kv["gpu_status"].rfind("no CUDA device", 0), 0u);
  else
    EXPECT_FALSE(kv["gpu_name"].empty());
}

TEST(Context, LevelsGrowAndLandWhereTheySay) {
  const auto levels = cache_levels();
  ASSERT_EQ(levels.size(), 4u);
  for (size_t i = 1; i < levels.size(); ++i) EXPECT_GT(levels[i].bytes, levels[i - 1].bytes);
  for (const Level& l : levels) EXPECT_EQ(level_of(l.bytes), l.name) << l.bytes;
  EXPECT_GE(levels[3].bytes, 4 * cpu_info().l3_bytes);
  EXPECT_EQ(cache_levels(size_t(7) << 20)[3].bytes, size_t(7) << 20);
}

TEST(Context, NoGpuIsOneClearLine) {
  const gpu::DeviceInfo& d = gpu::device();
  if (d.available) GTEST_SKIP() << "a GPU is present: " << d.name;
  EXPECT_EQ(d.reason.rfind("no CUDA device: ", 0), 0u) << d.reason;
  EXPECT_EQ(d.reason.find('\n'), std::string::npos);
}

}  // namespace
}  // namespace dtypebench
