// The register-blocked transpose: one thread's work and the grid that covers a matrix. nvcc
// compiles it into transpose_regs_kernel (layout.cu); the host compiler compiles the same code for
// tests/test_layout.cpp, which runs every thread of the grid on the CPU, so the index arithmetic
// and the in-register transposes are tested on machines without a GPU.
//
// A thread loads H rows x 16 bytes of a (V = 16 / sizeof element, so an H x V block), transposes
// it in registers and stores V rows x H elements of b, all as 16-byte accesses: no shared memory,
// no bank conflicts, and H x 16 bytes of loads in flight per thread. A block is 8 x 32 threads; a
// warp is 8 threads along a row by 4 down the rows, so a load instruction reads four 128-byte row
// segments and a store writes 8 rows of b, 16 bytes in each from 4 threads whose blocks follow
// each other down a (64 contiguous bytes when H = V, as for 16-bit types at H = 8; otherwise the
// thread's next stores to the row fill the gaps): whole 32-byte sectors on both sides.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "dtypebench/grid.hpp"

#ifdef __CUDACC__
#define DB_HD __host__ __device__ __forceinline__
#else
#define DB_HD inline
#endif
// the device pass unrolls; host compilers would warn about the unknown pragma
#ifdef __CUDA_ARCH__
#define DB_UNROLL _Pragma("unroll")
#else
#define DB_UNROLL
#endif

namespace dtypebench {
namespace cuda {
namespace regs {

constexpr unsigned kThreadsX = 8;   // along a row of a: 8 x 16 bytes
constexpr unsigned kThreadsY = 32;  // down the rows
constexpr unsigned kMaxGridY = 65535;

struct alignas(16) Vec {
  uint32_t w[4];
};

// U is the element as an unsigned integer of its size (the transpose only moves bits)
template <class U>
constexpr int elems_per_vec = 16 / static_cast<int>(sizeof(U));

struct Dims {
  unsigned x, y;
};

// blocks along the columns of a (x) and down its rows (y, capped: the rows past it loop)
template <class U, int H>
Dims grid(size_t rows, size_t cols, unsigned max_y = kMaxGridY) {
  const size_t bx = ceil_div(cols, kThreadsX * elems_per_vec<U>);
  const size_t by = std::min<size_t>(ceil_div(rows, kThreadsY * H), max_y);
  return {grid_dim(bx, "transpose_regs"), grid_dim(by, "transpose_regs", kMaxGridYZ)};
}

// 16-byte accesses need both pointers on the 16-byte grid and every row starting on it
template <class U>
bool vectors_fit(const void* a, const void* b, size_t rows, size_t cols) {
  constexpr size_t V = elems_per_vec<U>;
  return reinterpret_cast<uintptr_t>(a) % 16 == 0 && reinterpret_cast<uintptr_t>(b) % 16 == 0 &&
         rows % V == 0 && cols % V == 0;
}

DB_HD Vec load16(const void* p) {
#ifdef __CUDA_ARCH__
  const uint4 u = *static_cast<const uint4*>(p);
  return Vec{{u.x, u.y, u.z, u.w}};
#else
  Vec v;
  std::memcpy(&v, p, sizeof v);
  return v;
#endif
}

DB_HD void store16(void* p, const Vec& v) {
#ifdef __CUDA_ARCH__
  // inline PTX: a plain uint4 store of these words compiles to four 4-byte stores
  __stwb(static_cast<uint4*>(p), make_uint4(v.w[0], v.w[1], v.w[2], v.w[3]));
#else
  std::memcpy(p, &v, sizeof v);
#endif
}

// in[k] = row k of the H x V block; out[m * (H / V) + q] = elements q*V .. q*V + V - 1 of row m of
// the transposed block. Elements of 4 and 8 bytes only move whole words (register renaming);
// 16-bit ones pair two rows' halves in each output word (a byte permute or a shift and mask).
template <class U, int H>
DB_HD void transpose_block(const Vec (&in)[H], Vec (&out)[H]) {
  constexpr int V = elems_per_vec<U>;
  constexpr int Q = H / V;
  static_assert(H % V == 0, "a thread's rows hold whole output vectors");
  DB_UNROLL
  for (int m = 0; m < V; ++m) DB_UNROLL
  for (int q = 0; q < Q; ++q) {
    Vec& o = out[m * Q + q];
    if constexpr (sizeof(U) == 8) {
      // o = rows 2q, 2q + 1 at column m: words 2m, 2m + 1 of each
      DB_UNROLL
      for (int r = 0; r < 2; ++r) {
        o.w[2 * r] = in[q * 2 + r].w[2 * m];
        o.w[2 * r + 1] = in[q * 2 + r].w[2 * m + 1];
      }
    } else if constexpr (sizeof(U) == 4) {
      DB_UNROLL
      for (int r = 0; r < 4; ++r) o.w[r] = in[q * 4 + r].w[m];
    } else {
      static_assert(sizeof(U) == 2, "elements of 2, 4 or 8 bytes");
      // word r of o = (row 8q + 2r, row 8q + 2r + 1) at column m, which is half m % 2 of word
      // m / 2 in each of those rows (low half first: little endian)
      DB_UNROLL
      for (int r = 0; r < 4; ++r) {
        const uint32_t lo = in[q * 8 + 2 * r].w[m / 2], hi = in[q * 8 + 2 * r + 1].w[m / 2];
        o.w[r] = m % 2 == 0 ? (lo & 0xffffu) | (hi << 16) : (lo >> 16) | (hi & 0xffff0000u);
      }
    }
  }
}

// One thread (tx, ty) of block (bx, by) in a grid grid_y blocks high: b (cols x rows) := a^T
// (a: rows x cols, C order) for its H x V blocks, one per grid-stride step down the rows.
// `vectors`: vectors_fit(a, b, rows, cols); blocks past an edge take the element path.
template <class U, int H>
DB_HD void transpose_thread(const U* a, U* b, size_t rows, size_t cols, bool vectors, unsigned bx,
                            unsigned by, unsigned tx, unsigned ty, unsigned grid_y) {
  constexpr int V = elems_per_vec<U>;
  constexpr int Q = H / V;
  const size_t j = (static_cast<size_t>(bx) * kThreadsX + tx) * V;
  if (j >= cols) return;
  const size_t step = static_cast<size_t>(grid_y) * kThreadsY * H;
  for (size_t i = (static_cast<size_t>(by) * kThreadsY + ty) * H; i < rows; i += step) {
    if (vectors && i + H <= rows && j + V <= cols) {
      Vec in[H], out[H];
      DB_UNROLL
      for (int k = 0; k < H; ++k) in[k] = load16(a + (i + k) * cols + j);
      transpose_block<U, H>(in, out);
      DB_UNROLL
      for (int m = 0; m < V; ++m) DB_UNROLL
      for (int q = 0; q < Q; ++q) store16(b + (j + m) * rows + i + q * V, out[m * Q + q]);
    } else {
      for (int k = 0; k < H && i + k < rows; ++k)
        for (int m = 0; m < V && j + m < cols; ++m)
          b[(j + m) * rows + i + k] = a[(i + k) * cols + j + m];
    }
  }
}

}  // namespace regs
}  // namespace cuda
}  // namespace dtypebench

#undef DB_HD
#undef DB_UNROLL
