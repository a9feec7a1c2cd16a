// The streaming kernels other families measure against (a layout walk, a conversion): a read,
// a copy and a copy with non-temporal stores. The baseline family times them as ceilings; its own
// scale, add and triad are in baseline.hpp. OpenMP-parallel over the threads currently set.
//   read     s = sum(a)  (bytes: n*size)
//   copy     b = a       (2n*size)
//   copy_nt  b = a with non-temporal stores: no read-for-ownership of b, so 2n*size bytes of
//            traffic where the plain copy causes 3n*size (the ceiling for kernels that stream
//            their writes, like the blocked C->F copy)
#pragma once

#include <cstddef>

#include "dtypebench/dtypes.hpp"

namespace dtypebench {
namespace cpu {

template <class T>
T stream_read(const T* a, size_t n);
template <class T>
void stream_copy(const T* a, T* b, size_t n);
// 16-bit types are copied as uint16_t (the wrapper structs defeat gcc's vectorizer)
template <>
void stream_copy<half>(const half* a, half* b, size_t n);
template <>
void stream_copy<bfloat16>(const bfloat16* a, bfloat16* b, size_t n);
// b[0..bytes) = a[0..bytes): every 64-byte line wholly inside b is written with non-temporal
// stores (AVX-512 or AVX; a plain copy elsewhere), the ragged ends with ordinary ones.
void copy_bytes_nt(const void* a, void* b, size_t bytes);
template <class T>
void stream_copy_nt(const T* a, T* b, size_t n) {
  copy_bytes_nt(a, b, n * sizeof(T));
}
}  // namespace cpu
}  // namespace dtypebench
