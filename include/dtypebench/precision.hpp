// Precision as data: the one table of element types (names used in benchmark names, JSON and
// scripts) and, for matrix engines, the triple input / accumulate / output.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace dtypebench {

// Every element type the suite names. tf32 is not a storage type: it is a compute mode of f32
// inputs (19-bit products, f32 accumulation), listed so a triple can say so.
enum class Dtype : uint8_t {
  f64,
  f32,
  tf32,
  f16,
  bf16,
  e4m3,
  e5m2,
  i64,
  i32,
  i16,
  i8,
  u64,
  u32,
  u16,
  u8,
};

enum class Kind : uint8_t { Float, Signed, Unsigned };

struct DtypeInfo {
  Dtype id;
  const char* name;
  int storage_bits;   // bits an element occupies in memory (tf32: stored as f32)
  int mantissa_bits;  // explicit fraction bits (0 for integers)
  int exponent_bits;
  Kind kind;
};

inline constexpr DtypeInfo kDtypes[] = {
    {Dtype::f64, "f64", 64, 52, 11, Kind::Float},  {Dtype::f32, "f32", 32, 23, 8, Kind::Float},
    {Dtype::tf32, "tf32", 32, 10, 8, Kind::Float}, {Dtype::f16, "f16", 16, 10, 5, Kind::Float},
    {Dtype::bf16, "bf16", 16, 7, 8, Kind::Float},  {Dtype::e4m3, "e4m3", 8, 3, 4, Kind::Float},
    {Dtype::e5m2, "e5m2", 8, 2, 5, Kind::Float},   {Dtype::i64, "i64", 64, 0, 0, Kind::Signed},
    {Dtype::i32, "i32", 32, 0, 0, Kind::Signed},   {Dtype::i16, "i16", 16, 0, 0, Kind::Signed},
    {Dtype::i8, "i8", 8, 0, 0, Kind::Signed},      {Dtype::u64, "u64", 64, 0, 0, Kind::Unsigned},
    {Dtype::u32, "u32", 32, 0, 0, Kind::Unsigned}, {Dtype::u16, "u16", 16, 0, 0, Kind::Unsigned},
    {Dtype::u8, "u8", 8, 0, 0, Kind::Unsigned},
};

constexpr const DtypeInfo& info(Dtype d) { return kDtypes[static_cast<int>(d)]; }
constexpr const char* dtype_name(Dtype d) { return info(d).name; }
constexpr bool is_float(Dtype d) { return info(d).kind == Kind::Float; }
// unit roundoff 2^-(p) for a float type with p = mantissa bits + 1
inline double unit_roundoff(Dtype d) {
  return is_float(d) ? 1.0 / static_cast<double>(uint64_t(1) << (info(d).mantissa_bits + 1)) : 0;
}
inline Dtype dtype_from_name(const std::string& name) {
  for (const DtypeInfo& i : kDtypes)
    if (name == i.name) return i.id;
  throw std::invalid_argument("unknown dtype '" + name + "'");
}
// the table's names in order, comma-separated (the JSON context's dtype_names)
inline std::string dtype_names() {
  std::string s;
  for (const DtypeInfo& i : kDtypes) s += (s.empty() ? "" : ",") + std::string(i.name);
  return s;
}

// A matrix engine's precision: inputs A and B (different only for mixed fp8 and for oneDNN's
// int8, whose B is unsigned), the accumulator (the compute type: tf32 for f32 inputs on tensor
// cores), and the output C/D. In benchmark names a.acc.out, or axb.acc.out when A and B differ:
// f16.f32.f16, f32.tf32.f32, e5m2xe4m3.f32.bf16, i8xu8.i32.i32.
struct Precision {
  Dtype a, b, acc, out;
  std::string name() const {
    std::string in = dtype_name(a);
    if (b != a) in += std::string("x") + dtype_name(b);
    return in + "." + dtype_name(acc) + "." + dtype_name(out);
  }
};
// A library or chip that lacks a precision (or a shape): the benchmark skips with this message.
struct Unsupported : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// "a.acc.out" or "axb.acc.out", each part a name of the table (the inverse of name())
inline Precision precision_from_name(const std::string& name) {
  const size_t dot1 = name.find('.'), dot2 = name.find('.', dot1 + 1);
  const std::string in = name.substr(0, dot1);
  const size_t x = in.find('x');
  try {
    if (dot1 == std::string::npos || dot2 == std::string::npos ||
        name.find('.', dot2 + 1) != std::string::npos)
      throw std::invalid_argument("");
    const Dtype a = dtype_from_name(in.substr(0, x));
    const Dtype b = x == std::string::npos ? a : dtype_from_name(in.substr(x + 1));
    const Precision p{a, b, dtype_from_name(name.substr(dot1 + 1, dot2 - dot1 - 1)),
                      dtype_from_name(name.substr(dot2 + 1))};
    if (p.name() == name) return p;  // "f32xf32.f32.f32" is not a name: A and B alike are one
  } catch (const std::invalid_argument&) {
  }
  throw std::invalid_argument("unknown precision '" + name + "'");
}

// The triples the GEMM family sweeps: fp64 to fp8, and 8-bit integers with i32 accumulation.
// Not every engine has every one: each says which it lacks, in one line.
inline constexpr Precision kMatrixPrecisions[] = {
    {Dtype::f64, Dtype::f64, Dtype::f64, Dtype::f64},
    {Dtype::f32, Dtype::f32, Dtype::f32, Dtype::f32},
    {Dtype::f32, Dtype::f32, Dtype::tf32, Dtype::f32},
    {Dtype::f16, Dtype::f16, Dtype::f32, Dtype::f16},
    {Dtype::f16, Dtype::f16, Dtype::f16, Dtype::f16},
    {Dtype::bf16, Dtype::bf16, Dtype::f32, Dtype::bf16},
    {Dtype::bf16, Dtype::bf16, Dtype::f32, Dtype::f32},
    {Dtype::e4m3, Dtype::e4m3, Dtype::f32, Dtype::bf16},
    {Dtype::e5m2, Dtype::e4m3, Dtype::f32, Dtype::bf16},
    {Dtype::i8, Dtype::i8, Dtype::i32, Dtype::i32},
    {Dtype::i8, Dtype::u8, Dtype::i32, Dtype::i32},
};

}  // namespace dtypebench
