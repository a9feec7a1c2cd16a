#include "kernels/cpu/layout.hpp"

#include <omp.h>

#include <algorithm>
#include <vector>

namespace dtypebench {
namespace cpu {
namespace {

// Sums of contiguous runs: lines_of(a, len, stride) walks a, a+stride, ... len times.
template <class T>
acc_t<T> sum_strided_run(const T* a, size_t len, size_t stride) {
  acc_t<T> s = 0;
  if (stride == 1) {
#pragma omp simd reduction(+ : s)
    for (size_t k = 0; k < len; ++k) s += load_acc(a[k]);
  } else {
    for (size_t k = 0; k < len; ++k) s += load_acc(a[k * stride]);
  }
  return s;
}

// out[0..len) += a[0..len)
template <class T>
void accumulate_run(const T* a, size_t len, acc_t<T>* out) {
#pragma omp simd
  for (size_t k = 0; k < len; ++k) out[k] += load_acc(a[k]);
}

// tile edge so that a source tile and a destination tile together stay in L1 (~16 KiB)
template <class T>
constexpr size_t tile_edge() {
  return sizeof(T) >= 8 ? 32 : 64;
}

}  // namespace

template <class T>
void reduce(const T* a, size_t rows, size_t cols, Order o, Axis axis, Method m, acc_t<T>* out) {
  const size_t nout = axis == Axis::Rows ? rows : cols;
  const size_t ninner = axis == Axis::Rows ? cols : rows;
  // does the reduced dimension run along memory? (row sums on C, column sums on F)
  const bool contiguous = (axis == Axis::Rows) == (o == Order::C);
  if (m == Method::Naive || contiguous) {
    // one output at a time; the inner walk has stride 1 or stride nout
    const size_t stride = contiguous ? 1 : nout;
    const size_t step = contiguous ? ninner : 1;
#pragma omp parallel for schedule(static)
    for (size_t r = 0; r < nout; ++r) out[r] = sum_strided_run(a + r * step, ninner, stride);
    return;
  }
  // aware: walk storage order; each stored line adds into the whole output vector. threads own
  // disjoint output ranges, so no reduction is needed and each walks contiguous segments.
#pragma omp parallel
  {
    const size_t nt = static_cast<size_t>(omp_get_num_threads());
    const size_t t = static_cast<size_t>(omp_get_thread_num());
    const size_t lo = nout * t / nt, hi = nout * (t + 1) / nt;
    for (size_t r = lo; r < hi; ++r) out[r] = 0;
    for (size_t line = 0; line < ninner; ++line)
      accumulate_run(a + line * nout + lo, hi - lo, out + lo);
  }
}

template <class T>
acc_t<T> strided_sum(const T* a, size_t n, size_t stride) {
  acc_t<T> total = 0;
#pragma omp parallel reduction(+ : total)
  {
    // each thread owns a contiguous chunk and walks it offset by offset with the given stride
    const size_t nt = static_cast<size_t>(omp_get_num_threads());
    const size_t t = static_cast<size_t>(omp_get_thread_num());
    const size_t lo = n * t / nt, hi = n * (t + 1) / nt;
    const size_t len = hi - lo;
    for (size_t off = 0; off < std::min(stride, len); ++off)
      total += sum_strided_run(a + lo + off, (len - off + stride - 1) / stride, stride);
  }
  return total;
}

template <class T>
void to_fortran_naive(const T* a, T* b, size_t rows, size_t cols) {
#pragma omp parallel for schedule(static)
  for (size_t i = 0; i < rows; ++i)
    for (size_t j = 0; j < cols; ++j) b[j * rows + i] = a[i * cols + j];
}

template <class T>
void to_fortran_blocked(const T* a, T* b, size_t rows, size_t cols) {
  constexpr size_t B = tile_edge<T>();
  // tiles walk the destination column-block by column-block so each thread writes whole lines
#pragma omp parallel for collapse(2) schedule(static)
  for (size_t jj = 0; jj < cols; jj += B)
    for (size_t ii = 0; ii < rows; ii += B) {
      const size_t ie = std::min(ii + B, rows), je = std::min(jj + B, cols);
      for (size_t j = jj; j < je; ++j) {
        T* dst = b + j * rows;
        for (size_t i = ii; i < ie; ++i) dst[i] = a[i * cols + j];
      }
    }
}

template <class T>
void matvec(const T* a, const T* x, size_t rows, size_t cols, Order o, MatvecForm f,
            acc_t<T>* y) {
  using A = acc_t<T>;
  if (f == MatvecForm::Dot) {
    // y[i] = a[i, :] . x : contiguous rows on C, stride rows on F
    const size_t stride = o == Order::C ? 1 : rows;
    const size_t step = o == Order::C ? cols : 1;
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < rows; ++i) {
      const T* row = a + i * step;
      A s = 0;
      if (stride == 1) {
#pragma omp simd reduction(+ : s)
        for (size_t j = 0; j < cols; ++j) s += load_acc(row[j]) * load_acc(x[j]);
      } else {
        for (size_t j = 0; j < cols; ++j) s += load_acc(row[j * stride]) * load_acc(x[j]);
      }
      y[i] = s;
    }
    return;
  }
  // axpy: y += x[j] * a[:, j]; contiguous columns on F, stride cols on C. threads own row ranges.
#pragma omp parallel
  {
    const size_t nt = static_cast<size_t>(omp_get_num_threads());
    const size_t t = static_cast<size_t>(omp_get_thread_num());
    const size_t lo = rows * t / nt, hi = rows * (t + 1) / nt;
    for (size_t i = lo; i < hi; ++i) y[i] = 0;
    for (size_t j = 0; j < cols; ++j) {
      const A xj = load_acc(x[j]);
      if (o == Order::F) {
        const T* col = a + j * rows;
#pragma omp simd
        for (size_t i = lo; i < hi; ++i) y[i] += xj * load_acc(col[i]);
      } else {
        for (size_t i = lo; i < hi; ++i) y[i] += xj * load_acc(a[i * cols + j]);
      }
    }
  }
}

#define DTYPEBENCH_LAYOUT(T)                                                                  \
  template void reduce<T>(const T*, size_t, size_t, Order, Axis, Method, acc_t<T>*);          \
  template acc_t<T> strided_sum<T>(const T*, size_t, size_t);                                 \
  template void to_fortran_naive<T>(const T*, T*, size_t, size_t);                            \
  template void to_fortran_blocked<T>(const T*, T*, size_t, size_t);                          \
  template void matvec<T>(const T*, const T*, size_t, size_t, Order, MatvecForm, acc_t<T>*);
DTYPEBENCH_LAYOUT(double)
DTYPEBENCH_LAYOUT(float)
DTYPEBENCH_LAYOUT(half)
DTYPEBENCH_LAYOUT(bfloat16)
#undef DTYPEBENCH_LAYOUT

}  // namespace cpu
}  // namespace dtypebench
