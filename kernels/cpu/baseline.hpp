// Baseline family: the ceilings every other result is measured against. The read, copy and
// copy_nt it times are the shared streaming kernels (stream.hpp); its own:
//   scale  b = q*a                 (2n*size)
//   add    c = a + b               (3n*size)
//   triad  a = b + q*c             (3n*size)
//   fma_peak  independent FMA chains held in registers: the arithmetic ceiling per precision
//   bf16_dot_peak  AVX512-BF16 dot-product chains (only where the CPU has them)
// All loops are OpenMP-parallel over the threads currently set (omp_set_num_threads).
#pragma once

#include <cstddef>
#include <cstdint>

#include "dtypebench/dtypes.hpp"
#include "kernels/cpu/stream.hpp"

namespace dtypebench {
namespace cpu {

template <class T>
void stream_scale(const T* a, T* b, T q, size_t n);
template <class T>
void stream_add(const T* a, const T* b, T* c, size_t n);
template <class T>
void stream_triad(T* a, const T* b, const T* c, T q, size_t n);

// Each thread runs kFmaChains vector-wide chains x = x*m + c for `steps` steps starting from
// x0 + lane*1e-3; returns the sum of every final x (so the work cannot be deleted) and writes the
// number of FLOPs done to *flops.
constexpr int kFmaChains = 12;
template <class T>
double fma_peak(size_t steps, T m, T c, T x0, double* flops);
// Scalar fp64 model of one chain, for the tests.
double fma_chain_reference(size_t steps, double m, double c, double x);

bool have_avx512_bf16();
// vdpbf16ps needs more chains in flight than an FMA to fill both pipes: on a Zen 5 VM 12 chains
// read 9-12% below 16 (940 against 1030 GFLOP/s on 2 threads, 430 against 500 on one), and
// oneDNN's bf16 convolutions then ran at 1.04-1.06 of the "peak"; FMAs read alike at 12 and 16.
constexpr int kDotChains = 16;
// Each thread: kDotChains chains of 16 fp32 lanes accumulating dot products of bf16 pairs;
// returns the sum of the accumulators; throws when the CPU lacks AVX512-BF16.
double bf16_dot_peak(size_t steps, float a, float b, double* flops);

}  // namespace cpu
}  // namespace dtypebench
