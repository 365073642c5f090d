#include "cache/frequency_sketch.hpp"

#include <algorithm>

namespace sluice::cache::detail {
namespace {

constexpr uint64_t kSeeds[] = {0x9E3779B97F4A7C15ull, 0xC2B2AE3D27D4EB4Full, 0x165667B19E3779F9ull,
                               0xD6E8FEB86659FD93ull};

uint64_t mix(uint64_t h, uint64_t seed) {
  h ^= seed;
  h *= 0xFF51AFD7ED558CCDull;
  h ^= h >> 33;
  h *= 0xC4CEB9FE1A85EC53ull;
  return h ^ (h >> 29);
}

}  // namespace

void FrequencySketch::ensure_capacity(size_t entries) {
  size_t sized = 16;
  while (sized < entries)
    sized <<= 1;
  // Four counters per row and entry keep collisions with the many one-off keys rare; the counts
  // are halved after ten additions per entry.
  size_t want = 4 * sized;
  if (want <= width_) return;
  width_ = want;
  words_.assign(kRows * width_ / 16, 0);
  additions_ = 0;
  sample_size_ = 10 * sized;
}

size_t FrequencySketch::index(uint64_t hash, int row) const {
  return static_cast<size_t>(row) * width_ + (mix(hash, kSeeds[row]) & (width_ - 1));
}

void FrequencySketch::increment(uint64_t hash) {
  if (width_ == 0) ensure_capacity(64);
  bool added = false;
  for (int row = 0; row < kRows; ++row) {
    size_t i = index(hash, row);
    uint64_t& word = words_[i / 16];
    int shift = static_cast<int>(i % 16) * 4;
    if (((word >> shift) & 0xF) < 15) {
      word += uint64_t{1} << shift;
      added = true;
    }
  }
  if (added && ++additions_ >= sample_size_) halve();
}

uint32_t FrequencySketch::estimate(uint64_t hash) const {
  if (width_ == 0) return 0;
  uint32_t lowest = 15;
  for (int row = 0; row < kRows; ++row) {
    size_t i = index(hash, row);
    int shift = static_cast<int>(i % 16) * 4;
    lowest = std::min(lowest, static_cast<uint32_t>((words_[i / 16] >> shift) & 0xF));
  }
  return lowest;
}

void FrequencySketch::halve() {
  for (uint64_t& w : words_)
    w = (w >> 1) & 0x7777777777777777ull;
  additions_ /= 2;
}

}  // namespace sluice::cache::detail
