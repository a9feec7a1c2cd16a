// Layout family on the GPU. Matrices are rows x cols in C order (an F-order matrix is the C-order
// matrix of its transpose, so callers swap rows and cols). T is double, float, dtypebench::half or
// dtypebench::bfloat16; 16-bit types accumulate in float, outputs are acc_t<T>.
//   reduce Rows/Coalesced  one warp per row, lanes read neighbouring elements
//   reduce Rows/Strided    one thread per row: neighbouring threads are a row apart
//   reduce Cols/Coalesced  one thread per column walking down: neighbours read neighbours
//   reduce Cols/Strided    one warp per column, lanes a row apart
//   transpose naive        b[j][i] = a[i][j], coalesced reads, scattered writes
//   transpose tiled        T x T shared-memory tile (T = 32 or 64) padded by one column
//   transpose vec          the tile with 16-byte loads and stores
//   transpose regs         no tile: each thread transposes rows_per_thread x 16 bytes in registers
// Launchers run on the default stream and throw gpu::CudaError; they do not synchronize.
#pragma once

#include <cstddef>

#include "dtypebench/dtypes.hpp"

namespace dtypebench {
namespace cuda {

enum class Axis { Rows, Cols };
enum class Access { Coalesced, Strided };

template <class T>
void reduce(const T* a, size_t rows, size_t cols, Axis axis, Access access, acc_t<T>* out);

// b (cols x rows, C order) := transpose of a (rows x cols, C order)
template <class T>
void transpose_naive(const T* a, T* b, size_t rows, size_t cols);
// tile: 32 or 64 (0: 64 for types up to 4 bytes, 32 for 8-byte types)
template <class T>
void transpose_tiled(const T* a, T* b, size_t rows, size_t cols, int tile = 0);
// the tile with 16-byte vector loads and stores (element path for unaligned or edge tiles)
template <class T>
void transpose_vec(const T* a, T* b, size_t rows, size_t cols);
// rows_per_thread: 8 or 16 (16-byte loads in flight per thread)
template <class T>
void transpose_regs(const T* a, T* b, size_t rows, size_t cols, int rows_per_thread = 8);

}  // namespace cuda
}  // namespace dtypebench
