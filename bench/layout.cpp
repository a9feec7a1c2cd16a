// Layout family: C vs Fortran order on the CPU (reductions, strided sweeps, C->F conversion,
// matrix-vector forms) and on the GPU (coalesced vs strided reductions, transposes).
#include "kernels/cpu/layout.hpp"

#include <omp.h>

#include <cmath>
#include <cstring>
#include <type_traits>
#include <vector>

#include "bench/derived_math.hpp"
#include "bench/registry.hpp"
#include "dtypebench/check.hpp"
#include "dtypebench/fill.hpp"
#include "kernels/cpu/baseline.hpp"
#ifdef DTYPEBENCH_HAVE_CUDA
#include "kernels/cuda/baseline.hpp"
#include "kernels/cuda/layout.hpp"
#endif

namespace dtypebench {
namespace bench {
namespace {

// the strided sweep, in elements: past 64 bytes for every dtype, so the step shows
constexpr size_t kStrides[] = {1, 2, 4, 8, 16, 32, 64, 128};

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

struct ReduceVariant {
  const char* name;
  cpu::Axis axis;
  cpu::Method method;
};
constexpr ReduceVariant kReduces[] = {{"rowsum_naive", cpu::Axis::Rows, cpu::Method::Naive},
                                      {"colsum_naive", cpu::Axis::Cols, cpu::Method::Naive},
                                      {"rowsum_aware", cpu::Axis::Rows, cpu::Method::Aware},
                                      {"colsum_aware", cpu::Axis::Cols, cpu::Method::Aware}};

template <class T>
void add_reduce(const Config& cfg) {
  for (const ReduceVariant& rv : kReduces)
    for (Order o : {Order::C, Order::F}) {
      // aware differs from naive only where the naive walk strides
      const bool strided = (rv.axis == cpu::Axis::Rows) != (o == Order::C);
      if (rv.method == cpu::Method::Aware && !strided) continue;
      for (const Level& lvl : cfg.levels)
        for (int threads : cfg.threads) {
          const size_t n = square_edge(lvl.bytes, sizeof(T));
          Name name("layout", rv.name);
          name.kv("dtype", dtype_name<T>()).kv("order", order_name(o)).kv("n", n);
          name.kv("level", lvl.name).kv("threads", threads);
          add_cpu(name, [rv, o, n, threads, id = new_fixture_id()](benchmark::State& state) {
            omp_set_num_threads(threads);
            struct Fx : Fixture {
              Buffer<T> a;
              Buffer<acc_t<T>> out;
            };
            Fx* fx = fixture<Fx>(state, id, [&](Fx& f) {
              f.a = Buffer<T>(n * n);
              f.out = Buffer<acc_t<T>>(n);
              fill_uniform(f.a.data(), f.a.size(), 11);
              return check_reduce(f.a.data(), n, o, rv.axis, rv.method, f.out.data());
            });
            if (!fx) return;
            for (auto _ : state) {
              cpu::reduce(fx->a.data(), n, n, o, rv.axis, rv.method, fx->out.data());
              benchmark::ClobberMemory();
            }
            const double bytes = static_cast<double>(fx->a.bytes());
            set_work(state, bytes, static_cast<double>(n * n), static_cast<double>(n * n));
            set_working_set(state, bytes);
            set_peak(state, *fx);
            set_verified(state);
          });
        }
    }
}

template <class T>
void add_strided(const Config& cfg) {
  for (const Level& lvl : cfg.levels) {
    if (cfg.quick && lvl.name != "DRAM") continue;  // the step shows where lines are refetched
    for (size_t stride : kStrides)
      for (int threads : cfg.threads) {
        const size_t n = lvl.bytes / sizeof(T);
        Name name("layout", "strided");
        name.kv("dtype", dtype_name<T>()).kv("stride", stride).kv("n", n);
        name.kv("level", lvl.name).kv("threads", threads);
        add_cpu(name, [stride, n, threads, id = new_fixture_id()](benchmark::State& state) {
          omp_set_num_threads(threads);
          struct Fx : Fixture {
            Buffer<T> a;
          };
          Fx* fx = fixture<Fx>(state, id, [&](Fx& f) {
            f.a = Buffer<T>(n);
            fill_uniform(f.a.data(), n, 12);
            double want = 0, abs = 0;
            for (size_t i = 0; i < n; ++i) {
              const double v = static_cast<double>(load_acc(f.a[i]));
              want += v;
              abs += std::fabs(v);
            }
            const double got = static_cast<double>(cpu::strided_sum(f.a.data(), n, stride));
            const double tol = 2.0 * n * unit_roundoff<acc_t<T>>() * abs;
            std::string why;
            close_enough(&got, &want, &tol, 1, &why);
            return why;
          });
          if (!fx) return;
          for (auto _ : state) benchmark::DoNotOptimize(cpu::strided_sum(fx->a.data(), n, stride));
          const double bytes = static_cast<double>(fx->a.bytes());
          set_work(state, bytes, static_cast<double>(n), static_cast<double>(n));
          set_working_set(state, bytes);
          // the cache line holds this many elements; beyond it every access is a new line
          state.counters["elements_per_line"] = 64.0 / sizeof(T);
          set_peak(state, *fx);
          set_verified(state);
        });
      }
  }
}

template <class T>
void add_convert(const Config& cfg) {
  for (const char* variant : {"to_fortran_naive", "to_fortran_blocked", "copy"})
    for (const Level& lvl : cfg.levels)
      for (int threads : cfg.threads) {
        const std::string v = variant;
        const size_t n = square_edge(lvl.bytes, sizeof(T), 2);
        Name name("layout", v);
        name.kv("dtype", dtype_name<T>()).kv("n", n).kv("level", lvl.name).kv("threads", threads);
        add_cpu(name, [v, n, threads, id = new_fixture_id()](benchmark::State& state) {
          omp_set_num_threads(threads);
          struct Fx : Fixture {
            Buffer<T> a, b;
          };
          auto run = [&v, n](Fx& f) {
            if (v == "to_fortran_naive") cpu::to_fortran_naive(f.a.data(), f.b.data(), n, n);
            if (v == "to_fortran_blocked") cpu::to_fortran_blocked(f.a.data(), f.b.data(), n, n);
            // the plain copy of the same bytes: the ceiling a conversion is judged against
            if (v == "copy") cpu::stream_copy(f.a.data(), f.b.data(), n * n);
          };
          Fx* fx = fixture<Fx>(state, id, [&](Fx& f) {
            f.a = Buffer<T>(n * n);
            f.b = Buffer<T>(n * n);
            fill_uniform(f.a.data(), f.a.size(), 13);
            poison(f.b.data(), f.b.size());
            run(f);
            size_t bad = 0;  // bit-exact: a copy moves bytes, whatever their order
            for (size_t i = 0; i < n; ++i)
              for (size_t j = 0; j < n; ++j)
                bad += std::memcmp(&f.a[i * n + j], &f.b[v == "copy" ? i * n + j : j * n + i],
                                   sizeof(T)) != 0;
            return bad ? std::to_string(bad) + " of " + std::to_string(n * n) + " elements wrong"
                       : std::string();
          });
          if (!fx) return;
          for (auto _ : state) {
            run(*fx);
            benchmark::ClobberMemory();
          }
          const double bytes = 2.0 * static_cast<double>(fx->a.bytes());
          set_work(state, bytes, 0, static_cast<double>(n * n));
          set_working_set(state, bytes);
          set_peak(state, *fx);
          set_verified(state);
        });
      }
}

template <class T>
void add_matvec(const Config& cfg) {
  for (cpu::MatvecForm f : {cpu::MatvecForm::Dot, cpu::MatvecForm::Axpy})
    for (Order o : {Order::C, Order::F})
      for (const Level& lvl : cfg.levels)
        for (int threads : cfg.threads) {
          const size_t n = square_edge(lvl.bytes, sizeof(T));
          Name name("layout", f == cpu::MatvecForm::Dot ? "matvec_dot" : "matvec_axpy");
          name.kv("dtype", dtype_name<T>()).kv("order", order_name(o)).kv("n", n);
          name.kv("level", lvl.name).kv("threads", threads);
          add_cpu(name, [f, o, n, threads, id = new_fixture_id()](benchmark::State& state) {
            omp_set_num_threads(threads);
            struct Fx : Fixture {
              Buffer<T> a, x;
              Buffer<acc_t<T>> y;
            };
            Fx* fx = fixture<Fx>(state, id, [&](Fx& s) {
              s.a = Buffer<T>(n * n);
              s.x = Buffer<T>(n);
              s.y = Buffer<acc_t<T>>(n);
              fill_uniform(s.a.data(), s.a.size(), 14);
              fill_uniform(s.x.data(), n, 15);
              std::vector<double> want(n, 0.0), tol(n, 0.0);
              for (size_t i = 0; i < n; ++i)
                for (size_t j = 0; j < n; ++j) {
                  const double p = static_cast<double>(load_acc(s.a[index_of(o, i, j, n, n)])) *
                                   static_cast<double>(load_acc(s.x[j]));
                  want[i] += p;
                  tol[i] += 2.0 * n * unit_roundoff<acc_t<T>>() * std::fabs(p);
                }
              poison(s.y.data(), n);
              cpu::matvec(s.a.data(), s.x.data(), n, n, o, f, s.y.data());
              std::string why;
              close_enough(s.y.data(), want.data(), tol.data(), n, &why);
              return why;
            });
            if (!fx) return;
            for (auto _ : state) {
              cpu::matvec(fx->a.data(), fx->x.data(), n, n, o, f, fx->y.data());
              benchmark::ClobberMemory();
            }
            const double bytes = static_cast<double>(fx->a.bytes() + fx->x.bytes() + fx->y.bytes());
            set_work(state, bytes, 2.0 * n * n, static_cast<double>(n * n));
            set_working_set(state, static_cast<double>(fx->a.bytes()));
            set_peak(state, *fx);
            set_verified(state);
          });
        }
}

// Paired comparisons (see add_cpu_pair): the ratios the layout claims rest on, measured with
// both kernels alternating on the same data so that the machine's drift cancels.
template <class T>
void add_pairs(const Config& cfg) {
  struct ReducePair {
    const char* subject;
    cpu::Axis axis;
    cpu::Method method;
  };
  // subjects against the contiguous row sum of a C-order matrix
  const ReducePair reduces[] = {{"colsum_aware", cpu::Axis::Cols, cpu::Method::Aware},
                                {"colsum_naive", cpu::Axis::Cols, cpu::Method::Naive}};
  for (const Level& lvl : pair_levels(cfg))
    for (int threads : cfg.threads) {
      const size_t n = square_edge(lvl.bytes, sizeof(T));
      for (const ReducePair& rp : reduces) {
        Name name("layout", "pair");
        name.kv("subject", rp.subject).kv("ref", "rowsum_naive").kv("dtype", dtype_name<T>());
        name.kv("order", "C").kv("n", n).kv("level", lvl.name).kv("threads", threads);
        add_cpu_pair(cfg, name, [rp, n, threads, id = new_fixture_id()](benchmark::State& state) {
          omp_set_num_threads(threads);
          struct Fx : Fixture {
            Buffer<T> a;
            Buffer<acc_t<T>> rows, cols;
          };
          Fx* fx = fixture<Fx>(state, id, [&](Fx& f) {
            f.a = Buffer<T>(n * n);
            f.rows = Buffer<acc_t<T>>(n);
            f.cols = Buffer<acc_t<T>>(n);
            fill_uniform(f.a.data(), f.a.size(), 16);
            const std::string why = check_reduce(f.a.data(), n, Order::C, cpu::Axis::Rows,
                                                 cpu::Method::Naive, f.rows.data());
            return why.empty() ? check_reduce(f.a.data(), n, Order::C, cpu::Axis::Cols, rp.method,
                                              f.cols.data())
                               : why;
          });
          if (!fx) return;
          const double bytes = static_cast<double>(fx->a.bytes());
          pair_loop(
              state, bytes, bytes,
              [&] {
                cpu::reduce(fx->a.data(), n, n, Order::C, cpu::Axis::Rows, cpu::Method::Naive,
                            fx->rows.data());
              },
              [&] {
                cpu::reduce(fx->a.data(), n, n, Order::C, cpu::Axis::Cols, rp.method,
                            fx->cols.data());
              });
          set_working_set(state, bytes);
          set_peak(state, *fx);
          set_verified(state);
        });
      }

      // the contiguous row sum against the plain read of the same bytes (f64, f32)
      if constexpr (std::is_same_v<T, double> || std::is_same_v<T, float>) {
        Name name("layout", "pair");
        name.kv("subject", "rowsum_naive").kv("ref", "read").kv("dtype", dtype_name<T>());
        name.kv("order", "C").kv("n", n).kv("level", lvl.name).kv("threads", threads);
        add_cpu_pair(cfg, name, [n, threads, id = new_fixture_id()](benchmark::State& state) {
          omp_set_num_threads(threads);
          struct Fx : Fixture {
            Buffer<T> a;
            Buffer<acc_t<T>> rows;
          };
          Fx* fx = fixture<Fx>(state, id, [&](Fx& f) {
            f.a = Buffer<T>(n * n);
            f.rows = Buffer<acc_t<T>>(n);
            fill_uniform(f.a.data(), f.a.size(), 17);
            std::string why = check_reduce(f.a.data(), n, Order::C, cpu::Axis::Rows,
                                           cpu::Method::Naive, f.rows.data());
            double total = 0, abs = 0;
            for (size_t i = 0; i < n * n; ++i) total += f.a[i], abs += std::fabs(f.a[i]);
            const double got = cpu::stream_read(f.a.data(), n * n);
            const double t = 2.0 * n * n * unit_roundoff<T>() * abs;
            if (why.empty()) close_enough(&got, &total, &t, 1, &why);
            return why;
          });
          if (!fx) return;
          const double bytes = static_cast<double>(fx->a.bytes());
          pair_loop(
              state, bytes, bytes,
              [&] { benchmark::DoNotOptimize(cpu::stream_read(fx->a.data(), n * n)); },
              [&] {
                cpu::reduce(fx->a.data(), n, n, Order::C, cpu::Axis::Rows, cpu::Method::Naive,
                            fx->rows.data());
              });
          set_working_set(state, bytes);
          set_peak(state, *fx);
          set_verified(state);
        });
      }

      // the C->F copies against a plain copy of the same bytes, and the blocked one (which
      // streams its stores past the LLC) against a copy that does too
      const size_t m = square_edge(lvl.bytes, sizeof(T), 2);
      const std::pair<const char*, const char*> combos[] = {{"to_fortran_blocked", "copy"},
                                                            {"to_fortran_naive", "copy"},
                                                            {"to_fortran_blocked", "copy_nt"}};
      for (const auto& [subject, reference] : combos) {
        const std::string sub = subject;
        const bool nt = std::string(reference) == "copy_nt";
        Name name("layout", "pair");
        name.kv("subject", sub).kv("ref", reference).kv("dtype", dtype_name<T>()).kv("n", m);
        name.kv("level", lvl.name).kv("threads", threads);
        add_cpu_pair(cfg, name,
                     [sub, nt, m, threads, id = new_fixture_id()](benchmark::State& state) {
                       omp_set_num_threads(threads);
                       struct Fx : Fixture {
                         Buffer<T> a, b, c;
                       };
                       auto convert = [&sub, m](Fx& f) {
                         if (sub == "to_fortran_blocked")
                           cpu::to_fortran_blocked(f.a.data(), f.b.data(), m, m);
                         else
                           cpu::to_fortran_naive(f.a.data(), f.b.data(), m, m);
                       };
                       Fx* fx = fixture<Fx>(state, id, [&](Fx& f) {
                         f.a = Buffer<T>(m * m);
                         f.b = Buffer<T>(m * m);
                         f.c = Buffer<T>(m * m);
                         fill_uniform(f.a.data(), f.a.size(), 18);
                         poison(f.b.data(), f.b.size());
                         convert(f);
                         poison(f.c.data(), f.c.size());
                         if (nt)
                           cpu::stream_copy_nt(f.a.data(), f.c.data(), m * m);
                         else
                           cpu::stream_copy(f.a.data(), f.c.data(), m * m);
                         size_t bad = std::memcmp(f.a.data(), f.c.data(), f.a.bytes()) != 0;
                         for (size_t i = 0; i < m; ++i)
                           for (size_t j = 0; j < m; ++j)
                             bad += std::memcmp(&f.a[i * m + j], &f.b[j * m + i], sizeof(T)) != 0;
                         return bad ? std::to_string(bad) + " elements wrong" : std::string();
                       });
                       if (!fx) return;
                       const double bytes = 2.0 * static_cast<double>(fx->a.bytes());
                       pair_loop(
                           state, bytes, bytes,
                           [&] {
                             if (nt)
                               cpu::stream_copy_nt(fx->a.data(), fx->c.data(), m * m);
                             else
                               cpu::stream_copy(fx->a.data(), fx->c.data(), m * m);
                           },
                           [&] { convert(*fx); });
                       set_working_set(state, bytes);
                       set_peak(state, *fx);
                       set_verified(state);
                     });
      }
    }
}

#ifdef DTYPEBENCH_HAVE_CUDA
template <class T>
void add_gpu_reduce(const Config& cfg) {
  struct V {
    const char* name;
    cuda::Axis axis;
    cuda::Access access;
  };
  const V variants[] = {{"gpu_rowsum_coalesced", cuda::Axis::Rows, cuda::Access::Coalesced},
                        {"gpu_rowsum_strided", cuda::Axis::Rows, cuda::Access::Strided},
                        {"gpu_colsum_coalesced", cuda::Axis::Cols, cuda::Access::Coalesced},
                        {"gpu_colsum_strided", cuda::Axis::Cols, cuda::Access::Strided}};
  for (const V& v : variants)
    for (const Level& lvl : gpu_levels(cfg)) {
      const size_t n = square_edge(lvl.bytes, sizeof(T));
      Name name("layout", v.name);
      name.kv("dtype", dtype_name<T>()).kv("order", "C").kv("n", n).kv("level", lvl.name);
      const bool flush = cfg.flush_l2;
      add_gpu(name, [v, n, flush, id = new_fixture_id()](benchmark::State& state) {
        struct Fx : Fixture {
          gpu::DeviceBuffer<T> a;
          gpu::DeviceBuffer<acc_t<T>> out;
          size_t device_peak = 0;
        };
        Fx* fx = fixture<Fx>(state, id, [&](Fx& f) {
          gpu::device_reset_peak();
          const size_t dev0 = gpu::device_live_bytes();
          Buffer<T> ha(n * n);
          fill_uniform(ha.data(), ha.size(), 21);
          f.a = gpu::DeviceBuffer<T>(n * n);
          f.out = gpu::DeviceBuffer<acc_t<T>>(n);
          f.device_peak = gpu::device_peak_bytes() - dev0;
          gpu::copy_to_device(f.a.data(), ha.data(), f.a.bytes());
          gpu::memset_device(f.out.data(), 0xff, f.out.bytes());
          cuda::reduce(f.a.data(), n, n, v.axis, v.access, f.out.data());
          std::vector<acc_t<T>> got(n);
          gpu::copy_to_host(got.data(), f.out.data(), f.out.bytes());
          std::vector<double> want, tol;
          reference_sums(ha.data(), n, n, Order::C,
                         v.axis == cuda::Axis::Rows ? cpu::Axis::Rows : cpu::Axis::Cols, &want,
                         &tol);
          std::string why;
          close_enough(got.data(), want.data(), tol.data(), n, &why);
          return why;
        });
        if (!fx) return;
        gpu_loop(state, flush,
                 [&] { cuda::reduce(fx->a.data(), n, n, v.axis, v.access, fx->out.data()); });
        set_work(state, static_cast<double>(fx->a.bytes()), static_cast<double>(n * n),
                 static_cast<double>(n * n));
        state.counters["working_set_bytes"] = static_cast<double>(fx->a.bytes());
        state.counters["device_peak_bytes"] = static_cast<double>(fx->device_peak);
        set_verified(state);
      });
    }
}

template <class T>
void add_gpu_transpose(const Config& cfg) {
  // (variant, its parameter: tile edge or rows per thread, 0 for none)
  const std::pair<const char*, int> variants[] = {
      {"gpu_transpose_naive", 0}, {"gpu_transpose_tiled", 32}, {"gpu_transpose_tiled", 64},
      {"gpu_transpose_vec", 0},   {"gpu_transpose_regs", 8},   {"gpu_transpose_regs", 16},
      {"gpu_memcpy_d2d", 0}};
  for (const auto& [variant, param] : variants)
    for (const Level& lvl : gpu_levels(cfg)) {
      const std::string v = variant;
      const size_t n = square_edge(lvl.bytes, sizeof(T), 2);
      Name name("layout", v);
      name.kv("dtype", dtype_name<T>());
      if (v == "gpu_transpose_tiled") name.kv("tile", param);
      if (v == "gpu_transpose_regs") name.kv("rows_per_thread", param);
      name.kv("n", n).kv("level", lvl.name);
      const bool flush = cfg.flush_l2;
      add_gpu(name, [v, p = param, n, flush, id = new_fixture_id()](benchmark::State& state) {
        struct Fx : Fixture {
          gpu::DeviceBuffer<T> a, b;
          size_t device_peak = 0;
        };
        auto launch = [&v, n, p](Fx& f) {
          if (v == "gpu_transpose_naive") cuda::transpose_naive(f.a.data(), f.b.data(), n, n);
          if (v == "gpu_transpose_tiled") cuda::transpose_tiled(f.a.data(), f.b.data(), n, n, p);
          if (v == "gpu_transpose_vec") cuda::transpose_vec(f.a.data(), f.b.data(), n, n);
          if (v == "gpu_transpose_regs") cuda::transpose_regs(f.a.data(), f.b.data(), n, n, p);
          if (v == "gpu_memcpy_d2d") cuda::d2d_copy(f.b.data(), f.a.data(), f.a.bytes());
        };
        Fx* fx = fixture<Fx>(state, id, [&](Fx& f) {
          gpu::device_reset_peak();
          const size_t dev0 = gpu::device_live_bytes();
          Buffer<T> ha(n * n), hb(n * n);
          fill_uniform(ha.data(), ha.size(), 22);
          f.a = gpu::DeviceBuffer<T>(n * n);
          f.b = gpu::DeviceBuffer<T>(n * n);
          f.device_peak = gpu::device_peak_bytes() - dev0;
          gpu::copy_to_device(f.a.data(), ha.data(), f.a.bytes());
          gpu::memset_device(f.b.data(), 0xff, f.b.bytes());
          launch(f);
          gpu::copy_to_host(hb.data(), f.b.data(), f.b.bytes());
          size_t bad = 0;
          for (size_t i = 0; i < n; ++i)
            for (size_t j = 0; j < n; ++j)
              bad += std::memcmp(&ha[i * n + j], &hb[v == "gpu_memcpy_d2d" ? i * n + j : j * n + i],
                                 sizeof(T)) != 0;
          return bad ? std::to_string(bad) + " of " + std::to_string(n * n) + " elements wrong"
                     : std::string();
        });
        if (!fx) return;
        gpu_loop(state, flush, [&] { launch(*fx); });
        const double bytes = 2.0 * static_cast<double>(fx->a.bytes());
        set_work(state, bytes, 0, static_cast<double>(n * n));
        state.counters["working_set_bytes"] = bytes;
        state.counters["device_peak_bytes"] = static_cast<double>(fx->device_peak);
        set_verified(state);
      });
    }
}
#endif

template <class T>
void add_cpu_for(const Config& cfg) {
  add_reduce<T>(cfg);
  add_strided<T>(cfg);
  add_convert<T>(cfg);
  add_matvec<T>(cfg);
  add_pairs<T>(cfg);
}

template <class T>
void add_gpu_for(const Config& cfg) {
#ifdef DTYPEBENCH_HAVE_CUDA
  add_gpu_reduce<T>(cfg);
  add_gpu_transpose<T>(cfg);
#else
  (void)cfg;
#endif
}

void add_layout(const Config& cfg) {
  add_cpu_for<double>(cfg);
  add_cpu_for<float>(cfg);
  add_cpu_for<half>(cfg);
  add_cpu_for<bfloat16>(cfg);
  if (!gpu_or_skip("layout")) return;
  add_gpu_for<double>(cfg);
  add_gpu_for<float>(cfg);
  add_gpu_for<half>(cfg);
  add_gpu_for<bfloat16>(cfg);
}

// Per (dtype, level, threads): how much the strided walk costs against the contiguous one, how
// close the cache-aware walk gets, how the C->F copies compare with a plain copy, and after how
// many strided passes converting to F first would have paid for itself (-1: never), and from
// which stride (in bytes) the strided sweep's cost per element stops growing.
std::vector<Derived> derive_layout(const Results& results) {
  struct Key {
    std::string dtype, level, threads;
    bool operator<(const Key& o) const {
      return std::tie(dtype, level, threads) < std::tie(o.dtype, o.level, o.threads);
    }
  };
  std::map<Key, std::map<std::string, double>> per_elem;  // variant(/order) -> seconds/element
  std::map<Key, double> elem_bytes;                       // from the strided sweep's counter
  for (const auto& [name, r] : results) {
    auto kv = parse_name(name);
    if (kv["family"] != "layout" || !kv.count("n")) continue;
    if (!kv.count("threads")) kv["threads"] = "gpu";  // GPU entries derive among themselves
    const double n = std::stod(kv["n"]);
    const double elems = kv["variant"] == "strided" ? n : n * n;
    std::string v = kv["variant"];
    if (kv.count("order")) v += "/" + kv["order"];
    if (kv["variant"] == "strided") v += "/" + kv["stride"];
    if (kv.count("tile")) v += kv["tile"];
    if (kv.count("rows_per_thread")) v += kv["rows_per_thread"];
    per_elem[{kv["dtype"], kv["level"], kv["threads"]}][v] = r.seconds / elems;
    if (const auto epl = r.counters.find("elements_per_line"); epl != r.counters.end())
      elem_bytes[{kv["dtype"], kv["level"], kv["threads"]}] = 64.0 / epl->second;
  }
  std::vector<Derived> out;
  for (auto& [k, t] : per_elem) {
    auto has = [&](const char* v) { return t.count(v) && t[v] > 0; };
    Derived d;
    d.name = "layout/derived/dtype:" + k.dtype + "/level:" + k.level + "/threads:" + k.threads;
    if (has("rowsum_naive/C") && has("colsum_naive/C")) {
      d.values["colsum_strided_over_rowsum_C"] = t["colsum_naive/C"] / t["rowsum_naive/C"];
      if (has("colsum_aware/C"))
        d.values["colsum_aware_over_rowsum_C"] = t["colsum_aware/C"] / t["rowsum_naive/C"];
    }
    if (has("colsum_naive/F") && has("rowsum_naive/F"))
      d.values["rowsum_strided_over_colsum_F"] = t["rowsum_naive/F"] / t["colsum_naive/F"];
    if (has("copy")) {
      if (has("to_fortran_blocked"))
        d.values["to_fortran_blocked_over_copy_bw"] = t["copy"] / t["to_fortran_blocked"];
      if (has("to_fortran_naive"))
        d.values["to_fortran_naive_over_copy_bw"] = t["copy"] / t["to_fortran_naive"];
    }
    if (has("colsum_naive/C") && has("colsum_naive/F") && has("to_fortran_blocked")) {
      d.values["breakeven_passes"] =
          breakeven_passes(t["to_fortran_blocked"], t["colsum_naive/C"], t["colsum_naive/F"]);
    }
    std::vector<std::pair<double, double>> sweep;  // (stride, seconds per element)
    for (size_t s : kStrides) {
      const std::string key = "strided/" + std::to_string(s);
      if (!has(key.c_str())) continue;
      sweep.emplace_back(static_cast<double>(s), t[key]);
      if (s > 1 && has("strided/1"))
        d.values["stride" + std::to_string(s) + "_over_stride1"] = t[key] / t["strided/1"];
    }
    // where the sweep's cost per element stops growing, in bytes (whole sweeps only)
    if (sweep.size() == std::size(kStrides) && elem_bytes.count(k))
      d.values["stride_plateau_bytes"] = stride_plateau(sweep) * elem_bytes[k];
    if (has("gpu_memcpy_d2d")) {
      for (const char* tile : {"tiled32", "tiled64", "vec", "regs8", "regs16"}) {
        const std::string v = std::string("gpu_transpose_") + tile;
        if (has(v.c_str())) d.values[v + "_over_copy_bw"] = t["gpu_memcpy_d2d"] / t[v];
      }
      if (has("gpu_transpose_naive"))
        d.values["gpu_transpose_naive_over_copy_bw"] =
            t["gpu_memcpy_d2d"] / t["gpu_transpose_naive"];
    }
    if (has("gpu_rowsum_coalesced/C") && has("gpu_rowsum_strided/C"))
      d.values["gpu_rowsum_strided_over_coalesced"] =
          t["gpu_rowsum_strided/C"] / t["gpu_rowsum_coalesced/C"];
    if (has("gpu_colsum_coalesced/C") && has("gpu_colsum_strided/C"))
      d.values["gpu_colsum_strided_over_coalesced"] =
          t["gpu_colsum_strided/C"] / t["gpu_colsum_coalesced/C"];
    if (!d.values.empty()) out.push_back(d);
  }
  return out;
}

const FamilyRegistrar reg{
    {"layout",
     "C vs Fortran order: reductions, strided sweeps, C->F conversion, matvec forms, GPU "
     "coalescing and transposes",
     {"cpu variants: rowsum_naive colsum_naive rowsum_aware colsum_aware (order C F)",
      "             strided (stride 1..128), to_fortran_naive to_fortran_blocked copy,",
      "             matvec_dot matvec_axpy (order C F)",
      "dtype: f64 f32 f16 bf16 (16-bit types accumulate in f32); level; threads",
      "gpu variants: gpu_rowsum_* gpu_colsum_* (coalesced strided), gpu_transpose_naive",
      "              gpu_transpose_tiled (tile 32 64) gpu_transpose_vec",
      "              gpu_transpose_regs (rows_per_thread 8 16) gpu_memcpy_d2d (L2 DRAM)",
      "pairs: layout/pair/subject/ref (colsum_aware|colsum_naive vs rowsum_naive, rowsum_naive vs",
      "       read, to_fortran_* vs copy, to_fortran_blocked vs copy_nt): alternating runs,",
      "       subject_over_ref_bw",
      "derived: layout/derived/dtype/level/threads: strided/contiguous ratios, breakeven_passes,",
      "         stride_plateau_bytes"},
     add_layout,
     derive_layout}};

}  // namespace
}  // namespace bench
}  // namespace dtypebench
