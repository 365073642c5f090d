// A count-min sketch of 4-bit counters estimating how often each key hash was requested
// recently (TinyLFU). Counters are halved periodically so that old popularity fades.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace sluice::cache::detail {

class FrequencySketch {
 public:
  // Sizes the sketch for about `entries` distinct hot keys; growing it forgets the counts.
  void ensure_capacity(size_t entries);
  void increment(uint64_t hash);
  uint32_t estimate(uint64_t hash) const;
  size_t width() const { return width_; }

 private:
  static constexpr int kRows = 4;
  size_t index(uint64_t hash, int row) const;
  void halve();
  std::vector<uint64_t> words_;  // kRows rows of width_ counters, 16 per word
  size_t width_ = 0;
  size_t additions_ = 0;
  size_t sample_size_ = 0;
};

}  // namespace sluice::cache::detail
