// The run's timeline, assembled on the main thread while the workers run: each worker hands over
// its finished seconds, which are merged across threads as soon as every thread has delivered
// them. The per-second scalars are kept for the whole run; the latency histograms are kept per
// second until they would exceed a memory budget, then adjacent intervals are merged pairwise
// (1 s -> 2 s -> 4 s ...), so memory stays bounded however long the run.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "load/results.hpp"

namespace sluice::load {

constexpr size_t kDefaultSeriesBudget = size_t{64} << 20;

class Timeline {
 public:
  Timeline(int threads, bool open_model, bool poisson, size_t budget_bytes);

  void reserve(size_t seconds) { seconds_.reserve(seconds); }
  // The next second of thread `thread` (each thread delivers its seconds in order).
  void add(int thread, SecondSample&& s);
  // Thread `thread` has delivered its last second.
  void thread_done(int thread);
  // Finalizes every second that all threads still running have delivered.
  void settle();

  // The latest finalized second (percentiles filled in), or nullptr.
  const SecondSample* last() const { return finalized_ ? &seconds_[finalized_ - 1] : nullptr; }
  size_t histogram_bytes() const { return bytes_; }
  uint32_t span() const { return span_; }

  // Finalizes everything and hands the series over (histograms attached per interval).
  std::vector<SecondSample> finish();

 private:
  void finalize(size_t second);
  void fold();

  int threads_;
  bool open_model_, poisson_;
  size_t budget_;
  std::vector<size_t> delivered_;
  std::vector<bool> done_;
  std::vector<SecondSample> seconds_;  // `latency` holds a second's histogram until finalized
  size_t finalized_ = 0;
  std::vector<SparseHistogram> intervals_;  // intervals_[i] covers [i * span_, (i + 1) * span_)
  uint32_t span_ = 1;
  size_t bytes_ = 0;
};

}  // namespace sluice::load
