// GEMM: the 8-bit float codecs, the check's bound (a right answer passes, a wrong transpose or a
// wrong scale fails), and every CPU library's precisions on fresh inputs of odd shapes in every
// layout against the fp64 reference.
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "dtypebench/dtypes.hpp"
#include "kernels/cpu/gemm.hpp"
#include "tests/test_util.hpp"
#ifdef DTYPEBENCH_HAVE_CUDA
#include "dtypebench/gpu.hpp"
#include "kernels/cuda/gemm.hpp"
#endif

namespace dtypebench {
namespace {

TEST(Fp8, KnownCodesAndRoundTrip) {
  EXPECT_EQ(fp8_encode(Dtype::e4m3, 1.0), 0x38);
  EXPECT_EQ(fp8_encode(Dtype::e4m3, 448.0), 0x7e);
  EXPECT_EQ(fp8_encode(Dtype::e4m3, 1e6), 0x7e);  // satfinite
  EXPECT_EQ(fp8_encode(Dtype::e4m3, -1e6), 0xfe);
  EXPECT_EQ(fp8_encode(Dtype::e4m3, 0x1p-9), 0x01);  // the smallest subnormal
  EXPECT_EQ(fp8_encode(Dtype::e4m3, 1.0625), 0x38);  // a tie goes to the even mantissa
  EXPECT_EQ(fp8_encode(Dtype::e4m3, 1.1875), 0x3a);
  EXPECT_EQ(fp8_encode(Dtype::e5m2, 1.0), 0x3c);
  EXPECT_EQ(fp8_encode(Dtype::e5m2, 57344.0), 0x7b);
  EXPECT_EQ(fp8_encode(Dtype::e5m2, 0x1p-16), 0x01);
  EXPECT_TRUE(std::isnan(fp8_decode(Dtype::e4m3, 0x7f)));
  EXPECT_TRUE(std::isinf(fp8_decode(Dtype::e5m2, 0x7c)));
  for (Dtype d : {Dtype::e4m3, Dtype::e5m2})
    for (int code = 0; code < 256; ++code) {
      const double v = fp8_decode(d, static_cast<uint8_t>(code));
      if (std::isnan(v) || std::isinf(v) || (v == 0 && code != 0)) continue;  // -0 is 0x80
      EXPECT_EQ(fp8_encode(d, v), code) << dtype_name(d) << " " << v;
    }
}

TEST(GemmStore, IntegersRoundAndSaturate) {
  int8_t i8[3];
  uint8_t u8[2];
  store_value(Dtype::i8, 126.6, i8, 0);
  store_value(Dtype::i8, 300, i8, 1);
  store_value(Dtype::i8, -300, i8, 2);
  store_value(Dtype::u8, -5, u8, 0);
  store_value(Dtype::u8, 254.5, u8, 1);  // to even
  EXPECT_EQ(i8[0], 127);
  EXPECT_EQ(i8[1], 127);
  EXPECT_EQ(i8[2], -128);
  EXPECT_EQ(u8[0], 0);
  EXPECT_EQ(u8[1], 254);
}

TEST(GemmBound, FromUnitRoundoffAndK) {
  const Precision f32{Dtype::f32, Dtype::f32, Dtype::f32, Dtype::f32};
  const Precision i8{Dtype::i8, Dtype::u8, Dtype::i32, Dtype::i32};
  EXPECT_DOUBLE_EQ(accumulation_bound(f32, 256), 258 * 0x1p-24 + 256 * 0x1p-53);
  EXPECT_DOUBLE_EQ(accumulation_bound(i8, 256), 256 * 0x1p-53);
  EXPECT_GT(accumulation_bound(Precision{Dtype::f32, Dtype::f32, Dtype::tf32, Dtype::f32}, 256),
            accumulation_bound(f32, 256));
}

TEST(GemmBound, ModelPerAccumulator) {
  const auto bound = [](const char* name, size_t k) {
    return error_bound(precision_from_name(name), k);
  };
  // tf32: the engine's rounding of both factors (4 u_tf32, truncation at worst), then f32 sums
  EXPECT_DOUBLE_EQ(bound("f32.tf32.f32", 4096).abs, 4 * 0x1p-11 + 4098 * 0x1p-24 + 4096 * 0x1p-53);
  EXPECT_EQ(bound("f32.tf32.f32", 4096).walk, 0);
  // f16 accumulation and 8-bit floats: probabilistic, no worst-case term of their own
  EXPECT_DOUBLE_EQ(bound("f16.f16.f16", 8192).walk, 8 * 0x1p-11);
  EXPECT_DOUBLE_EQ(bound("f16.f16.f16", 8192).abs, 8192 * 0x1p-53);
  EXPECT_DOUBLE_EQ(bound("e4m3.f32.bf16", 272).walk, 8 * 0x1p-13);
  EXPECT_DOUBLE_EQ(bound("e4m3.f32.bf16", 272).out, 0x1p-8);
  EXPECT_EQ(bound("bf16.f32.bf16", 272).walk, 0);
  EXPECT_EQ(bound("i8.i32.i32", 272).out, 0);
}

// C by a plain loop in the accumulator type (float), rounded to the output type: what any engine
// of that precision may return
void naive_gemm(const GemmProblem& pr, void* c, bool transpose_a = false, double scale = 1.0) {
  const GemmShape& s = pr.s;
  for (size_t j = 0; j < s.n; ++j)
    for (size_t i = 0; i < s.m; ++i) {
      float acc = 0;
      for (size_t p = 0; p < s.k; ++p) {
        // a wrong transpose reads A(p, i) of the square k x k case
        const double a = transpose_a ? pr.a_at(p, i) : pr.a_at(i, p);
        acc += static_cast<float>(a) * static_cast<float>(pr.b_at(p, j));
      }
      store_value(pr.prec.out, acc * scale, c, i + j * s.m);
    }
}

TEST(GemmCheck, PassesARightAnswerAndFailsAWrongTransposeOrScale) {
  for (const char* name : {"f32.f32.f32", "bf16.f32.bf16", "bf16.f32.f32"}) {
    const Precision prec = precision_from_name(name);
    const GemmProblem pr(prec, gemm_shape(64, 48, 64, "NN"), test::fresh_seed());
    std::vector<char> c(pr.c_bytes());
    naive_gemm(pr, c.data());
    const GemmError ok = check_gemm(pr, c.data(), pr.s.m);
    EXPECT_EQ(ok.why, "") << name;
    EXPECT_LT(ok.rel_error, 8 * unit_roundoff(prec.out)) << name;
    EXPECT_EQ(ok.rows, 64u);
    naive_gemm(pr, c.data(), /*transpose_a=*/true);
    EXPECT_NE(check_gemm(pr, c.data(), pr.s.m).why, "") << name << ": wrong transpose passed";
    naive_gemm(pr, c.data(), false, /*scale=*/1.01);
    EXPECT_NE(check_gemm(pr, c.data(), pr.s.m).why, "") << name << ": wrong scale passed";
    std::memset(c.data(), 0xff, c.size());  // NaN never passes
    EXPECT_NE(check_gemm(pr, c.data(), pr.s.m).why, "") << name << ": NaN passed";
  }
}

// Every CPU library's precisions, odd shapes, every layout, 1 and 3 threads: within the bound;
// and the same library told the wrong layout fails it.
struct LibCase {
  const char* lib;
  const char* precision;
};
class CpuGemm : public ::testing::TestWithParam<LibCase> {};

void run_lib(const char* lib, const GemmProblem& pr, void* c) {
  if (std::string(lib) == "openblas") {
    cpu::blas_gemm(pr, c);
  } else if (std::string(lib) == "blis") {
    cpu::blis_gemm(pr, c);
  } else {
    cpu::DnnlMatmul mm(pr, c);
    mm.run();
  }
}

TEST_P(CpuGemm, MatchesFp64InEveryLayout) {
  const LibCase lc = GetParam();
  if (std::string(lc.lib) == "openblas" && !cpu::have_openblas()) GTEST_SKIP() << "no OpenBLAS";
  if (std::string(lc.lib) == "onednn" && !cpu::have_onednn()) GTEST_SKIP() << "no oneDNN";
  if (std::string(lc.lib) == "blis" && !cpu::blis_missing().empty())
    GTEST_SKIP() << cpu::blis_missing();
  const Precision prec = precision_from_name(lc.precision);
  for (int threads : {1, 3}) {
    omp_set_num_threads(threads);
    cpu::blas_threads(threads);
    if (std::string(lc.lib) == "blis") cpu::blis_threads(threads);
    for (const char* layout : {"NN", "NT", "TN", "TT"}) {
      const GemmProblem pr(prec, gemm_shape(67, 45, 301, layout), test::fresh_seed());
      std::vector<char> c(pr.c_bytes());
      std::memset(c.data(), 0xff, c.size());
      try {
        run_lib(lc.lib, pr, c.data());
      } catch (const Unsupported& e) {
        GTEST_SKIP() << e.what();
      }
      const GemmError e = check_gemm(pr, c.data(), pr.s.m);
      EXPECT_EQ(e.why, "") << lc.lib << " " << lc.precision << " " << layout << " threads "
                           << threads;
      EXPECT_LE(e.rel_error_unrounded,
                4 * unit_roundoff(prec.a == Dtype::i8 ? Dtype::bf16 : prec.a) +
                    4 * unit_roundoff(prec.out) + 0.02 * !is_float(prec.a))
          << "the inputs' own rounding should dominate";
    }
  }
  // A square problem computed as if A were stored transposed: the check must catch it.
  const GemmProblem pr(prec, gemm_shape(64, 64, 64, "NN"), test::fresh_seed());
  GemmProblem wrong(prec, gemm_shape(64, 64, 64, "TN"), 0);
  std::memcpy(wrong.a.data(), pr.a.data(), pr.a.bytes());
  std::memcpy(wrong.b.data(), pr.b.data(), pr.b.bytes());
  std::vector<char> c(pr.c_bytes());
  run_lib(lc.lib, wrong, c.data());
  EXPECT_NE(check_gemm(pr, c.data(), pr.s.m).why, "") << "a wrong transpose passed";
}

INSTANTIATE_TEST_SUITE_P(
    Libraries, CpuGemm,
    ::testing::Values(LibCase{"openblas", "f64.f64.f64"}, LibCase{"openblas", "f32.f32.f32"},
                      LibCase{"blis", "f64.f64.f64"}, LibCase{"blis", "f32.f32.f32"},
                      LibCase{"onednn", "f32.f32.f32"}, LibCase{"onednn", "bf16.f32.bf16"},
                      LibCase{"onednn", "bf16.f32.f32"}, LibCase{"onednn", "i8xu8.i32.i32"}),
    [](const auto& info) {
      std::string n = std::string(info.param.lib) + "_" + info.param.precision;
      for (char& ch : n)
        if (ch == '.') ch = '_';
      return n;
    });

// BLIS 0.9 falls back to AVX2 kernels on AVX-512 CPUs it does not know (Sapphire Rapids: haswell,
// Zen 4: zen3): on any CPU with AVX-512F the suite has it take its AVX-512 ones (skx).
TEST(CpuGemm, BlisTakesItsAvx512KernelsOnAvx512) {
  if (!cpu::blis_missing().empty()) GTEST_SKIP() << cpu::blis_missing();
  EXPECT_NE(cpu::blis_config().find("BLIS "), std::string::npos) << cpu::blis_config();
#if defined(__x86_64__)
  if (std::getenv("BLIS_ARCH_TYPE") || !__builtin_cpu_supports("avx512f"))
    GTEST_SKIP() << "no AVX-512F, or BLIS_ARCH_TYPE set";
  EXPECT_EQ(cpu::blis_arch(), "skx") << cpu::blis_config();
#endif
}

TEST(CpuGemm, UnsupportedPrecisionSaysSo) {
  const GemmProblem pr(precision_from_name("f16.f16.f16"), gemm_shape(8, 8, 8, "NN"));
  std::vector<char> c(pr.c_bytes());
  EXPECT_THROW(cpu::blas_gemm(pr, c.data()), Unsupported);
  EXPECT_THROW(cpu::blis_gemm(pr, c.data()), Unsupported);
  EXPECT_THROW(cpu::DnnlMatmul(pr, c.data()), Unsupported);
  EXPECT_THROW(gemm_shape(1, 1, 1, "NX"), std::invalid_argument);
}

// What an engine of the precision may return, simulated on the host: inputs as stored (tf32:
// cut to 10 fraction bits or rounded to them, as the engine does either), products summed in index
// order in the accumulator (f32, f64; f16 rounded to nearest after every `chunk` products, which
// an MMA sums exactly; 8-bit floats in 13-bit sums, the bound's model of their tensor cores),
// rounded once to the output type. The wrong answers a check must catch: C = 0, and A read one
// column on (a wrong leading dimension).
enum class Answer { Engine, Zero, ShiftedA };
double round_bits(double x, int bits) {  // to `bits` significant bits, to nearest
  if (x == 0 || !std::isfinite(x)) return x;
  int e;
  std::frexp(x, &e);
  return std::ldexp(std::nearbyint(std::ldexp(x, bits - e)), e - bits);
}
float tf32_input(double x, bool truncate) {
  if (!truncate) return static_cast<float>(round_bits(x, 11));
  float f = static_cast<float>(x);
  uint32_t u;
  std::memcpy(&u, &f, 4);
  u &= ~uint32_t(0x1fff);  // tf32 keeps 10 of f32's 23 fraction bits
  std::memcpy(&f, &u, 4);
  return f;
}
void engine_gemm(const GemmProblem& pr, void* c, Answer answer, int chunk = 16,
                 bool truncate_tf32 = true) {
  const GemmShape& s = pr.s;
  const Precision& q = pr.prec;
  for (size_t j = 0; j < s.n; ++j)
    for (size_t i = 0; i < s.m; ++i) {
      double acc = 0, part = 0;
      for (size_t p = 0; p < s.k; ++p) {
        double a = pr.a_at(i, answer == Answer::ShiftedA ? (p + 1) % s.k : p);
        double b = pr.b_at(p, j);
        if (q.acc == Dtype::tf32)
          a = tf32_input(a, truncate_tf32), b = tf32_input(b, truncate_tf32);
        if (q.acc == Dtype::f64) {
          acc += a * b;
        } else if (q.acc == Dtype::f16 || q.a == Dtype::e4m3 || q.a == Dtype::e5m2) {
          part += a * b;  // exact: products of 16-bit or 8-bit floats fit a double's sum of 16
          if ((p + 1) % chunk == 0 || p + 1 == s.k) {
            acc = q.acc == Dtype::f16 ? static_cast<float>(store_as<half>(acc + part))
                                      : round_bits(acc + part, 13);
            part = 0;
          }
        } else if (is_float(q.acc)) {
          acc = static_cast<float>(
              acc + static_cast<float>(static_cast<float>(a) * static_cast<float>(b)));
        } else {
          acc += a * b;  // integers: exact
        }
      }
      if (answer == Answer::Zero) acc = 0;
      store_value(q.out, acc * pr.scale_a * pr.scale_b, c, i + j * s.m);
    }
}

// Every GPU triple at k = 272, 4096 and 8192: the answers its engine may give pass, and a zero C
// and a shifted A fail (a bound of (k + 2) u_tf32, or (k + 2) u_f16, passed both from k = 4096).
TEST(GemmCheck, EveryGpuTriplePassesItsEngineAndFailsZeroAndShiftedA) {
  for (const Precision& prec : kMatrixPrecisions) {
    if (prec.b == Dtype::u8) continue;  // oneDNN's alone
    for (size_t k : {272, 4096, 8192}) {
      const GemmProblem pr(prec, gemm_shape(16, 12, k, "NN"), test::fresh_seed());
      std::vector<char> c(pr.c_bytes());
      const std::string at = prec.name() + " k " + std::to_string(k);
      for (int chunk : {1, 16}) {
        for (bool truncate : {false, true}) {
          engine_gemm(pr, c.data(), Answer::Engine, chunk, truncate);
          EXPECT_EQ(check_gemm(pr, c.data(), pr.s.m).why, "")
              << at << " chunk " << chunk << (truncate ? " truncated" : "");
        }
      }
      engine_gemm(pr, c.data(), Answer::Zero);
      EXPECT_NE(check_gemm(pr, c.data(), pr.s.m).why, "") << at << ": a zero C passed";
      engine_gemm(pr, c.data(), Answer::ShiftedA);
      EXPECT_NE(check_gemm(pr, c.data(), pr.s.m).why, "") << at << ": a shifted A passed";
    }
  }
}

#ifdef DTYPEBENCH_HAVE_CUDA
// The GPU inputs' rotation: every copy on a 256-byte boundary, together at least twice the L2
// (the seed conv as a bf16 GEMM, k = 12, has an A of 176 mod 256 bytes; small shapes were capped
// at 16 copies, a few MiB on an H200 with 60 MiB of L2)
TEST(GpuGemm, InputRotationAlignedAndPastTwiceTheL2) {
  const size_t l2 = 62914560;  // the H200's
  struct Case {
    size_t a, b;
  };
  for (const Case c :
       {Case{50 * 255 * 255 * 12 * 2, 12 * 128 * 2}, Case{128 * 256 * 8, 256 * 128 * 8},
        Case{8192ul * 8192 * 2, 8192ul * 8192 * 2}, Case{1, 1}}) {
    const cuda::InputRotation r = cuda::input_rotation(c.a, c.b, l2);
    EXPECT_EQ(r.a_stride % 256, 0u) << c.a;
    EXPECT_EQ(r.b_stride % 256, 0u) << c.b;
    EXPECT_GE(r.a_stride, c.a);
    EXPECT_GE(r.b_stride, c.b);
    EXPECT_GE(r.copies, 1u);
    EXPECT_GE(r.copies * (r.a_stride + r.b_stride), 2 * l2) << c.a << " " << c.b;
    EXPECT_LT((r.copies - 1) * (r.a_stride + r.b_stride), 2 * l2) << "more copies than needed";
  }
  EXPECT_EQ(cuda::input_rotation(8192ul * 8192 * 2, 8192ul * 8192 * 2, l2).copies, 1u);
  EXPECT_EQ(cuda::input_rotation(0, 0, l2).copies, 1u);
  EXPECT_GT(cuda::input_rotation(128 * 256 * 8, 256 * 128 * 8, l2).copies, 16u);
}

TEST(GpuGemm, DatasheetTableByChip) {
  const Precision bf16 = precision_from_name("bf16.f32.bf16");
  EXPECT_DOUBLE_EQ(cuda::datasheet_peak(bf16, 9, 0, 132), 989.4e12);  // H100 SXM5 / H200
  EXPECT_DOUBLE_EQ(cuda::datasheet_peak(precision_from_name("f32.tf32.f32"), 9, 0, 132), 494.7e12);
  EXPECT_GT(cuda::datasheet_peak(precision_from_name("f32.tf32.f32"), 9, 0, 132),
            cuda::datasheet_peak(precision_from_name("f32.f32.f32"), 9, 0, 132));
  EXPECT_EQ(cuda::datasheet_peak(bf16, 7, 5, 40), 0);  // not in the table
}

// cuBLASLt per precision, fresh inputs, the layouts each allows; a wrong scale factor (fp8) and
// a wrong transpose must fail the same check.
TEST(GpuGemm, EveryPrecisionMatchesFp64) {
  DB_REQUIRE_GPU();
  for (const Precision& prec : kMatrixPrecisions) {
    if (prec.b == Dtype::u8) continue;  // oneDNN's
    const bool tn = prec.a == Dtype::e4m3 || prec.a == Dtype::e5m2 || prec.a == Dtype::i8;
    for (const char* layout : {"NN", "NT", "TN"}) {
      if (tn && std::string(layout) != "TN") continue;
      const GemmProblem pr(prec, gemm_shape(96, 80, 272, layout), test::fresh_seed());
      gpu::DeviceBuffer<char> a(pr.a.bytes()), b(pr.b.bytes()), c(pr.c_bytes());
      gpu::copy_to_device(a.data(), pr.a.data(), pr.a.bytes());
      gpu::copy_to_device(b.data(), pr.b.data(), pr.b.bytes());
      gpu::memset_device(c.data(), 0xff, c.bytes());
      std::unique_ptr<cuda::LtMatmul> mm;
      try {
        mm = std::make_unique<cuda::LtMatmul>(prec, pr.s);
      } catch (const Unsupported& e) {
        std::printf("[ skip     ] %s %s: %s\n", prec.name().c_str(), layout, e.what());
        continue;
      }
      mm->run(a.data(), b.data(), c.data());
      std::vector<char> h(pr.c_bytes());
      gpu::copy_to_host(h.data(), c.data(), h.size());
      EXPECT_EQ(check_gemm(pr, h.data(), pr.s.m).why, "") << prec.name() << " " << layout;
      if (tn && prec.a != Dtype::i8) {
        // fast accumulation: the same check (its model of the accumulator already allows 14 bits)
        cuda::LtMatmul fast(prec, pr.s, 8, /*fast_accum=*/true);
        gpu::memset_device(c.data(), 0xff, c.bytes());
        fast.run(a.data(), b.data(), c.data());
        gpu::copy_to_host(h.data(), c.data(), h.size());
        EXPECT_EQ(check_gemm(pr, h.data(), pr.s.m).why, "") << prec.name() << " fast accumulation";
        gpu::DeviceBuffer<float> two(2);
        const float h2[2] = {2.0f, 1.0f};
        gpu::copy_to_device(two.data(), h2, sizeof h2);
        mm->set_scales(two.data(), two.data() + 1);
        mm->run(a.data(), b.data(), c.data());
        gpu::copy_to_host(h.data(), c.data(), h.size());
        EXPECT_NE(check_gemm(pr, h.data(), pr.s.m).why, "")
            << prec.name() << ": wrong scale passed";
      }
    }
  }
}
#else
TEST(GpuGemm, EveryPrecisionMatchesFp64) { DB_REQUIRE_GPU(); }
#endif

}  // namespace
}  // namespace dtypebench
