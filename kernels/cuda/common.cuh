// What the CUDA kernel files share: the block size, 16-byte packs, grid-stride indices, the grid
// that fills every SM, and the mapping from the suite's 16-bit types to CUDA's.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "dtypebench/cuda_check.hpp"
#include "dtypebench/dtypes.hpp"
#include "dtypebench/gpu.hpp"

namespace dtypebench {
namespace cuda {
namespace detail {

constexpr int kBlock = 256;

static_assert(sizeof(__half) == sizeof(dtypebench::half), "same storage");
static_assert(sizeof(__nv_bfloat16) == sizeof(dtypebench::bfloat16), "same storage");

// dtypebench::half / bfloat16 seen as CUDA's own types
template <class T>
struct device_type {
  using type = T;
};
template <>
struct device_type<dtypebench::half> {
  using type = __half;
};
template <>
struct device_type<dtypebench::bfloat16> {
  using type = __nv_bfloat16;
};
template <class T>
using dev_t = typename device_type<T>::type;

// W elements of T moved as one load/store (16-byte packs are ld/st.global.v4; wider ones two)
template <class T, int W>
struct alignas(sizeof(T) * W < 16 ? sizeof(T) * W : 16) Pack {
  T v[W];
};

__device__ __forceinline__ size_t global_tid() {
  return static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
}
__device__ __forceinline__ size_t grid_threads() {
  return static_cast<size_t>(gridDim.x) * blockDim.x;
}

// enough blocks to fill every SM (8 x 256 = 2048 resident threads); grid-stride loops do the rest
inline unsigned stream_grid(size_t work) {
  return grid_dim(stream_blocks(work, gpu::device().sms, kBlock), "stream_grid");
}

// One st.global.v4 for certain: nvcc splits a uint4 assembled from scalars into four 4-byte
// stores (the PTX of the shared-memory transposes showed st.global.u32 where a v4 was written)
__device__ __forceinline__ void store16(void* p, uint4 v) { __stwb(static_cast<uint4*>(p), v); }

inline bool aligned16(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }

}  // namespace detail
}  // namespace cuda
}  // namespace dtypebench
