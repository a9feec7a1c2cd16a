// Conversion family on the GPU: dtype conversions on the device and host->device transfers.
//   convert_kernel     grid-stride dst[i] = cvt(src[i]), round to nearest even; each thread moves
//                      one 16-byte vector on the narrow side and two on the wide side (f64->f32:
//                      2 x double2 in, float4 out; f32->f16/bf16: 2 x float4 in, 8 halves as a
//                      uint4 out; f16->f32 the reverse), scalar tail; scalar when a pointer is
//                      misaligned
//   convert_from_host  the same kernel reading f64 from mapped pinned host memory: 16-byte reads
//                      over the bus, f32 written to device memory, no f64 copy on the device
// h2d is cudaMemcpyAsync, the copy engine's host->device ceiling.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <algorithm>
#include <cstdint>
#include <string>

#include "dtypebench/cuda_check.hpp"
#include "dtypebench/gpu.hpp"
#include "dtypebench/memory.hpp"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/convert.hpp"

namespace dtypebench {
namespace cuda {
namespace {

using namespace detail;

// elements per thread: 16 bytes of the destination, one vector store. (16 bytes of the narrower
// side made f16->f32 write 32 bytes per thread in two half-warp-strided stores: 0.64x of copy on
// an H200, against 0.97x for the narrowing casts)
template <class S, class D>
constexpr int kPackWidth = 16 / sizeof(D);

// one element, round to nearest even; NaN stays NaN (the device writes its canonical NaN)
__device__ __forceinline__ void cvt(double x, float& y) { y = __double2float_rn(x); }
__device__ __forceinline__ void cvt(float x, __half& y) { y = __float2half_rn(x); }
__device__ __forceinline__ void cvt(float x, __nv_bfloat16& y) { y = __float2bfloat16_rn(x); }
__device__ __forceinline__ void cvt(__half x, float& y) { y = __half2float(x); }

// kernels

template <class S, class D, int W>
__global__ void convert_kernel(const S* __restrict__ src, D* __restrict__ dst, size_t n) {
  using PS = Pack<S, W>;
  using PD = Pack<D, W>;
  const size_t np = n / W;
  const size_t tid = global_tid();
  for (size_t i = tid; i < np; i += grid_threads()) {
    const PS a = reinterpret_cast<const PS*>(src)[i];
    PD b;
#pragma unroll
    for (int k = 0; k < W; ++k) cvt(a.v[k], b.v[k]);
    reinterpret_cast<PD*>(dst)[i] = b;
  }
  // the n % W leftovers (none when W == 1) go to the first threads
  const size_t t = np * W + tid;
  if (t < n) cvt(src[t], dst[t]);
}

// launchers

// src and dst are device-visible pointers (device memory or mapped host memory)
template <class S, class D>
void launch_convert(const S* src, D* dst, size_t n, const char* what) {
  if (n == 0) return;
  constexpr int W = kPackWidth<S, D>;
  if (aligned16(src) && aligned16(dst)) {
    convert_kernel<S, D, W><<<stream_grid(ceil_div(n, W)), kBlock>>>(src, dst, n);
  } else {
    convert_kernel<S, D, 1><<<stream_grid(n), kBlock>>>(src, dst, n);
  }
  gpu::check_last_launch(what);
}

}  // namespace

void convert(const double* src, float* dst, size_t n) {
  launch_convert(src, dst, n, "convert f64->f32");
}

void convert(const float* src, half* dst, size_t n) {
  launch_convert(src, reinterpret_cast<__half*>(dst), n, "convert f32->f16");
}

void convert(const float* src, bfloat16* dst, size_t n) {
  launch_convert(src, reinterpret_cast<__nv_bfloat16*>(dst), n, "convert f32->bf16");
}

void convert(const half* src, float* dst, size_t n) {
  launch_convert(reinterpret_cast<const __half*>(src), dst, n, "convert f16->f32");
}

void* pinned_allocate(size_t bytes) {
  void* p = nullptr;
  // mapped: kernels can read it in place (zero-copy); portable: every context sees it as pinned
  const cudaError_t err =
      cudaHostAlloc(&p, bytes == 0 ? 1 : bytes, cudaHostAllocMapped | cudaHostAllocPortable);
  if (err == cudaErrorMemoryAllocation) {
    cudaGetLastError();  // clear the error so the run goes on
    const size_t avail = mem::available_bytes();
    throw OutOfMemory("cannot allocate " + mem::format_bytes(static_cast<double>(bytes)) +
                      " of pinned host memory" +
                      (avail ? " (" + mem::format_bytes(static_cast<double>(avail)) + " available)"
                             : std::string()) +
                      ": free host memory or lower the size (ulimit -l may also cap page-locking)");
  }
  DB_CUDA_CHECK(err);
  return p;
}

void pinned_release(void* p) noexcept {
  if (!p) return;
  cudaFreeHost(p);  // noexcept: a failure here has nothing left to undo
}

void h2d(void* dst_device, const void* src_host, size_t bytes) {
  DB_CUDA_CHECK(cudaMemcpyAsync(dst_device, src_host, bytes, cudaMemcpyHostToDevice));
}

void convert_from_host(const double* src_pinned_host, float* dst_device, size_t n) {
  if (n == 0) return;
  // the device's address of the mapped buffer: the host pointer itself under unified addressing,
  // but only the runtime knows that
  void* mapped = nullptr;
  DB_CUDA_CHECK(cudaHostGetDevicePointer(&mapped, const_cast<double*>(src_pinned_host), 0));
  launch_convert(static_cast<const double*>(mapped), dst_device, n, "convert_from_host");
}

}  // namespace cuda
}  // namespace dtypebench
