// Baseline family on the GPU: the ceilings every other kernel is measured against.
//   read_kernel   grid-stride sum in double, warp shuffle + shared-memory block reduction, one
//                 partial per block (no atomics, no zeroing); 16-byte packed loads when aligned
//   copy_kernel   grid-stride b = a, 16-byte packed loads/stores when aligned, scalar tail
//   triad_kernel  grid-stride a = b + q * c (STREAM triad), packed like copy
//   fma_kernel    8 independent register chains x = x*m + c per thread: FMA peak per precision
// The copy engine's ceiling (cudaMemcpyAsync) is gpu::copy_on_device, in the runtime.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "dtypebench/cuda_check.hpp"
#include "dtypebench/gpu.hpp"
#include "kernels/cuda/baseline.hpp"
#include "kernels/cuda/common.cuh"

namespace dtypebench {
namespace cuda {
namespace {

using namespace detail;

constexpr int kFmaChains = 8;

template <class T>
constexpr int kPackWidth = 16 / sizeof(T);

__device__ __forceinline__ double warp_sum(double v) {
#pragma unroll
  for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_xor_sync(0xffffffffu, v, offset);
  return v;
}

// one value per FMA lane type: broadcast from double, one fused multiply-add, back to float
template <class V>
__device__ V splat(double f);
template <>
__device__ __forceinline__ double splat<double>(double f) {
  return f;
}
template <>
__device__ __forceinline__ float splat<float>(double f) {
  return static_cast<float>(f);
}
template <>
__device__ __forceinline__ __half2 splat<__half2>(double f) {
  return __float2half2_rn(static_cast<float>(f));
}
template <>
__device__ __forceinline__ __nv_bfloat162 splat<__nv_bfloat162>(double f) {
  return __float2bfloat162_rn(static_cast<float>(f));
}

__device__ __forceinline__ double fma_op(double x, double m, double c) { return fma(x, m, c); }
__device__ __forceinline__ float fma_op(float x, float m, float c) { return fmaf(x, m, c); }
__device__ __forceinline__ __half2 fma_op(__half2 x, __half2 m, __half2 c) {
  return __hfma2(x, m, c);
}
__device__ __forceinline__ __nv_bfloat162 fma_op(__nv_bfloat162 x, __nv_bfloat162 m,
                                                 __nv_bfloat162 c) {
  return __hfma2(x, m, c);
}

// both lanes of an x2 chain hold the same value; their mean keeps the high lane live
__device__ __forceinline__ float chain_value(double x) { return static_cast<float>(x); }
__device__ __forceinline__ float chain_value(float x) { return x; }
__device__ __forceinline__ float chain_value(__half2 x) {
  return 0.5f * (__low2float(x) + __high2float(x));
}
__device__ __forceinline__ float chain_value(__nv_bfloat162 x) {
  return 0.5f * (__low2float(x) + __high2float(x));
}

// kernels

template <class T, int W>
__global__ void read_kernel(const T* __restrict__ a, size_t n, double* out) {
  using P = Pack<T, W>;
  const size_t np = n / W;
  const size_t tid = global_tid();
  double s = 0;
  for (size_t i = tid; i < np; i += grid_threads()) {
    const P p = reinterpret_cast<const P*>(a)[i];
#pragma unroll
    for (int k = 0; k < W; ++k) s += static_cast<double>(p.v[k]);
  }
  // the n % W leftovers (none when W == 1) go to the first threads
  if (np * W + tid < n) s += static_cast<double>(a[np * W + tid]);

  // every thread reaches the shuffles, so the full mask is right
  __shared__ double warp_sums[kBlock / 32];
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  s = warp_sum(s);
  if (lane == 0) warp_sums[warp] = s;
  __syncthreads();
  if (warp == 0) {
    s = lane < static_cast<int>(blockDim.x / 32) ? warp_sums[lane] : 0.0;
    s = warp_sum(s);
    if (lane == 0) out[blockIdx.x] = s;
  }
}

template <class T, int W>
__global__ void copy_kernel(const T* __restrict__ a, T* __restrict__ b, size_t n) {
  using P = Pack<T, W>;
  const size_t np = n / W;
  const size_t tid = global_tid();
  for (size_t i = tid; i < np; i += grid_threads()) {
    reinterpret_cast<P*>(b)[i] = reinterpret_cast<const P*>(a)[i];
  }
  if (np * W + tid < n) b[np * W + tid] = a[np * W + tid];
}

template <class T, int W>
__global__ void triad_kernel(T* __restrict__ a, const T* __restrict__ b, const T* __restrict__ c,
                             T q, size_t n) {
  using P = Pack<T, W>;
  const size_t np = n / W;
  const size_t tid = global_tid();
  for (size_t i = tid; i < np; i += grid_threads()) {
    const P pb = reinterpret_cast<const P*>(b)[i];
    const P pc = reinterpret_cast<const P*>(c)[i];
    P pa;
#pragma unroll
    for (int k = 0; k < W; ++k) pa.v[k] = pb.v[k] + q * pc.v[k];
    reinterpret_cast<P*>(a)[i] = pa;
  }
  const size_t t = np * W + tid;
  if (t < n) a[t] = b[t] + q * c[t];
}

// `zero` is 0 at run time: the chains start equal, but the compiler cannot prove it and merge them
template <class V>
__global__ void fma_kernel(int steps, float m_in, float c_in, double zero, float* out) {
  const size_t tid = global_tid();
  const double x0 = 1.0 + static_cast<double>(tid) * 1e-7;
  const V m = splat<V>(m_in), c = splat<V>(c_in);
  V x[kFmaChains];
#pragma unroll
  for (int k = 0; k < kFmaChains; ++k) x[k] = splat<V>(x0 + k * zero);
#pragma unroll 8
  for (int s = 0; s < steps; ++s) {
    // steps are unrolled too, so loop overhead does not take issue slots from the FMAs
#pragma unroll
    for (int k = 0; k < kFmaChains; ++k) x[k] = fma_op(x[k], m, c);
  }
  float sum = 0;
#pragma unroll
  for (int k = 0; k < kFmaChains; ++k) sum += chain_value(x[k]);
  out[tid] = sum;
}

// launchers

template <class V>
void launch_fma(int blocks, int steps, float m, float c, float* out) {
  fma_kernel<V><<<blocks, kBlock>>>(steps, m, c, 0.0, out);
  gpu::check_last_launch("fma_peak");
}

}  // namespace

size_t read_blocks(int sms) { return stream_blocks(~size_t(0), sms, kBlock); }
size_t read_blocks() { return read_blocks(gpu::device().sms); }
size_t read_grid(size_t n, size_t elem_bytes, bool packed, int sms) {
  return stream_blocks(packed ? ceil_div(n, 16 / elem_bytes) : n, sms, kBlock);
}

template <class T>
size_t read(const T* a, size_t n, double* out) {
  if (n == 0) return 0;
  constexpr int W = kPackWidth<T>;
  const unsigned grid = grid_dim(read_grid(n, sizeof(T), aligned16(a), gpu::device().sms), "read");
  if (aligned16(a)) {
    read_kernel<T, W><<<grid, kBlock>>>(a, n, out);
  } else {
    read_kernel<T, 1><<<grid, kBlock>>>(a, n, out);
  }
  gpu::check_last_launch("read");
  return grid;
}

double read_total(const double* out, size_t k) {
  std::vector<double> partial(k);
  gpu::copy_to_host(partial.data(), out, k * sizeof(double));
  double s = 0;
  for (double x : partial) s += x;
  return s;
}

template <class T>
void copy(const T* a, T* b, size_t n) {
  if (n == 0) return;
  constexpr int W = kPackWidth<T>;
  if (aligned16(a) && aligned16(b)) {
    copy_kernel<T, W><<<stream_grid(ceil_div(n, W)), kBlock>>>(a, b, n);
  } else {
    copy_kernel<T, 1><<<stream_grid(n), kBlock>>>(a, b, n);
  }
  gpu::check_last_launch("copy");
}

template <class T>
void triad(T* a, const T* b, const T* c, T q, size_t n) {
  if (n == 0) return;
  constexpr int W = kPackWidth<T>;
  if (aligned16(a) && aligned16(b) && aligned16(c)) {
    triad_kernel<T, W><<<stream_grid(ceil_div(n, W)), kBlock>>>(a, b, c, q, n);
  } else {
    triad_kernel<T, 1><<<stream_grid(n), kBlock>>>(a, b, c, q, n);
  }
  gpu::check_last_launch("triad");
}

const char* fma_precision_name(FmaPrecision p) {
  switch (p) {
    case FmaPrecision::F64:
      return "f64";
    case FmaPrecision::F32:
      return "f32";
    case FmaPrecision::F16x2:
      return "f16x2";
    case FmaPrecision::BF16x2:
      return "bf16x2";
  }
  return "?";
}

double fma_peak(FmaPrecision p, int blocks, int steps, float m, float c, float* out) {
  int lanes = 1;
  switch (p) {
    case FmaPrecision::F64:
      launch_fma<double>(blocks, steps, m, c, out);
      break;
    case FmaPrecision::F32:
      launch_fma<float>(blocks, steps, m, c, out);
      break;
    case FmaPrecision::F16x2:
      launch_fma<__half2>(blocks, steps, m, c, out);
      lanes = 2;
      break;
    case FmaPrecision::BF16x2:
      launch_fma<__nv_bfloat162>(blocks, steps, m, c, out);
      lanes = 2;
      break;
  }
  return static_cast<double>(blocks) * kBlock * kFmaChains * static_cast<double>(steps) * 2.0 *
         lanes;
}

// explicit instantiations

#define DTYPEBENCH_CUDA_BASELINE(T)                   \
  template size_t read<T>(const T*, size_t, double*); \
  template void copy<T>(const T*, T*, size_t);        \
  template void triad<T>(T*, const T*, const T*, T, size_t);
DTYPEBENCH_CUDA_BASELINE(double)
DTYPEBENCH_CUDA_BASELINE(float)
#undef DTYPEBENCH_CUDA_BASELINE

}  // namespace cuda
}  // namespace dtypebench
