// Convolution: every pass, layout and precision oneDNN has here against the fp64 direct sum of
// the same rounded inputs, at small sizes with stride, padding and dilation; integer fills that
// make f32 exact; and wrong answers (a weight layout mixed up, an output left unwritten) failing.
#include <gtest/gtest.h>

#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "kernels/cpu/conv.hpp"
#include "tests/test_util.hpp"
#ifdef DTYPEBENCH_HAVE_CUDA
#include "kernels/cuda/conv.hpp"
#endif

namespace dtypebench {
namespace {

// oneDNN's triples: the inputs, f32 accumulation and output
Precision cpu_prec(Dtype in) { return {in, in, Dtype::f32, Dtype::f32}; }

const char* pass_name(ConvPass p) {
  return p == ConvPass::Forward ? "fwd" : p == ConvPass::BackwardData ? "bwd_data" : "bwd_weights";
}
const char* layout_name(ConvLayout l) {
  return l == ConvLayout::Nchw ? "nchw" : l == ConvLayout::Nhwc ? "nhwc" : "blocked";
}

// runs the pass, its output poisoned first (oneDNN's reference loops allowed: the odd shapes
// have no other); false where oneDNN lacks it. The implementations that ran, for the log.
std::set<std::string> g_impls;
bool run(ConvProblem& pr) {
  pr.poison_output();
  try {
    cpu::DnnlConv conv(pr, true);
    g_impls.insert(conv.impl());
    conv.reorder_in();
    conv.run();
    conv.reorder_out();
  } catch (const Unsupported& e) {
    std::printf("[ skipped  ] %s\n", e.what());
    return false;
  }
  return true;
}

// small shapes with every kind of offset: stride 2 with padding, dilation, a 1x1, channels that
// are no multiple of 8
const ConvShape kShapes[] = {
    {2, 5, 9, 7, 6, 3, 3, 2, 1, 1},   // 3x3 stride 2, pad 1
    {1, 3, 8, 8, 4, 3, 3, 1, 2, 2},   // dilation 2, pad 2
    {3, 16, 5, 5, 8, 1, 1, 1, 0, 1},  // 1x1
    {2, 3, 6, 6, 5, 2, 2, 1, 0, 1},   // the seed CNN's 2x2
    {2, 32, 6, 6, 16, 3, 3, 1, 1, 1}, // channels in 16s: the vector kernels' shapes
    {2, 64, 7, 7, 32, 1, 1, 1, 0, 1},
};

TEST(Conv, EveryPassLayoutAndPrecisionMatchesFp64) {
  if (!cpu::have_onednn()) GTEST_SKIP() << "built without oneDNN";
  const uint64_t seed = test::fresh_seed();
  int ran = 0;
  for (Dtype in : {Dtype::f32, Dtype::bf16})
    for (ConvPass pass : {ConvPass::Forward, ConvPass::BackwardData, ConvPass::BackwardWeights})
      for (ConvLayout layout : {ConvLayout::Nchw, ConvLayout::Nhwc, ConvLayout::Blocked})
        for (const ConvShape& s : kShapes) {
          ConvProblem pr(s, pass, layout, cpu_prec(in), seed);
          if (!run(pr)) continue;
          const ProductErrors e = check_conv(pr, 1 << 20);
          EXPECT_EQ(e.why, "") << dtype_name(in) << " " << pass_name(pass) << " "
                               << layout_name(layout) << " c=" << s.c << " r=" << s.r;
          EXPECT_GT(e.rel_error_unrounded, in == Dtype::bf16 ? 1e-4 : 0)
              << "the unrounded error of bf16 inputs cannot be 0";
          ++ran;
        }
  EXPECT_GE(ran, 54) << "f32 in every pass and layout at least";
  std::string impls;
  for (const std::string& i : g_impls) impls += " " + i;
  std::printf("[ impls    ]%s\n", impls.c_str());
  EXPECT_NE(impls.find("jit"), std::string::npos) << "no vector kernel checked:" << impls;
}

// benchdnn's check: inputs in {-3..3} make every product and partial sum an exact f32 (and bf16
// holds them exactly too), so a right answer has no error at all
TEST(Conv, IntegerFillsAreExact) {
  if (!cpu::have_onednn()) GTEST_SKIP() << "built without oneDNN";
  for (Dtype in : {Dtype::f32, Dtype::bf16})
    for (ConvPass pass : {ConvPass::Forward, ConvPass::BackwardData, ConvPass::BackwardWeights})
      for (ConvLayout layout : {ConvLayout::Nchw, ConvLayout::Nhwc, ConvLayout::Blocked}) {
        ConvProblem pr(kShapes[0], pass, layout, cpu_prec(in), test::fresh_seed(), true);
        if (!run(pr)) continue;
        const ProductErrors e = check_conv(pr, 1 << 20);
        EXPECT_EQ(e.why, "");
        EXPECT_EQ(e.rel_error, 0) << dtype_name(in) << " " << pass_name(pass) << " "
                                  << layout_name(layout);
      }
}

// The weights handed to the primitive KCRS where it reads KRSC (NHWC) give another convolution:
// checked against the weights as they should have been, it fails. So does an output left
// poisoned, or zeroed.
TEST(Conv, WrongAnswersFail) {
  if (!cpu::have_onednn()) GTEST_SKIP() << "built without oneDNN";
  const ConvShape& s = kShapes[0];
  ConvProblem pr(s, ConvPass::Forward, ConvLayout::Nhwc, cpu_prec(Dtype::f32), test::fresh_seed());
  std::vector<char> krsc(pr.w.bytes());
  std::memcpy(krsc.data(), pr.w.data(), krsc.size());
  for (size_t k = 0; k < s.k; ++k)  // KRSC -> KCRS, stored where KRSC is read
    for (size_t c = 0; c < s.c; ++c)
      for (size_t r = 0; r < s.r; ++r)
        for (size_t t = 0; t < s.s; ++t)
          std::memcpy(pr.w.data() + 4 * (((k * s.c + c) * s.r + r) * s.s + t),
                      krsc.data() + 4 * pr.w_at(k, c, r, t), 4);
  if (!run(pr)) GTEST_SKIP() << "no f32 convolution here";
  std::memcpy(pr.w.data(), krsc.data(), krsc.size());
  EXPECT_NE(check_conv(pr, 1 << 20).why, "") << "a weight layout mixed up passed";
  ConvProblem unwritten(s, ConvPass::BackwardData, ConvLayout::Nchw, cpu_prec(Dtype::f32),
                        test::fresh_seed());
  EXPECT_NE(check_conv(unwritten, 1 << 20).why, "") << "a poisoned output passed";
  std::memset(unwritten.x.data(), 0, unwritten.x.bytes());
  EXPECT_NE(check_conv(unwritten, 1 << 20).why, "") << "a zero output passed";
}

#ifdef DTYPEBENCH_HAVE_CUDA
// cuDNN's passes, heuristic and search, every GPU precision and layout, against the same fp64
// direct sums; poisoned outputs, fresh inputs
TEST(GpuConv, EveryPassPrecisionAndLayoutMatchesFp64) {
  DB_REQUIRE_GPU();
  const uint64_t seed = test::fresh_seed();
  int ran = 0;
  for (const char* name : {"f32.f32.f32", "f32.tf32.f32", "f16.f32.f16", "bf16.f32.bf16"})
    for (ConvPass pass : {ConvPass::Forward, ConvPass::BackwardData, ConvPass::BackwardWeights})
      for (ConvLayout layout : {ConvLayout::Nchw, ConvLayout::Nhwc})
        for (const ConvShape& s : kShapes)
          for (bool search : {false, true}) {
            ConvProblem pr(s, pass, layout, precision_from_name(name), seed);
            Buffer<char>& out = pr.output();
            gpu::DeviceBuffer<char> x(pr.x.bytes()), w(pr.w.bytes()), y(pr.y.bytes());
            gpu::copy_to_device(x.data(), pr.x.data(), pr.x.bytes());
            gpu::copy_to_device(w.data(), pr.w.data(), pr.w.bytes());
            gpu::copy_to_device(y.data(), pr.y.data(), pr.y.bytes());
            char* dout = &out == &pr.x ? x.data() : &out == &pr.w ? w.data() : y.data();
            try {
              cuda::CudnnConv conv(pr, x.data(), w.data(), y.data());
              search ? conv.search(size_t(256) << 20) : conv.choose_heuristic();
              gpu::memset_device(dout, 0xff, out.bytes());
              conv.run();
              gpu::synchronize();
            } catch (const Unsupported& e) {
              std::printf("[ skipped  ] %s %s: %s\n", name, pass_name(pass), e.what());
              continue;
            }
            gpu::copy_to_host(out.data(), dout, out.bytes());
            EXPECT_EQ(check_conv(pr, 1 << 20).why, "")
                << name << " " << pass_name(pass) << " " << layout_name(layout) << " c=" << s.c
                << (search ? " search" : " heuristic");
            ++ran;
          }
  EXPECT_GE(ran, 2 * 3 * 2 * 6) << "f32 strict and tf32 in every pass and layout at least";
}
#endif

// The direct loops (the fp64 trainer's convolution) against the same long double sums, in f64,
// every pass, on NCHW tensors: the bound is f64's
TEST(Conv, DirectLoopsMatchTheReference) {
  const uint64_t seed = test::fresh_seed();
  for (ConvPass pass : {ConvPass::Forward, ConvPass::BackwardData, ConvPass::BackwardWeights})
    for (const ConvShape& s : kShapes) {
      ConvProblem pr(s, pass, ConvLayout::Nchw, {Dtype::f64, Dtype::f64, Dtype::f64, Dtype::f64},
                     seed);
      cpu::conv_direct(s, pass, reinterpret_cast<double*>(pr.x.data()),
                       reinterpret_cast<double*>(pr.w.data()),
                       reinterpret_cast<double*>(pr.y.data()));
      EXPECT_EQ(check_conv(pr, 1 << 20).why, "") << pass_name(pass) << " c=" << s.c;
    }
}

TEST(Conv, ShapesAndRefusals) {
  const ConvShape seed_cnn{50, 3, 256, 256, 128, 2, 2};
  EXPECT_EQ(seed_cnn.p(), 255u);
  EXPECT_EQ(seed_cnn.flops(), 2.0 * 50 * 128 * 3 * 2 * 2 * 255 * 255);
  EXPECT_EQ(seed_cnn.useful_flops(), seed_cnn.flops());  // no padding: every tap lands
  // 3x3, pad 1 on 7x7: per dimension the first and last outputs lose a tap (19 of 21)
  const ConvShape r50{1, 512, 7, 7, 512, 3, 3, 1, 1, 1};
  EXPECT_EQ(r50.useful_flops(), 2.0 * 512 * 512 * 19 * 19);
  // stride 2, pad 1 on 9x7: h's outputs take 2, 3, 3, 3, 2 taps, w's 2, 3, 3, 2
  EXPECT_EQ((ConvShape{1, 1, 9, 7, 1, 3, 3, 2, 1, 1}.useful_flops()), 2.0 * 13 * 10);
  const ConvShape stem{1, 3, 224, 224, 64, 7, 7, 2, 3, 1};
  EXPECT_EQ(stem.p(), 112u);
  EXPECT_EQ((ConvShape{1, 3, 8, 8, 4, 3, 3, 1, 2, 2}.p()), 8u);
  EXPECT_NE((ConvShape{1, 3, 2, 2, 4, 5, 5}.invalid()), "");
  EXPECT_THROW(ConvProblem(ConvShape{1, 0, 4, 4, 1, 1, 1}, ConvPass::Forward, ConvLayout::Nchw,
                           cpu_prec(Dtype::f32)),
               std::invalid_argument);
  EXPECT_EQ(conv_terms(kShapes[0], ConvPass::BackwardWeights), 2u * 5 * 4);
}

}  // namespace
}  // namespace dtypebench
