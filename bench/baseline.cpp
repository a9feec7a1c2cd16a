// Baseline family: the bandwidth and arithmetic ceilings of this machine, CPU and GPU.
#include "kernels/cpu/baseline.hpp"

#include <omp.h>

#include <vector>

#include "bench/registry.hpp"
#include "dtypebench/check.hpp"
#include "dtypebench/fill.hpp"
#ifdef DTYPEBENCH_HAVE_CUDA
#include "kernels/cuda/baseline.hpp"
#endif

namespace dtypebench {
namespace bench {
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

template <class T>
void run_stream(T* a, T* b, T* c, size_t n, Stream k, T* sink) {
  const T q = static_cast<T>(3);
  switch (k) {
    case Stream::Read:
      *sink = cpu::stream_read(a, n);
      break;
    case Stream::Copy:
      cpu::stream_copy(a, b, n);
      break;
    case Stream::CopyNt:
      cpu::stream_copy_nt(a, b, n);
      break;
    case Stream::Scale:
      cpu::stream_scale(a, b, q, n);
      break;
    case Stream::Add:
      cpu::stream_add(a, b, c, n);
      break;
    case Stream::Triad:
      cpu::stream_triad(a, b, c, q, n);
      break;
  }
}

template <class T>
struct StreamFx : Fixture {
  Buffer<T> a, b, c;
};

// Fills the inputs, poisons the output, runs kernel k once and compares with an fp64 reference;
// returns the failure ("" when it matched). The inputs are refilled afterwards for timing.
template <class T>
std::string check_stream(Stream k, size_t n, StreamFx<T>& f) {
  fill_uniform(f.a.data(), n, 1);
  fill_uniform(f.b.data(), n, 2);
  fill_uniform(f.c.data(), f.c.size(), 3);
  std::string why;
  T sink = 0;
  if (k == Stream::Read) {
    double s = 0, abs = 0;
    for (size_t i = 0; i < n; ++i) s += f.a[i], abs += std::fabs(static_cast<double>(f.a[i]));
    run_stream(f.a.data(), f.b.data(), f.c.data(), n, k, &sink);
    const double t = 2.0 * static_cast<double>(n) * unit_roundoff<T>() * abs;
    close_enough(&sink, &s, &t, 1, &why);
    return why;
  }
  T* out = k == Stream::Copy || k == Stream::CopyNt || k == Stream::Scale ? f.b.data()
           : k == Stream::Add                                             ? f.c.data()
                                                                          : f.a.data();
  poison(out, n);
  run_stream(f.a.data(), f.b.data(), f.c.data(), n, k, &sink);
  // the inputs as filled, regenerated element by element (the output overwrote one of them)
  const auto input = [](uint64_t seed, size_t i) {
    return static_cast<double>(store_as<T>(uniform_at(seed, i)));
  };
  const bool three = k == Stream::Add || k == Stream::Triad;
  close_enough_by(
      out, n,
      [&](size_t i) {
        const double x = input(1, i), y = input(2, i), z = three ? input(3, i) : 0;
        const double want = k == Stream::Copy || k == Stream::CopyNt ? x
                            : k == Stream::Scale                     ? 3 * x
                            : k == Stream::Add                       ? x + y
                                                                     : y + 3 * z;
        return std::pair<double, double>(
            want, 2 * unit_roundoff<T>() * (std::fabs(y) + 3 * std::fabs(z) + 3 * std::fabs(x)));
      },
      &why);
  fill_uniform(f.a.data(), n, 1);
  fill_uniform(f.b.data(), n, 2);
  return why;
}

template <class T>
void add_cpu_streams(const Config& cfg) {
  for (const StreamKind& sk : kStreams)
    for (const Level& lvl : cfg.levels)
      for (int threads : cfg.threads) {
        const size_t n = lvl.bytes / (sk.arrays * sizeof(T));
        Name name("baseline", sk.name);
        name.kv("dtype", dtype_name<T>()).kv("level", lvl.name).kv("n", n).kv("threads", threads);
        add_cpu(name, [sk, n, threads, id = new_fixture_id()](benchmark::State& state) {
          omp_set_num_threads(threads);
          StreamFx<T>* fx = fixture<StreamFx<T>>(state, id, [&](StreamFx<T>& f) {
            f.a = Buffer<T>(n);
            f.b = Buffer<T>(n);
            f.c = Buffer<T>(sk.arrays == 3 ? n : 0);
            return check_stream(sk.kind, n, f);
          });
          if (!fx) return;
          T sink = 0;
          for (auto _ : state) {
            run_stream(fx->a.data(), fx->b.data(), fx->c.data(), n, sk.kind, &sink);
            benchmark::DoNotOptimize(sink);
            benchmark::ClobberMemory();
          }
          const double bytes = static_cast<double>(sk.arrays * n * sizeof(T));
          set_work(state, bytes, sk.kind == Stream::Triad ? 2.0 * n : 0, static_cast<double>(n));
          set_working_set(state, bytes);
          set_peak(state, *fx);
          set_verified(state);
        });
      }
}

template <class T>
void add_cpu_fma(const Config& cfg) {
  for (int threads : cfg.threads) {
    Name name("baseline", "fma_peak");
    name.kv("dtype", dtype_name<T>()).kv("threads", threads);
    add_cpu(name, [threads](benchmark::State& state) {
      omp_set_num_threads(threads);
      const T m = static_cast<T>(0.999), c = static_cast<T>(1e-3), x0 = static_cast<T>(0.5);
      // check: the kernel's chains against the scalar fp64 model of one chain
      double flops = 0;
      const size_t check_steps = 100;
      const double got = cpu::fma_peak<T>(check_steps, m, c, x0, &flops);
      constexpr int W = 64 / sizeof(T);
      double want = 0;
      for (int l = 0; l < W; ++l)
        want += cpu::fma_chain_reference(
            check_steps, m, c, static_cast<double>(x0 + static_cast<T>(l) * static_cast<T>(1e-3)));
      want *= cpu::kFmaChains * threads;
      const double tol = 1e-4 * std::fabs(want) + 1e-12;
      std::string why;
      if (!close_enough(&got, &want, &tol, 1, &why)) return fail(state, why);
      const size_t steps = 20000;
      for (auto _ : state) benchmark::DoNotOptimize(cpu::fma_peak<T>(steps, m, c, x0, &flops));
      set_work(state, 0, flops, 0);
      set_verified(state);
    });
  }
}

void add_cpu_bf16_dot(const Config& cfg) {
  for (int threads : cfg.threads) {
    Name name("baseline", "bf16_dot_peak");
    name.kv("dtype", "bf16").kv("threads", threads);
    add_cpu(name, [threads](benchmark::State& state) {
      if (!cpu::have_avx512_bf16()) return skip(state, "this build or CPU has no AVX512-BF16");
      omp_set_num_threads(threads);
      // 0.5 and 0.25 are exact in bf16, and every partial sum below is exact in fp32
      double flops = 0;
      const size_t check_steps = 64;
      const double got = cpu::bf16_dot_peak(check_steps, 0.5f, 0.25f, &flops);
      const double want = threads * cpu::kFmaChains * 16.0 * check_steps * 2 * 0.125;
      const double tol = 0;
      std::string why;
      if (!close_enough(&got, &want, &tol, 1, &why)) return fail(state, why);
      for (auto _ : state) benchmark::DoNotOptimize(cpu::bf16_dot_peak(20000, 0.5f, 0.25f, &flops));
      set_work(state, 0, flops, 0);
      set_verified(state);
    });
  }
}

#ifdef DTYPEBENCH_HAVE_CUDA
template <class T>
void add_gpu_streams(const Config& cfg) {
  for (const Level& lvl : gpu_levels(cfg)) {
    for (const char* variant : {"gpu_memcpy_d2d", "gpu_copy", "gpu_read", "gpu_triad"}) {
      const std::string v = variant;
      const int arrays = v == "gpu_read" ? 1 : v == "gpu_triad" ? 3 : 2;
      const size_t n = lvl.bytes / (arrays * sizeof(T));
      Name name("baseline", v);
      name.kv("dtype", dtype_name<T>()).kv("level", lvl.name).kv("n", n);
      const bool flush = cfg.flush_l2;
      add_gpu(name, [v, arrays, n, flush, id = new_fixture_id()](benchmark::State& state) {
        struct Fx : Fixture {
          gpu::DeviceBuffer<T> a, b, c;
          gpu::DeviceBuffer<double> sum;  // per-block partial sums
          size_t partials = 0;
          size_t device_peak = 0;
        };
        const T q = static_cast<T>(3);
        auto launch = [&v, n, q](Fx& f) {
          if (v == "gpu_memcpy_d2d") cuda::d2d_copy(f.b.data(), f.a.data(), f.a.bytes());
          if (v == "gpu_copy") cuda::copy(f.a.data(), f.b.data(), n);
          if (v == "gpu_read") f.partials = cuda::read(f.a.data(), n, f.sum.data());
          if (v == "gpu_triad") cuda::triad(f.a.data(), f.b.data(), f.c.data(), q, n);
        };
        Fx* fx = fixture<Fx>(state, id, [&](Fx& f) {
          gpu::device_reset_peak();
          const size_t dev0 = gpu::device_live_bytes();
          Buffer<T> ha(n), hb(n), hc(n);
          fill_uniform(ha.data(), n, 1);
          fill_uniform(hb.data(), n, 2);
          fill_uniform(hc.data(), n, 3);
          f.a = gpu::DeviceBuffer<T>(n);
          f.b = gpu::DeviceBuffer<T>(arrays >= 2 ? n : 0);
          f.c = gpu::DeviceBuffer<T>(arrays == 3 ? n : 0);
          f.sum = gpu::DeviceBuffer<double>(cuda::read_blocks());
          f.device_peak = gpu::device_peak_bytes() - dev0;
          gpu::copy_to_device(f.a.data(), ha.data(), f.a.bytes());
          if (arrays == 3) {
            gpu::copy_to_device(f.b.data(), hb.data(), f.b.bytes());
            gpu::copy_to_device(f.c.data(), hc.data(), f.c.bytes());
          }
          // check once: outputs poisoned (0xff bytes are NaN for every float type)
          if (arrays == 2) gpu::memset_device(f.b.data(), 0xff, f.b.bytes());
          if (arrays == 3) gpu::memset_device(f.a.data(), 0xff, f.a.bytes());
          launch(f);
          gpu::synchronize();
          std::string why;
          if (arrays == 1) {
            double want = 0, abs = 0;
            const double got = cuda::read_total(f.sum.data(), f.partials);
            for (size_t i = 0; i < n; ++i) want += ha[i], abs += std::fabs(double(ha[i]));
            const double tol = 1e-12 * abs + 1e-9;
            close_enough(&got, &want, &tol, 1, &why);
            return why;
          }
          Buffer<T> got(n);
          gpu::copy_to_host(got.data(), arrays == 2 ? f.b.data() : f.a.data(), got.bytes());
          std::vector<double> want(n), tol(n);
          for (size_t i = 0; i < n; ++i) {
            want[i] = arrays == 2 ? double(ha[i]) : double(hb[i]) + 3.0 * double(hc[i]);
            tol[i] = arrays == 2 ? 0 : 4 * unit_roundoff<T>() * (std::fabs(want[i]) + 1);
          }
          close_enough(got.data(), want.data(), tol.data(), n, &why);
          return why;
        });
        if (!fx) return;
        gpu_loop(state, flush, [&] { launch(*fx); });
        const double bytes = static_cast<double>(arrays * n * sizeof(T));
        set_work(state, bytes, v == "gpu_triad" ? 2.0 * n : 0, static_cast<double>(n));
        state.counters["working_set_bytes"] = bytes;
        state.counters["device_peak_bytes"] = static_cast<double>(fx->device_peak);
        set_verified(state);
      });
    }
  }
}

void add_gpu_fma() {
  for (cuda::FmaPrecision p : {cuda::FmaPrecision::F64, cuda::FmaPrecision::F32,
                               cuda::FmaPrecision::F16x2, cuda::FmaPrecision::BF16x2}) {
    Name name("baseline", "gpu_fma_peak");
    name.kv("dtype", cuda::fma_precision_name(p));
    add_gpu(name, [p](benchmark::State& state) {
      const int blocks = 8 * gpu::device().sms;
      const int steps = 4096;
      gpu::DeviceBuffer<float> out(static_cast<size_t>(blocks) * 256);
      // check: x stays 1 with m = 1, c = 0 in every precision, so each thread's sum is 8 chains'
      // worth of x0 (1 + tid*1e-7 rounds to 1 in 16-bit types; allow that spread)
      gpu::memset_device(out.data(), 0xff, out.bytes());
      cuda::fma_peak(p, blocks, 16, 1.0f, 0.0f, out.data());
      std::vector<float> host(out.size());
      gpu::copy_to_host(host.data(), out.data(), out.bytes());
      std::vector<double> want(host.size()), tol(host.size());
      for (size_t t = 0; t < host.size(); ++t) {
        want[t] = 8.0 * (1.0 + t * 1e-7);
        tol[t] = 8.0 * t * 1e-7 + 0.1;
      }
      std::string why;
      if (!close_enough(host.data(), want.data(), tol.data(), host.size(), &why))
        return fail(state, why);
      double flops = 0;
      gpu_loop(state, false,
               [&] { flops = cuda::fma_peak(p, blocks, steps, 0.999f, 1e-3f, out.data()); });
      set_work(state, 0, flops, 0);
      set_verified(state);
    });
  }
}
#endif

void add_baseline(const Config& cfg) {
  add_cpu_streams<double>(cfg);
  add_cpu_streams<float>(cfg);
  add_cpu_fma<double>(cfg);
  add_cpu_fma<float>(cfg);
  add_cpu_bf16_dot(cfg);
  if (!gpu_or_skip("baseline")) return;
#ifdef DTYPEBENCH_HAVE_CUDA
  add_gpu_streams<double>(cfg);
  add_gpu_streams<float>(cfg);
  add_gpu_fma();
#endif
}

const FamilyRegistrar reg{
    {"baseline",
     "bandwidth (read/copy/scale/add/triad) and FMA ceilings, CPU and GPU",
     {"cpu variants: read copy copy_nt scale add triad (dtype f64 f32, level, threads);",
      "              copy_nt: non-temporal stores, no read-for-ownership of the destination",
      "cpu peaks: fma_peak (f64 f32), bf16_dot_peak (AVX512-BF16)",
      "gpu variants: gpu_memcpy_d2d gpu_copy gpu_read gpu_triad (f64 f32; "
      "levels L2 DRAM)",
      "gpu peaks: gpu_fma_peak (f64 f32 f16x2 bf16x2)"},
     add_baseline,
     {}}};

}  // namespace
}  // namespace bench
}  // namespace dtypebench
