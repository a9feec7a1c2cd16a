// Layout family: what C (row-major) vs Fortran (column-major) order costs on the CPU.
//   reduce naive   one output at a time, loops follow the logical index: on the "wrong" order every
//                  element is a new cache line (stride = rows or cols elements)
//   reduce aware   loops follow storage order, accumulating a whole vector of outputs at once
//   strided_sum    visits all n elements with a fixed stride (then the next offset), eight add
//                  chains at a time: the cost per element steps up until the stride reaches the
//                  unit the memory hierarchy fetches (a 64-byte line; 128 bytes from DRAM where
//                  lines come in pairs)
//   to_fortran     C -> F copy, naive (strided writes) vs cache-blocked tiles of register
//                  transposes (streaming stores beyond the last-level cache)
//   matvec         y = A x as row dots (dot) or column axpys (axpy), on either order
// 16-bit types accumulate in f32; outputs are acc_t<T> (f64 for f64, f32 otherwise).
#pragma once

#include <cstddef>

#include "dtypebench/dtypes.hpp"
#include "kernels/cpu/stores.hpp"

namespace dtypebench {

enum class Order { C, F };
inline const char* order_name(Order o) { return o == Order::C ? "C" : "F"; }
// element (i, j) of a rows x cols matrix stored in order o
inline size_t index_of(Order o, size_t i, size_t j, size_t rows, size_t cols) {
  return o == Order::C ? i * cols + j : j * rows + i;
}

namespace cpu {

enum class Axis { Rows, Cols };  // Rows: one sum per row (out has rows entries); Cols: per column
enum class Method { Naive, Aware };

template <class T>
void reduce(const T* a, size_t rows, size_t cols, Order o, Axis axis, Method m, acc_t<T>* out);

template <class T>
acc_t<T> strided_sum(const T* a, size_t n, size_t stride);

// b (F order) := a (C order), both rows x cols
template <class T>
void to_fortran_naive(const T* a, T* b, size_t rows, size_t cols);
// Auto streams the stores (non-temporal, for blocks whose destination rows are 64-byte aligned)
// when source and destination together exceed the last-level cache (kernels/cpu/stores.hpp).
template <class T>
void to_fortran_blocked(const T* a, T* b, size_t rows, size_t cols, Stores stores = Stores::Auto);

enum class MatvecForm { Dot, Axpy };
template <class T>
void matvec(const T* a, const T* x, size_t rows, size_t cols, Order o, MatvecForm f, acc_t<T>* y);

}  // namespace cpu
}  // namespace dtypebench
