#include "load/histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace sluice::load {

Histogram::Histogram() : counts_(kBinCount, 0) {}

uint32_t Histogram::index_of(uint64_t value) {
  if (value > kMaxValue) value = kMaxValue;
  if (value < kSubBucketCount) return static_cast<uint32_t>(value);
  int shift = std::bit_width(value) - kSubBucketBits;  // value >> shift is in [1024, 2047]
  return static_cast<uint32_t>(kSubBucketCount + (shift - 1) * kHalfCount +
                               ((value >> shift) - kHalfCount));
}

uint64_t Histogram::lowest_equivalent(uint32_t index) {
  if (index < kSubBucketCount) return index;
  uint64_t rel = index - kSubBucketCount;
  int shift = static_cast<int>(rel / kHalfCount) + 1;
  uint64_t sub = rel % kHalfCount + kHalfCount;
  return sub << shift;
}

uint64_t Histogram::highest_equivalent(uint32_t index) {
  if (index < kSubBucketCount) return index;
  int shift = static_cast<int>((index - kSubBucketCount) / kHalfCount) + 1;
  return lowest_equivalent(index) + (uint64_t{1} << shift) - 1;
}

uint64_t Histogram::median_equivalent(uint32_t index) {
  return (lowest_equivalent(index) + highest_equivalent(index)) / 2;
}

void Histogram::add_bin(uint32_t index, uint64_t count) {
  if (index >= kBinCount || count == 0) return;
  counts_[index] += count;
  total_ += count;
  uint64_t lo = lowest_equivalent(index), hi = highest_equivalent(index);
  sum_ += count * median_equivalent(index);
  if (hi > max_) max_ = hi;
  if (lo < min_) min_ = lo;
}

void Histogram::merge(const Histogram& other) {
  for (uint32_t i = 0; i < kBinCount; ++i)
    counts_[i] += other.counts_[i];
  total_ += other.total_;
  sum_ += other.sum_;
  if (other.total_) {
    max_ = std::max(max_, other.max_);
    min_ = std::min(min_, other.min_);
  }
}

void Histogram::reset() {
  std::fill(counts_.begin(), counts_.end(), 0);
  total_ = sum_ = max_ = 0;
  min_ = UINT64_MAX;
}

double Histogram::stdev() const {
  if (total_ == 0) return 0;
  double m = mean(), acc = 0;
  for_each_bin([&](uint32_t i, uint64_t c) {
    double d = static_cast<double>(median_equivalent(i)) - m;
    acc += d * d * static_cast<double>(c);
  });
  return std::sqrt(acc / static_cast<double>(total_));
}

uint64_t Histogram::value_at(double percentile) const {
  if (total_ == 0) return 0;
  percentile = std::clamp(percentile, 0.0, 100.0);
  uint64_t wanted =
      static_cast<uint64_t>(std::ceil(percentile / 100.0 * static_cast<double>(total_)));
  if (wanted == 0) wanted = 1;
  uint64_t seen = 0;
  for (uint32_t i = 0; i < kBinCount; ++i) {
    seen += counts_[i];
    if (seen >= wanted) return std::min(highest_equivalent(i), max_);
  }
  return max_;
}

void Histogram::drain_into(SparseHistogram& sparse) {
  auto& out = sparse.bins;
  out.clear();
  sparse.max = max();
  sparse.sum = sum_;
  if (total_ == 0) return;
  // Only the range between min and max can hold counts: a short scan each second. Counting
  // first sizes the vector exactly, since a long run keeps thousands of these.
  uint32_t lo = index_of(min_), hi = index_of(max_);
  size_t used = 0;
  for (uint32_t i = lo; i <= hi; ++i)
    used += counts_[i] != 0;
  out.reserve(used);
  for (uint32_t i = lo; i <= hi; ++i) {
    if (counts_[i]) {
      out.emplace_back(i, static_cast<uint32_t>(counts_[i]));
      counts_[i] = 0;
    }
  }
  total_ = sum_ = max_ = 0;
  min_ = UINT64_MAX;
}

uint64_t SparseHistogram::count() const {
  uint64_t n = 0;
  for (auto& [i, c] : bins)
    n += c;
  return n;
}

void SparseHistogram::merge(const SparseHistogram& other) {
  std::vector<std::pair<uint32_t, uint32_t>> out;
  out.reserve(bins.size() + other.bins.size());
  size_t a = 0, b = 0;
  while (a < bins.size() || b < other.bins.size()) {
    if (b == other.bins.size() || (a < bins.size() && bins[a].first < other.bins[b].first)) {
      out.push_back(bins[a++]);
    } else if (a == bins.size() || other.bins[b].first < bins[a].first) {
      out.push_back(other.bins[b++]);
    } else {
      out.emplace_back(bins[a].first, bins[a].second + other.bins[b].second);
      ++a;
      ++b;
    }
  }
  bins = std::move(out);
  max = std::max(max, other.max);
  sum += other.sum;
}

uint64_t SparseHistogram::value_at(double percentile) const {
  uint64_t total = count();
  if (total == 0) return 0;
  percentile = std::clamp(percentile, 0.0, 100.0);
  uint64_t wanted =
      static_cast<uint64_t>(std::ceil(percentile / 100.0 * static_cast<double>(total)));
  if (wanted == 0) wanted = 1;
  uint64_t top = max ? max : Histogram::highest_equivalent(bins.back().first);
  uint64_t seen = 0;
  for (auto& [i, c] : bins) {
    seen += c;
    if (seen >= wanted) return std::min(Histogram::highest_equivalent(i), top);
  }
  return top;
}

Histogram SparseHistogram::to_histogram() const {
  Histogram h;
  for (auto& [i, c] : bins)
    h.add_bin(i, c);
  if (h.count()) h.set_exact(h.min(), max ? max : h.max(), sum ? sum : h.sum());
  return h;
}

}  // namespace sluice::load
