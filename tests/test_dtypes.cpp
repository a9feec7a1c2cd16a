// Half and bfloat16 conversions, bit-exact against the scalar rules, and the name table.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "dtypebench/dtypes.hpp"
#include "dtypebench/fill.hpp"
#include "tests/test_util.hpp"

namespace dtypebench {
namespace {

// fp64 model of round-to-nearest-even into a format with `mant` fraction bits, exponent range
// [emin, emax], with subnormals; returns the rounded value as a double (inf on overflow).
double round_to_format(double x, int mant, int emin, int emax) {
  if (std::isnan(x) || std::isinf(x) || x == 0) return x;
  int e;
  std::frexp(std::fabs(x), &e);  // |x| in [2^(e-1), 2^e)
  const int exp = std::max(e - 1, emin);
  const double ulp = std::ldexp(1.0, exp - mant);
  const double r = std::nearbyint(x / ulp) * ulp;  // default rounding mode: ties to even
  const double max = std::ldexp(2.0 - std::ldexp(1.0, -mant), emax);
  if (std::fabs(r) > max) return std::copysign(INFINITY, x);
  return r;
}

TEST(Dtypes, HalfToFloatEveryPatternMatchesPortable) {
  for (uint32_t b = 0; b < 65536; ++b) {
    const float fast = f16_bits_to_f32(static_cast<uint16_t>(b));
    const float slow = f16_bits_to_f32_portable(static_cast<uint16_t>(b));
    if (std::isnan(slow)) {
      ASSERT_TRUE(std::isnan(fast)) << b;
      continue;
    }
    ASSERT_EQ(f32_bits(fast), f32_bits(slow)) << "pattern " << b;
    // and the value is what the format says: sign * 2^(e-15) * 1.m, subnormals 2^-14 * 0.m
    const int e = (b >> 10) & 31, m = b & 1023;
    if (e == 31) continue;
    const double v = e ? std::ldexp(1.0 + m / 1024.0, e - 15) : std::ldexp(m / 1024.0, -14);
    ASSERT_EQ(static_cast<double>(slow), (b & 0x8000) ? -v : v) << "pattern " << b;
  }
}

TEST(Dtypes, BfloatToFloatEveryPatternIsTopHalf) {
  for (uint32_t b = 0; b < 65536; ++b)
    ASSERT_EQ(f32_bits(bf16_bits_to_f32(static_cast<uint16_t>(b))), b << 16);
}

TEST(Dtypes, HalfRoundTripEveryPattern) {
  for (uint32_t b = 0; b < 65536; ++b) {
    const float f = f16_bits_to_f32_portable(static_cast<uint16_t>(b));
    if (std::isnan(f)) continue;
    ASSERT_EQ(f32_to_f16_bits_portable(f), b);
    ASSERT_EQ(f32_to_f16_bits(f), b);
  }
}

TEST(Dtypes, NarrowingEdgeCases) {
  EXPECT_EQ(f32_to_f16_bits_portable(65504.0f), 0x7bff);
  EXPECT_EQ(f32_to_f16_bits_portable(65519.0f), 0x7bff);  // below the halfway point
  EXPECT_EQ(f32_to_f16_bits_portable(65520.0f), 0x7c00);  // halfway, ties to even: inf
  EXPECT_EQ(f32_to_f16_bits_portable(-1e6f), 0xfc00);
  EXPECT_EQ(f32_to_f16_bits_portable(0x1p-24f), 0x0001);    // smallest subnormal
  EXPECT_EQ(f32_to_f16_bits_portable(0x1p-25f), 0x0000);    // halfway to 0: even is 0
  EXPECT_EQ(f32_to_f16_bits_portable(0x1.8p-24f), 0x0002);  // 1.5 ulp: ties to even (2)
  EXPECT_EQ(f32_to_f16_bits_portable(-0.0f), 0x8000);
  EXPECT_EQ(f32_to_f16_bits_portable(1.0f + 0x1p-11f), 0x3c00);  // tie, keeps even 1.0
  EXPECT_EQ(f32_to_f16_bits_portable(1.0f + 0x3p-11f), 0x3c02);  // tie, rounds up to even
  const float qnan = std::numeric_limits<float>::quiet_NaN();
  EXPECT_TRUE(std::isnan(f16_bits_to_f32_portable(f32_to_f16_bits_portable(qnan))));
  EXPECT_TRUE(
      std::isnan(f16_bits_to_f32_portable(f32_to_f16_bits_portable(f32_from_bits(0x7f800001)))));
  EXPECT_EQ(f32_to_bf16_bits(1.0f + 0x1p-8f), 0x3f80);  // tie keeps even
  EXPECT_EQ(f32_to_bf16_bits(1.0f + 0x3p-8f), 0x3f82);  // tie rounds up to even
  EXPECT_EQ(f32_to_bf16_bits(INFINITY), 0x7f80);
  EXPECT_EQ(f32_to_bf16_bits(3.4028235e38f), 0x7f80);  // rounds past the largest finite
  EXPECT_TRUE(std::isnan(bf16_bits_to_f32(f32_to_bf16_bits(f32_from_bits(0x7f800001)))));
}

TEST(Dtypes, NarrowingRandomMatchesFp64Model) {
  const uint64_t seed = test::fresh_seed();
  for (size_t i = 0; i < 2000000; ++i) {
    // random bit patterns cover every exponent, subnormals included
    const uint32_t bits = static_cast<uint32_t>(splitmix64(seed + i));
    const float f = f32_from_bits(bits);
    if (std::isnan(f)) continue;
    const double h = round_to_format(f, 10, -14, 15);
    const uint16_t hb = f32_to_f16_bits_portable(f);
    ASSERT_EQ(static_cast<double>(f16_bits_to_f32_portable(hb)), h) << "f16 of " << f;
    ASSERT_EQ(f32_to_f16_bits(f), hb) << "f16 fast path of " << f;
    const double b = round_to_format(f, 7, -126, 127);
    ASSERT_EQ(static_cast<double>(bf16_bits_to_f32(f32_to_bf16_bits(f))), b) << "bf16 of " << f;
  }
}

TEST(Dtypes, NameTable) {
  EXPECT_STREQ(dtype_name<double>(), "f64");
  EXPECT_STREQ(dtype_name<float>(), "f32");
  EXPECT_STREQ(dtype_name<half>(), "f16");
  EXPECT_STREQ(dtype_name<bfloat16>(), "bf16");
}

}  // namespace
}  // namespace dtypebench
