// The one checking macro for CUDA runtime, cuBLAS/cuBLASLt and cuDNN calls: DB_CUDA_CHECK(call)
// throws gpu::CudaError with file:line, the call and the library's own message, whichever of the
// libraries' status types the call returns. Include only from .cu or CUDA-enabled .cpp files.
#pragma once

#include <cuda_runtime.h>

#include <string>

#include "dtypebench/gpu.hpp"
#include "dtypebench/grid.hpp"  // ceil_div and grid_dim for the launchers
#ifdef DTYPEBENCH_HAVE_CUBLAS
#include <cublasLt.h>
#include <cublas_v2.h>
#endif
#ifdef DTYPEBENCH_HAVE_CUDNN
#include <cudnn.h>
#endif

namespace dtypebench {
namespace gpu {
namespace detail {

// "" when the call succeeded, else the library's message
inline const char* failure(cudaError_t e) { return e == cudaSuccess ? "" : cudaGetErrorString(e); }
#ifdef DTYPEBENCH_HAVE_CUBLAS
inline const char* failure(cublasStatus_t s) {
  return s == CUBLAS_STATUS_SUCCESS ? "" : cublasGetStatusString(s);
}
#endif
#ifdef DTYPEBENCH_HAVE_CUDNN
inline const char* failure(cudnnStatus_t s) {
  return s == CUDNN_STATUS_SUCCESS ? "" : cudnnGetErrorString(s);
}
#endif

template <class Status>
void check(Status s, const char* call, const char* file, int line) {
  const char* msg = failure(s);
  if (*msg)
    throw CudaError(std::string(file) + ":" + std::to_string(line) + ": " + call + ": " + msg);
}

}  // namespace detail
}  // namespace gpu
}  // namespace dtypebench

#define DB_CUDA_CHECK(call) ::dtypebench::gpu::detail::check((call), #call, __FILE__, __LINE__)
