// Layout family: C vs Fortran order on the CPU (reductions, strided sweeps, C->F conversion,
// matrix-vector forms) and on the GPU (coalesced vs strided reductions, transposes).
#include "kernels/cpu/layout.hpp"

#include "bench/family.hpp"
#include "kernels/cpu/stream.hpp"
#include "kernels/cuda/layout.hpp"

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
  return number(square_edge(p.size("level"), p.size("dtype"), arrays));
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
  return check_values(out, want.data(), tol.data(), n);
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
  return streamed(2.0 * static_cast<double>(n * n * elem), n * n);
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
  void run() override { cpu::reduce(a_.data(), n, n, o_, k_.axis, k_.method, out_.data()); }
  std::string setup() override {
    a_ = filled<T>(n * n, 11);
    out_ = Buffer<acc_t<T>>(n);
    return check_reduce(a_.data(), n, o_, k_.axis, k_.method, out_.data());
  }
  Work work() const override { return streamed(a_.bytes(), n * n, n * n); }

  const ReduceKind k_ = reduce_of(p["variant"]);
  const Order o_ = order_of(p);
  Buffer<T> a_;
  Buffer<acc_t<T>> out_;
};

template <class T>
struct StridedCase : Case {
  void run() override { benchmark::DoNotOptimize(cpu::strided_sum(a_.data(), n, stride_)); }
  std::string setup() override {
    a_ = filled<T>(n, 12);
    double want = 0, abs = 0;
    for (size_t i = 0; i < n; ++i) {
      const double v = static_cast<double>(load_acc(a_[i]));
      want += v;
      abs += std::fabs(v);
    }
    const double got = static_cast<double>(cpu::strided_sum(a_.data(), n, stride_));
    return check_value(got, want, 2.0 * n * unit_roundoff<acc_t<T>>() * abs);
  }
  Work work() const override { return streamed(a_.bytes(), n, n); }
  void report(benchmark::State& state, const Peaks&) override {
    // the cache line holds this many elements; beyond it every access is a new line
    state.counters["elements_per_line"] = 64.0 / sizeof(T);
  }

  const size_t stride_ = p.size("stride");
  Buffer<T> a_;
};

// C->F conversion, or the plain copy of the same bytes (the ceiling it is judged against)
enum class ToF { None, Naive, Blocked, Copy, CopyNt };
// the kernel a name (a variant, a pair's subject or ref) stands for, read once per case
ToF tof_of(const std::string& v) {
  if (v == "to_fortran_naive") return ToF::Naive;
  if (v == "to_fortran_blocked") return ToF::Blocked;
  if (v == "copy") return ToF::Copy;
  if (v == "copy_nt") return ToF::CopyNt;
  if (v.empty()) return ToF::None;
  throw std::logic_error("no C->F kernel named '" + v + "'");
}
template <class T>
void to_fortran(ToF v, const T* a, T* b, size_t n) {
  switch (v) {
    case ToF::Naive:
      return cpu::to_fortran_naive(a, b, n, n);
    case ToF::Blocked:
      return cpu::to_fortran_blocked(a, b, n, n);
    case ToF::Copy:
      return cpu::stream_copy(a, b, n * n);
    case ToF::CopyNt:
      return cpu::stream_copy_nt(a, b, n * n);
    case ToF::None:
      return;
  }
}

// A C->F conversion or a copy; as a pair's subject, beside its reference copy (plain or
// streaming) of the same bytes
template <class T>
struct ToFortranCase : Case {
  void run() override { to_fortran(v_, a_.data(), b_.data(), n); }
  std::string setup() override {
    a_ = filled<T>(n * n, ref_ == ToF::None ? 13 : 18);
    b_ = poisoned<T>(n * n);
    c_ = poisoned<T>(ref_ == ToF::None ? 0 : n * n);
    run();
    size_t bad = wrong_elements(a_.data(), b_.data(), n, v_ != ToF::Copy);
    if (ref_ != ToF::None) {
      ref();
      bad += wrong_elements(a_.data(), c_.data(), n, false);
    }
    return count_wrong(bad, n * n);
  }
  void ref() override { to_fortran(ref_, a_.data(), c_.data(), n); }
  Work work() const override {
    Work w = copy_work(n, sizeof(T));
    if (ref_ != ToF::None) w.ref_bytes = w.bytes;
    return w;
  }

  const ToF v_ = tof_of(p.has("subject") ? p["subject"] : p["variant"]);
  const ToF ref_ = tof_of(p.has("ref") ? p["ref"] : "");
  Buffer<T> a_, b_, c_;
};

template <class T>
struct MatvecCase : Case {
  void run() override { cpu::matvec(a_.data(), x_.data(), n, n, o_, f_, y_.data()); }
  std::string setup() override {
    a_ = filled<T>(n * n, 14);
    x_ = filled<T>(n, 15);
    y_ = poisoned<acc_t<T>>(n);
    std::vector<double> want(n, 0.0), tol(n, 0.0);
    for (size_t i = 0; i < n; ++i)
      for (size_t j = 0; j < n; ++j) {
        const double ax = static_cast<double>(load_acc(a_[index_of(o_, i, j, n, n)])) *
                          static_cast<double>(load_acc(x_[j]));
        want[i] += ax;
        tol[i] += 2.0 * n * unit_roundoff<acc_t<T>>() * std::fabs(ax);
      }
    run();
    return check_values(y_.data(), want.data(), tol.data(), n);
  }
  Work work() const override {
    const double b = static_cast<double>(a_.bytes() + x_.bytes() + y_.bytes());
    return {b, 2.0 * n * n, static_cast<double>(n * n), static_cast<double>(a_.bytes())};
  }

  const cpu::MatvecForm f_ =
      p["variant"] == "matvec_dot" ? cpu::MatvecForm::Dot : cpu::MatvecForm::Axpy;
  const Order o_ = order_of(p);
  Buffer<T> a_, x_;
  Buffer<acc_t<T>> y_;
};

// Pairs: a reduction of a C-order matrix (colsum_aware, colsum_naive or the contiguous
// rowsum_naive) against the contiguous row sum or the plain read of the same bytes.
template <class T>
struct ReducePairCase : Case {
  void run() override {
    cpu::reduce(a_.data(), n, n, Order::C, sub_.axis, sub_.method,
                read_ ? rows_.data() : sub_out_.data());
  }
  std::string setup() override {
    a_ = filled<T>(n * n, read_ ? 17 : 16);
    rows_ = Buffer<acc_t<T>>(n);
    sub_out_ = Buffer<acc_t<T>>(n);
    const std::string why =
        check_reduce(a_.data(), n, Order::C, cpu::Axis::Rows, cpu::Method::Naive, rows_.data());
    if (!why.empty()) return why;
    if (!read_)
      return check_reduce(a_.data(), n, Order::C, sub_.axis, sub_.method, sub_out_.data());
    double total = 0, abs = 0;
    for (size_t i = 0; i < n * n; ++i) {
      const double v = static_cast<double>(load_acc(a_[i]));
      total += v, abs += std::fabs(v);
    }
    return check_value(read_all(), total, 2.0 * n * n * unit_roundoff<T>() * abs);
  }
  void ref() override {
    if (read_)
      benchmark::DoNotOptimize(read_all());
    else
      cpu::reduce(a_.data(), n, n, Order::C, cpu::Axis::Rows, cpu::Method::Naive, rows_.data());
  }
  Work work() const override {
    const double b = static_cast<double>(a_.bytes());
    return {b, 0, 0, b, b};
  }

  // the read kernel exists for f64 and f32 (the spec pairs no 16-bit type with it)
  double read_all() const {
    if constexpr (std::is_same_v<T, double> || std::is_same_v<T, float>)
      return static_cast<double>(cpu::stream_read(a_.data(), n * n));
    throw std::logic_error("no read kernel for this dtype");
  }
  const ReduceKind sub_ = reduce_of(p["subject"]);
  const bool read_ = p["ref"] == "read";
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
          .key("n", [](const Point& p) { return number(p.size("level") / p.size("dtype")); })
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
  void run() override { cuda::reduce(a_.data(), n, n, axis_, access_, out_.data()); }
  std::string setup() override {
    const Buffer<T> ha = filled<T>(n * n, 21);
    a_ = to_device(ha);
    out_ = poisoned_device<acc_t<T>>(n);
    run();
    std::vector<acc_t<T>> got(n);
    gpu::copy_to_host(got.data(), out_.data(), out_.bytes());
    std::vector<double> want, tol;
    reference_sums(ha.data(), n, n, Order::C,
                   axis_ == cuda::Axis::Rows ? cpu::Axis::Rows : cpu::Axis::Cols, &want, &tol);
    return check_values(got.data(), want.data(), tol.data(), n);
  }
  Work work() const override { return streamed(a_.bytes(), n * n, n * n); }

  const cuda::Axis axis_ =
      p["variant"].find("rowsum") != std::string::npos ? cuda::Axis::Rows : cuda::Axis::Cols;
  const cuda::Access access_ = p["variant"].find("strided") != std::string::npos
                                   ? cuda::Access::Strided
                                   : cuda::Access::Coalesced;
  gpu::DeviceBuffer<T> a_;
  gpu::DeviceBuffer<acc_t<T>> out_;
};

enum class GpuMove { Naive, Tiled, Vec, Regs, D2d };

template <class T>
struct GpuTransposeCase : Case {
  void run() override {
    switch (v_) {
      case GpuMove::Naive:
        return cuda::transpose_naive(a_.data(), b_.data(), n, n);
      case GpuMove::Tiled:
        return cuda::transpose_tiled(a_.data(), b_.data(), n, n, param_);
      case GpuMove::Vec:
        return cuda::transpose_vec(a_.data(), b_.data(), n, n);
      case GpuMove::Regs:
        return cuda::transpose_regs(a_.data(), b_.data(), n, n, param_);
      case GpuMove::D2d:
        return gpu::copy_on_device(b_.data(), a_.data(), a_.bytes());
    }
  }
  std::string setup() override {
    Buffer<T> ha = filled<T>(n * n, 22), hb(n * n);
    a_ = to_device(ha);
    b_ = poisoned_device<T>(n * n);
    run();
    gpu::copy_to_host(hb.data(), b_.data(), b_.bytes());
    return count_wrong(wrong_elements(ha.data(), hb.data(), n, v_ != GpuMove::D2d), n * n);
  }
  Work work() const override { return copy_work(n, sizeof(T)); }

  const GpuMove v_ = p.get<GpuMove>("variant");
  const int param_ = static_cast<int>(p.has("tile")              ? p.size("tile")
                                      : p.has("rows_per_thread") ? p.size("rows_per_thread")
                                                                 : 0);
  gpu::DeviceBuffer<T> a_, b_;
};

std::vector<Spec> gpu_specs() {
  const auto fourtypes = dtype_axis<DB_LAYOUT_DTYPES>();
  auto transpose = [&](const char* variant, GpuMove move, const char* param,
                       std::vector<int> values) {
    Spec s(variant, Timing::Gpu);
    s.variant_is(move);
    s.with(fourtypes);
    std::vector<std::string> keys = {"dtype"};
    if (param) s.with(int_axis(param, values)), keys.push_back(param);
    s.with(gpu_levels_axis()).key("n", edge2);
    keys.insert(keys.end(), {"n", "level"});
    return s.name(keys).cases(typed<GpuTransposeCase, DB_LAYOUT_DTYPES>());
  };
  // the reference (the copy engine) first, then the kernel never measured on a GPU: a run cut at
  // its time limit keeps what the others are read against
  return {
      transpose("gpu_memcpy_d2d", GpuMove::D2d, nullptr, {}),
      transpose("gpu_transpose_regs", GpuMove::Regs, "rows_per_thread", {8, 16}),
      transpose("gpu_transpose_naive", GpuMove::Naive, nullptr, {}),
      transpose("gpu_transpose_tiled", GpuMove::Tiled, "tile", {32, 64}),
      transpose("gpu_transpose_vec", GpuMove::Vec, nullptr, {}),
      Spec("", Timing::Gpu)
          .with(fourtypes)
          .with(axis("variant", {"gpu_rowsum_coalesced", "gpu_rowsum_strided",
                                 "gpu_colsum_coalesced", "gpu_colsum_strided"}))
          .with(gpu_levels_axis())
          .with(axis("order", {"C"}))
          .key("n", edge1)
          .name({"dtype", "order", "n", "level"})
          .cases(typed<GpuReduceCase, DB_LAYOUT_DTYPES>()),
  };
}
const FamilyRegistrar gpu_reg{{"layout", "", gpu_specs(), {}}};  // joins the family above
#endif

}  // namespace
}  // namespace dtypebench::bench
