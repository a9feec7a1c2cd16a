// Baseline family: the bandwidth and arithmetic ceilings of this machine, CPU and GPU.
#include "kernels/cpu/baseline.hpp"

#include "bench/family.hpp"
#include "kernels/cuda/baseline.hpp"

namespace dtypebench::bench {
namespace {

enum class Stream { Read, Copy, CopyNt, Scale, Add, Triad };
struct StreamKind {
  Stream kind;
  const char* name;
  int arrays;  // arrays touched: the minimum bytes moved is arrays * n * sizeof(T)
};
constexpr StreamKind kStreams[] = {{Stream::Read, "read", 1},      {Stream::Copy, "copy", 2},
                                   {Stream::CopyNt, "copy_nt", 2}, {Stream::Scale, "scale", 2},
                                   {Stream::Add, "add", 3},        {Stream::Triad, "triad", 3}};

const StreamKind& stream_of(const std::string& name) {
  for (const StreamKind& s : kStreams)
    if (name == s.name) return s;
  throw std::logic_error("no stream kernel " + name);
}

// elements per array: the arrays together fill the level
Value stream_n(const Point& p) {
  return number(p.size("level") / (stream_of(p["variant"]).arrays * p.size("dtype")));
}

template <class T>
void run_stream(T* a, T* b, T* c, size_t n, Stream k, T* sink) {
  const T q = static_cast<T>(3);
  if (k == Stream::Read) *sink = cpu::stream_read(a, n);
  if (k == Stream::Copy) cpu::stream_copy(a, b, n);
  if (k == Stream::CopyNt) cpu::stream_copy_nt(a, b, n);
  if (k == Stream::Scale) cpu::stream_scale(a, b, q, n);
  if (k == Stream::Add) cpu::stream_add(a, b, c, n);
  if (k == Stream::Triad) cpu::stream_triad(a, b, c, q, n);
}

template <class T>
struct StreamCase : Case {
  void run() override {
    run_stream(a_.data(), b_.data(), c_.data(), n, sk_.kind, &sink_);
    // the const overload: GCC 12 dropped the store of the read's result before setup() checks it
    // when the read/write one ("+m,r") was inlined there
    benchmark::DoNotOptimize(std::as_const(sink_));
  }
  // Fills the inputs, poisons the output, runs the kernel once and compares with an fp64
  // reference. The inputs are refilled afterwards for timing.
  std::string setup() override {
    a_ = filled<T>(n, 1);
    b_ = filled<T>(n, 2);
    c_ = filled<T>(sk_.arrays == 3 ? n : 0, 3);
    const Stream k = sk_.kind;
    if (k == Stream::Read) {
      double s = 0, abs = 0;
      for (size_t i = 0; i < n; ++i) s += a_[i], abs += std::fabs(static_cast<double>(a_[i]));
      run();
      return check_value(sink_, s, 2.0 * static_cast<double>(n) * unit_roundoff<T>() * abs);
    }
    T* out = k == Stream::Copy || k == Stream::CopyNt || k == Stream::Scale ? b_.data()
             : k == Stream::Add                                             ? c_.data()
                                                                            : a_.data();
    poison(out, n);
    run();
    // the inputs as filled, regenerated element by element (the output overwrote one of them)
    const auto input = [](uint64_t seed, size_t i) {
      return static_cast<double>(store_as<T>(uniform_at(seed, i)));
    };
    const bool three = k == Stream::Add || k == Stream::Triad;
    const std::string why = check_by(out, n, [&](size_t i) {
      const double x = input(1, i), y = input(2, i), z = three ? input(3, i) : 0;
      const double want = k == Stream::Copy || k == Stream::CopyNt ? x
                          : k == Stream::Scale                     ? 3 * x
                          : k == Stream::Add                       ? x + y
                                                                   : y + 3 * z;
      return std::pair<double, double>(
          want, 2 * unit_roundoff<T>() * (std::fabs(y) + 3 * std::fabs(z) + 3 * std::fabs(x)));
    });
    fill_uniform(a_.data(), n, 1);
    fill_uniform(b_.data(), n, 2);
    return why;
  }
  Work work() const override {
    return streamed(sk_.arrays * n * sizeof(T), n, sk_.kind == Stream::Triad ? 2.0 * n : 0);
  }

  const StreamKind sk_ = stream_of(p["variant"]);
  Buffer<T> a_, b_, c_;
  T sink_ = 0;
};

// Independent FMA chains in registers, checked against the scalar fp64 model of one chain.
template <class T>
struct FmaCase : Case {
  void run() override { benchmark::DoNotOptimize(cpu::fma_peak<T>(20000, m_, c_, x0_, &flops_)); }
  std::string setup() override {
    const size_t check_steps = 100;
    const double got = cpu::fma_peak<T>(check_steps, m_, c_, x0_, &flops_);
    constexpr int W = 64 / sizeof(T);
    double want = 0;
    for (int l = 0; l < W; ++l)
      want += cpu::fma_chain_reference(
          check_steps, m_, c_, static_cast<double>(x0_ + static_cast<T>(l) * static_cast<T>(1e-3)));
    want *= cpu::kFmaChains * p.num("threads");
    return check_value(got, want, 1e-4 * std::fabs(want) + 1e-12);
  }
  Work work() const override { return {0, flops_, 0, 0}; }

  const T m_ = static_cast<T>(0.999), c_ = static_cast<T>(1e-3), x0_ = static_cast<T>(0.5);
  double flops_ = 0;
};

struct Bf16DotCase : Case {
  void run() override { benchmark::DoNotOptimize(cpu::bf16_dot_peak(20000, 0.5f, 0.25f, &flops_)); }
  std::string setup() override {
    // 0.5 and 0.25 are exact in bf16, and every partial sum below is exact in fp32
    const size_t check_steps = 64;
    const double got = cpu::bf16_dot_peak(check_steps, 0.5f, 0.25f, &flops_);
    return check_value(got, p.num("threads") * cpu::kDotChains * 16.0 * check_steps * 2 * 0.125, 0);
  }
  Work work() const override { return {0, flops_, 0, 0}; }

  double flops_ = 0;
};

std::vector<std::string> stream_names() {
  std::vector<std::string> v;
  for (const StreamKind& s : kStreams) v.push_back(s.name);
  return v;
}

std::vector<Spec> cpu_specs() {
  return {
      Spec("")
          .with(dtype_axis<double, float>())
          .with(axis("variant", stream_names()))
          .sweep()
          .key("n", stream_n)
          .name({"dtype", "level", "n", "threads"})
          .note("copy_nt: non-temporal stores, no read-for-ownership of the destination")
          .cases(typed<StreamCase, double, float>()),
      Spec("fma_peak")
          .with(dtype_axis<double, float>())
          .with(threads_axis())
          .cases(typed<FmaCase, double, float>()),
      Spec("bf16_dot_peak")
          .with(dtype_axis<bfloat16>())
          .with(threads_axis())
          .skip_if([](const Point&) {
            return cpu::have_avx512_bf16() ? "" : "this build or CPU has no AVX512-BF16";
          })
          .cases(plain<Bf16DotCase>()),
  };
}

const FamilyRegistrar reg{{"baseline",
                           "bandwidth (read/copy/scale/add/triad) and FMA ceilings, CPU and GPU",
                           cpu_specs(),
                           {}}};

#ifdef DTYPEBENCH_HAVE_CUDA
enum class GpuStream { D2d, Copy, Read, Triad };
int gpu_arrays(GpuStream v) { return v == GpuStream::Read ? 1 : v == GpuStream::Triad ? 3 : 2; }

template <class T>
struct GpuStreamCase : Case {
  void run() override {
    switch (v_) {
      case GpuStream::D2d:
        return gpu::copy_on_device(b_.data(), a_.data(), a_.bytes());
      case GpuStream::Copy:
        return cuda::copy(a_.data(), b_.data(), n);
      case GpuStream::Read:
        partials_ = cuda::read(a_.data(), n, sum_.data());
        return;
      case GpuStream::Triad:
        return cuda::triad(a_.data(), b_.data(), c_.data(), static_cast<T>(3), n);
    }
  }
  std::string setup() override {
    Buffer<T> ha = filled<T>(n, 1), hb = filled<T>(n, 2), hc = filled<T>(n, 3);
    // the output poisoned: b for the copies, a for the triad
    a_ = arrays_ == 3 ? poisoned_device<T>(n) : to_device(ha);
    b_ = arrays_ == 3   ? to_device(hb)
         : arrays_ == 2 ? poisoned_device<T>(n)
                        : gpu::DeviceBuffer<T>(0);
    c_ = arrays_ == 3 ? to_device(hc) : gpu::DeviceBuffer<T>(0);
    sum_ = gpu::DeviceBuffer<double>(cuda::read_blocks());
    run();
    gpu::synchronize();
    if (arrays_ == 1) {
      double want = 0, abs = 0;
      for (size_t i = 0; i < n; ++i) want += ha[i], abs += std::fabs(double(ha[i]));
      return check_value(cuda::read_total(sum_.data(), partials_), want, 1e-12 * abs + 1e-9);
    }
    Buffer<T> got(n);
    gpu::copy_to_host(got.data(), arrays_ == 2 ? b_.data() : a_.data(), got.bytes());
    return check_by(got.data(), n, [&](size_t i) {
      const double want = arrays_ == 2 ? double(ha[i]) : double(hb[i]) + 3.0 * double(hc[i]);
      return std::pair<double, double>(
          want, arrays_ == 2 ? 0 : 4 * unit_roundoff<T>() * (std::fabs(want) + 1));
    });
  }
  Work work() const override {
    return streamed(arrays_ * n * sizeof(T), n, v_ == GpuStream::Triad ? 2.0 * n : 0);
  }

  const GpuStream v_ = p.get<GpuStream>("variant");
  const int arrays_ = gpu_arrays(v_);
  gpu::DeviceBuffer<T> a_, b_, c_;
  gpu::DeviceBuffer<double> sum_;  // per-block partial sums
  size_t partials_ = 0;
};

constexpr cuda::FmaPrecision kFmaPrecisions[] = {cuda::FmaPrecision::F64, cuda::FmaPrecision::F32,
                                                 cuda::FmaPrecision::F16x2,
                                                 cuda::FmaPrecision::BF16x2};

struct GpuFmaCase : Case {
  void run() override { flops_ = cuda::fma_peak(q_, blocks_, 4096, 0.999f, 1e-3f, out_.data()); }
  std::string setup() override {
    // x stays 1 with m = 1, c = 0 in every precision, so each thread's sum is 8 chains' worth of
    // x0 (1 + tid*1e-7 rounds to 1 in 16-bit types; allow that spread)
    out_ = poisoned_device<float>(static_cast<size_t>(blocks_) * 256);
    cuda::fma_peak(q_, blocks_, 16, 1.0f, 0.0f, out_.data());
    std::vector<float> host(out_.size());
    gpu::copy_to_host(host.data(), out_.data(), out_.bytes());
    return check_by(host.data(), host.size(), [](size_t t) {
      return std::pair<double, double>(8.0 * (1.0 + t * 1e-7), 8.0 * t * 1e-7 + 0.1);
    });
  }
  Work work() const override { return {0, flops_, 0, 0}; }

  const cuda::FmaPrecision q_ = *std::find_if(
      std::begin(kFmaPrecisions), std::end(kFmaPrecisions),
      [&](cuda::FmaPrecision q) { return p["dtype"] == cuda::fma_precision_name(q); });
  int blocks_ = 8 * gpu::device().sms;
  gpu::DeviceBuffer<float> out_;
  double flops_ = 0;
};

std::vector<Spec> gpu_specs() {
  std::vector<std::string> fma;
  for (cuda::FmaPrecision q : kFmaPrecisions) fma.push_back(cuda::fma_precision_name(q));
  return {
      Spec("", Timing::Gpu)
          .with(dtype_axis<double, float>())
          .with(gpu_levels_axis())
          .with(axis_of<GpuStream>("variant", {{"gpu_memcpy_d2d", GpuStream::D2d},
                                               {"gpu_copy", GpuStream::Copy},
                                               {"gpu_read", GpuStream::Read},
                                               {"gpu_triad", GpuStream::Triad}}))
          .key("n",
               [](const Point& p) {
                 return number(p.size("level") /
                               (gpu_arrays(p.get<GpuStream>("variant")) * p.size("dtype")));
               })
          .name({"dtype", "level", "n"})
          .cases(typed<GpuStreamCase, double, float>()),
      Spec("gpu_fma_peak", Timing::Gpu).with(axis("dtype", fma)).cases(plain<GpuFmaCase>()),
  };
}
const FamilyRegistrar gpu_reg{{"baseline", "", gpu_specs(), {}}};  // joins the family above
#endif

}  // namespace
}  // namespace dtypebench::bench
