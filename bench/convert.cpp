// Conversion family: time and peak memory of dtype conversion (NumPy's astype and its
// alternatives), 16-bit rounding and range, promotion, byte order, AoS vs SoA; on the GPU, device
// conversions and host->device transfers by dtype and cast placement.
#include "kernels/cpu/convert.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/mman.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "bench/family.hpp"
#include "kernels/cpu/stream.hpp"
#include "kernels/cuda/convert.hpp"

namespace dtypebench::bench {
namespace {

using cpu::Path;

// elements of `per` bytes each that fill the level
std::function<Value(const Point&)> per_element(double per) {
  return [per](const Point& p) { return number(static_cast<size_t>(p.num("level") / per)); };
}
Path path_of(const Point& p) { return p["path"] == "simd" ? Path::Simd : Path::Portable; }

// Every cast streams its stores past the caches when its arrays exceed the LLC (Stores::Auto);
// the row says which it did.
void report_stores(benchmark::State& state, double working_set_bytes,
                   cpu::Stores stores = cpu::Stores::Auto) {
  state.counters["streaming_stores"] = cpu::streams(stores, working_set_bytes);
}

void set_peak_theory(benchmark::State& state, double peak, double theory) {
  state.counters["peak_bytes"] = peak;
  state.counters["theory_bytes"] = theory;
  state.counters["peak_over_theory"] = theory > 0 ? peak / theory : 0;
}

// f64 -> f32 four ways, plus the view and the copy they are judged against

// checks dst[i] == float(src[i]) exactly (IEEE round to nearest even)
std::string check_narrow(const double* src, const float* dst, size_t n) {
  size_t bad = 0;
  for (size_t i = 0; i < n; ++i) bad += f32_bits(dst[i]) != f32_bits(static_cast<float>(src[i]));
  return count_wrong(bad, n, "narrowed values");
}

// The narrowing cases share their source (n doubles, seed 12) and their counters.
struct NarrowCase : Case {
  Work work() const override { return streamed(src_b_ + dst_b_, n); }

  void fill_source() { src_ = filled<double>(n, 12, -1e3, 1e3); }
  // the tracked peak of a strategy that allocates while timed, plus the source it reads
  void report_loop_peak(benchmark::State& state, const Peaks& pk, double base, double theory) {
    set_peak_theory(state, base + static_cast<double>(pk.loop), theory);
    state.counters["peak_rss_bytes"] = base + static_cast<double>(pk.loop_rss);
    report_stores(state, src_b_ + dst_b_, stores_);
  }
  const double src_b_ = 8.0 * n, dst_b_ = 4.0 * n;
  cpu::Stores stores_ = cpu::Stores::Auto;
  Buffer<double> src_;
};

// astype: a fresh destination every time (allocation and first-touch page faults included).
// Its stores stay cached at every size: the kernel zeroes each fresh page as it faults it in,
// which leaves the page in the cache, and streaming the result past it then costs a second trip
// to DRAM (640 MiB at DRAM, one thread: 9.0 GB/s cached, 7.8 streamed).
struct AstypeAlloc : NarrowCase {
  AstypeAlloc() { stores_ = cpu::Stores::Cached; }
  void run() override {
    Buffer<float> d(n);  // allocated as NumPy allocates: huge pages for big ones (mem::allocate)
    cpu::convert(src_.data(), d.data(), n, Path::Simd, stores_);
    benchmark::DoNotOptimize(d.data());
  }
  std::string setup() override {
    loop_peak = true;
    fill_source();
    Buffer<float> d = poisoned<float>(n);
    cpu::convert(src_.data(), d.data(), n, Path::Simd);
    return check_narrow(src_.data(), d.data(), n);
  }
  void report(benchmark::State& state, const Peaks& pk) override {
    report_loop_peak(state, pk, src_b_, src_b_ + dst_b_);
  }
};

// out= / copyto: the destination exists already
struct AstypePrealloc : NarrowCase {
  void run() override { cpu::convert(src_.data(), dst_.data(), n, Path::Simd); }
  std::string setup() override {
    fill_source();
    dst_ = poisoned<float>(n);
    run();
    return check_narrow(src_.data(), dst_.data(), n);
  }
  void report(benchmark::State& state, const Peaks& pk) override {
    set_peak_theory(state, static_cast<double>(pk.setup), src_b_ + dst_b_);
    report_stores(state, src_b_ + dst_b_);
  }

  Buffer<float> dst_;
};

// A file holding n doubles (the seed-12 values). It is unlinked as soon as it is open, so no
// exit path (an exception, Ctrl-C, SIGKILL) can leave it behind; the descriptor keeps it alive.
class SourceFile {
 public:
  SourceFile(const std::string& dir, size_t n) {
    const double bytes = 8.0 * static_cast<double>(n);
    // checked before a byte is written: the disk, and on a tmpfs the memory the file would be
    struct statvfs vfs {};
    if (::statvfs(dir.c_str(), &vfs) == 0) {
      const double free_b = static_cast<double>(vfs.f_bavail) * static_cast<double>(vfs.f_frsize);
      if (bytes > free_b)
        throw OutOfMemory("the source file needs " + mem::format_bytes(bytes) + " in '" + dir +
                          "', which has " + mem::format_bytes(free_b) + " free (see --tmpdir)");
    }
    struct statfs fs {};
    if (::statfs(dir.c_str(), &fs) == 0 && fs.f_type == TMPFS_MAGIC &&
        bytes + 8.0 * n / 2 > static_cast<double>(mem::available_bytes()))
      throw OutOfMemory("'" + dir + "' is a tmpfs: the source file (" + mem::format_bytes(bytes) +
                        ") and its destination would not fit in memory (see --tmpdir)");
    std::string path = dir + "/dtypebench-src-XXXXXX";
    fd_ = mkstemp(path.data());
    if (fd_ < 0)
      throw std::runtime_error("cannot create the memory-mapped source file in '" + dir +
                               "': " + std::strerror(errno) + " (choose one with --tmpdir)");
    ::unlink(path.c_str());
    std::vector<double> block(1 << 16);
    for (size_t i = 0; i < n; i += block.size()) {
      const size_t len = std::min(block.size(), n - i);
      for (size_t k = 0; k < len; ++k) block[k] = uniform_at(12, i + k, -1e3, 1e3);
      const ssize_t want = static_cast<ssize_t>(len * sizeof(double));
      if (::write(fd_, block.data(), static_cast<size_t>(want)) != want) {
        const int err = errno;
        ::close(fd_);
        throw OutOfMemory("cannot write the source file in '" + dir + "': " + std::strerror(err));
      }
    }
  }
  ~SourceFile() { ::close(fd_); }
  SourceFile(const SourceFile&) = delete;
  SourceFile& operator=(const SourceFile&) = delete;
  int fd() const { return fd_; }

  int fd_ = -1;
};

// Converts the file chunk by chunk: map a window, convert it, unmap it, so at most one chunk of
// the source is resident (counted in our accounting while mapped). The stores stream when the
// whole conversion (not one chunk) exceeds the LLC.
void convert_chunked(int fd, size_t n, size_t chunk_elems, float* dst) {
  const cpu::Stores stores =
      cpu::streams(cpu::Stores::Auto, 12.0 * n) ? cpu::Stores::Streaming : cpu::Stores::Cached;
  for (size_t i = 0; i < n; i += chunk_elems) {
    const size_t len = std::min(chunk_elems, n - i);
    const size_t bytes = len * sizeof(double);
    void* p = mmap(nullptr, bytes, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd,
                   static_cast<off_t>(i * sizeof(double)));
    if (p == MAP_FAILED) throw std::runtime_error(std::string("mmap: ") + std::strerror(errno));
    mem::track_external(bytes);
    cpu::convert(static_cast<const double*>(p), dst + i, len, Path::Simd, stores);
    munmap(p, bytes);
    mem::untrack_external(bytes);
  }
}

// chunked from a memory-mapped file: peak is the destination plus one chunk
struct AstypeChunked : NarrowCase {
  void run() override { convert_chunked(file_->fd(), n, chunk_elems_, dst_.data()); }
  std::string setup() override {
    loop_peak = true;
    file_ = std::make_unique<SourceFile>(p["tmpdir"], n);
    dst_ = poisoned<float>(n);
    run();
    size_t bad = 0;
    for (size_t i = 0; i < n; ++i)
      bad += dst_[i] != static_cast<float>(uniform_at(12, i, -1e3, 1e3));
    return count_wrong(bad, n, "chunked values");
  }
  void report(benchmark::State& state, const Peaks& pk) override {
    report_loop_peak(state, pk, dst_b_, dst_b_ + 8.0 * static_cast<double>(chunk_elems_));
  }

  const size_t chunk_elems_ = (p.size("chunk_mib") << 20) / sizeof(double);
  std::unique_ptr<SourceFile> file_;
  Buffer<float> dst_;
};

// in place: floats written over the doubles; one thread by nature
struct AstypeInplace : NarrowCase {
  AstypeInplace() { stores_ = cpu::Stores::Cached; }  // narrow_in_place's own ordinary stores
  void run() override { benchmark::DoNotOptimize(cpu::narrow_in_place(src_.data(), n)); }
  std::string setup() override {
    loop_peak = true;
    untimed_before_each = true;
    fill_source();
    std::vector<float> want(n);
    for (size_t i = 0; i < n; ++i) want[i] = static_cast<float>(src_[i]);
    const float* got = cpu::narrow_in_place(src_.data(), n);
    return std::memcmp(got, want.data(), n * 4) ? "in-place values wrong" : "";
  }
  // the narrowing destroys its input: refill it outside the timed region
  void before_each() override { fill_uniform(src_.data(), n, 12, -1e3, 1e3); }
  void report(benchmark::State& state, const Peaks& pk) override {
    report_loop_peak(state, pk, src_b_, src_b_);
  }
};

// view: reinterpret the doubles as twice as many floats; no bytes move, none are allocated
struct View : NarrowCase {
  void run() override {
    const float* v = reinterpret_cast<const float*>(src_.data());
    count_ = src_.bytes() / sizeof(float);
    benchmark::DoNotOptimize(v);
    benchmark::DoNotOptimize(std::as_const(count_));  // setup() reads it: see baseline's StreamCase
  }
  std::string setup() override {
    loop_peak = true;
    fill_source();
    run();
    return count_ == 2 * n ? "" : "the view does not hold 2n floats";
  }
  Work work() const override { return {}; }
  void report(benchmark::State& state, const Peaks& pk) override {
    state.counters["view_elements"] = static_cast<double>(count_);
    set_peak_theory(state, src_b_ + static_cast<double>(pk.loop), src_b_);
    state.counters.erase("peak_rss_bytes");
  }

  size_t count_ = 0;
};

// the copy of the same bytes, the ceiling the conversions are judged against
struct CopyCase : Case {
  void run() override { cpu::stream_copy(a_.data(), b_.data(), n); }
  std::string setup() override {
    a_ = filled<float>(n, 5);
    b_ = poisoned<float>(n);
    run();
    return std::memcmp(a_.data(), b_.data(), n * 4) ? "copy wrong" : "";
  }
  Work work() const override { return streamed(8.0 * n, n); }

  Buffer<float> a_, b_;
};

// casts, each with its SIMD and portable path

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
size_t differ_from_rule(const S* s, const D* d, size_t n) {
  size_t bad = 0;
  for (size_t i = 0; i < n; ++i) bad += bits_of(d[i]) != rule<S, D>(s[i]);
  return bad;
}

template <class S, class D>
struct CastCase : Case {
  void run() override { cpu::convert(s_.data(), d_.data(), n, path_); }
  std::string setup() override {
    s_ = Buffer<S>(n);
    d_ = Buffer<D>(n);
    fill_source<S, D>(s_.data(), n);
    std::memset(static_cast<void*>(d_.data()), 0xff, d_.bytes());
    run();
    return count_wrong(differ_from_rule(s_.data(), d_.data(), n), n,
                       "values (against the scalar rule)");
  }
  Work work() const override { return streamed(n * (sizeof(S) + sizeof(D)), n); }
  void report(benchmark::State& state, const Peaks&) override {
    report_stores(state, n * (sizeof(S) + sizeof(D)));
  }

  const Path path_ = path_of(p);
  Buffer<S> s_;
  Buffer<D> d_;
};

// f16 range: check, then cast, vs one fused pass

struct F16RangeCase : Case {
  void run() override {
    if (fused_) {
      r_ = cpu::convert_counting(s_.data(), d_.data(), n);
    } else {
      r_ = cpu::f16_range_check(s_.data(), n);
      cpu::convert(s_.data(), d_.data(), n, Path::Simd);
    }
    benchmark::DoNotOptimize(r_);
  }
  std::string setup() override {
    s_ = filled<float>(n, 41, -7e4, 7e4);
    d_ = Buffer<half>(n);
    for (size_t i = 0; i < n; i += 97) s_[i] *= 1e-12f;  // some underflow, some subnormal
    cpu::F16Range want;
    for (size_t i = 0; i < n; ++i) {
      const uint16_t h = f32_to_f16_bits_portable(s_[i]) & 0x7fff;
      want.overflow += h == 0x7c00;
      want.underflow += h == 0 && s_[i] != 0.0f;
      want.subnormal += h != 0 && h < 0x400;
    }
    run();
    if (r_.overflow != want.overflow || r_.underflow != want.underflow ||
        r_.subnormal != want.subnormal)
      return "range counts differ from the scalar rule";
    return "";
  }
  Work work() const override { return streamed(6.0 * n, n); }
  void report(benchmark::State& state, const Peaks&) override {
    state.counters["overflow_fraction"] = static_cast<double>(r_.overflow) / n;
    state.counters["underflow_fraction"] = static_cast<double>(r_.underflow) / n;
    state.counters["subnormal_fraction"] = static_cast<double>(r_.subnormal) / n;
  }

  const bool fused_ = p["method"] == "fused";
  Buffer<float> s_;
  Buffer<half> d_;
  cpu::F16Range r_;
};

// promotion: int32 * float32 + float32

enum class Promote { F64Temporaries, F32Temporaries, Fused };

struct PromoteCase : Case {
  // the expression allocates its result, as NumPy does: f64 (8n) or f32 (4n) bytes
  void run() override {
    double probe = 0;
    if (m_ == Promote::F64Temporaries) {
      Buffer<double> out(n);  // allocated in the timed loop, as NumPy does (mem::allocate)
      cpu::axpy_promoted_f64(a_.data(), x_.data(), y_.data(), out.data(), n);
      probe = out[n / 2];
      result_bytes_ = out.bytes();
    } else {
      Buffer<float> out(n);
      eval_f32(out.data());
      probe = out[n / 2];
      result_bytes_ = out.bytes();
    }
    benchmark::DoNotOptimize(probe);
  }
  std::string setup() override {
    loop_peak = true;
    a_ = Buffer<int32_t>(n);
    x_ = filled<float>(n, 52);
    y_ = filled<float>(n, 53);
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; ++i) a_[i] = static_cast<int32_t>(uniform_at(51, i, -2e9, 2e9));
    // error of every element against an exact (long double) reference
    std::vector<double> got(n);
    if (m_ == Promote::F64Temporaries) {
      Buffer<double> out = poisoned<double>(n);
      cpu::axpy_promoted_f64(a_.data(), x_.data(), y_.data(), out.data(), n);
      for (size_t i = 0; i < n; ++i) got[i] = out[i];
    } else {
      Buffer<float> out = poisoned<float>(n);
      eval_f32(out.data());
      for (size_t i = 0; i < n; ++i) got[i] = out[i];
    }
    const double u = m_ == Promote::F64Temporaries ? 0x1p-53 : 0x1p-24;
    size_t bad = 0;
    for (size_t i = 0; i < n; ++i) {
      const long double want = static_cast<long double>(a_[i]) * x_[i] + y_[i];
      const double mag = std::fabs(static_cast<double>(a_[i]) * x_[i]) + std::fabs(y_[i]);
      const double err = std::fabs(static_cast<double>(got[i] - want));
      bad += !(err <= 3 * u * mag);
      if (mag > 0) max_rel_err_ = std::max(max_rel_err_, err / mag);
    }
    return bad ? std::to_string(bad) + " results beyond 3 ulps of the exact value" : "";
  }
  Work work() const override { return streamed(12 * n + result_bytes_, n, 2.0 * n); }
  void report(benchmark::State& state, const Peaks& pk) override {
    state.counters["result_bytes"] = static_cast<double>(result_bytes_);
    state.counters["peak_bytes"] = static_cast<double>(12 * n + pk.loop);
    state.counters.erase("peak_rss_bytes");
    state.counters["max_rel_err"] = max_rel_err_;
  }

  void eval_f32(float* out) {
    if (m_ == Promote::Fused)
      cpu::axpy_fused_f32(a_.data(), x_.data(), y_.data(), out, n);
    else
      cpu::axpy_f32_temporaries(a_.data(), x_.data(), y_.data(), out, n);
  }
  const Promote m_ = p.get<Promote>("method");
  Buffer<int32_t> a_;
  Buffer<float> x_, y_;
  double max_rel_err_ = 0;
  size_t result_bytes_ = 0;
};

// byte order
struct ByteswapCase : Case {
  void run() override { cpu::byteswap(s_.data(), d_.data(), n, width_, path_); }
  std::string setup() override {
    s_ = Buffer<uint8_t>(n * width_);
    d_ = Buffer<uint8_t>(n * width_);
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < s_.size(); ++i) s_[i] = static_cast<uint8_t>(splitmix64(i));
    std::memset(d_.data(), 0, d_.size());
    run();
    size_t bad = 0;
    for (size_t e = 0; e < n; ++e)
      for (int b = 0; b < width_; ++b) bad += d_[e * width_ + b] != s_[e * width_ + width_ - 1 - b];
    return bad ? std::to_string(bad) + " bytes misplaced" : "";
  }
  Work work() const override { return streamed(2.0 * n * width_, n); }
  void report(benchmark::State& state, const Peaks&) override {
    report_stores(state, 2.0 * n * width_);
  }

  const int width_ = static_cast<int>(p.num("width"));
  const Path path_ = path_of(p);
  Buffer<uint8_t> s_, d_;
};

// array of structs vs struct of arrays
struct FieldCase : Case {
  void run() override { benchmark::DoNotOptimize(sum()); }
  std::string setup() override {
    if (aos_)
      r_ = Buffer<cpu::Record>(n);
    else
      f_ = Buffer<float>(n);
    double want = 0, abs = 0;
    for (size_t i = 0; i < n; ++i) {
      const float v = static_cast<float>(uniform_at(61, i));
      if (aos_)
        r_[i] = {static_cast<double>(i), v, static_cast<int32_t>(i), 7};
      else
        f_[i] = v;
      want += v;
      abs += std::fabs(v);
    }
    return check_value(sum(), want, 4.0 * n * 0x1p-53 * abs);
  }
  // bytes: the 4 useful bytes per value; bytes_fetched: what the layout makes the CPU read
  Work work() const override { return {4.0 * n, double(n), double(n), fetched()}; }
  void report(benchmark::State& state, const Peaks&) override {
    state.counters["bytes_fetched"] =
        benchmark::Counter(fetched(), benchmark::Counter::kIsIterationInvariantRate);
  }

  double sum() const {
    return aos_ ? cpu::sum_field_aos(r_.data(), n) : cpu::sum_soa(f_.data(), n);
  }
  double fetched() const { return (aos_ ? sizeof(cpu::Record) : 4.0) * n; }
  const bool aos_ = p["variant"] == "aos_field";
  Buffer<cpu::Record> r_;
  Buffer<float> f_;
};

// paired comparisons: the conversions against a copy of the same bytes, alternating
template <class S, class D>
struct CastPairCase : Case {
  void run() override { cpu::convert(s_.data(), d_.data(), n, Path::Simd); }
  std::string setup() override {
    s_ = Buffer<S>(n);
    d_ = Buffer<D>(n);
    ca_ = filled<float>(m_, 9);
    cb_ = poisoned<float>(m_);
    fill_source<S, D>(s_.data(), n);
    std::memset(static_cast<void*>(d_.data()), 0xff, d_.bytes());
    run();
    ref();
    const size_t bad = (std::memcmp(ca_.data(), cb_.data(), m_ * 4) != 0) +
                       differ_from_rule(s_.data(), d_.data(), n);
    return bad ? std::to_string(bad) + " values wrong" : "";
  }
  // the floats copied: 2 x 4m bytes = the conversion's bytes, with cached or streaming stores
  // (copy_nt: the ceiling of a cast whose stores stream)
  void ref() override {
    nt_ref_ ? cpu::stream_copy_nt(ca_.data(), cb_.data(), m_)
            : cpu::stream_copy(ca_.data(), cb_.data(), m_);
  }
  void report(benchmark::State& state, const Peaks&) override {
    report_stores(state, static_cast<double>(bytes_));
  }
  Work work() const override {
    return {static_cast<double>(bytes_), 0, 0, static_cast<double>(bytes_), 8.0 * m_};
  }

  const bool nt_ref_ = p["ref"] == "copy_nt";
  const size_t bytes_ = n * (sizeof(S) + sizeof(D)), m_ = bytes_ / 8;
  Buffer<S> s_;
  Buffer<D> d_;
  Buffer<float> ca_, cb_;
};

using F64F32 = TypePair<double, float>;
using F32F16 = TypePair<float, half>;
using F32BF16 = TypePair<float, bfloat16>;
using F16F32 = TypePair<half, float>;
using BF16F32 = TypePair<bfloat16, float>;
using F64I32 = TypePair<double, int32_t>;
using U8F32 = TypePair<uint8_t, float>;

enum class Threads { Run, Peer, One };
Spec narrowing(const char* variant, Factory f, Threads threads = Threads::Run) {
  Spec s(variant);
  s.with(dtype_axis<double>("src")).with(dtype_axis<float>("dst")).with(levels_axis());
  if (threads == Threads::One)
    s.with(int_axis("threads", {1}));  // one thread by nature: threads:1 only
  else
    s.with(threads == Threads::Peer ? peer_threads_axis() : threads_axis());
  return s.key("n", per_element(12)).name({"src", "dst", "n", "level", "threads"}).cases(f);
}

std::vector<Spec> cpu_specs() {
  auto src_dst = [](const Point& p) { return pair_key(p, "cast", false); };
  auto dst_of = [](const Point& p) { return pair_key(p, "cast", true); };
  return {
      narrowing("astype_alloc", plain<AstypeAlloc>(), Threads::Peer),
      narrowing("astype_prealloc", plain<AstypePrealloc>(), Threads::Peer),
      Spec("astype_chunked")
          .with(dtype_axis<double>("src"))
          .with(dtype_axis<float>("dst"))
          .with(levels_axis())
          .with(option_axis("chunk_mib", "chunk-mib"))
          .with(threads_axis())
          .key("n", per_element(12))
          .from_option("tmpdir", "tmpdir")
          .name({"src", "dst", "n", "level", "chunk_mib", "threads"})
          .skip_if([](const Point& p) -> std::string {
            if ((p.size("chunk_mib") << 20) / sizeof(double) <= p.size("n")) return "";
            return "a chunk of " + p["chunk_mib"] + " MiB is larger than the array (" +
                   mem::format_bytes(8.0 * p.num("n")) + ")";
          })
          .cases(plain<AstypeChunked>()),
      narrowing("astype_inplace", plain<AstypeInplace>(), Threads::One),
      narrowing("view", plain<View>(), Threads::One),
      Spec("copy")
          .with(dtype_axis<float>("dtype"))
          .sweep()
          .key("n", [](const Point& p) { return number(p.size("level") / 12 * 3 / 2); })
          .name({"dtype", "n", "level", "threads"})
          .note("2 x 4n bytes: the bytes a narrowing of the same level moves")
          .cases(plain<CopyCase>()),
      Spec("cast")
          .with(type_pair_axis<F64F32, F32F16, F32BF16, F16F32, BF16F32, F64I32, U8F32>())
          .with(axis("path", {"simd", "portable"}))
          .with(levels_axis())
          .with(peer_threads_axis())
          .key("src", src_dst)
          .key("dst", dst_of)
          .key("n", [](const Point& p) { return number(p.size("level") / p.size("cast")); })
          .name({"src", "dst", "path", "n", "level", "threads"})
          .cases(typed_pairs<CastCase, F64F32, F32F16, F32BF16, F16F32, BF16F32, F64I32, U8F32>()),
      Spec("f16_range")
          .with(axis("method", {"check_then_cast", "fused"}))
          .sweep()
          .with(dtype_axis<float>("src"))
          .with(dtype_axis<half>("dst"))
          .key("n", per_element(6))
          .name({"method", "src", "dst", "n", "level", "threads"})
          .cases(plain<F16RangeCase>()),
      Spec("promote")
          .with(axis_of<Promote>("method", {{"f64_temporaries", Promote::F64Temporaries},
                                            {"f32_temporaries", Promote::F32Temporaries},
                                            {"fused", Promote::Fused}}))
          .sweep()
          .with(axis("expr", {"i32*f32+f32"}))
          .key("n", per_element(16))  // three 4-byte inputs and a 4-byte result
          .name({"method", "expr", "n", "level", "threads"})
          .cases(plain<PromoteCase>()),
      Spec("byteswap")
          .with(int_axis("width", {2, 4, 8}))
          .with(axis("path", {"simd", "portable"}))
          .with(levels_axis())
          .with(peer_threads_axis())
          .key("n", [](const Point& p) { return number(p.size("level") / (2 * p.size("width"))); })
          .name({"width", "path", "n", "level", "threads"})
          .cases(plain<ByteswapCase>()),
      Spec("")
          .with(axis("variant", {"aos_field", "soa_field"}))
          .sweep()
          .with(dtype_axis<float>("field"))
          .key("n",
               [](const Point& p) {
                 const size_t per = p["variant"] == "aos_field" ? sizeof(cpu::Record) : 4;
                 return number(p.size("level") / per);
               })
          .name({"field", "n", "level", "threads"})
          .cases(plain<FieldCase>()),
      Spec("pair", Timing::Pair)
          .with(type_pair_axis<F64F32, F32F16, F32BF16, F64I32, U8F32>())
          .sweep(pair_levels_axis())
          .key("subject",
               [](const Point& p) {
                 return Value{p["cast"] == "f64>f32" ? "astype_prealloc" : "cast_simd", 0};
               })
          .with(axis("ref", {"copy", "copy_nt"}))
          .key("src", src_dst)
          .key("dst", dst_of)
          .key("n", [](const Point& p) { return number(p.size("level") / p.size("cast")); })
          .name({"subject", "ref", "src", "dst", "n", "level", "threads"})
          .cases(typed_pairs<CastPairCase, F64F32, F32F16, F32BF16, F64I32, U8F32>()),
  };
}

std::string default_tmpdir() {
  const char* t = std::getenv("TMPDIR");
  return t && *t ? t : "/tmp";
}

const FamilyRegistrar reg{
    {"convert",
     "dtype conversion: astype strategies with peak memory, casts (SIMD vs portable), f16 range, "
     "promotion, byte order, AoS vs SoA; GPU casts and host->device transfers",
     cpu_specs(),
     {sizes_option("chunk-mib", "chunk sizes of the chunked f64->f32, MiB", "1,16", "16", 1 << 20),
      dir_option("tmpdir", "where the chunked f64->f32 writes its memory-mapped source file",
                 default_tmpdir())}}};

#ifdef DTYPEBENCH_HAVE_CUDA
// GPU: device conversions against the device copy, transfers by dtype and cast placement

template <class S, class D>
struct GpuCastCase : Case {
  void run() override { cuda::convert(s_.data(), d_.data(), n); }
  std::string setup() override {
    Buffer<S> hs(n);
    Buffer<D> hd(n);
    if constexpr (std::is_same_v<S, half>) {
      for (size_t i = 0; i < n; ++i) hs[i].bits = static_cast<uint16_t>(splitmix64(i));
    } else {
      fill_uniform(hs.data(), n, 71, -7e4, 7e4);
    }
    s_ = to_device(hs);
    d_ = poisoned_device<D>(n);
    run();
    gpu::copy_to_host(hd.data(), d_.data(), d_.bytes());
    size_t bad = 0;
    for (size_t i = 0; i < n; ++i) {
      const uint64_t want = rule<S, D>(hs[i]), got = bits_of(hd[i]);
      // NaN payloads may differ between the device's and the host's rules; NaN must stay NaN
      const bool nan = std::isnan(static_cast<double>(load_acc(hs[i])));
      bad += nan ? !std::isnan(static_cast<double>(load_acc(hd[i]))) : got != want;
    }
    return count_wrong(bad, n, "values");
  }
  Work work() const override { return streamed(n * (sizeof(S) + sizeof(D)), n); }

  gpu::DeviceBuffer<S> s_;
  gpu::DeviceBuffer<D> d_;
};

// the copy engine moving the same bytes
struct GpuCopyCase : Case {
  void run() override { gpu::copy_on_device(b_.data(), a_.data(), bytes_); }
  std::string setup() override {
    a_ = gpu::DeviceBuffer<char>(bytes_);
    b_ = gpu::DeviceBuffer<char>(bytes_);
    gpu::memset_device(a_.data(), 0x5a, bytes_);
    run();
    std::vector<char> h(bytes_);
    gpu::copy_to_host(h.data(), b_.data(), bytes_);
    for (char c : h)
      if (c != 0x5a) return "device copy wrong";
    return "";
  }
  Work work() const override { return streamed(2.0 * bytes_, 0); }

  const size_t bytes_ = p.size("bytes");
  gpu::DeviceBuffer<char> a_, b_;
};

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

const size_t kTransferElems = size_t(64) << 20;  // 512 MiB of f64, 128 MiB of f16

template <class T>
struct H2dCase : Case {
  void run() override { cuda::h2d(d_.data(), h_->p, n * sizeof(T)); }
  std::string setup() override {
    h_ = std::make_unique<HostBuf>(n * sizeof(T), p["memory"] == "pinned");
    std::memset(h_->p, 0x3c, n * sizeof(T));
    d_ = gpu::DeviceBuffer<T>(n);
    run();
    std::vector<char> back(n * sizeof(T));
    gpu::copy_to_host(back.data(), d_.data(), back.size());
    return std::memcmp(back.data(), h_->p, back.size()) ? "transfer wrong" : "";
  }
  Work work() const override {
    return {static_cast<double>(n * sizeof(T)), 0, static_cast<double>(n), 0};
  }

  std::unique_ptr<HostBuf> h_;
  gpu::DeviceBuffer<T> d_;
};

// f64 on the host to f32 on the device, end to end: cast on the host then copy 4n bytes; copy 8n
// bytes then cast on the device; or one kernel reading pinned host memory (zero-copy). Timed on
// the wall clock (host work included), closed by a device sync.
enum class CastAt { HostThenCopy, CopyThenDevice, ZeroCopy };

struct H2dCastCase : Case {
  void run() override {
    const double* src = static_cast<const double*>(src_->p);
    if (pl_ == CastAt::HostThenCopy) {
      cpu::convert(src, static_cast<float*>(narrow_->p), n, Path::Simd);
      cuda::h2d(d32_.data(), narrow_->p, n * 4);
    } else if (pl_ == CastAt::CopyThenDevice) {
      cuda::h2d(d64_.data(), src, n * 8);
      cuda::convert(d64_.data(), d32_.data(), n);
    } else {
      cuda::convert_from_host(src, d32_.data(), n);
    }
  }
  std::string setup() override {
    const bool pinned = p["memory"] == "pinned";
    src_ = std::make_unique<HostBuf>(n * 8, pinned);
    fill_uniform(static_cast<double*>(src_->p), n, 81, -1e3, 1e3);
    if (pl_ == CastAt::HostThenCopy) narrow_ = std::make_unique<HostBuf>(n * 4, pinned);
    if (pl_ == CastAt::CopyThenDevice) d64_ = gpu::DeviceBuffer<double>(n);
    d32_ = poisoned_device<float>(n);
    run();
    std::vector<float> got(n);
    gpu::copy_to_host(got.data(), d32_.data(), n * 4);
    const double* src = static_cast<const double*>(src_->p);
    size_t bad = 0;
    for (size_t i = 0; i < n; ++i) bad += got[i] != static_cast<float>(src[i]);
    return count_wrong(bad, n, "values");
  }
  // bytes: input bytes, so 1 / rate is the end-to-end time per input byte
  Work work() const override { return {8.0 * n, 0, static_cast<double>(n), 0}; }

  const CastAt pl_ = p.get<CastAt>("placement");
  std::unique_ptr<HostBuf> src_, narrow_;
  gpu::DeviceBuffer<double> d64_;
  gpu::DeviceBuffer<float> d32_;
};

std::vector<Spec> gpu_specs() {
  const auto transfer_n = [](const Point&) { return number(kTransferElems); };
  return {
      Spec("gpu_memcpy_d2d", Timing::Gpu)
          .with(gpu_levels_axis())
          .key("bytes", [](const Point& p) { return number(p.size("level") / 2); })
          .name({"bytes", "level"})
          .cases(plain<GpuCopyCase>()),
      Spec("gpu_cast", Timing::Gpu)
          .with(type_pair_axis<F64F32, F32F16, F32BF16, F16F32>())
          .with(gpu_levels_axis())
          .key("src", [](const Point& p) { return pair_key(p, "cast", false); })
          .key("dst", [](const Point& p) { return pair_key(p, "cast", true); })
          .key("n", [](const Point& p) { return number(p.size("level") / p.size("cast")); })
          .name({"src", "dst", "n", "level"})
          .cases(typed_pairs<GpuCastCase, F64F32, F32F16, F32BF16, F16F32>()),
      Spec("h2d", Timing::Gpu)
          .with(dtype_axis<double, float, half>())
          .with(axis("memory", {"pageable", "pinned"}))
          .key("n", transfer_n)
          .cases(typed<H2dCase, double, float, half>()),
      Spec("h2d_cast", Timing::GpuWall)
          .with(axis_of<CastAt>("placement", {{"host_cast_then_copy", CastAt::HostThenCopy},
                                              {"copy_then_device_cast", CastAt::CopyThenDevice},
                                              {"zero_copy", CastAt::ZeroCopy}}))
          .with(axis("memory", {"pageable", "pinned"}))
          .with(dtype_axis<double>("src"))
          .with(dtype_axis<float>("dst"))
          .key("n", transfer_n)
          .skip_if([](const Point& p) -> std::string {
            return p["placement"] == "zero_copy" && p["memory"] != "pinned"
                       ? "zero-copy reads need pinned (mapped) host memory"
                       : "";
          })
          .cases(plain<H2dCastCase>()),
  };
}
const FamilyRegistrar gpu_reg{{"convert", "", gpu_specs(), {}}};  // joins the family above
#endif

}  // namespace
}  // namespace dtypebench::bench
