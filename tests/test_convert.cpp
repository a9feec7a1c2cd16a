// Conversion kernels: bit-exact against the scalar rules over every 16-bit pattern and over random
// plus edge inputs; in-place narrowing; f16 range counts; NumPy's promotion rule; byte swaps; AoS.
#include <gtest/gtest.h>
#include <omp.h>

#include <climits>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "dtypebench/context.hpp"
#include "dtypebench/fill.hpp"
#include "dtypebench/memory.hpp"
#include "kernels/cpu/convert.hpp"
#include "tests/test_util.hpp"
#ifdef DTYPEBENCH_HAVE_CUDA
#include "kernels/cuda/convert.hpp"
#endif

namespace dtypebench {
namespace {

using cpu::Path;
const Path kPaths[] = {Path::Simd, Path::Portable};

// random bit patterns (every exponent, subnormals, NaN payloads) plus the edges that matter
std::vector<float> edge_and_random_floats(size_t n_random) {
  std::vector<float> v = {0.0f,
                          -0.0f,
                          INFINITY,
                          -INFINITY,
                          NAN,
                          -NAN,
                          f32_from_bits(0x7f800001),
                          f32_from_bits(0x7fc00001),  // s/qNaN
                          65504.0f,
                          65519.99f,
                          65520.0f,
                          -65520.0f,
                          65536.0f,
                          3.4028235e38f,
                          0x1p-14f,
                          0x1p-24f,
                          0x1p-25f,
                          0x1.000002p-25f,
                          0x1.8p-24f,
                          0x1.ffcp-15f,
                          0x1p-126f,
                          0x1p-149f,
                          -0x1p-140f,
                          1.0f + 0x1p-11f,
                          1.0f + 0x3p-11f,
                          1.0f + 0x1p-8f,
                          1.0f + 0x3p-8f,
                          3.0f,
                          -7.5f};
  const uint64_t seed = test::fresh_seed();
  for (size_t i = 0; i < n_random; ++i)
    v.push_back(f32_from_bits(static_cast<uint32_t>(splitmix64(seed + i))));
  return v;
}

bool same_f16(uint16_t a, uint16_t b) {
  const bool nan_a = (a & 0x7c00) == 0x7c00 && (a & 0x3ff),
             nan_b = (b & 0x7c00) == 0x7c00 && (b & 0x3ff);
  return nan_a || nan_b ? nan_a == nan_b : a == b;
}

TEST(Convert, F16ToF32EveryPatternBothPaths) {
  Buffer<half> src(65536 + 5);  // odd length: the SIMD tail runs too
  for (size_t i = 0; i < src.size(); ++i) src[i].bits = static_cast<uint16_t>(i);
  for (int threads : {1, 3})
    for (Path p : kPaths) {
      omp_set_num_threads(threads);
      Buffer<float> dst(src.size());
      std::fill(dst.begin(), dst.end(), NAN);
      cpu::convert(src.data(), dst.data(), src.size(), p);
      for (size_t i = 0; i < src.size(); ++i) {
        const float want = f16_bits_to_f32_portable(src[i].bits);
        if (std::isnan(want)) {
          ASSERT_TRUE(std::isnan(dst[i])) << i;
          ASSERT_EQ(f32_bits(dst[i]) & 0x80000000u, f32_bits(want) & 0x80000000u) << i;
        } else {
          ASSERT_EQ(f32_bits(dst[i]), f32_bits(want))
              << "pattern " << i << " " << cpu::path_name(p);
        }
      }
    }
}

TEST(Convert, Bf16ToF32EveryPatternBothPaths) {
  Buffer<bfloat16> src(65536 + 3);
  for (size_t i = 0; i < src.size(); ++i) src[i].bits = static_cast<uint16_t>(i);
  for (Path p : kPaths) {
    Buffer<float> dst(src.size());
    std::fill(dst.begin(), dst.end(), NAN);
    cpu::convert(src.data(), dst.data(), src.size(), p);
    for (size_t i = 0; i < src.size(); ++i)
      ASSERT_EQ(f32_bits(dst[i]), static_cast<uint32_t>(src[i].bits) << 16) << i;
  }
}

TEST(Convert, F32ToF16AndBf16EdgesAndRandomBothPaths) {
  const std::vector<float> in = edge_and_random_floats(300001);
  for (int threads : {1, 2})
    for (Path p : kPaths) {
      omp_set_num_threads(threads);
      Buffer<half> h(in.size());
      Buffer<bfloat16> b(in.size());
      for (size_t i = 0; i < in.size(); ++i) h[i].bits = b[i].bits = 0x7fff;  // poison: NaN
      cpu::convert(in.data(), h.data(), in.size(), p);
      cpu::convert(in.data(), b.data(), in.size(), p);
      for (size_t i = 0; i < in.size(); ++i) {
        ASSERT_TRUE(same_f16(h[i].bits, f32_to_f16_bits_portable(in[i])))
            << "f16 of " << in[i] << " (0x" << std::hex << f32_bits(in[i]) << ") "
            << cpu::path_name(p);
        ASSERT_EQ(b[i].bits, f32_to_bf16_bits(in[i]))
            << "bf16 of 0x" << std::hex << f32_bits(in[i]) << " " << cpu::path_name(p);
      }
    }
  // the named cases: NaN stays (quiet) NaN, overflow to inf, ties to even
  EXPECT_EQ(f32_to_f16_bits_portable(65520.0f), 0x7c00);
  EXPECT_EQ(f32_to_bf16_bits(f32_from_bits(0x7f800001)) & 0x7fc0, 0x7fc0);
}

TEST(Convert, F64ToF32EdgesAndRandomBothPaths) {
  std::vector<double> in = {0.0,
                            -0.0,
                            INFINITY,
                            -INFINITY,
                            NAN,
                            3.4028235677973366e38,
                            3.4028236e38 * 1.0000001,
                            1e-46,
                            0x1p-150,
                            0x1.0000001p-150,
                            0x1.000001p0 /* tie */,
                            0x1.000003p0 /* tie */,
                            -1.5e-39};
  const uint64_t seed = test::fresh_seed();
  for (size_t i = 0; i < 200001; ++i) {
    double d;
    const uint64_t bits = splitmix64(seed + i);
    std::memcpy(&d, &bits, 8);
    in.push_back(i % 2 ? d : uniform_at(seed, i, -1e6, 1e6));
  }
  for (Path p : kPaths) {
    Buffer<float> out(in.size());
    std::fill(out.begin(), out.end(), 12345.0f);
    cpu::convert(in.data(), out.data(), in.size(), p);
    for (size_t i = 0; i < in.size(); ++i) {
      const float want = static_cast<float>(in[i]);  // IEEE: round to nearest even
      if (std::isnan(want))
        ASSERT_TRUE(std::isnan(out[i])) << i;
      else
        ASSERT_EQ(f32_bits(out[i]), f32_bits(want)) << in[i] << " " << cpu::path_name(p);
    }
  }
  EXPECT_EQ(static_cast<float>(0x1.000001p0), 1.0f);  // the model itself ties to even
}

TEST(Convert, F64ToI32TruncatesAndSaturatesToMin) {
  std::vector<double> in = {0.0,          -0.0,         0.9,           -0.9,          2147483647.0,
                            2147483647.9, 2147483648.0, -2147483648.0, -2147483648.9, -2147483649.0,
                            1e300,        -1e300,       NAN,           INFINITY,      -INFINITY};
  const uint64_t seed = test::fresh_seed();
  for (size_t i = 0; i < 100003; ++i) in.push_back(uniform_at(seed, i, -3e9, 3e9));
  EXPECT_EQ(cpu::f64_to_i32(2147483647.9), INT32_MAX);
  EXPECT_EQ(cpu::f64_to_i32(-2147483648.9), INT32_MIN);
  EXPECT_EQ(cpu::f64_to_i32(NAN), INT32_MIN);
  EXPECT_EQ(cpu::f64_to_i32(-7.9), -7);
  for (Path p : kPaths) {
    Buffer<int32_t> out(in.size());
    std::fill(out.begin(), out.end(), 42);
    cpu::convert(in.data(), out.data(), in.size(), p);
    for (size_t i = 0; i < in.size(); ++i)
      ASSERT_EQ(out[i], cpu::f64_to_i32(in[i])) << in[i] << " " << cpu::path_name(p);
  }
}

TEST(Convert, U8ToF32Normalises) {
  Buffer<uint8_t> in(256 * 3 + 7);
  for (size_t i = 0; i < in.size(); ++i) in[i] = static_cast<uint8_t>(i * 7);
  for (Path p : kPaths) {
    Buffer<float> out(in.size());
    std::fill(out.begin(), out.end(), NAN);
    cpu::convert(in.data(), out.data(), in.size(), p);
    for (size_t i = 0; i < in.size(); ++i)
      ASSERT_EQ(out[i], static_cast<float>(in[i]) / 255.0f) << i;
  }
}

// Streamed stores write whole lines non-temporally (from registers, or through a staging buffer), with the
// elements before the first line boundary and after the last whole block stored directly: every
// destination alignment and a ragged length must give the cached path's bits exactly.
template <class S, class D>
void expect_streamed_matches_cached(const std::vector<S>& in, const char* what) {
  const size_t n = in.size();
  for (Path p : kPaths)
    for (size_t offset = 0; offset < 4; ++offset) {
      Buffer<D> cached(n + offset), streamed(n + offset);
      std::memset(static_cast<void*>(cached.data()), 0x5a, cached.bytes());
      std::memset(static_cast<void*>(streamed.data()), 0xa5, streamed.bytes());
      cpu::convert(in.data(), cached.data() + offset, n, p, cpu::Stores::Cached);
      cpu::convert(in.data(), streamed.data() + offset, n, p, cpu::Stores::Streaming);
      ASSERT_EQ(std::memcmp(cached.data() + offset, streamed.data() + offset, n * sizeof(D)), 0)
          << what << " " << cpu::path_name(p) << " offset " << offset;
    }
}

TEST(Convert, StreamedStoresGiveTheCachedBitsAtEveryAlignment) {
  const uint64_t seed = test::fresh_seed();
  const size_t n = 3 * 4096 + 37;  // several staging blocks per thread, and a ragged end
  std::vector<double> f64(n);
  std::vector<float> f32(n);
  std::vector<half> f16(n);
  std::vector<bfloat16> bf16(n);
  std::vector<uint8_t> u8(n);
  for (size_t i = 0; i < n; ++i) {
    f64[i] = uniform_at(seed, i, -3e9, 3e9);
    f32[i] = f32_from_bits(static_cast<uint32_t>(splitmix64(seed + i)));
    f16[i].bits = static_cast<uint16_t>(splitmix64(seed + 2 * i));
    bf16[i].bits = static_cast<uint16_t>(splitmix64(seed + 3 * i));
    u8[i] = static_cast<uint8_t>(splitmix64(seed + 4 * i));
  }
  const int threads_before = omp_get_max_threads();
  for (int threads : {1, 3}) {
    omp_set_num_threads(threads);
    expect_streamed_matches_cached<double, float>(f64, "f64>f32");
    expect_streamed_matches_cached<float, half>(f32, "f32>f16");
    expect_streamed_matches_cached<float, bfloat16>(f32, "f32>bf16");
    expect_streamed_matches_cached<half, float>(f16, "f16>f32");
    expect_streamed_matches_cached<bfloat16, float>(bf16, "bf16>f32");
    expect_streamed_matches_cached<double, int32_t>(f64, "f64>i32");
    expect_streamed_matches_cached<uint8_t, float>(u8, "u8>f32");
    for (int width : {2, 4, 8}) {
      Buffer<uint8_t> src(n * width), once(n * width);
      for (size_t i = 0; i < src.size(); ++i) src[i] = static_cast<uint8_t>(splitmix64(seed ^ i));
      std::memset(once.data(), 0, once.size());
      cpu::byteswap(src.data(), once.data(), n, width, Path::Simd, cpu::Stores::Streaming);
      for (size_t e = 0; e < n; ++e)
        for (int b = 0; b < width; ++b)
          ASSERT_EQ(once[e * width + b], src[e * width + width - 1 - b]) << width << " " << e;
      cpu::byteswap(once.data(), once.data(), n, width, Path::Simd, cpu::Stores::Streaming);
      ASSERT_EQ(std::memcmp(once.data(), src.data(), src.size()), 0) << "in place, " << width;
    }
  }
  omp_set_num_threads(threads_before);
  // Auto streams exactly when source and destination together exceed the last-level cache
  const double l3 = static_cast<double>(cpu_info().l3_bytes);
  EXPECT_FALSE(cpu::streams(cpu::Stores::Auto, l3));
  EXPECT_TRUE(cpu::streams(cpu::Stores::Auto, l3 + 1));
  EXPECT_TRUE(cpu::streams(cpu::Stores::Streaming, 1));
  EXPECT_FALSE(cpu::streams(cpu::Stores::Cached, 1e18));
}

TEST(Convert, NarrowInPlaceMatchesAndKeepsTheBuffer) {
  for (size_t n : {1, 7, 8, 9, 1000, 100003}) {
    Buffer<double> buf(n);
    fill_uniform(buf.data(), n, test::fresh_seed(), -1e5, 1e5);
    std::vector<double> copy(buf.begin(), buf.end());
    const size_t live = mem::live_bytes();
    float* out = cpu::narrow_in_place(buf.data(), n);
    EXPECT_EQ(static_cast<void*>(out), static_cast<void*>(buf.data()));
    EXPECT_EQ(mem::live_bytes(), live);  // no new bytes
    for (size_t i = 0; i < n; ++i) ASSERT_EQ(out[i], static_cast<float>(copy[i])) << n << " " << i;
  }
}

TEST(Convert, ViewDoublesTheElementCount) {
  // L7: viewing 3 doubles as float32 gives 6 values, the halves of each double's bit pattern
  Buffer<double> d(3);
  d[0] = 1.0, d[1] = -2.5, d[2] = 1e300;
  const float* f = reinterpret_cast<const float*>(d.data());
  const size_t count = d.bytes() / sizeof(float);
  EXPECT_EQ(count, 6u);
  for (size_t i = 0; i < 3; ++i) {
    uint64_t bits;
    std::memcpy(&bits, &d[i], 8);
    EXPECT_EQ(f32_bits(f[2 * i]), static_cast<uint32_t>(bits));  // little-endian: low word first
    EXPECT_EQ(f32_bits(f[2 * i + 1]), static_cast<uint32_t>(bits >> 32));
  }
}

TEST(Convert, F16RangeCountsAgreeBetweenBothMethods) {
  const std::vector<float> in = edge_and_random_floats(100000);
  const cpu::F16Range check = cpu::f16_range_check(in.data(), in.size());
  Buffer<half> out(in.size());
  const cpu::F16Range fused = cpu::convert_counting(in.data(), out.data(), in.size());
  size_t over = 0, under = 0, sub = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    const uint16_t h = f32_to_f16_bits_portable(in[i]) & 0x7fff;
    const bool finite = std::isfinite(in[i]);
    over += h == 0x7c00 && finite;
    under += h == 0 && in[i] != 0.0f;
    sub += h != 0 && h < 0x400;
    ASSERT_TRUE(same_f16(out[i].bits, f32_to_f16_bits_portable(in[i]))) << in[i];
  }
  EXPECT_GT(over, 0u);
  EXPECT_GT(under, 0u);
  EXPECT_GT(sub, 0u);
  EXPECT_EQ(check.overflow, over);
  EXPECT_EQ(check.underflow, under);
  EXPECT_EQ(check.subnormal, sub);
  EXPECT_EQ(fused.overflow, over);
  EXPECT_EQ(fused.underflow, under);
  EXPECT_EQ(fused.subnormal, sub);
}

TEST(Convert, PromotionFollowsNumpy) {
  using D = cpu::Dtype;
  EXPECT_EQ(cpu::promote(D::i32, D::f32), D::f64);  // L8: the silent doubling
  EXPECT_EQ(cpu::promote(D::i16, D::f32), D::f32);
  EXPECT_EQ(cpu::promote(D::u8, D::f16), D::f16);
  EXPECT_EQ(cpu::promote(D::i8, D::f16), D::f16);
  EXPECT_EQ(cpu::promote(D::i16, D::f16), D::f32);
  EXPECT_EQ(cpu::promote(D::i64, D::f32), D::f64);
  EXPECT_EQ(cpu::promote(D::f16, D::f64), D::f64);
  EXPECT_EQ(cpu::promote(D::i32, D::u32), D::i64);
  EXPECT_EQ(cpu::promote(D::u64, D::i8), D::f64);
  EXPECT_EQ(cpu::promote(D::u8, D::i8), D::i16);
  EXPECT_EQ(cpu::promote(D::f32, D::i32), cpu::promote(D::i32, D::f32));
}

TEST(Convert, PromotedAxpyErrors) {
  const size_t n = 100001;
  Buffer<int32_t> a(n);
  Buffer<float> x(n), y(n), o32(n), f32(n);
  Buffer<double> o64(n);
  const uint64_t seed = test::fresh_seed();
  for (size_t i = 0; i < n; ++i) a[i] = static_cast<int32_t>(uniform_at(seed, i, -1e6, 1e6));
  fill_uniform(x.data(), n, seed + 1);
  fill_uniform(y.data(), n, seed + 2);
  poison(o64.data(), n);
  poison(o32.data(), n);
  poison(f32.data(), n);
  cpu::axpy_promoted_f64(a.data(), x.data(), y.data(), o64.data(), n);
  cpu::axpy_f32_temporaries(a.data(), x.data(), y.data(), o32.data(), n);
  cpu::axpy_fused_f32(a.data(), x.data(), y.data(), f32.data(), n);
  for (size_t i = 0; i < n; ++i) {
    const long double want = static_cast<long double>(a[i]) * x[i] + y[i];
    const double mag = std::fabs(static_cast<double>(a[i]) * x[i]) + std::fabs(y[i]);
    ASSERT_NEAR(o64[i], static_cast<double>(want), 2 * 0x1p-53 * mag + 1e-300) << i;
    // f32: a rounds (<= 2^-24 relative), the product and the sum round: 3 u
    ASSERT_NEAR(o32[i], static_cast<double>(want), 3 * 0x1p-24 * mag) << i;
    ASSERT_NEAR(f32[i], static_cast<double>(want), 3 * 0x1p-24 * mag) << i;
  }
}

TEST(Convert, ByteswapEveryWidthBothPaths) {
  for (int width : {2, 4, 8})
    for (Path p : kPaths) {
      const size_t n = 1003;
      Buffer<uint8_t> src(n * width), dst(n * width);
      for (size_t i = 0; i < src.size(); ++i) src[i] = static_cast<uint8_t>(splitmix64(i) >> 7);
      std::fill(dst.begin(), dst.end(), 0xaa);
      cpu::byteswap(src.data(), dst.data(), n, width, p);
      for (size_t e = 0; e < n; ++e)
        for (int b = 0; b < width; ++b)
          ASSERT_EQ(dst[e * width + b], src[e * width + width - 1 - b]) << width << " " << e;
      cpu::byteswap(dst.data(), dst.data(), n, width, p);  // in place, and back again
      ASSERT_EQ(std::memcmp(dst.data(), src.data(), src.size()), 0);
    }
  Buffer<uint8_t> x(8);
  EXPECT_THROW(cpu::byteswap(x.data(), x.data(), 1, 3, Path::Simd), std::invalid_argument);
}

TEST(Convert, AosAndSoaSumTheSameField) {
  const size_t n = 10007;
  Buffer<cpu::Record> r(n);
  Buffer<float> f(n);
  double want = 0;
  for (size_t i = 0; i < n; ++i) {
    f[i] = static_cast<float>(uniform_at(3, i));
    r[i] = {1e300, f[i], -1, 255};
    want += f[i];
  }
  EXPECT_EQ(sizeof(cpu::Record), 24u);
  EXPECT_NEAR(cpu::sum_field_aos(r.data(), n), want, 1e-9);
  EXPECT_NEAR(cpu::sum_soa(f.data(), n), want, 1e-9);
}

#ifdef DTYPEBENCH_HAVE_CUDA
TEST(Convert, GpuConversionsMatchTheHostRules) {
  DB_REQUIRE_GPU();
  const std::vector<float> in = edge_and_random_floats(100001);
  const size_t n = in.size();
  gpu::DeviceBuffer<float> f(n), back(n);
  gpu::DeviceBuffer<half> h(n);
  gpu::DeviceBuffer<bfloat16> b(n);
  gpu::copy_to_device(f.data(), in.data(), n * 4);
  gpu::memset_device(h.data(), 0xff, h.bytes());
  gpu::memset_device(b.data(), 0xff, b.bytes());
  cuda::convert(f.data(), h.data(), n);
  cuda::convert(f.data(), b.data(), n);
  std::vector<half> hh(n);
  std::vector<bfloat16> hb(n);
  gpu::copy_to_host(hh.data(), h.data(), h.bytes());
  gpu::copy_to_host(hb.data(), b.data(), b.bytes());
  for (size_t i = 0; i < n; ++i) {
    ASSERT_TRUE(same_f16(hh[i].bits, f32_to_f16_bits_portable(in[i]))) << in[i];
    const uint16_t want = f32_to_bf16_bits(in[i]);
    const bool nan = (want & 0x7f80) == 0x7f80 && (want & 0x7f);
    if (nan)
      ASSERT_TRUE((hb[i].bits & 0x7f80) == 0x7f80 && (hb[i].bits & 0x7f)) << i;
    else
      ASSERT_EQ(hb[i].bits, want) << in[i];
  }
  gpu::memset_device(back.data(), 0xff, back.bytes());
  cuda::convert(h.data(), back.data(), n);
  std::vector<float> hf(n);
  gpu::copy_to_host(hf.data(), back.data(), back.bytes());
  for (size_t i = 0; i < n; ++i) {
    const float want = f16_bits_to_f32_portable(hh[i].bits);
    if (std::isnan(want))
      ASSERT_TRUE(std::isnan(hf[i]));
    else
      ASSERT_EQ(f32_bits(hf[i]), f32_bits(want)) << i;
  }
  // pointers off the 16-byte grid take the element-by-element kernel
  gpu::memset_device(h.data(), 0xff, h.bytes());
  cuda::convert(f.data() + 1, h.data() + 1, n - 1);
  gpu::copy_to_host(hh.data(), h.data(), h.bytes());
  for (size_t i = 1; i < n; ++i)
    ASSERT_TRUE(same_f16(hh[i].bits, f32_to_f16_bits_portable(in[i]))) << "offset " << in[i];
  // f64 -> f32 on the device and straight from pinned host memory
  std::vector<double> d(n);
  for (size_t i = 0; i < n; ++i) d[i] = uniform_at(9, i, -1e6, 1e6);
  gpu::DeviceBuffer<double> dd(n);
  gpu::copy_to_device(dd.data(), d.data(), n * 8);
  for (int way = 0; way < 2; ++way) {
    gpu::memset_device(back.data(), 0xff, back.bytes());
    double* pinned = nullptr;
    if (way == 0) cuda::convert(dd.data(), back.data(), n);
    if (way == 1) {
      pinned = static_cast<double*>(cuda::pinned_allocate(n * 8));
      std::memcpy(pinned, d.data(), n * 8);
      cuda::convert_from_host(pinned, back.data(), n);
    }
    gpu::copy_to_host(hf.data(), back.data(), back.bytes());
    if (pinned) cuda::pinned_release(pinned);
    for (size_t i = 0; i < n; ++i) ASSERT_EQ(hf[i], static_cast<float>(d[i])) << way << " " << i;
  }
}
#else
TEST(Convert, GpuConversions) { DB_REQUIRE_GPU(); }
#endif

}  // namespace
}  // namespace dtypebench
