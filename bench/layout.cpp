// Layout family: C vs Fortran order on the CPU (reductions, strided sweeps, C->F conversion,
// matrix-vector forms) and on the GPU (coalesced vs strided reductions, transposes).
#include "kernels/cpu/layout.hpp"

#include <cmath>
#include <cstring>
#include <vector>

#include "bench/family.hpp"
#ifdef DTYPEBENCH_HAVE_CUDA
#include "kernels/cuda/layout.hpp"
#endif

namespace dtypebench::bench {
namespace {

// Edge of a square matrix whose `arrays` copies fill the working set. Rows are whole cache lines
// (n a multiple of 64 / element size, as NumPy's 5000 x 5000 f64 is), but n is never a power of
// two, whose row stride would add cache-set conflicts on top of the line effect.
size_t square_edge(size_t ws, size_t elem, size_t arrays = 1) {
  const size_t line = 64 / elem;
  size_t n =
      static_cast<size_t>(std::sqrt(static_cast<double>(ws / (elem * arrays)))) / line * line;
  if ((n & (n - 1)) == 0) n -= line;
  return std::max(n, line);
}
Value edge(const Point& p, size_t arrays) {
  const size_t n = square_edge(p.size("level"), p.size("dtype"), arrays);
  return {std::to_string(n), static_cast<double>(n)};
}
Value edge1(const Point& p) { return edge(p, 1); }
Value edge2(const Point& p) { return edge(p, 2); }

Order order_of(const Point& p) { return p["order"] == "C" ? Order::C : Order::F; }

// fp64 reference row/column sums of a rows x cols matrix (stored in order o) and their tolerances:
// the recursive-summation bound, 2 * terms * u(acc) * sum|a|.
template <class T>
void reference_sums(const T* a, size_t rows, size_t cols, Order o, cpu::Axis axis,
                    std::vector<double>* want, std::vector<double>* tol) {
  const size_t nout = axis == cpu::Axis::Rows ? rows : cols;
  const size_t terms = axis == cpu::Axis::Rows ? cols : rows;
  want->assign(nout, 0.0);
  std::vector<double> abs(nout, 0.0);
  const size_t outer = o == Order::C ? rows : cols, inner = o == Order::C ? cols : rows;
  for (size_t p = 0; p < outer; ++p)  // storage order: fast even at DRAM sizes
    for (size_t q = 0; q < inner; ++q) {
      const size_t i = o == Order::C ? p : q, j = o == Order::C ? q : p;
      const double v = static_cast<double>(load_acc(a[p * inner + q]));
      const size_t r = axis == cpu::Axis::Rows ? i : j;
      (*want)[r] += v;
      abs[r] += std::fabs(v);
    }
  tol->resize(nout);
  for (size_t r = 0; r < nout; ++r)
    (*tol)[r] = 2.0 * terms * unit_roundoff<acc_t<T>>() * abs[r] + 1e-30;
}

// Poisons out, runs the reduction once on the n x n matrix a (order o) and compares it with the
// fp64 reference; returns the failure ("" when it matched).
template <class T>
std::string check_reduce(const T* a, size_t n, Order o, cpu::Axis axis, cpu::Method m,
                         acc_t<T>* out) {
  std::vector<double> want, tol;
  reference_sums(a, n, n, o, axis, &want, &tol);
  poison(out, n);
  cpu::reduce(a, n, n, o, axis, m, out);
  std::string why;
  close_enough(out, want.data(), tol.data(), n, &why);
  return why;
}

// which sum, and how: rowsum/colsum, naive/aware
struct ReduceKind {
  cpu::Axis axis;
  cpu::Method method;
};
ReduceKind reduce_of(const std::string& v) {
  return {v.rfind("rowsum", 0) == 0 ? cpu::Axis::Rows : cpu::Axis::Cols,
          v.find("aware") != std::string::npos ? cpu::Method::Aware : cpu::Method::Naive};
}

// an n x n matrix read once and written once
Work copy_work(size_t n, size_t elem) {
  const double b = 2.0 * static_cast<double>(n * n * elem);
  return {b, 0, static_cast<double>(n * n), b};
}

// the bit-exact check of a copy or a C->F conversion (a copy moves bytes, whatever their order)
template <class T>
size_t wrong_elements(const T* a, const T* b, size_t n, bool transposed) {
  size_t bad = 0;
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j < n; ++j)
      bad += std::memcmp(&a[i * n + j], &b[transposed ? j * n + i : i * n + j], sizeof(T)) != 0;
  return bad;
}

template <class T>
struct ReduceCase : Case {
  explicit ReduceCase(const Point& p)
      : k_(reduce_of(p["variant"])), o_(order_of(p)), n_(p.size("n")) {}
  std::string setup() override {
    a_ = Buffer<T>(n_ * n_);
    out_ = Buffer<acc_t<T>>(n_);
    fill_uniform(a_.data(), a_.size(), 11);
    return check_reduce(a_.data(), n_, o_, k_.axis, k_.method, out_.data());
  }
  void run() override { cpu::reduce(a_.data(), n_, n_, o_, k_.axis, k_.method, out_.data()); }
  Work work() const override {
    const double e = static_cast<double>(n_ * n_);
    return {static_cast<double>(a_.bytes()), e, e, static_cast<double>(a_.bytes())};
  }

  ReduceKind k_;
  Order o_;
  size_t n_;
  Buffer<T> a_;
  Buffer<acc_t<T>> out_;
};

template <class T>
struct StridedCase : Case {
  explicit StridedCase(const Point& p) : stride_(p.size("stride")), n_(p.size("n")) {}
  std::string setup() override {
    a_ = Buffer<T>(n_);
    fill_uniform(a_.data(), n_, 12);
    double want = 0, abs = 0;
    for (size_t i = 0; i < n_; ++i) {
      const double v = static_cast<double>(load_acc(a_[i]));
      want += v;
      abs += std::fabs(v);
    }
    const double got = static_cast<double>(cpu::strided_sum(a_.data(), n_, stride_));
    const double tol = 2.0 * n_ * unit_roundoff<acc_t<T>>() * abs;
    std::string why;
    close_enough(&got, &want, &tol, 1, &why);
    return why;
  }
  void run() override { benchmark::DoNotOptimize(cpu::strided_sum(a_.data(), n_, stride_)); }
  Work work() const override {
    const double b = static_cast<double>(a_.bytes()), e = static_cast<double>(n_);
    return {b, e, e, b};
  }
  void report(benchmark::State& state, const Peaks&) override {
    // the cache line holds this many elements; beyond it every access is a new line
    state.counters["elements_per_line"] = 64.0 / sizeof(T);
  }

  size_t stride_, n_;
  Buffer<T> a_;
};

// C->F conversion, or the plain copy of the same bytes (the ceiling it is judged against)
template <class T>
void to_fortran(const std::string& v, const T* a, T* b, size_t n) {
  if (v == "to_fortran_naive") cpu::to_fortran_naive(a, b, n, n);
  if (v == "to_fortran_blocked") cpu::to_fortran_blocked(a, b, n, n);
  if (v == "copy") cpu::stream_copy(a, b, n * n);
  if (v == "copy_nt") cpu::stream_copy_nt(a, b, n * n);
}

// A C->F conversion or a copy; as a pair's subject, beside its reference copy (plain or
// streaming) of the same bytes
template <class T>
struct ToFortranCase : Case {
  explicit ToFortranCase(const Point& p)
      : v_(p.has("subject") ? p["subject"] : p["variant"]),
        ref_(p.has("ref") ? p["ref"] : ""),
        n_(p.size("n")) {}
  std::string setup() override {
    a_ = Buffer<T>(n_ * n_);
    b_ = Buffer<T>(n_ * n_);
    c_ = Buffer<T>(ref_.empty() ? 0 : n_ * n_);
    fill_uniform(a_.data(), a_.size(), ref_.empty() ? 13 : 18);
    poison(b_.data(), b_.size());
    run();
    size_t bad = wrong_elements(a_.data(), b_.data(), n_, v_ != "copy");
    if (!ref_.empty()) {
      poison(c_.data(), c_.size());
      ref();
      bad += wrong_elements(a_.data(), c_.data(), n_, false);
    }
    return count_wrong(bad, n_ * n_);
  }
  void ref() override { to_fortran(ref_, a_.data(), c_.data(), n_); }
  void run() override { to_fortran(v_, a_.data(), b_.data(), n_); }
  Work work() const override {
    Work w = copy_work(n_, sizeof(T));
    if (!ref_.empty()) w.ref_bytes = w.bytes;
    return w;
  }

  std::string v_, ref_;
  size_t n_;
  Buffer<T> a_, b_, c_;
};

template <class T>
struct MatvecCase : Case {
  explicit MatvecCase(const Point& p)
      : f_(p["variant"] == "matvec_dot" ? cpu::MatvecForm::Dot : cpu::MatvecForm::Axpy),
        o_(order_of(p)),
        n_(p.size("n")) {}
  std::string setup() override {
    a_ = Buffer<T>(n_ * n_);
    x_ = Buffer<T>(n_);
    y_ = Buffer<acc_t<T>>(n_);
    fill_uniform(a_.data(), a_.size(), 14);
    fill_uniform(x_.data(), n_, 15);
    std::vector<double> want(n_, 0.0), tol(n_, 0.0);
    for (size_t i = 0; i < n_; ++i)
      for (size_t j = 0; j < n_; ++j) {
        const double p = static_cast<double>(load_acc(a_[index_of(o_, i, j, n_, n_)])) *
                         static_cast<double>(load_acc(x_[j]));
        want[i] += p;
        tol[i] += 2.0 * n_ * unit_roundoff<acc_t<T>>() * std::fabs(p);
      }
    poison(y_.data(), n_);
    run();
    std::string why;
    close_enough(y_.data(), want.data(), tol.data(), n_, &why);
    return why;
  }
  void run() override { cpu::matvec(a_.data(), x_.data(), n_, n_, o_, f_, y_.data()); }
  Work work() const override {
    const double b = static_cast<double>(a_.bytes() + x_.bytes() + y_.bytes());
    return {b, 2.0 * n_ * n_, static_cast<double>(n_ * n_), static_cast<double>(a_.bytes())};
  }

  cpu::MatvecForm f_;
  Order o_;
  size_t n_;
  Buffer<T> a_, x_;
  Buffer<acc_t<T>> y_;
};

// Pairs: a reduction of a C-order matrix (colsum_aware, colsum_naive or the contiguous
// rowsum_naive) against the contiguous row sum or the plain read of the same bytes.
template <class T>
struct ReducePairCase : Case {
  explicit ReducePairCase(const Point& p)
      : sub_(reduce_of(p["subject"])), read_(p["ref"] == "read"), n_(p.size("n")) {}
  std::string setup() override {
    a_ = Buffer<T>(n_ * n_);
    rows_ = Buffer<acc_t<T>>(n_);
    sub_out_ = Buffer<acc_t<T>>(n_);
    fill_uniform(a_.data(), a_.size(), read_ ? 17 : 16);
    std::string why =
        check_reduce(a_.data(), n_, Order::C, cpu::Axis::Rows, cpu::Method::Naive, rows_.data());
    if (!why.empty()) return why;
    if (!read_)
      return check_reduce(a_.data(), n_, Order::C, sub_.axis, sub_.method, sub_out_.data());
    double total = 0, abs = 0;
    for (size_t i = 0; i < n_ * n_; ++i) {
      const double v = static_cast<double>(load_acc(a_[i]));
      total += v, abs += std::fabs(v);
    }
    const double got = read_all();
    const double t = 2.0 * n_ * n_ * unit_roundoff<T>() * abs;
    close_enough(&got, &total, &t, 1, &why);
    return why;
  }
  void ref() override {
    if (read_)
      benchmark::DoNotOptimize(read_all());
    else
      cpu::reduce(a_.data(), n_, n_, Order::C, cpu::Axis::Rows, cpu::Method::Naive, rows_.data());
  }
  void run() override {
    cpu::reduce(a_.data(), n_, n_, Order::C, sub_.axis, sub_.method,
                read_ ? rows_.data() : sub_out_.data());
  }
  Work work() const override {
    const double b = static_cast<double>(a_.bytes());
    return {b, 0, 0, b, b};
  }

  // the read kernel exists for f64 and f32 (the spec pairs no 16-bit type with it)
  double read_all() const {
    if constexpr (std::is_same_v<T, double> || std::is_same_v<T, float>)
      return static_cast<double>(cpu::stream_read(a_.data(), n_ * n_));
    throw std::logic_error("no read kernel for this dtype");
  }
  ReduceKind sub_;
  bool read_;
  size_t n_;
  Buffer<T> a_;
  Buffer<acc_t<T>> rows_, sub_out_;
};

#define DB_LAYOUT_DTYPES double, float, half, bfloat16

// a pair of every dtype at the pair levels and the run's threads
Spec pair(Axis subject) {
  return Spec("pair", Timing::Pair)
      .with(dtype_axis<DB_LAYOUT_DTYPES>())
      .sweep(pair_levels_axis())
      .with(std::move(subject));
}

std::vector<Spec> cpu_specs() {
  const auto fourtypes = dtype_axis<DB_LAYOUT_DTYPES>();
  const std::vector<std::string> sweep_keys = {"dtype", "order", "n", "level", "threads"};
  return {
      Spec("")
          .with(fourtypes)
          .with(axis("variant", {"rowsum_naive", "colsum_naive", "rowsum_aware", "colsum_aware"}))
          .with(axis("order", {"C", "F"}))
          .sweep()
          .key("n", edge1)
          .name(sweep_keys)
          // aware differs from naive only where the naive walk strides
          .only_if(
              [](const Point& p) {
                const bool strided =
                    (reduce_of(p["variant"]).axis == cpu::Axis::Rows) != (p["order"] == "C");
                return p["variant"].find("aware") == std::string::npos || strided;
              },
              "*_aware where the naive walk is contiguous (rowsum on C, colsum on F)")
          .note("16-bit types accumulate in f32")
          .cases(typed<ReduceCase, DB_LAYOUT_DTYPES>()),
      Spec("strided")
          .with(fourtypes)
          .with(pair_levels_axis())  // the step shows where lines are refetched
          .with(int_axis("stride", {1, 2, 4, 8, 16, 32, 64, 128}))
          .with(threads_axis())
          .key("n",
               [](const Point& p) {
                 const size_t n = p.size("level") / p.size("dtype");
                 return number(n);
               })
          .name({"dtype", "stride", "n", "level", "threads"})
          .note("stride in elements: past 64 bytes for every dtype, so the step shows")
          .cases(typed<StridedCase, DB_LAYOUT_DTYPES>()),
      Spec("")
          .with(fourtypes)
          .with(axis("variant", {"to_fortran_naive", "to_fortran_blocked", "copy"}))
          .sweep()
          .key("n", edge2)
          .name({"dtype", "n", "level", "threads"})
          .note(
              "copy: the plain copy of the same bytes, the ceiling a conversion is judged against")
          .cases(typed<ToFortranCase, DB_LAYOUT_DTYPES>()),
      Spec("")
          .with(fourtypes)
          .with(axis("variant", {"matvec_dot", "matvec_axpy"}))
          .with(axis("order", {"C", "F"}))
          .sweep()
          .key("n", edge1)
          .name(sweep_keys)
          .cases(typed<MatvecCase, DB_LAYOUT_DTYPES>()),
      // the ratios the layout claims rest on, both kernels alternating on the same data
      pair(axis("subject", {"colsum_aware", "colsum_naive", "rowsum_naive"}))
          .key("ref",
               [](const Point& p) {
                 return Value{p["subject"] == "rowsum_naive" ? "read" : "rowsum_naive", 0};
               })
          .with(axis("order", {"C"}))
          .key("n", edge1)
          .name({"subject", "ref", "dtype", "order", "n", "level", "threads"})
          .only_if([](const Point& p) { return p["ref"] != "read" || p.size("dtype") >= 4; },
                   "rowsum_naive vs read for 16-bit types (f64 and f32 only)")
          .cases(typed<ReducePairCase, DB_LAYOUT_DTYPES>()),
      // the C->F copies against a plain copy of the same bytes, and the blocked one (which
      // streams its stores past the LLC) against a copy that does too
      pair(axis("subject", {"to_fortran_blocked", "to_fortran_naive"}))
          .with(axis("ref", {"copy", "copy_nt"}))
          .key("n", edge2)
          .name({"subject", "ref", "dtype", "n", "level", "threads"})
          .only_if(
              [](const Point& p) {
                return p["subject"] == "to_fortran_blocked" || p["ref"] == "copy";
              },
              "to_fortran_naive vs copy_nt")
          .cases(typed<ToFortranCase, DB_LAYOUT_DTYPES>()),
  };
}

const FamilyRegistrar reg{
    {"layout",
     "C vs Fortran order: reductions, strided sweeps, C->F conversion, matvec forms, GPU "
     "coalescing and transposes",
     cpu_specs(),
     {}}};

#ifdef DTYPEBENCH_HAVE_CUDA
template <class T>
struct GpuReduceCase : Case {
  explicit GpuReduceCase(const Point& p) : n_(p.size("n")) {
    const std::string& v = p["variant"];
    axis_ = v.find("rowsum") != std::string::npos ? cuda::Axis::Rows : cuda::Axis::Cols;
    access_ =
        v.find("strided") != std::string::npos ? cuda::Access::Strided : cuda::Access::Coalesced;
  }
  std::string setup() override {
    Buffer<T> ha(n_ * n_);
    fill_uniform(ha.data(), ha.size(), 21);
    a_ = gpu::DeviceBuffer<T>(n_ * n_);
    out_ = gpu::DeviceBuffer<acc_t<T>>(n_);
    gpu::copy_to_device(a_.data(), ha.data(), a_.bytes());
    gpu::memset_device(out_.data(), 0xff, out_.bytes());
    run();
    std::vector<acc_t<T>> got(n_);
    gpu::copy_to_host(got.data(), out_.data(), out_.bytes());
    std::vector<double> want, tol;
    reference_sums(ha.data(), n_, n_, Order::C,
                   axis_ == cuda::Axis::Rows ? cpu::Axis::Rows : cpu::Axis::Cols, &want, &tol);
    std::string why;
    close_enough(got.data(), want.data(), tol.data(), n_, &why);
    return why;
  }
  void run() override { cuda::reduce(a_.data(), n_, n_, axis_, access_, out_.data()); }
  Work work() const override {
    const double b = static_cast<double>(a_.bytes()), e = static_cast<double>(n_ * n_);
    return {b, e, e, b};
  }

  size_t n_;
  cuda::Axis axis_;
  cuda::Access access_;
  gpu::DeviceBuffer<T> a_;
  gpu::DeviceBuffer<acc_t<T>> out_;
};

template <class T>
struct GpuTransposeCase : Case {
  explicit GpuTransposeCase(const Point& p)
      : v_(p["variant"]),
        param_(p.has("tile")              ? p.size("tile")
               : p.has("rows_per_thread") ? p.size("rows_per_thread")
                                          : 0),
        n_(p.size("n")) {}
  std::string setup() override {
    Buffer<T> ha(n_ * n_), hb(n_ * n_);
    fill_uniform(ha.data(), ha.size(), 22);
    a_ = gpu::DeviceBuffer<T>(n_ * n_);
    b_ = gpu::DeviceBuffer<T>(n_ * n_);
    gpu::copy_to_device(a_.data(), ha.data(), a_.bytes());
    gpu::memset_device(b_.data(), 0xff, b_.bytes());
    run();
    gpu::copy_to_host(hb.data(), b_.data(), b_.bytes());
    return count_wrong(wrong_elements(ha.data(), hb.data(), n_, v_ != "gpu_memcpy_d2d"), n_ * n_);
  }
  void run() override {
    const int p = static_cast<int>(param_);
    if (v_ == "gpu_transpose_naive") cuda::transpose_naive(a_.data(), b_.data(), n_, n_);
    if (v_ == "gpu_transpose_tiled") cuda::transpose_tiled(a_.data(), b_.data(), n_, n_, p);
    if (v_ == "gpu_transpose_vec") cuda::transpose_vec(a_.data(), b_.data(), n_, n_);
    if (v_ == "gpu_transpose_regs") cuda::transpose_regs(a_.data(), b_.data(), n_, n_, p);
    if (v_ == "gpu_memcpy_d2d") cuda::d2d_copy(b_.data(), a_.data(), a_.bytes());
  }
  Work work() const override { return copy_work(n_, sizeof(T)); }

  std::string v_;
  size_t param_, n_;
  gpu::DeviceBuffer<T> a_, b_;
};

std::vector<Spec> gpu_specs() {
  const auto fourtypes = dtype_axis<DB_LAYOUT_DTYPES>();
  auto transpose = [&](const char* variant, const char* param, std::vector<int> values) {
    Spec s(variant, Timing::Gpu);
    s.with(fourtypes);
    std::vector<std::string> keys = {"dtype"};
    if (param) s.with(int_axis(param, values)), keys.push_back(param);
    s.with(gpu_levels_axis()).key("n", edge2);
    keys.insert(keys.end(), {"n", "level"});
    return s.name(keys).cases(typed<GpuTransposeCase, DB_LAYOUT_DTYPES>());
  };
  return {
      Spec("", Timing::Gpu)
          .with(fourtypes)
          .with(axis("variant", {"gpu_rowsum_coalesced", "gpu_rowsum_strided",
                                 "gpu_colsum_coalesced", "gpu_colsum_strided"}))
          .with(gpu_levels_axis())
          .with(axis("order", {"C"}))
          .key("n", edge1)
          .name({"dtype", "order", "n", "level"})
          .cases(typed<GpuReduceCase, DB_LAYOUT_DTYPES>()),
      transpose("gpu_transpose_naive", nullptr, {}),
      transpose("gpu_transpose_tiled", "tile", {32, 64}),
      transpose("gpu_transpose_vec", nullptr, {}),
      transpose("gpu_transpose_regs", "rows_per_thread", {8, 16}),
      transpose("gpu_memcpy_d2d", nullptr, {}),
  };
}
const FamilyRegistrar gpu_reg{{"layout", "", gpu_specs(), {}}};  // joins the family above
#endif

}  // namespace
}  // namespace dtypebench::bench
