// Log-linear latency histogram in the HdrHistogram style: values in nanoseconds, 2048 linear
// sub-buckets per power of two, so every recorded value keeps 3 significant decimal digits.
// Two histograms merge exactly by adding their bins, whichever thread or file they came from.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace sluice::load {

struct SparseHistogram;

class Histogram {
 public:
  static constexpr int kSubBucketBits = 11;
  static constexpr uint64_t kSubBucketCount = uint64_t{1} << kSubBucketBits;  // 2048
  static constexpr uint64_t kHalfCount = kSubBucketCount / 2;
  static constexpr int kMaxValueBits = 43;  // ~2.4 hours in ns; larger values are clamped
  static constexpr uint64_t kMaxValue = (uint64_t{1} << kMaxValueBits) - 1;
  static constexpr uint32_t kBinCount =
      static_cast<uint32_t>(kSubBucketCount + (kMaxValueBits - kSubBucketBits) * kHalfCount);

  Histogram();

  static uint32_t index_of(uint64_t value);
  static uint64_t lowest_equivalent(uint32_t index);
  static uint64_t highest_equivalent(uint32_t index);
  static uint64_t median_equivalent(uint32_t index);

  void record(uint64_t value_ns) {
    if (value_ns > kMaxValue) value_ns = kMaxValue;
    ++counts_[index_of(value_ns)];
    ++total_;
    sum_ += value_ns;
    if (value_ns > max_) max_ = value_ns;
    if (value_ns < min_) min_ = value_ns;
  }
  void add_bin(uint32_t index, uint64_t count);
  void merge(const Histogram& other);
  void reset();

  uint64_t count() const { return total_; }
  uint64_t max() const { return total_ ? max_ : 0; }
  uint64_t min() const { return total_ ? min_ : 0; }
  double mean() const {
    return total_ ? static_cast<double>(sum_) / static_cast<double>(total_) : 0;
  }
  double stdev() const;
  // The value at or below which `percentile` % of the samples fall (highest equivalent of its
  // bin, never above the exact maximum).
  uint64_t value_at(double percentile) const;
  uint64_t sum() const { return sum_; }
  // Exact min/max/sum survive a round trip through a file.
  void set_exact(uint64_t min, uint64_t max, uint64_t sum) {
    min_ = min;
    max_ = max;
    sum_ = sum;
  }

  // Moves the non-empty bins out, leaving this histogram empty (per-second snapshots).
  void drain_into(SparseHistogram& out);
  template <class Fn>
  void for_each_bin(Fn&& fn) const {
    for (uint32_t i = 0; i < kBinCount; ++i)
      if (counts_[i]) fn(i, counts_[i]);
  }

 private:
  std::vector<uint64_t> counts_;
  uint64_t total_ = 0;
  uint64_t sum_ = 0;
  uint64_t max_ = 0;
  uint64_t min_ = UINT64_MAX;
};

// A histogram kept as its non-empty bins only, for per-second series (a few hundred bins a
// second instead of 34k counters), still mergeable exactly.
struct SparseHistogram {
  std::vector<std::pair<uint32_t, uint32_t>> bins;  // sorted by index
  uint64_t max = 0;
  uint64_t sum = 0;
  uint64_t count() const;
  void merge(const SparseHistogram& other);
  Histogram to_histogram() const;
  // Same answer as to_histogram().value_at(p), without building the dense histogram.
  uint64_t value_at(double percentile) const;
  // Heap bytes held by the bins (what a long timeline costs).
  size_t bytes() const { return bins.capacity() * sizeof(bins[0]); }
};

}  // namespace sluice::load
