// Host memory accounting: every buffer the suite allocates is tracked (live and peak bytes), and
// the process's resident high-water mark is read (and reset) from /proc, so a benchmark reports the
// peak it caused, both as we count it and as the kernel saw it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>

namespace dtypebench {

// Thrown when a working set cannot fit; benchmarks report it and the run goes on.
struct OutOfMemory : std::runtime_error {
  using std::runtime_error::runtime_error;
};

namespace mem {

// Tracked, 64-byte aligned host allocation; from 1 MiB on, a page-aligned mapping of its own
// (fresh pages, unmapped at release). Pages are not touched here: the kernel that writes first
// decides where they land, and the high-water mark counts them then.
// Buffers of 32 MiB and more ask for transparent huge pages (madvise) unless huge_pages is false,
// as NumPy asks from 4 MiB: a fresh array's first touch then takes one fault per 2 MiB instead
// of one per 4 KiB (astype of 640 MiB at DRAM: 3.9 -> 8.1 GB/s on one thread). With THP
// defrag=madvise a fault may stall on compaction; that is what NumPy's astype pays too.
void* allocate(size_t bytes, bool huge_pages = true);
void release(void* p, size_t bytes) noexcept;

// Counts bytes that are not ours to allocate (a memory-mapped window) in live/peak while mapped.
void track_external(size_t bytes);
void untrack_external(size_t bytes) noexcept;

size_t live_bytes();
size_t peak_bytes();
void reset_peak();  // peak := live

size_t available_bytes();  // MemAvailable from /proc/meminfo (0 if unknown)
size_t total_bytes();      // MemTotal
size_t rss_bytes();        // VmRSS
size_t rss_hwm_bytes();    // VmHWM
bool reset_rss_hwm();      // writes 5 to /proc/self/clear_refs; false where the kernel refuses

std::string format_bytes(double bytes);  // "1.50 GiB"

}  // namespace mem

// A typed, tracked, move-only host array. An empty one allocates nothing (data() is null).
template <class T>
class Buffer {
 public:
  Buffer() = default;
  explicit Buffer(size_t n, bool huge_pages = true)
      : n_(n), p_(n ? static_cast<T*>(mem::allocate(n * sizeof(T), huge_pages)) : nullptr) {}
  Buffer(Buffer&& o) noexcept : n_(std::exchange(o.n_, 0)), p_(std::exchange(o.p_, nullptr)) {}
  Buffer& operator=(Buffer&& o) noexcept {
    if (this != &o) {
      reset();
      n_ = std::exchange(o.n_, 0);
      p_ = std::exchange(o.p_, nullptr);
    }
    return *this;
  }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  ~Buffer() { reset(); }

  void reset() {
    if (p_) mem::release(p_, n_ * sizeof(T));
    p_ = nullptr;
    n_ = 0;
  }
  T* data() { return p_; }
  const T* data() const { return p_; }
  size_t size() const { return n_; }
  size_t bytes() const { return n_ * sizeof(T); }
  T& operator[](size_t i) { return p_[i]; }
  const T& operator[](size_t i) const { return p_[i]; }
  T* begin() { return p_; }
  T* end() { return p_ + n_; }
  const T* begin() const { return p_; }
  const T* end() const { return p_ + n_; }

 private:
  size_t n_ = 0;
  T* p_ = nullptr;
};

// Peak memory of one scope: our tracked allocations above what was live at the start, and the
// growth of the process's resident high-water mark (both in bytes).
class PeakScope {
 public:
  PeakScope();
  size_t tracked_peak() const;  // bytes
  size_t rss_peak() const;      // bytes; 0 where the high-water mark could not be reset

 private:
  size_t live0_;
  size_t rss0_;
  bool rss_ok_;
};

}  // namespace dtypebench
