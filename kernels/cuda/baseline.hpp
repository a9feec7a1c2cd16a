// Baseline family on the GPU: read, copy, triad and FMA peak per precision (the copy engine's
// ceiling is gpu::copy_on_device).
// Launchers are plain C++ (callable from g++ code), take device pointers, run on the default
// stream, check the launch and throw gpu::CudaError; they do not synchronize.
#pragma once

#include <cstddef>

namespace dtypebench {
namespace cuda {

// Per-block sums of a[0..n) (grid-stride loads, block reduction): out[0..k) for the k returned,
// k <= read_blocks(). No atomics and no zeroing launch, so timing it times the one kernel;
// read_total adds the partials on the host.
size_t read_blocks();  // this device's: the most partials read() writes, whatever n
// the same on a GPU of `sms` SMs, and the blocks read() launches there for n elements of
// elem_bytes each (16-byte packs per thread step when `packed`): plain arithmetic, no GPU needed
size_t read_blocks(int sms);
size_t read_grid(size_t n, size_t elem_bytes, bool packed, int sms);
template <class T>
size_t read(const T* a, size_t n, double* out);
double read_total(const double* out, size_t k);
template <class T>
void copy(const T* a, T* b, size_t n);
// a = b + q * c
template <class T>
void triad(T* a, const T* b, const T* c, T q, size_t n);

enum class FmaPrecision { F64, F32, F16x2, BF16x2 };
const char* fma_precision_name(FmaPrecision p);  // "f64", "f32", "f16x2", "bf16x2"
// Every thread runs 8 independent chains x = x*m + c for `steps` steps (x0 = 1 + tid*1e-7); each
// thread writes the sum of its chains (as float) to out[tid]. Launch: blocks x 256 threads; out
// holds blocks*256 floats. Returns the FLOPs done (2 per FMA per lane, 2 lanes for the x2 types).
double fma_peak(FmaPrecision p, int blocks, int steps, float m, float c, float* out);

}  // namespace cuda
}  // namespace dtypebench
