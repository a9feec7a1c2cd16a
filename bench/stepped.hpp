// The stepped case kind: work that is a sequence of steps, as training is (an epoch is steps(),
// a run is the point's "epochs"). Timed with Timing::Stepped (Timing::SteppedGpu on the GPU),
// the registry times every step (no untimed warm-up: the first epoch is a result), keeps each
// epoch apart, measures host and device memory during each epoch, and writes
//   <name>/epoch:k/...   one row per epoch: its wall time, its steps' times and losses (median,
//                        first, last; the series as counters seconds[i] and loss[i], i from 0)
//   <name>/...           the summary: every epoch's time, the first against the median of the
//                        rest (first_over_rest), the last loss, the highest peaks
// A point's rows share one case, built and checked once, and run in order: a row whose earlier
// epochs were filtered out runs them first, recorded but not rows.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "bench/registry.hpp"

namespace dtypebench::bench {

class SteppedCase : public Case {
 public:
  virtual size_t steps() const = 0;  // per epoch
  // step i of epoch e (both from 0): its loss, NaN where it has none
  virtual double step(size_t epoch, size_t i) = 0;
  // untimed, after each epoch: values its row carries (accuracy), the last epoch's on the summary
  virtual std::vector<std::pair<std::string, double>> after_epoch(size_t) { return {}; }
  // Case::work() is one epoch's (rates per epoch; the summary scales it by the epochs)
  void run() final;  // never called: a stepped case is timed a step at a time

  struct Epoch {
    double seconds = 0;  // wall, first step to last
    std::vector<double> step_seconds, loss;
    size_t host_peak = 0, host_rss_peak = 0, device_peak = 0;  // during the epoch
    std::vector<std::pair<std::string, double>> after;             // after_epoch's values
  };
  const std::vector<Epoch>& epochs_run() const { return record_; }

 private:
  friend class SteppedTiming;
  std::vector<Epoch> record_;
};

}  // namespace dtypebench::bench
