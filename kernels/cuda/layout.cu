// Layout family on the GPU: the same sums and the same transpose, with and against the grain.
//   reduce_rows_coalesced_kernel  row sums, one warp per row: lanes read neighbouring elements
//   reduce_rows_strided_kernel    row sums, one thread per row: a warp's loads are a row apart
//   reduce_cols_coalesced_kernel  column sums, one thread per column walking down the rows
//   reduce_cols_strided_kernel    column sums, one warp per column: lanes are a row apart
//   transpose_naive_kernel        b[j][i] = a[i][j]: coalesced reads, writes a row of b apart
//   transpose_tiled_kernel        T x T shared tile (T = 32 or 64) padded by one column: both sides
//                                 coalesced
//   transpose_vec_kernel          the tile with 16-byte loads and stores on both sides
//   transpose_pairs_kernel        16-bit: the same with the tile holding row pairs in 32-bit words
//   transpose_regs_kernel         no shared memory: each thread transposes an H x (16 bytes) block
//                                 in registers (kernels/cuda/transpose_regs.cuh)
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <algorithm>
#include <type_traits>

#include "dtypebench/cuda_check.hpp"
#include "dtypebench/gpu.hpp"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/layout.hpp"
#include "kernels/cuda/transpose_regs.cuh"

namespace dtypebench {
namespace cuda {
namespace {

using namespace detail;

constexpr int kWarpsPerBlock = kBlock / 32;
constexpr int kTile = 32;
constexpr int kTileRows = 8;  // a 32x8 block moves a 32x32 tile in 4 passes

__device__ __forceinline__ double to_acc(double x) { return x; }
__device__ __forceinline__ float to_acc(float x) { return x; }
__device__ __forceinline__ float to_acc(__half x) { return __half2float(x); }
__device__ __forceinline__ float to_acc(__nv_bfloat16 x) { return __bfloat162float(x); }

// all 32 lanes must call this: callers keep idle lanes in with 0
template <class A>
__device__ __forceinline__ A warp_sum(A v) {
#pragma unroll
  for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_xor_sync(0xffffffffu, v, offset);
  return v;
}

// kernels

template <class D, class A>
__global__ void reduce_rows_coalesced_kernel(const D* __restrict__ a, size_t rows, size_t cols,
                                             A* __restrict__ out) {
  // the whole warp shares a row, so this exit is warp-uniform
  const size_t i = global_tid() / 32;
  const int lane = threadIdx.x % 32;
  if (i >= rows) return;
  const D* row = a + i * cols;
  A s = 0;
  for (size_t j = lane; j < cols; j += 32) s += to_acc(row[j]);
  s = warp_sum(s);
  if (lane == 0) out[i] = s;
}

template <class D, class A>
__global__ void reduce_rows_strided_kernel(const D* __restrict__ a, size_t rows, size_t cols,
                                           A* __restrict__ out) {
  const size_t i = global_tid();
  if (i >= rows) return;
  const D* row = a + i * cols;
  A s = 0;
  for (size_t j = 0; j < cols; ++j) s += to_acc(row[j]);
  out[i] = s;
}

template <class D, class A>
__global__ void reduce_cols_coalesced_kernel(const D* __restrict__ a, size_t rows, size_t cols,
                                             A* __restrict__ out) {
  const size_t j = global_tid();
  if (j >= cols) return;
  A s = 0;
  for (size_t i = 0; i < rows; ++i) s += to_acc(a[i * cols + j]);
  out[j] = s;
}

template <class D, class A>
__global__ void reduce_cols_strided_kernel(const D* __restrict__ a, size_t rows, size_t cols,
                                           A* __restrict__ out) {
  // the whole warp shares a column, so this exit is warp-uniform
  const size_t j = global_tid() / 32;
  const int lane = threadIdx.x % 32;
  if (j >= cols) return;
  A s = 0;
  for (size_t i = lane; i < rows; i += 32) s += to_acc(a[i * cols + j]);
  s = warp_sum(s);
  if (lane == 0) out[j] = s;
}

// grid.y is capped at 65535, so rows past gridDim.y * blockDim.y loop
template <class D>
__global__ void transpose_naive_kernel(const D* __restrict__ a, D* __restrict__ b, size_t rows,
                                       size_t cols) {
  const size_t j = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (j >= cols) return;
  const size_t stride = static_cast<size_t>(gridDim.y) * blockDim.y;
  for (size_t i = static_cast<size_t>(blockIdx.y) * blockDim.y + threadIdx.y; i < rows;
       i += stride) {
    b[j * rows + i] = a[i * cols + j];
  }
}

// the extra column shifts each tile row by one bank, so reading a tile column hits 32 banks; 8-byte
// types take the two wavefronts they need anyway, 16-bit types share words and see a 2-way clash.
// A 32x8 block moves a T x T tile: (T/32) x (T/8) elements per thread, so a 64-edge tile keeps
// four times the loads of the 32-edge one in flight per thread
template <class D, int T>
__global__ void transpose_tiled_kernel(const D* __restrict__ a, D* __restrict__ b, size_t rows,
                                       size_t cols) {
  __shared__ D tile[T][T + 1];
  const size_t j0 = static_cast<size_t>(blockIdx.x) * T;
  const int tx = threadIdx.x, ty = threadIdx.y;
  // the loop bound depends on the block only, so every thread reaches each __syncthreads
  for (size_t i0 = static_cast<size_t>(blockIdx.y) * T; i0 < rows;
       i0 += static_cast<size_t>(gridDim.y) * T) {
    // lanes walk along a row of a
#pragma unroll
    for (int r = ty; r < T; r += kTileRows)
#pragma unroll
      for (int c = tx; c < T; c += 32) {
        const size_t i = i0 + r, j = j0 + c;
        if (i < rows && j < cols) tile[r][c] = a[i * cols + j];
      }
    __syncthreads();
    // lanes walk along a row of b, which is down a column of the tile
#pragma unroll
    for (int r = ty; r < T; r += kTileRows)
#pragma unroll
      for (int c = tx; c < T; c += 32) {
        const size_t j = j0 + r, i = i0 + c;
        if (j < cols && i < rows) b[j * rows + i] = tile[c][r];
      }
    // the next tile overwrites this one
    __syncthreads();
  }
}

// Vectorized: 16-byte loads along the rows of a and 16-byte stores along the rows of b (V = 16 /
// sizeof(D) elements each); the tile gathers V elements down a column for each store. S x S
// tiles (S = 64, 128 for 16-bit types) give every thread 8 or 16 vectors in flight per tile. Edge
// tiles, and matrices whose rows are not 16-byte aligned, take the element path.
template <class D, int S, int NT>
__global__ void __launch_bounds__(NT)
    transpose_vec_kernel(const D* __restrict__ a, D* __restrict__ b, size_t rows, size_t cols,
                         bool aligned) {
  constexpr int V = 16 / sizeof(D);
  constexpr int VPR = S / V;  // vectors per tile row
  __shared__ D tile[S][S + 1];
  const int t = threadIdx.x;
  const size_t j0 = static_cast<size_t>(blockIdx.x) * S;
  for (size_t i0 = static_cast<size_t>(blockIdx.y) * S; i0 < rows;
       i0 += static_cast<size_t>(gridDim.y) * S) {
    const bool full = aligned && i0 + S <= rows && j0 + S <= cols;  // the same for the block
#pragma unroll 4
    for (int idx = t; idx < S * VPR; idx += NT) {
      const int r = idx / VPR, cv = (idx % VPR) * V;
      if (full) {
        const uint4 w = *reinterpret_cast<const uint4*>(a + (i0 + r) * cols + j0 + cv);
        const D* e = reinterpret_cast<const D*>(&w);
#pragma unroll
        for (int k = 0; k < V; ++k) tile[r][cv + k] = e[k];
      } else {
        for (int k = 0; k < V; ++k)
          if (i0 + r < rows && j0 + cv + k < cols)
            tile[r][cv + k] = a[(i0 + r) * cols + j0 + cv + k];
      }
    }
    __syncthreads();
#pragma unroll 4
    for (int idx = t; idx < S * VPR; idx += NT) {
      const int c = idx / VPR, rv = (idx % VPR) * V;  // row c of b's tile, from tile rows rv..
      if (full) {
        uint4 w;
        D* e = reinterpret_cast<D*>(&w);
#pragma unroll
        for (int k = 0; k < V; ++k) e[k] = tile[rv + k][c];
        store16(b + (j0 + c) * rows + i0 + rv, w);
      } else {
        for (int k = 0; k < V; ++k)
          if (j0 + c < cols && i0 + rv + k < rows)
            b[(j0 + c) * rows + i0 + rv + k] = tile[rv + k][c];
      }
    }
    __syncthreads();
  }
}

// 16-bit elements: the tile holds rows in pairs, one 32-bit word per column with row 2p in its low
// half and row 2p + 1 in its high half. A 16-byte store of b (8 consecutive rows of a column) is
// then 4 word reads instead of 8 half-word reads, and the load side writes words: half the shared
// memory instructions of transpose_vec_kernel, which bounded 16-bit types at 0.59x of the copy.
template <int S, int NT>
__global__ void __launch_bounds__(NT)
    transpose_pairs_kernel(const uint16_t* __restrict__ a, uint16_t* __restrict__ b, size_t rows,
                           size_t cols, bool aligned) {
  constexpr int V = 8;        // halves per 16-byte vector
  constexpr int VPR = S / V;  // vectors per tile row
  __shared__ uint32_t tile[S / 2][S + 1];
  uint16_t* half_of = reinterpret_cast<uint16_t*>(&tile[0][0]);  // (r, c): word r/2, half r%2
  auto at = [&](int r, int c) -> uint16_t& {
    return half_of[((r / 2) * (S + 1) + c) * 2 + (r & 1)];
  };
  const int t = threadIdx.x;
  const size_t j0 = static_cast<size_t>(blockIdx.x) * S;
  for (size_t i0 = static_cast<size_t>(blockIdx.y) * S; i0 < rows;
       i0 += static_cast<size_t>(gridDim.y) * S) {
    const bool full = aligned && i0 + S <= rows && j0 + S <= cols;  // the same for the block
    if (full) {
#pragma unroll 4
      for (int idx = t; idx < (S / 2) * VPR; idx += NT) {
        const int p = idx / VPR, cv = (idx % VPR) * V;
        const uint4 w0 = *reinterpret_cast<const uint4*>(a + (i0 + 2 * p) * cols + j0 + cv);
        const uint4 w1 = *reinterpret_cast<const uint4*>(a + (i0 + 2 * p + 1) * cols + j0 + cv);
        const uint16_t* e0 = reinterpret_cast<const uint16_t*>(&w0);
        const uint16_t* e1 = reinterpret_cast<const uint16_t*>(&w1);
#pragma unroll
        for (int k = 0; k < V; ++k) tile[p][cv + k] = e0[k] | (static_cast<uint32_t>(e1[k]) << 16);
      }
    } else {
      for (int idx = t; idx < S * S; idx += NT) {
        const int r = idx / S, c = idx % S;
        if (i0 + r < rows && j0 + c < cols) at(r, c) = a[(i0 + r) * cols + j0 + c];
      }
    }
    __syncthreads();
    if (full) {
#pragma unroll 4
      for (int idx = t; idx < S * VPR; idx += NT) {
        const int c = idx / VPR, rv = (idx % VPR) * V;  // row c of b's tile, from tile rows rv..
        uint4 w;
        w.x = tile[rv / 2][c];
        w.y = tile[rv / 2 + 1][c];
        w.z = tile[rv / 2 + 2][c];
        w.w = tile[rv / 2 + 3][c];
        store16(b + (j0 + c) * rows + i0 + rv, w);
      }
    } else {
      for (int idx = t; idx < S * S; idx += NT) {
        const int c = idx / S, r = idx % S;
        if (j0 + c < cols && i0 + r < rows) b[(j0 + c) * rows + i0 + r] = at(r, c);
      }
    }
    __syncthreads();
  }
}

template <class U, int H>
__global__ void __launch_bounds__(regs::kThreadsX* regs::kThreadsY)
    transpose_regs_kernel(const U* __restrict__ a, U* __restrict__ b, size_t rows, size_t cols,
                          bool vectors) {
  regs::transpose_thread<U, H>(a, b, rows, cols, vectors, blockIdx.x, blockIdx.y, threadIdx.x,
                               threadIdx.y, gridDim.y);
}

template <class U, int H>
void launch_transpose_regs(const U* a, U* b, size_t rows, size_t cols) {
  const regs::Dims g = regs::grid<U, H>(rows, cols);
  transpose_regs_kernel<U, H><<<dim3(g.x, g.y), dim3(regs::kThreadsX, regs::kThreadsY)>>>(
      a, b, rows, cols, regs::vectors_fit<U>(a, b, rows, cols));
}

}  // namespace

// launchers

template <class T>
void reduce(const T* a, size_t rows, size_t cols, Axis axis, Access access, acc_t<T>* out) {
  using D = dev_t<T>;
  using A = acc_t<T>;
  const D* da = reinterpret_cast<const D*>(a);
  const size_t nout = axis == Axis::Rows ? rows : cols;
  if (nout == 0) return;
  // warp-per-output kernels pack 8 outputs in a block, thread-per-output kernels 256
  const bool warp_per_output = (axis == Axis::Rows) == (access == Access::Coalesced);
  const unsigned grid =
      grid_dim(ceil_div(nout, warp_per_output ? kWarpsPerBlock : kBlock), "reduce");
  if (axis == Axis::Rows && access == Access::Coalesced) {
    reduce_rows_coalesced_kernel<D, A><<<grid, kBlock>>>(da, rows, cols, out);
  } else if (axis == Axis::Rows) {
    reduce_rows_strided_kernel<D, A><<<grid, kBlock>>>(da, rows, cols, out);
  } else if (access == Access::Coalesced) {
    reduce_cols_coalesced_kernel<D, A><<<grid, kBlock>>>(da, rows, cols, out);
  } else {
    reduce_cols_strided_kernel<D, A><<<grid, kBlock>>>(da, rows, cols, out);
  }
  gpu::check_last_launch("reduce");
}

template <class T>
void transpose_naive(const T* a, T* b, size_t rows, size_t cols) {
  using D = dev_t<T>;
  if (rows == 0 || cols == 0) return;
  const dim3 block(kTile, kTileRows);
  const dim3 grid(grid_dim(ceil_div(cols, kTile), "transpose_naive"),
                  grid_dim(std::min(ceil_div(rows, kTileRows), kMaxGridYZ), "transpose_naive"));
  transpose_naive_kernel<D>
      <<<grid, block>>>(reinterpret_cast<const D*>(a), reinterpret_cast<D*>(b), rows, cols);
  gpu::check_last_launch("transpose_naive");
}

template <class T>
void transpose_tiled(const T* a, T* b, size_t rows, size_t cols, int tile) {
  using D = dev_t<T>;
  if (rows == 0 || cols == 0) return;
  if (tile == 0) tile = sizeof(T) >= 8 ? 32 : 64;
  if (tile != 32 && tile != 64) throw gpu::CudaError("transpose_tiled: tile must be 32 or 64");
  const dim3 block(32, kTileRows);
  const dim3 grid(grid_dim(ceil_div(cols, tile), "transpose_tiled"),
                  grid_dim(std::min(ceil_div(rows, tile), kMaxGridYZ), "transpose_tiled"));
  const D* da = reinterpret_cast<const D*>(a);
  D* db = reinterpret_cast<D*>(b);
  if (tile == 32)
    transpose_tiled_kernel<D, 32><<<grid, block>>>(da, db, rows, cols);
  else
    transpose_tiled_kernel<D, 64><<<grid, block>>>(da, db, rows, cols);
  gpu::check_last_launch("transpose_tiled");
}

template <class T>
void transpose_vec(const T* a, T* b, size_t rows, size_t cols) {
  using D = dev_t<T>;
  if (rows == 0 || cols == 0) return;
  constexpr int S = sizeof(T) == 2 ? 128 : 64;
  constexpr size_t V = 16 / sizeof(T);
  const bool aligned = aligned16(a) && aligned16(b) && rows % V == 0 && cols % V == 0;
  const dim3 grid(grid_dim(ceil_div(cols, S), "transpose_vec"),
                  grid_dim(std::min(ceil_div(rows, S), kMaxGridYZ), "transpose_vec"));
  // 8 vectors per thread per tile for 8-byte types; with 128 threads 8 (f32) and 16 (16-bit): more
  // loads in flight per thread (at 256 threads f32 and 16-bit reached 0.74x and 0.59x of the copy)
  constexpr int NT = sizeof(T) == 8 ? 256 : 128;
  if constexpr (sizeof(T) == 2) {
    transpose_pairs_kernel<S, NT><<<grid, NT>>>(
        reinterpret_cast<const uint16_t*>(a), reinterpret_cast<uint16_t*>(b), rows, cols, aligned);
  } else {
    transpose_vec_kernel<D, S, NT>
        <<<grid, NT>>>(reinterpret_cast<const D*>(a), reinterpret_cast<D*>(b), rows, cols, aligned);
  }
  gpu::check_last_launch("transpose_vec");
}

template <class T>
void transpose_regs(const T* a, T* b, size_t rows, size_t cols, int rows_per_thread) {
  if (rows == 0 || cols == 0) return;
  // only the bits move: elements as unsigned integers of their size
  using U = std::conditional_t<sizeof(T) == 8, uint64_t,
                               std::conditional_t<sizeof(T) == 4, uint32_t, uint16_t>>;
  static_assert(sizeof(U) == sizeof(T), "elements of 2, 4 or 8 bytes");
  const U* ua = reinterpret_cast<const U*>(a);
  U* ub = reinterpret_cast<U*>(b);
  if (rows_per_thread == 8)
    launch_transpose_regs<U, 8>(ua, ub, rows, cols);
  else if (rows_per_thread == 16)
    launch_transpose_regs<U, 16>(ua, ub, rows, cols);
  else
    throw gpu::CudaError("transpose_regs: rows_per_thread must be 8 or 16");
  gpu::check_last_launch("transpose_regs");
}

#define DTYPEBENCH_CUDA_LAYOUT(T)                                             \
  template void reduce<T>(const T*, size_t, size_t, Axis, Access, acc_t<T>*); \
  template void transpose_naive<T>(const T*, T*, size_t, size_t);             \
  template void transpose_tiled<T>(const T*, T*, size_t, size_t, int);        \
  template void transpose_vec<T>(const T*, T*, size_t, size_t);               \
  template void transpose_regs<T>(const T*, T*, size_t, size_t, int);
DTYPEBENCH_CUDA_LAYOUT(double)
DTYPEBENCH_CUDA_LAYOUT(float)
DTYPEBENCH_CUDA_LAYOUT(dtypebench::half)
DTYPEBENCH_CUDA_LAYOUT(dtypebench::bfloat16)
#undef DTYPEBENCH_CUDA_LAYOUT

}  // namespace cuda
}  // namespace dtypebench
