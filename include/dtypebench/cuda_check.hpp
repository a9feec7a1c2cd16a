// The one checking macro for CUDA runtime calls (include only from .cu or CUDA-enabled .cpp files).
#pragma once

#include <cuda_runtime.h>

#include <string>

#include "dtypebench/gpu.hpp"

#define DB_CUDA_CHECK(call)                                                                       \
  do {                                                                                            \
    const cudaError_t db_err_ = (call);                                                           \
    if (db_err_ != cudaSuccess) {                                                                 \
      throw ::dtypebench::gpu::CudaError(std::string(__FILE__) + ":" + std::to_string(__LINE__) + \
                                         ": " #call ": " + cudaGetErrorString(db_err_));          \
    }                                                                                             \
  } while (0)

namespace dtypebench {
constexpr unsigned ceil_div(size_t a, size_t b) { return static_cast<unsigned>((a + b - 1) / b); }
}  // namespace dtypebench
