#include "dtypebench/numeric.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "dtypebench/dtypes.hpp"

namespace dtypebench {

size_t dtype_bytes(Dtype d) { return static_cast<size_t>(info(d).storage_bits / 8); }

namespace {
struct Fp8Format {
  int mbits, bias;
  double max;
};
Fp8Format fp8_format(Dtype d) {
  if (d == Dtype::e4m3) return {3, 7, 448.0};
  if (d == Dtype::e5m2) return {2, 15, 57344.0};
  throw std::logic_error("not an 8-bit float");
}
}  // namespace

uint8_t fp8_encode(Dtype d, double v) {
  const Fp8Format f = fp8_format(d);
  const uint8_t sign = std::signbit(v) ? 0x80 : 0;
  if (std::isnan(v)) return d == Dtype::e4m3 ? 0x7f : 0x7e;
  double a = std::min(std::fabs(v), f.max);  // satfinite
  const int emin = 1 - f.bias;               // the smallest normal exponent
  int e = a > 0 ? std::max(static_cast<int>(std::floor(std::log2(a))), emin) : emin;
  const double q = std::ldexp(1.0, e - f.mbits);   // the spacing at a's binade
  a = std::min(std::nearbyint(a / q) * q, f.max);  // to nearest even (the default mode)
  if (a < std::ldexp(1.0, emin))                   // subnormal (or zero)
    return sign | static_cast<uint8_t>(std::nearbyint(a / std::ldexp(1.0, emin - f.mbits)));
  e = static_cast<int>(std::floor(std::log2(a)));
  const int mant = static_cast<int>(std::nearbyint((a / std::ldexp(1.0, e) - 1) * (1 << f.mbits)));
  return sign | static_cast<uint8_t>(((e + f.bias) << f.mbits) | mant);
}

double fp8_decode(Dtype d, uint8_t bits) {
  const Fp8Format f = fp8_format(d);
  const int ebits = 7 - f.mbits;
  const int E = (bits >> f.mbits) & ((1 << ebits) - 1), M = bits & ((1 << f.mbits) - 1);
  const double sign = (bits & 0x80) ? -1.0 : 1.0;
  if (d == Dtype::e4m3 && E == 15 && M == 7) return std::nan("");
  if (d == Dtype::e5m2 && E == 31) return M ? std::nan("") : sign * INFINITY;
  if (E == 0) return sign * std::ldexp(M, 1 - f.bias - f.mbits);
  return sign * std::ldexp(1.0 + static_cast<double>(M) / (1 << f.mbits), E - f.bias);
}

namespace {
template <class I>
I saturate(double v) {
  const double lo = static_cast<double>(std::numeric_limits<I>::min());
  const double hi = static_cast<double>(std::numeric_limits<I>::max());
  return static_cast<I>(std::min(std::max(std::nearbyint(v), lo), hi));
}
}  // namespace

void store_value(Dtype d, double v, void* p, size_t i) {
  switch (d) {
    case Dtype::f64:
      static_cast<double*>(p)[i] = v;
      return;
    case Dtype::f32:
    case Dtype::tf32:  // stored as f32; the engine rounds
      static_cast<float*>(p)[i] = static_cast<float>(v);
      return;
    case Dtype::f16:
      static_cast<half*>(p)[i] = store_as<half>(v);
      return;
    case Dtype::bf16:
      static_cast<bfloat16*>(p)[i] = store_as<bfloat16>(v);
      return;
    case Dtype::e4m3:
    case Dtype::e5m2:
      static_cast<uint8_t*>(p)[i] = fp8_encode(d, v);
      return;
    case Dtype::i8:
      static_cast<int8_t*>(p)[i] = saturate<int8_t>(v);
      return;
    case Dtype::u8:
      static_cast<uint8_t*>(p)[i] = saturate<uint8_t>(v);
      return;
    case Dtype::i32:
      static_cast<int32_t*>(p)[i] = saturate<int32_t>(v);
      return;
    default:
      throw Unsupported(std::string("no element storage for ") + dtype_name(d));
  }
}

double load_value(Dtype d, const void* p, size_t i) {
  switch (d) {
    case Dtype::f64:
      return static_cast<const double*>(p)[i];
    case Dtype::f32:
    case Dtype::tf32:
      return static_cast<const float*>(p)[i];
    case Dtype::f16:
      return static_cast<float>(static_cast<const half*>(p)[i]);
    case Dtype::bf16:
      return static_cast<float>(static_cast<const bfloat16*>(p)[i]);
    case Dtype::e4m3:
    case Dtype::e5m2:
      return fp8_decode(d, static_cast<const uint8_t*>(p)[i]);
    case Dtype::i8:
      return static_cast<const int8_t*>(p)[i];
    case Dtype::u8:
      return static_cast<const uint8_t*>(p)[i];
    case Dtype::i32:
      return static_cast<const int32_t*>(p)[i];
    default:
      throw Unsupported(std::string("no element storage for ") + dtype_name(d));
  }
}

ErrorBound error_bound(const Precision& p, size_t k) {
  const double kd = static_cast<double>(k);
  ErrorBound b;
  b.out = is_float(p.out) ? unit_roundoff(p.out) : 0;
  b.abs = kd * 0x1p-53;
  if (!is_float(p.acc)) return b;  // integers with i32 accumulation are exact
  if (p.acc == Dtype::f16) {
    b.walk = 8 * unit_roundoff(Dtype::f16);
  } else if (p.a == Dtype::e4m3 || p.a == Dtype::e5m2) {
    b.walk = 8 * 0x1p-13;
    b.abs += (kd + 2) * unit_roundoff(Dtype::f32);
  } else if (p.acc == Dtype::tf32) {
    // f32 inputs rounded to tf32 by the engine, products and sums in f32
    b.abs += 4 * unit_roundoff(Dtype::tf32) + (kd + 2) * unit_roundoff(Dtype::f32);
  } else {
    b.abs += (kd + 2) * unit_roundoff(p.acc);
  }
  return b;
}

double accumulation_bound(const Precision& p, size_t k) { return error_bound(p, k).abs; }

void ProductCheck::check(const DotReference& r, double got, const char* where) {
  const double want = static_cast<double>(r.sum), exact = static_cast<double>(r.real);
  // the long double reference's own slack keeps exact integer products exact
  const double tol = (bound_.abs + 0x1p-60) * static_cast<double>(r.abs) +
                     bound_.walk * std::sqrt(static_cast<double>(r.walk2)) +
                     bound_.out * std::fabs(want);
  err2_ += (got - want) * (got - want);
  ref2_ += want * want;
  err2_real_ += (got - exact) * (got - exact);
  real2_ += exact * exact;
  ++checked_;
  if (!(std::fabs(got - want) <= tol)) {  // NaN fails
    ++bad_;
    if (msg_.size() < 300) {
      char buf[200];
      std::snprintf(buf, sizeof buf, "%s%s got %.9g want %.9g (tol %.3g)", msg_.empty() ? "" : "; ",
                    where, got, want, tol);
      msg_ += buf;
    }
  }
}

void ProductCheck::merge(const ProductCheck& o) {
  err2_ += o.err2_, ref2_ += o.ref2_, err2_real_ += o.err2_real_, real2_ += o.real2_;
  checked_ += o.checked_, bad_ += o.bad_;
  if (msg_.size() < 300 && !o.msg_.empty()) msg_ += (msg_.empty() ? "" : "; ") + o.msg_;
}

ProductErrors ProductCheck::result() const {
  ProductErrors e;
  e.rel_error = ref2_ > 0 ? std::sqrt(err2_ / ref2_) : std::sqrt(err2_);
  e.rel_error_unrounded = real2_ > 0 ? std::sqrt(err2_real_ / real2_) : std::sqrt(err2_real_);
  if (bad_)
    e.why = std::to_string(bad_) + " of " + std::to_string(checked_) +
            " checked elements outside the bound: " + msg_.substr(0, 400);
  return e;
}

}  // namespace dtypebench
