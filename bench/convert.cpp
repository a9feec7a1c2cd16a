// Conversion family: time and peak memory of dtype conversion (NumPy's astype and its
// alternatives), 16-bit rounding and range, promotion, byte order, AoS vs SoA; on the GPU, device
// conversions and host->device transfers by dtype and cast placement.
#include "kernels/cpu/convert.hpp"

#include <fcntl.h>
#include <omp.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <vector>

#include "bench/registry.hpp"
#include "dtypebench/check.hpp"
#include "dtypebench/fill.hpp"
#include "kernels/cpu/baseline.hpp"
#ifdef DTYPEBENCH_HAVE_CUDA
#include "kernels/cuda/baseline.hpp"
#include "kernels/cuda/convert.hpp"
#endif

namespace dtypebench {
namespace bench {
namespace {

using cpu::Path;

void set_peak_theory(benchmark::State& state, double peak, double theory) {
  state.counters["peak_bytes"] = peak;
  state.counters["theory_bytes"] = theory;
  state.counters["peak_over_theory"] = theory > 0 ? peak / theory : 0;
}

// --- f64 -> f32 four ways, plus the view and the copy they are judged against ---------------

struct NarrowFx : Fixture {
  Buffer<double> src;
  Buffer<float> dst;
};

// checks dst[i] == float(src[i]) exactly (IEEE round to nearest even)
std::string check_narrow(const double* src, const float* dst, size_t n) {
  size_t bad = 0;
  for (size_t i = 0; i < n; ++i) bad += f32_bits(dst[i]) != f32_bits(static_cast<float>(src[i]));
  return bad ? std::to_string(bad) + " of " + std::to_string(n) + " narrowed values wrong" : "";
}

// A file holding n doubles (the seed-12 values), removed when the fixture goes.
struct SourceFile {
  std::string path;
  int fd = -1;
  SourceFile(const std::string& dir, size_t n) {
    path = dir + "/dtypebench-src-XXXXXX";
    fd = mkstemp(path.data());
    if (fd < 0)
      throw std::runtime_error("cannot create the memory-mapped source file in '" + dir +
                               "': " + std::strerror(errno) + " (choose one with --tmpdir)");
    std::vector<double> block(1 << 16);
    for (size_t i = 0; i < n; i += block.size()) {
      const size_t len = std::min(block.size(), n - i);
      for (size_t k = 0; k < len; ++k) block[k] = uniform_at(12, i + k, -1e3, 1e3);
      const ssize_t want = static_cast<ssize_t>(len * sizeof(double));
      if (::write(fd, block.data(), static_cast<size_t>(want)) != want)
        throw std::runtime_error("cannot write the source file '" + path +
                                 "': " + std::strerror(errno));
    }
  }
  ~SourceFile() {
    if (fd >= 0) ::close(fd);
    if (!path.empty()) ::unlink(path.c_str());
  }
};

// Converts the file chunk by chunk: map a window, convert it, unmap it, so at most one chunk of
// the source is resident (counted in our accounting while mapped).
void convert_chunked(int fd, size_t n, size_t chunk_elems, float* dst) {
  for (size_t i = 0; i < n; i += chunk_elems) {
    const size_t len = std::min(chunk_elems, n - i);
    const size_t bytes = len * sizeof(double);
    void* p = mmap(nullptr, bytes, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd,
                   static_cast<off_t>(i * sizeof(double)));
    if (p == MAP_FAILED) throw std::runtime_error(std::string("mmap: ") + std::strerror(errno));
    mem::track_external(bytes);
    cpu::convert(static_cast<const double*>(p), dst + i, len, Path::Simd);
    munmap(p, bytes);
    mem::untrack_external(bytes);
  }
}

void add_narrow(const Config& cfg) {
  for (const Level& lvl : cfg.levels)
    for (int threads : cfg.threads) {
      const size_t n = lvl.bytes / (sizeof(double) + sizeof(float));
      const double src_b = 8.0 * n, dst_b = 4.0 * n;
      auto name = [&](const char* v) {
        Name nm("convert", v);
        nm.kv("src", "f64").kv("dst", "f32").kv("n", n).kv("level", lvl.name);
        return nm;
      };
      auto work = [n, src_b, dst_b](benchmark::State& state) {
        set_work(state, src_b + dst_b, 0, static_cast<double>(n));
        set_working_set(state, src_b + dst_b);
        set_verified(state);
      };

      // astype: a fresh destination every time (allocation and first-touch page faults included)
      add_cpu(Name(name("astype_alloc")).kv("threads", threads), [=, id = new_fixture_id()](
                                                                     benchmark::State& state) {
        omp_set_num_threads(threads);
        NarrowFx* fx = fixture<NarrowFx>(state, id, [&](NarrowFx& f) {
          f.src = Buffer<double>(n);
          fill_uniform(f.src.data(), n, 12, -1e3, 1e3);
          Buffer<float> d(n);
          poison(d.data(), n);
          cpu::convert(f.src.data(), d.data(), n, Path::Simd);
          return check_narrow(f.src.data(), d.data(), n);
        });
        if (!fx) return;
        PeakScope scope;
        for (auto _ : state) {
          Buffer<float> d(n, false);  // plain pages: see mem::allocate
          cpu::convert(fx->src.data(), d.data(), n, Path::Simd);
          benchmark::DoNotOptimize(d.data());
        }
        work(state);
        set_peak_theory(state, src_b + static_cast<double>(scope.tracked_peak()), src_b + dst_b);
        state.counters["peak_rss_bytes"] = src_b + static_cast<double>(scope.rss_peak());
      });

      // out= / copyto: the destination exists already
      add_cpu(Name(name("astype_prealloc")).kv("threads", threads),
              [=, id = new_fixture_id()](benchmark::State& state) {
                omp_set_num_threads(threads);
                NarrowFx* fx = fixture<NarrowFx>(state, id, [&](NarrowFx& f) {
                  f.src = Buffer<double>(n);
                  f.dst = Buffer<float>(n);
                  fill_uniform(f.src.data(), n, 12, -1e3, 1e3);
                  poison(f.dst.data(), n);
                  cpu::convert(f.src.data(), f.dst.data(), n, Path::Simd);
                  return check_narrow(f.src.data(), f.dst.data(), n);
                });
                if (!fx) return;
                for (auto _ : state) {
                  cpu::convert(fx->src.data(), fx->dst.data(), n, Path::Simd);
                  benchmark::ClobberMemory();
                }
                work(state);
                set_peak_theory(state, static_cast<double>(fx->peak), src_b + dst_b);
                state.counters["peak_rss_bytes"] = static_cast<double>(fx->peak_rss);
              });

      // chunked from a memory-mapped file: peak is the destination plus one chunk
      for (size_t chunk_mib : cfg.chunk_mib) {
        const size_t chunk_elems = (chunk_mib << 20) / sizeof(double);
        const std::string dir = cfg.tmpdir;
        add_cpu(Name(name("astype_chunked")).kv("chunk_mib", chunk_mib).kv("threads", threads),
                [=, id = new_fixture_id()](benchmark::State& state) {
                  if (chunk_elems > n)
                    return skip(state, "a chunk of " + std::to_string(chunk_mib) +
                                           " MiB is larger than the array (" +
                                           mem::format_bytes(src_b) + ")");
                  omp_set_num_threads(threads);
                  struct Fx : Fixture {
                    std::unique_ptr<SourceFile> file;
                    Buffer<float> dst;
                  };
                  Fx* fx = fixture<Fx>(state, id, [&](Fx& f) {
                    f.file = std::make_unique<SourceFile>(dir, n);
                    f.dst = Buffer<float>(n);
                    poison(f.dst.data(), n);
                    convert_chunked(f.file->fd, n, chunk_elems, f.dst.data());
                    size_t bad = 0;
                    for (size_t i = 0; i < n; ++i)
                      bad += f.dst[i] != static_cast<float>(uniform_at(12, i, -1e3, 1e3));
                    return bad ? std::to_string(bad) + " chunked values wrong" : std::string();
                  });
                  if (!fx) return;
                  PeakScope scope;
                  for (auto _ : state)
                    convert_chunked(fx->file->fd, n, chunk_elems, fx->dst.data());
                  work(state);
                  const double chunk_b = 8.0 * static_cast<double>(chunk_elems);
                  set_peak_theory(state, dst_b + static_cast<double>(scope.tracked_peak()),
                                  dst_b + chunk_b);
                  state.counters["peak_rss_bytes"] = dst_b + static_cast<double>(scope.rss_peak());
                });
      }

      // in place: floats written over the doubles; one thread by nature, so only threads:1
      if (threads == cfg.threads.front())
        add_cpu(Name(name("astype_inplace")).kv("threads", 1),
                [=, id = new_fixture_id()](benchmark::State& state) {
                  omp_set_num_threads(1);
                  NarrowFx* fx = fixture<NarrowFx>(state, id, [&](NarrowFx& f) {
                    f.src = Buffer<double>(n);
                    fill_uniform(f.src.data(), n, 12, -1e3, 1e3);
                    std::vector<float> want(n);
                    for (size_t i = 0; i < n; ++i) want[i] = static_cast<float>(f.src[i]);
                    const float* got = cpu::narrow_in_place(f.src.data(), n);
                    return std::memcmp(got, want.data(), n * 4) ? "in-place values wrong" : "";
                  });
                  if (!fx) return;
                  PeakScope scope;
                  for (auto _ : state) {
                    // the narrowing destroys its input: refill it outside the timed region
                    state.PauseTiming();
                    fill_uniform(fx->src.data(), n, 12, -1e3, 1e3);
                    state.ResumeTiming();
                    benchmark::DoNotOptimize(cpu::narrow_in_place(fx->src.data(), n));
                  }
                  work(state);
                  set_peak_theory(state, src_b + static_cast<double>(scope.tracked_peak()), src_b);
                  state.counters["peak_rss_bytes"] = src_b + static_cast<double>(scope.rss_peak());
                });

      // view: reinterpret the doubles as twice as many floats; no bytes move, none are allocated
      if (threads == cfg.threads.front())
        add_cpu(Name("convert", "view")
                    .kv("src", "f64")
                    .kv("dst", "f32")
                    .kv("n", n)
                    .kv("level", lvl.name)
                    .kv("threads", 1),
                [=, id = new_fixture_id()](benchmark::State& state) {
                  NarrowFx* fx = fixture<NarrowFx>(state, id, [&](NarrowFx& f) {
                    f.src = Buffer<double>(n);
                    fill_uniform(f.src.data(), n, 12, -1e3, 1e3);
                    return std::string();
                  });
                  if (!fx) return;
                  PeakScope scope;
                  size_t count = 0;
                  for (auto _ : state) {
                    const float* v = reinterpret_cast<const float*>(fx->src.data());
                    count = fx->src.bytes() / sizeof(float);
                    benchmark::DoNotOptimize(v);
                    benchmark::DoNotOptimize(count);
                  }
                  if (count != 2 * n) return fail(state, "the view does not hold 2n floats");
                  state.counters["view_elements"] = static_cast<double>(count);
                  set_peak_theory(state, src_b + static_cast<double>(scope.tracked_peak()), src_b);
                  set_verified(state);
                });

      // the copy of the same bytes, the ceiling the conversions are judged against
      add_cpu(Name("convert", "copy")
                  .kv("dtype", "f32")
                  .kv("n", n * 3 / 2)
                  .kv("level", lvl.name)
                  .kv("threads", threads),
              [=, id = new_fixture_id()](benchmark::State& state) {
                omp_set_num_threads(threads);
                const size_t m = n * 3 / 2;  // 2 * 4m bytes = the 12n bytes a narrowing moves
                struct Fx : Fixture {
                  Buffer<float> a, b;
                };
                Fx* fx = fixture<Fx>(state, id, [&](Fx& f) {
                  f.a = Buffer<float>(m);
                  f.b = Buffer<float>(m);
                  fill_uniform(f.a.data(), m, 5);
                  poison(f.b.data(), m);
                  cpu::stream_copy(f.a.data(), f.b.data(), m);
                  return std::memcmp(f.a.data(), f.b.data(), m * 4) ? "copy wrong" : "";
                });
                if (!fx) return;
                for (auto _ : state) {
                  cpu::stream_copy(fx->a.data(), fx->b.data(), m);
                  benchmark::ClobberMemory();
                }
                set_work(state, 8.0 * m, 0, static_cast<double>(m));
                set_working_set(state, 8.0 * m);
                set_peak(state, *fx);
                set_verified(state);
              });
    }
}

// --- casts, each with its SIMD and portable path ---------------------------------------------

template <class S, class D>
void fill_source(S* s, size_t n) {
  if constexpr (std::is_same_v<S, uint8_t>) {
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; ++i) s[i] = static_cast<uint8_t>(splitmix64(i) >> 56);
  } else if constexpr (std::is_same_v<D, int32_t>) {
    fill_uniform(s, n, 31, -3e9, 3e9);  // a few out of range: the INT32_MIN rule runs too
  } else {
    fill_uniform(s, n, 31, -7e4, 7e4);  // some beyond f16's 65504
  }
}

template <class D>
uint64_t bits_of(D v) {
  uint64_t b = 0;
  std::memcpy(&b, &v, sizeof(D));
  return b;
}

// the scalar rule for each pair, as bits
template <class S, class D>
uint64_t rule(S s) {
  if constexpr (std::is_same_v<D, half>) return f32_to_f16_bits_portable(s);
  if constexpr (std::is_same_v<D, bfloat16>) return f32_to_bf16_bits(s);
  if constexpr (std::is_same_v<S, half>) return bits_of(f16_bits_to_f32_portable(s.bits));
  if constexpr (std::is_same_v<S, bfloat16>) return bits_of(bf16_bits_to_f32(s.bits));
  if constexpr (std::is_same_v<D, int32_t>) return bits_of(cpu::f64_to_i32(s));
  if constexpr (std::is_same_v<S, uint8_t>) return bits_of(static_cast<float>(s) / 255.0f);
  if constexpr (std::is_same_v<S, double> && std::is_same_v<D, float>)
    return bits_of(static_cast<float>(s));
  return 0;
}

template <class S, class D>
void add_cast(const Config& cfg, const char* src_name, const char* dst_name) {
  for (Path p : {Path::Simd, Path::Portable})
    for (const Level& lvl : cfg.levels)
      for (int threads : cfg.threads) {
        const size_t n = lvl.bytes / (sizeof(S) + sizeof(D));
        Name name("convert", "cast");
        name.kv("src", src_name).kv("dst", dst_name).kv("path", cpu::path_name(p)).kv("n", n);
        name.kv("level", lvl.name).kv("threads", threads);
        add_cpu(name, [=, id = new_fixture_id()](benchmark::State& state) {
          omp_set_num_threads(threads);
          struct Fx : Fixture {
            Buffer<S> s;
            Buffer<D> d;
          };
          Fx* fx = fixture<Fx>(state, id, [&](Fx& f) {
            f.s = Buffer<S>(n);
            f.d = Buffer<D>(n);
            fill_source<S, D>(f.s.data(), n);
            std::memset(static_cast<void*>(f.d.data()), 0xff, f.d.bytes());
            cpu::convert(f.s.data(), f.d.data(), n, p);
            size_t bad = 0;
            for (size_t i = 0; i < n; ++i) bad += bits_of(f.d[i]) != rule<S, D>(f.s[i]);
            return bad ? std::to_string(bad) + " of " + std::to_string(n) +
                             " values differ from "
                             "the scalar rule"
                       : std::string();
          });
          if (!fx) return;
          for (auto _ : state) {
            cpu::convert(fx->s.data(), fx->d.data(), n, p);
            benchmark::ClobberMemory();
          }
          const double bytes = static_cast<double>(n * (sizeof(S) + sizeof(D)));
          set_work(state, bytes, 0, static_cast<double>(n));
          set_working_set(state, bytes);
          set_peak(state, *fx);
          set_verified(state);
        });
      }
}

// --- f16 range: check, then cast, vs one fused pass ---------------------------------------

void add_f16_range(const Config& cfg) {
  for (const char* method : {"check_then_cast", "fused"})
    for (const Level& lvl : cfg.levels)
      for (int threads : cfg.threads) {
        const std::string m = method;
        const size_t n = lvl.bytes / 6;
        Name name("convert", "f16_range");
        name.kv("method", m).kv("src", "f32").kv("dst", "f16").kv("n", n).kv("level", lvl.name);
        name.kv("threads", threads);
        add_cpu(name, [=, id = new_fixture_id()](benchmark::State& state) {
          omp_set_num_threads(threads);
          struct Fx : Fixture {
            Buffer<float> s;
            Buffer<half> d;
            cpu::F16Range want;
          };
          auto run = [&m, n](Fx& f) {
            if (m == "fused") return cpu::convert_counting(f.s.data(), f.d.data(), n);
            const cpu::F16Range r = cpu::f16_range_check(f.s.data(), n);
            cpu::convert(f.s.data(), f.d.data(), n, Path::Simd);
            return r;
          };
          Fx* fx = fixture<Fx>(state, id, [&](Fx& f) {
            f.s = Buffer<float>(n);
            f.d = Buffer<half>(n);
            fill_uniform(f.s.data(), n, 41, -7e4, 7e4);
            for (size_t i = 0; i < n; i += 97) f.s[i] *= 1e-12f;  // some underflow, some subnormal
            for (size_t i = 0; i < n; ++i) {
              const uint16_t h = f32_to_f16_bits_portable(f.s[i]) & 0x7fff;
              f.want.overflow += h == 0x7c00;
              f.want.underflow += h == 0 && f.s[i] != 0.0f;
              f.want.subnormal += h != 0 && h < 0x400;
            }
            const cpu::F16Range got = run(f);
            if (got.overflow != f.want.overflow || got.underflow != f.want.underflow ||
                got.subnormal != f.want.subnormal)
              return std::string("range counts differ from the scalar rule");
            return std::string();
          });
          if (!fx) return;
          cpu::F16Range r;
          for (auto _ : state) {
            r = run(*fx);
            benchmark::DoNotOptimize(r);
          }
          set_work(state, 6.0 * n, 0, static_cast<double>(n));
          set_working_set(state, 6.0 * n);
          state.counters["overflow_fraction"] = static_cast<double>(r.overflow) / n;
          state.counters["underflow_fraction"] = static_cast<double>(r.underflow) / n;
          state.counters["subnormal_fraction"] = static_cast<double>(r.subnormal) / n;
          set_peak(state, *fx);
          set_verified(state);
        });
      }
}

// --- promotion: int32 * float32 + float32 ------------------------------------------------

void add_promote(const Config& cfg) {
  for (const char* method : {"f64_temporaries", "f32_temporaries", "fused"})
    for (const Level& lvl : cfg.levels)
      for (int threads : cfg.threads) {
        const std::string m = method;
        const size_t n = lvl.bytes / 16;  // three 4-byte inputs and a 4-byte result
        Name name("convert", "promote");
        name.kv("method", m).kv("expr", "i32*f32+f32").kv("n", n).kv("level", lvl.name);
        name.kv("threads", threads);
        add_cpu(name, [=, id = new_fixture_id()](benchmark::State& state) {
          omp_set_num_threads(threads);
          struct Fx : Fixture {
            Buffer<int32_t> a;
            Buffer<float> x, y;
            double max_rel_err = 0;
          };
          // the expression allocates its result, as NumPy does: f64 (8n) or f32 (4n) bytes
          auto eval = [&m, n](Fx& f, double* err_out) {
            if (m == "f64_temporaries") {
              Buffer<double> out(n, false);  // allocated in the timed loop: plain pages
              cpu::axpy_promoted_f64(f.a.data(), f.x.data(), f.y.data(), out.data(), n);
              if (err_out) *err_out = out[n / 2];
              return out.bytes();
            }
            Buffer<float> out(n, false);
            if (m == "fused")
              cpu::axpy_fused_f32(f.a.data(), f.x.data(), f.y.data(), out.data(), n);
            else
              cpu::axpy_f32_temporaries(f.a.data(), f.x.data(), f.y.data(), out.data(), n);
            if (err_out) *err_out = out[n / 2];
            return out.bytes();
          };
          Fx* fx = fixture<Fx>(state, id, [&](Fx& f) {
            f.a = Buffer<int32_t>(n);
            f.x = Buffer<float>(n);
            f.y = Buffer<float>(n);
#pragma omp parallel for schedule(static)
            for (size_t i = 0; i < n; ++i)
              f.a[i] = static_cast<int32_t>(uniform_at(51, i, -2e9, 2e9));
            fill_uniform(f.x.data(), n, 52);
            fill_uniform(f.y.data(), n, 53);
            // error of every element against an exact (long double) reference
            std::vector<double> got(n);
            if (m == "f64_temporaries") {
              Buffer<double> out(n);
              poison(out.data(), n);
              cpu::axpy_promoted_f64(f.a.data(), f.x.data(), f.y.data(), out.data(), n);
              for (size_t i = 0; i < n; ++i) got[i] = out[i];
            } else {
              Buffer<float> out(n);
              poison(out.data(), n);
              if (m == "fused")
                cpu::axpy_fused_f32(f.a.data(), f.x.data(), f.y.data(), out.data(), n);
              else
                cpu::axpy_f32_temporaries(f.a.data(), f.x.data(), f.y.data(), out.data(), n);
              for (size_t i = 0; i < n; ++i) got[i] = out[i];
            }
            const double u = m == "f64_temporaries" ? 0x1p-53 : 0x1p-24;
            size_t bad = 0;
            for (size_t i = 0; i < n; ++i) {
              const long double want = static_cast<long double>(f.a[i]) * f.x[i] + f.y[i];
              const double mag =
                  std::fabs(static_cast<double>(f.a[i]) * f.x[i]) + std::fabs(f.y[i]);
              const double err = std::fabs(static_cast<double>(got[i] - want));
              bad += !(err <= 3 * u * mag);
              if (mag > 0) f.max_rel_err = std::max(f.max_rel_err, err / mag);
            }
            return bad ? std::to_string(bad) + " results beyond 3 ulps of the exact value"
                       : std::string();
          });
          if (!fx) return;
          PeakScope scope;
          size_t result_bytes = 0;
          for (auto _ : state) {
            double probe = 0;
            result_bytes = eval(*fx, &probe);
            benchmark::DoNotOptimize(probe);
          }
          set_work(state, static_cast<double>(12 * n + result_bytes), 2.0 * n,
                   static_cast<double>(n));
          set_working_set(state, static_cast<double>(12 * n + result_bytes));
          state.counters["result_bytes"] = static_cast<double>(result_bytes);
          state.counters["peak_bytes"] = static_cast<double>(12 * n + scope.tracked_peak());
          state.counters["max_rel_err"] = fx->max_rel_err;
          set_verified(state);
        });
      }
}

// --- byte order ---------------------------------------------------------------------------

void add_byteswap(const Config& cfg) {
  for (int width : {2, 4, 8})
    for (Path p : {Path::Simd, Path::Portable})
      for (const Level& lvl : cfg.levels)
        for (int threads : cfg.threads) {
          const size_t n = lvl.bytes / (2 * width);
          Name name("convert", "byteswap");
          name.kv("width", width).kv("path", cpu::path_name(p)).kv("n", n).kv("level", lvl.name);
          name.kv("threads", threads);
          add_cpu(name, [=, id = new_fixture_id()](benchmark::State& state) {
            omp_set_num_threads(threads);
            struct Fx : Fixture {
              Buffer<uint8_t> s, d;
            };
            Fx* fx = fixture<Fx>(state, id, [&](Fx& f) {
              f.s = Buffer<uint8_t>(n * width);
              f.d = Buffer<uint8_t>(n * width);
#pragma omp parallel for schedule(static)
              for (size_t i = 0; i < f.s.size(); ++i) f.s[i] = static_cast<uint8_t>(splitmix64(i));
              std::memset(f.d.data(), 0, f.d.size());
              cpu::byteswap(f.s.data(), f.d.data(), n, width, p);
              size_t bad = 0;
              for (size_t e = 0; e < n; ++e)
                for (int b = 0; b < width; ++b)
                  bad += f.d[e * width + b] != f.s[e * width + width - 1 - b];
              return bad ? std::to_string(bad) + " bytes misplaced" : std::string();
            });
            if (!fx) return;
            for (auto _ : state) {
              cpu::byteswap(fx->s.data(), fx->d.data(), n, width, p);
              benchmark::ClobberMemory();
            }
            set_work(state, 2.0 * n * width, 0, static_cast<double>(n));
            set_working_set(state, 2.0 * n * width);
            set_peak(state, *fx);
            set_verified(state);
          });
        }
}

// --- array of structs vs struct of arrays ------------------------------------------------

void add_aos_soa(const Config& cfg) {
  for (const char* layout : {"aos", "soa"})
    for (const Level& lvl : cfg.levels)
      for (int threads : cfg.threads) {
        const bool aos = std::string(layout) == "aos";
        const size_t n = lvl.bytes / (aos ? sizeof(cpu::Record) : sizeof(float));
        Name name("convert", aos ? "aos_field" : "soa_field");
        name.kv("field", "f32").kv("n", n).kv("level", lvl.name).kv("threads", threads);
        add_cpu(name, [=, id = new_fixture_id()](benchmark::State& state) {
          omp_set_num_threads(threads);
          struct Fx : Fixture {
            Buffer<cpu::Record> r;
            Buffer<float> f;
          };
          Fx* fx = fixture<Fx>(state, id, [&](Fx& f) {
            if (aos)
              f.r = Buffer<cpu::Record>(n);
            else
              f.f = Buffer<float>(n);
            double want = 0, abs = 0;
            for (size_t i = 0; i < n; ++i) {
              const float v = static_cast<float>(uniform_at(61, i));
              if (aos)
                f.r[i] = {static_cast<double>(i), v, static_cast<int32_t>(i), 7};
              else
                f.f[i] = v;
              want += v;
              abs += std::fabs(v);
            }
            const double got =
                aos ? cpu::sum_field_aos(f.r.data(), n) : cpu::sum_soa(f.f.data(), n);
            const double tol = 4.0 * n * 0x1p-53 * abs;
            std::string why;
            close_enough(&got, &want, &tol, 1, &why);
            return why;
          });
          if (!fx) return;
          for (auto _ : state)
            benchmark::DoNotOptimize(aos ? cpu::sum_field_aos(fx->r.data(), n)
                                         : cpu::sum_soa(fx->f.data(), n));
          // bytes: the 4 useful bytes per value; bytes_fetched: what the layout makes the CPU read
          set_work(state, 4.0 * n, static_cast<double>(n), static_cast<double>(n));
          state.counters["bytes_fetched"] = benchmark::Counter(
              (aos ? sizeof(cpu::Record) : 4.0) * n, benchmark::Counter::kIsIterationInvariantRate);
          set_working_set(state, (aos ? sizeof(cpu::Record) : 4.0) * n);
          set_peak(state, *fx);
          set_verified(state);
        });
      }
}

// --- paired comparisons: the conversions against a copy of the same bytes, alternating -------

template <class S, class D>
void add_pair(const Config& cfg, const char* subject, const char* src_name, const char* dst_name) {
  for (const Level& lvl : pair_levels(cfg))
    for (int threads : cfg.threads) {
      const size_t n = lvl.bytes / (sizeof(S) + sizeof(D));
      const size_t bytes = n * (sizeof(S) + sizeof(D));
      const size_t m = bytes / 8;  // floats copied: 2 * 4m bytes = the conversion's bytes
      Name name("convert", "pair");
      name.kv("subject", subject).kv("ref", "copy").kv("src", src_name).kv("dst", dst_name);
      name.kv("n", n).kv("level", lvl.name).kv("threads", threads);
      add_cpu_pair(cfg, name, [=, id = new_fixture_id()](benchmark::State& state) {
        omp_set_num_threads(threads);
        struct Fx : Fixture {
          Buffer<S> s;
          Buffer<D> d;
          Buffer<float> ca, cb;
        };
        Fx* fx = fixture<Fx>(state, id, [&](Fx& f) {
          f.s = Buffer<S>(n);
          f.d = Buffer<D>(n);
          f.ca = Buffer<float>(m);
          f.cb = Buffer<float>(m);
          fill_source<S, D>(f.s.data(), n);
          fill_uniform(f.ca.data(), m, 9);
          std::memset(static_cast<void*>(f.d.data()), 0xff, f.d.bytes());
          cpu::convert(f.s.data(), f.d.data(), n, Path::Simd);
          cpu::stream_copy(f.ca.data(), f.cb.data(), m);
          size_t bad = std::memcmp(f.ca.data(), f.cb.data(), m * 4) != 0;
          for (size_t i = 0; i < n; ++i) bad += bits_of(f.d[i]) != rule<S, D>(f.s[i]);
          return bad ? std::to_string(bad) + " values wrong" : std::string();
        });
        if (!fx) return;
        pair_loop(
            state, 8.0 * m, static_cast<double>(bytes),
            [&] { cpu::stream_copy(fx->ca.data(), fx->cb.data(), m); },
            [&] { cpu::convert(fx->s.data(), fx->d.data(), n, Path::Simd); });
        set_working_set(state, static_cast<double>(bytes));
        set_peak(state, *fx);
        set_verified(state);
      });
    }
}

#ifdef DTYPEBENCH_HAVE_CUDA
// --- GPU: device conversions against the device copy, transfers by dtype and cast placement --

template <class S, class D>
void add_gpu_cast(const Config& cfg, const char* src_name, const char* dst_name) {
  for (const Level& lvl : gpu_levels(cfg)) {
    const size_t n = lvl.bytes / (sizeof(S) + sizeof(D));
    Name name("convert", "gpu_cast");
    name.kv("src", src_name).kv("dst", dst_name).kv("n", n).kv("level", lvl.name);
    add_gpu(name, [=, id = new_fixture_id()](benchmark::State& state) {
      struct Fx : Fixture {
        gpu::DeviceBuffer<S> s;
        gpu::DeviceBuffer<D> d;
        size_t device_peak = 0;
      };
      Fx* fx = fixture<Fx>(state, id, [&](Fx& f) {
        gpu::device_reset_peak();
        const size_t dev0 = gpu::device_live_bytes();
        Buffer<S> hs(n);
        Buffer<D> hd(n);
        if constexpr (std::is_same_v<S, half>) {
          for (size_t i = 0; i < n; ++i) hs[i].bits = static_cast<uint16_t>(splitmix64(i));
        } else {
          fill_uniform(hs.data(), n, 71, -7e4, 7e4);
        }
        f.s = gpu::DeviceBuffer<S>(n);
        f.d = gpu::DeviceBuffer<D>(n);
        f.device_peak = gpu::device_peak_bytes() - dev0;
        gpu::copy_to_device(f.s.data(), hs.data(), f.s.bytes());
        gpu::memset_device(f.d.data(), 0xff, f.d.bytes());
        cuda::convert(f.s.data(), f.d.data(), n);
        gpu::copy_to_host(hd.data(), f.d.data(), f.d.bytes());
        size_t bad = 0;
        for (size_t i = 0; i < n; ++i) {
          const uint64_t want = rule<S, D>(hs[i]), got = bits_of(hd[i]);
          // NaN payloads may differ between the device's and the host's rules; NaN must stay NaN
          const bool nan = std::isnan(static_cast<double>(load_acc(hs[i])));
          bad += nan ? !std::isnan(static_cast<double>(load_acc(hd[i]))) : got != want;
        }
        return bad ? std::to_string(bad) + " of " + std::to_string(n) + " values wrong"
                   : std::string();
      });
      if (!fx) return;
      gpu_loop(state, cfg.flush_l2, [&] { cuda::convert(fx->s.data(), fx->d.data(), n); });
      const double bytes = static_cast<double>(n * (sizeof(S) + sizeof(D)));
      set_work(state, bytes, 0, static_cast<double>(n));
      state.counters["working_set_bytes"] = bytes;
      state.counters["device_peak_bytes"] = static_cast<double>(fx->device_peak);
      set_verified(state);
    });
  }
  // the copy engine moving the same bytes, once per level (registered with the first cast)
}

void add_gpu_copy(const Config& cfg) {
  for (const Level& lvl : gpu_levels(cfg)) {
    const size_t bytes = lvl.bytes / 2;
    Name name("convert", "gpu_memcpy_d2d");
    name.kv("bytes", bytes).kv("level", lvl.name);
    add_gpu(name, [=, id = new_fixture_id()](benchmark::State& state) {
      struct Fx : Fixture {
        gpu::DeviceBuffer<char> a, b;
      };
      Fx* fx = fixture<Fx>(state, id, [&](Fx& f) {
        f.a = gpu::DeviceBuffer<char>(bytes);
        f.b = gpu::DeviceBuffer<char>(bytes);
        gpu::memset_device(f.a.data(), 0x5a, bytes);
        cuda::d2d_copy(f.b.data(), f.a.data(), bytes);
        std::vector<char> h(bytes);
        gpu::copy_to_host(h.data(), f.b.data(), bytes);
        for (char c : h)
          if (c != 0x5a) return std::string("device copy wrong");
        return std::string();
      });
      if (!fx) return;
      gpu_loop(state, cfg.flush_l2, [&] { cuda::d2d_copy(fx->b.data(), fx->a.data(), bytes); });
      set_work(state, 2.0 * bytes, 0, 0);
      state.counters["working_set_bytes"] = 2.0 * bytes;
      set_verified(state);
    });
  }
}

// Host memory for the transfers: pageable (ours) or pinned (cudaHostAlloc).
struct HostBuf {
  void* p = nullptr;
  bool pinned = false;
  Buffer<char> pageable;
  HostBuf(size_t bytes, bool pin) : pinned(pin) {
    if (pin)
      p = cuda::pinned_allocate(bytes);
    else
      pageable = Buffer<char>(bytes), p = pageable.data();
  }
  ~HostBuf() {
    if (pinned) cuda::pinned_release(p);
  }
  HostBuf(const HostBuf&) = delete;
  HostBuf& operator=(const HostBuf&) = delete;
};

template <class T>
void add_h2d(const char* dtype, size_t n) {
  for (bool pinned : {false, true}) {
    Name name("convert", "h2d");
    name.kv("dtype", dtype).kv("memory", pinned ? "pinned" : "pageable").kv("n", n);
    add_gpu(name, [=, id = new_fixture_id()](benchmark::State& state) {
      struct Fx : Fixture {
        std::unique_ptr<HostBuf> h;
        gpu::DeviceBuffer<T> d;
      };
      Fx* fx = fixture<Fx>(state, id, [&](Fx& f) {
        f.h = std::make_unique<HostBuf>(n * sizeof(T), pinned);
        std::memset(f.h->p, 0x3c, n * sizeof(T));
        f.d = gpu::DeviceBuffer<T>(n);
        cuda::h2d(f.d.data(), f.h->p, n * sizeof(T));
        std::vector<char> back(n * sizeof(T));
        gpu::copy_to_host(back.data(), f.d.data(), back.size());
        return std::memcmp(back.data(), f.h->p, back.size()) ? "transfer wrong" : "";
      });
      if (!fx) return;
      gpu_loop(state, false, [&] { cuda::h2d(fx->d.data(), fx->h->p, n * sizeof(T)); });
      set_work(state, static_cast<double>(n * sizeof(T)), 0, static_cast<double>(n));
      set_verified(state);
    });
  }
}

// f64 on the host to f32 on the device, end to end: cast on the host then copy 4n bytes; copy 8n
// bytes then cast on the device; or one kernel reading pinned host memory (zero-copy).
void add_cast_placement(size_t n) {
  for (const char* placement : {"host_cast_then_copy", "copy_then_device_cast", "zero_copy"})
    for (bool pinned : {false, true}) {
      const std::string pl = placement;
      Name name("convert", "h2d_cast");
      name.kv("placement", pl).kv("memory", pinned ? "pinned" : "pageable").kv("src", "f64");
      name.kv("dst", "f32").kv("n", n);
      add_gpu(name, [=, id = new_fixture_id()](benchmark::State& state) {
        if (pl == "zero_copy" && !pinned)
          return skip(state, "zero-copy reads need pinned (mapped) host memory");
        struct Fx : Fixture {
          std::unique_ptr<HostBuf> src, narrow;
          gpu::DeviceBuffer<double> d64;
          gpu::DeviceBuffer<float> d32;
          size_t device_peak = 0;
        };
        auto run = [&pl, n](Fx& f) {
          const double* src = static_cast<const double*>(f.src->p);
          if (pl == "host_cast_then_copy") {
            cpu::convert(src, static_cast<float*>(f.narrow->p), n, Path::Simd);
            cuda::h2d(f.d32.data(), f.narrow->p, n * 4);
          } else if (pl == "copy_then_device_cast") {
            cuda::h2d(f.d64.data(), src, n * 8);
            cuda::convert(f.d64.data(), f.d32.data(), n);
          } else {
            cuda::convert_from_host(src, f.d32.data(), n);
          }
        };
        Fx* fx = fixture<Fx>(state, id, [&](Fx& f) {
          gpu::device_reset_peak();
          const size_t dev0 = gpu::device_live_bytes();
          f.src = std::make_unique<HostBuf>(n * 8, pinned);
          fill_uniform(static_cast<double*>(f.src->p), n, 81, -1e3, 1e3);
          if (pl == "host_cast_then_copy") f.narrow = std::make_unique<HostBuf>(n * 4, pinned);
          if (pl == "copy_then_device_cast") f.d64 = gpu::DeviceBuffer<double>(n);
          f.d32 = gpu::DeviceBuffer<float>(n);
          f.device_peak = gpu::device_peak_bytes() - dev0;
          gpu::memset_device(f.d32.data(), 0xff, f.d32.bytes());
          run(f);
          std::vector<float> got(n);
          gpu::copy_to_host(got.data(), f.d32.data(), n * 4);
          const double* src = static_cast<const double*>(f.src->p);
          size_t bad = 0;
          for (size_t i = 0; i < n; ++i) bad += got[i] != static_cast<float>(src[i]);
          return bad ? std::to_string(bad) + " values wrong" : std::string();
        });
        if (!fx) return;
        // wall time of the whole placement (host work included), closed by a device sync
        for (auto _ : state) {
          const auto t0 = std::chrono::steady_clock::now();
          run(*fx);
          gpu::synchronize();
          state.SetIterationTime(
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
        }
        // bytes: input bytes, so 1 / rate is the end-to-end time per input byte
        set_work(state, 8.0 * n, 0, static_cast<double>(n));
        state.counters["device_peak_bytes"] = static_cast<double>(fx->device_peak);
        set_verified(state);
      });
    }
}
#endif

void add_convert(const Config& cfg) {
  add_narrow(cfg);
  add_cast<double, float>(cfg, "f64", "f32");
  add_cast<float, half>(cfg, "f32", "f16");
  add_cast<float, bfloat16>(cfg, "f32", "bf16");
  add_cast<half, float>(cfg, "f16", "f32");
  add_cast<bfloat16, float>(cfg, "bf16", "f32");
  add_cast<double, int32_t>(cfg, "f64", "i32");
  add_cast<uint8_t, float>(cfg, "u8", "f32");
  add_f16_range(cfg);
  add_promote(cfg);
  add_byteswap(cfg);
  add_aos_soa(cfg);
  add_pair<double, float>(cfg, "astype_prealloc", "f64", "f32");
  add_pair<float, half>(cfg, "cast_simd", "f32", "f16");
  add_pair<float, bfloat16>(cfg, "cast_simd", "f32", "bf16");
  if (!gpu_or_skip("convert")) return;
#ifdef DTYPEBENCH_HAVE_CUDA
  add_gpu_copy(cfg);
  add_gpu_cast<double, float>(cfg, "f64", "f32");
  add_gpu_cast<float, half>(cfg, "f32", "f16");
  add_gpu_cast<float, bfloat16>(cfg, "f32", "bf16");
  add_gpu_cast<half, float>(cfg, "f16", "f32");
  const size_t n = size_t(64) << 20;  // 64 Mi elements: 512 MiB of f64, 128 MiB of f16
  add_h2d<double>("f64", n);
  add_h2d<float>("f32", n);
  add_h2d<half>("f16", n);
  add_cast_placement(n);
#endif
}

// Per (level, threads): the conversions as a fraction of the copy bandwidth in the same run.
std::vector<Derived> derive_convert(const Results& results) {
  std::map<std::string, std::map<std::string, double>> rate;  // level/threads -> op -> bytes/s
  for (const auto& [name, r] : results) {
    auto kv = parse_name(name);
    if (kv["family"] != "convert" || !r.counters.count("bytes")) continue;
    const std::string where = "level:" + kv["level"] + "/threads:" +
                              (kv.count("threads") ? kv["threads"] : std::string("gpu"));
    std::string op = kv["variant"];
    if (kv.count("method")) op += "_" + kv["method"];
    if (kv.count("placement"))
      op += "_" + kv["placement"] + "_" + kv["memory"];
    else if (kv.count("memory"))
      op += "_" + kv["dtype"] + "_" + kv["memory"];
    if (kv.count("src")) op += "_" + kv["src"] + "_" + kv["dst"];
    if (kv.count("width")) op += "_w" + kv["width"];
    if (kv.count("path")) op += "_" + kv["path"];
    if (kv.count("chunk_mib")) op += "_" + kv["chunk_mib"] + "mib";
    rate[where][op] = r.counters.at("bytes");
  }
  std::vector<Derived> out;
  for (auto& [where, ops] : rate) {
    const char* copy = ops.count("copy")             ? "copy"
                       : ops.count("gpu_memcpy_d2d") ? "gpu_memcpy_d2d"
                                                     : nullptr;
    if (!copy || ops[copy] <= 0) continue;
    Derived d;
    d.name = "convert/derived/" + where;
    for (const auto& [op, bw] : ops)
      if (op != copy) d.values[op + "_over_copy_bw"] = bw / ops[copy];
    out.push_back(d);
  }
  return out;
}

const FamilyRegistrar reg{
    {"convert",
     "dtype conversion: astype strategies with peak memory, casts (SIMD vs portable), f16 range, "
     "promotion, byte order, AoS vs SoA; GPU casts and host->device transfers",
     {"cpu: astype_alloc astype_prealloc astype_chunked (chunk_mib) astype_inplace view copy",
      "     cast (src/dst: f64>f32 f32>f16 f32>bf16 f16>f32 bf16>f32 f64>i32 u8>f32; path simd "
      "portable)",
      "     f16_range (check_then_cast fused), promote (f64_temporaries f32_temporaries fused),",
      "     byteswap (width 2 4 8; path), aos_field soa_field; level; threads",
      "gpu: gpu_cast (f64>f32 f32>f16 f32>bf16 f16>f32), gpu_memcpy_d2d, h2d (f64 f32 f16 x "
      "pageable pinned),",
      "     h2d_cast (host_cast_then_copy copy_then_device_cast zero_copy x pageable pinned)",
      "pairs: convert/pair (astype_prealloc f64>f32, cast_simd f32>f16 f32>bf16 vs copy):",
      "       alternating runs, subject_over_ref_bw",
      "derived: convert/derived/level/threads: every conversion's bandwidth over the copy's"},
     add_convert,
     derive_convert}};

}  // namespace
}  // namespace bench
}  // namespace dtypebench
