// Launch-grid arithmetic, kept in size_t and narrowed to a launch's unsigned only by grid_dim,
// which throws where it would not fit. Plain C++: the tests run it on machines without a GPU.
#pragma once

#include <algorithm>
#include <cstddef>
#include <stdexcept>
#include <string>

namespace dtypebench {

// ceil(a / b) for b > 0, with no overflow at the top of size_t ((a + b - 1) / b wraps there)
constexpr size_t ceil_div(size_t a, size_t b) { return a / b + (a % b != 0 ? 1 : 0); }

constexpr size_t kMaxGridX = 2147483647;  // 2^31 - 1, CUDA's limit for gridDim.x
constexpr size_t kMaxGridYZ = 65535;

// blocks as a launch takes them; a grid past `limit` is a bug in the caller, said with `what`
inline unsigned grid_dim(size_t blocks, const char* what, size_t limit = kMaxGridX) {
  if (blocks > limit)
    throw std::length_error(std::string(what) + ": a grid of " + std::to_string(blocks) +
                            " blocks is past the launch limit of " + std::to_string(limit));
  return static_cast<unsigned>(blocks);
}

// The blocks of `block` threads a grid-stride loop over `work` items is launched with: what the
// work needs, at most `per_sm` resident blocks on each of `sms` SMs (8 x 256 = 2048 threads fill
// an SM); at least one SM is assumed where the count is unknown.
constexpr size_t stream_blocks(size_t work, int sms, size_t block = 256, size_t per_sm = 8) {
  const size_t full = static_cast<size_t>(sms > 0 ? sms : 1) * per_sm;
  return std::min(ceil_div(work, block), full);
}

// How many launches one pair of CUDA events times: enough back-to-back launches to fill
// `target` seconds (one launch of a short kernel is mostly launch latency), at least 1 and at
// most `most`. `one` is the time of one launch, measured; 0 or less gives 1.
constexpr size_t launches_per_timing(double one, double target = 200e-6, size_t most = 4096) {
  if (!(one > 0)) return 1;
  const double want = target / one;
  if (!(want < static_cast<double>(most))) return most;  // NaN and huge land here too
  size_t n = static_cast<size_t>(want);
  if (static_cast<double>(n) < want * (1 - 1e-12)) ++n;  // up, but not for a rounding's crumb
  return n > 1 ? n : 1;
}

}  // namespace dtypebench
