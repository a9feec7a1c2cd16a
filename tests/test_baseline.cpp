// Baseline kernels against scalar fp64 references: fresh random inputs, poisoned outputs, odd
// sizes.
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "dtypebench/check.hpp"
#include "dtypebench/fill.hpp"
#include "dtypebench/grid.hpp"
#include "dtypebench/memory.hpp"
#include "kernels/cpu/baseline.hpp"
#include "tests/test_util.hpp"
#ifdef DTYPEBENCH_HAVE_CUDA
#include "kernels/cuda/baseline.hpp"
#endif

namespace dtypebench {
namespace {

template <class T>
class BaselineTest : public ::testing::Test {};
using BaselineTypes = ::testing::Types<double, float>;
TYPED_TEST_SUITE(BaselineTest, BaselineTypes);

const size_t kSizes[] = {1, 7, 63, 1001, 100003};

TYPED_TEST(BaselineTest, StreamKernelsMatchReference) {
  using T = TypeParam;
  for (int threads : {1, 3}) {
    omp_set_num_threads(threads);
    for (size_t n : kSizes) {
      const uint64_t seed = test::fresh_seed();
      Buffer<T> a(n), b(n), c(n);
      fill_uniform(a.data(), n, seed);
      fill_uniform(b.data(), n, seed + 1);
      fill_uniform(c.data(), n, seed + 2);
      std::vector<double> want(n), tol(n);
      std::string why;
      const double u = 2 * unit_roundoff<T>();

      double sum = 0, abs = 0;
      for (size_t i = 0; i < n; ++i) sum += a[i], abs += std::fabs(double(a[i]));
      const T got_sum = cpu::stream_read(a.data(), n);
      const double tol_sum = n * u * abs;
      EXPECT_TRUE(close_enough(&got_sum, &sum, &tol_sum, 1, &why)) << "read n=" << n << " " << why;

      poison(b.data(), n);
      cpu::stream_copy(a.data(), b.data(), n);
      for (size_t i = 0; i < n; ++i) want[i] = a[i], tol[i] = 0;
      EXPECT_TRUE(close_enough(b.data(), want.data(), tol.data(), n, &why)) << "copy " << why;

      poison(b.data(), n);
      cpu::stream_copy_nt(a.data(), b.data(), n);
      EXPECT_TRUE(close_enough(b.data(), want.data(), tol.data(), n, &why)) << "copy_nt " << why;

      poison(b.data(), n);
      cpu::stream_scale(a.data(), b.data(), T(3), n);
      for (size_t i = 0; i < n; ++i) want[i] = 3.0 * a[i], tol[i] = u * std::fabs(want[i]);
      EXPECT_TRUE(close_enough(b.data(), want.data(), tol.data(), n, &why)) << "scale " << why;

      fill_uniform(b.data(), n, seed + 1);
      poison(c.data(), n);
      cpu::stream_add(a.data(), b.data(), c.data(), n);
      for (size_t i = 0; i < n; ++i)
        want[i] = double(a[i]) + double(b[i]), tol[i] = u * (std::fabs(a[i]) + std::fabs(b[i]));
      EXPECT_TRUE(close_enough(c.data(), want.data(), tol.data(), n, &why)) << "add " << why;

      fill_uniform(c.data(), n, seed + 2);
      poison(a.data(), n);
      cpu::stream_triad(a.data(), b.data(), c.data(), T(3), n);
      for (size_t i = 0; i < n; ++i)
        want[i] = double(b[i]) + 3.0 * double(c[i]),
        tol[i] = 2 * u * (std::fabs(b[i]) + 3 * std::fabs(c[i]));
      EXPECT_TRUE(close_enough(a.data(), want.data(), tol.data(), n, &why)) << "triad " << why;
    }
  }
}

// every byte of the destination written, none outside it, whatever the alignment of either side
// and the size (the non-temporal body covers only whole lines of the destination)
TEST(Baseline, CopyNtEveryAlignmentAndSize) {
  for (int threads : {1, 3}) {
    omp_set_num_threads(threads);
    for (size_t bytes : {0, 1, 63, 64, 65, 1000, 100003})
      for (size_t src_off : {0, 5})
        for (size_t dst_off : {0, 1, 17, 63}) {
          const size_t guard = 128;
          Buffer<uint8_t> a(bytes + 64), b(bytes + 64 + 2 * guard);
          const uint64_t seed = test::fresh_seed();
          for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<uint8_t>(splitmix64(seed + i));
          std::memset(b.data(), 0xa5, b.size());  // any pattern: the guard bytes must keep it
          std::vector<uint8_t> before(b.data(), b.data() + b.size());
          uint8_t* dst = b.data() + guard + dst_off;
          cpu::copy_bytes_nt(a.data() + src_off, dst, bytes);
          size_t bad = 0;
          for (size_t i = 0; i < b.size(); ++i) {
            const uint8_t* p = b.data() + i;
            const bool inside = p >= dst && p < dst + bytes;
            bad += *p != (inside ? a[src_off + (p - dst)] : before[i]);
          }
          EXPECT_EQ(bad, 0u) << bytes << " bytes, src +" << src_off << ", dst +" << dst_off
                             << ", threads " << threads;
        }
  }
}

TYPED_TEST(BaselineTest, FmaPeakMatchesChainModel) {
  using T = TypeParam;
  omp_set_num_threads(2);
  double flops = 0;
  const T m = T(0.999), c = T(1e-3), x0 = T(0.5);
  const double got = cpu::fma_peak<T>(37, m, c, x0, &flops);
  constexpr int W = 64 / sizeof(T);
  double want = 0;
  for (int l = 0; l < W; ++l)
    want += cpu::fma_chain_reference(37, m, c, double(x0 + T(l) * T(1e-3)));
  want *= cpu::kFmaChains * 2;
  EXPECT_NEAR(got, want, 1e-4 * std::fabs(want));
  EXPECT_EQ(flops, 2.0 * cpu::kFmaChains * W * 37 * 2);
}

TEST(Baseline, Bf16DotPeak) {
  if (!cpu::have_avx512_bf16()) GTEST_SKIP() << "no AVX512-BF16 in this build";
  omp_set_num_threads(1);
  double flops = 0;
  // 1.5 * 1.25 per pair, exact in bf16 and in the fp32 accumulators at this size
  const double got = cpu::bf16_dot_peak(11, 1.5f, 1.25f, &flops);
  EXPECT_EQ(got, cpu::kDotChains * 16.0 * 11 * 2 * 1.875);
  EXPECT_EQ(flops, 2.0 * 32 * cpu::kDotChains * 11);
}

// The grid helpers at the extremes of size_t: a count of blocks is never narrowed on the way (a
// 2^55-block grid once became 0 blocks and a 1-byte buffer), only at the launch, which refuses.
TEST(Grid, HelpersHoldAtTheExtremes) {
  constexpr size_t top = ~size_t(0);
  EXPECT_EQ(ceil_div(0, 256), 0u);
  EXPECT_EQ(ceil_div(1, 256), 1u);
  EXPECT_EQ(ceil_div(256, 256), 1u);
  EXPECT_EQ(ceil_div(257, 256), 2u);
  EXPECT_EQ(ceil_div(top / 2, 256), size_t(1) << 55);  // (2^63 - 1) / 256, rounded up
  EXPECT_EQ(ceil_div(top, 1), top);                    // a + b - 1 would wrap here
  EXPECT_EQ(ceil_div(top, 2), size_t(1) << 63);
  EXPECT_EQ(stream_blocks(0, 132), 0u);
  EXPECT_EQ(stream_blocks(1, 132), 1u);
  EXPECT_EQ(stream_blocks(top, 132), 132u * 8);
  EXPECT_EQ(stream_blocks(top / 2, 132), 132u * 8);
  EXPECT_EQ(stream_blocks(top, 0), 8u);  // no device known: one SM's worth
  EXPECT_EQ(stream_blocks(300 * 256, 132), 300u);
  EXPECT_EQ(grid_dim(kMaxGridX, "x"), 2147483647u);
  EXPECT_THROW(grid_dim(kMaxGridX + 1, "x"), std::length_error);
  EXPECT_THROW(grid_dim(size_t(1) << 32, "x"), std::length_error);  // would narrow to 0
  EXPECT_EQ(grid_dim(kMaxGridYZ, "y", kMaxGridYZ), 65535u);
  EXPECT_THROW(grid_dim(kMaxGridYZ + 1, "y", kMaxGridYZ), std::length_error);
}

// Back-to-back launches per event pair: enough to fill 200 us, 1 for a long kernel, capped.
TEST(Grid, LaunchesPerTiming) {
  EXPECT_EQ(launches_per_timing(1e-3), 1u);     // 1 ms: one launch is plenty
  EXPECT_EQ(launches_per_timing(200e-6), 1u);   // exactly the target
  EXPECT_EQ(launches_per_timing(199e-6), 2u);   // just short of it: two
  EXPECT_EQ(launches_per_timing(5e-6), 40u);    // an L2-resident copy
  EXPECT_EQ(launches_per_timing(3e-6), 67u);    // rounded up, never short of the target
  EXPECT_EQ(launches_per_timing(1e-9), 4096u);  // capped
  EXPECT_EQ(launches_per_timing(0), 1u);
  EXPECT_EQ(launches_per_timing(-1), 1u);
  EXPECT_EQ(launches_per_timing(std::nan("")), 1u);
  for (double t : {1e-7, 2e-6, 7.3e-6, 3.3e-5, 1.5e-4})
    EXPECT_GE(launches_per_timing(t) * t, 200e-6 * (1 - 1e-12)) << t;
}

#ifdef DTYPEBENCH_HAVE_CUDA
// read()'s partial sums: read_blocks() of them at most, and never none; computed without a GPU
TEST(Baseline, GpuReadGridFitsItsPartials) {
  EXPECT_GT(cuda::read_blocks(), 0u);
  for (int sms : {0, 1, 114, 132, 1000}) {
    const size_t most = cuda::read_blocks(sms);
    EXPECT_EQ(most, static_cast<size_t>(std::max(sms, 1)) * 8) << sms;
    for (size_t n : {size_t(1), size_t(255), size_t(1) << 20, ~size_t(0) / 16, ~size_t(0)})
      for (size_t elem : {2, 4, 8})
        for (bool packed : {false, true}) {
          const size_t g = cuda::read_grid(n, elem, packed, sms);
          EXPECT_GE(g, 1u) << n;
          EXPECT_LE(g, most) << n << " " << elem << " " << packed << " " << sms;
        }
  }
}

TYPED_TEST(BaselineTest, GpuStreamsMatchReference) {
  DB_REQUIRE_GPU();
  using T = TypeParam;
  for (size_t n : kSizes) {
    const uint64_t seed = test::fresh_seed();
    Buffer<T> ha(n), hb(n), hc(n), got(n);
    fill_uniform(ha.data(), n, seed);
    fill_uniform(hb.data(), n, seed + 1);
    fill_uniform(hc.data(), n, seed + 2);
    gpu::DeviceBuffer<T> a(n), b(n), c(n);
    gpu::DeviceBuffer<double> sum(cuda::read_blocks());
    gpu::copy_to_device(a.data(), ha.data(), a.bytes());
    gpu::copy_to_device(b.data(), hb.data(), b.bytes());
    gpu::copy_to_device(c.data(), hc.data(), c.bytes());
    std::vector<double> want(n), tol(n, 0.0);
    std::string why;

    double want_sum = 0, abs = 0;
    for (size_t i = 0; i < n; ++i) want_sum += ha[i], abs += std::fabs(double(ha[i]));
    gpu::memset_device(sum.data(), 0xff, sum.bytes());
    const size_t k = cuda::read(a.data(), n, sum.data());
    EXPECT_LE(k, cuda::read_blocks());
    const double got_sum = cuda::read_total(sum.data(), k);
    const double tol_sum = 1e-12 * abs + 1e-12;
    EXPECT_TRUE(close_enough(&got_sum, &want_sum, &tol_sum, 1, &why)) << "read " << why;

    for (int v = 0; v < 2; ++v) {  // kernel copy, then the copy engine
      gpu::memset_device(b.data(), 0xff, b.bytes());
      if (v == 0) cuda::copy(a.data(), b.data(), n);
      if (v == 1) gpu::copy_on_device(b.data(), a.data(), a.bytes());
      gpu::copy_to_host(got.data(), b.data(), b.bytes());
      for (size_t i = 0; i < n; ++i) want[i] = ha[i];
      EXPECT_TRUE(close_enough(got.data(), want.data(), tol.data(), n, &why)) << v << " " << why;
    }

    gpu::copy_to_device(b.data(), hb.data(), b.bytes());
    gpu::memset_device(a.data(), 0xff, a.bytes());
    cuda::triad(a.data(), b.data(), c.data(), T(3), n);
    gpu::copy_to_host(got.data(), a.data(), a.bytes());
    for (size_t i = 0; i < n; ++i)
      want[i] = double(hb[i]) + 3.0 * double(hc[i]),
      tol[i] = 4 * unit_roundoff<T>() * (std::fabs(hb[i]) + 3 * std::fabs(hc[i]));
    EXPECT_TRUE(close_enough(got.data(), want.data(), tol.data(), n, &why)) << "triad " << why;
  }
}

TEST(Baseline, GpuFmaPeakChains) {
  DB_REQUIRE_GPU();
  for (cuda::FmaPrecision p : {cuda::FmaPrecision::F64, cuda::FmaPrecision::F32,
                               cuda::FmaPrecision::F16x2, cuda::FmaPrecision::BF16x2}) {
    const int blocks = 3;
    gpu::DeviceBuffer<float> out(blocks * 256);
    gpu::memset_device(out.data(), 0xff, out.bytes());
    // m = 0.5, c = 0.5 drives every chain to exactly 1 in every precision
    const double flops = cuda::fma_peak(p, blocks, 64, 0.5f, 0.5f, out.data());
    std::vector<float> host(out.size());
    gpu::copy_to_host(host.data(), out.data(), out.bytes());
    for (float v : host) ASSERT_NEAR(v, 8.0, 1e-3) << cuda::fma_precision_name(p);
    const int lanes = p == cuda::FmaPrecision::F16x2 || p == cuda::FmaPrecision::BF16x2 ? 2 : 1;
    EXPECT_EQ(flops, 2.0 * blocks * 256 * 8 * 64 * lanes);
  }
}
#else
TEST(Baseline, GpuKernels) { DB_REQUIRE_GPU(); }
#endif

}  // namespace
}  // namespace dtypebench
