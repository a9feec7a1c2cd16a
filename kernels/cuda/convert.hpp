// Conversion family on the GPU: dtype conversions on the device and host->device transfers by
// dtype and cast placement. Launchers are plain C++, run on the default stream, check the launch
// and throw gpu::CudaError; they do not synchronize unless they say so.
#pragma once

#include <cstddef>

#include "dtypebench/dtypes.hpp"

namespace dtypebench {
namespace cuda {

// dst[i] = convert(src[i]), round to nearest even; device pointers.
void convert(const double* src, float* dst, size_t n);
void convert(const float* src, half* dst, size_t n);
void convert(const float* src, bfloat16* dst, size_t n);
void convert(const half* src, float* dst, size_t n);

// Page-locked host memory (cudaHostAlloc, mapped so kernels can read it: zero-copy).
void* pinned_allocate(size_t bytes);
void pinned_release(void* p) noexcept;

// Host -> device copy of `bytes` (cudaMemcpyAsync on the default stream); the source may be
// pageable or pinned.
void h2d(void* dst_device, const void* src_host, size_t bytes);

// One fused pass that reads f64 straight from pinned (mapped) host memory over PCIe/NVLink and
// writes f32 into device memory: no f64 copy on the device.
void convert_from_host(const double* src_pinned_host, float* dst_device, size_t n);

}  // namespace cuda
}  // namespace dtypebench
