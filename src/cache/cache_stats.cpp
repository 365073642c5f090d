#include "cache/cache_stats.hpp"

namespace sluice::cache {

const char* counter_name(Counter c) {
  switch (c) {
    case Counter::hits:
      return "hits";
    case Counter::misses:
      return "misses";
    case Counter::stale:
      return "stale";
    case Counter::expired:
      return "expired";
    case Counter::bypass:
      return "bypass";
    case Counter::not_modified:
      return "not_modified";
    case Counter::coalesced:
      return "coalesced";
    case Counter::stores:
      return "stores";
    case Counter::not_admitted:
      return "not_admitted";
    case Counter::evictions:
      return "evictions";
    case Counter::purged:
      return "purged";
    case Counter::bytes:
      return "bytes";
    case Counter::keys:
      return "keys";
    case Counter::count_:
      break;
  }
  return "?";
}

CacheStats::CacheStats(size_t routes)
    : routes_(routes == 0 ? 1 : routes), rows_(new Row[kStripes * routes_]) {}

size_t CacheStats::stripe_index() {
  static std::atomic<size_t> next{0};
  thread_local size_t index = next.fetch_add(1, std::memory_order_relaxed) % kStripes;
  return index;
}

int64_t CacheStats::get(uint16_t route, Counter c) const {
  int64_t sum = 0;
  for (size_t s = 0; s < kStripes; ++s)
    sum +=
        rows_[s * routes_ + route].values[static_cast<size_t>(c)].load(std::memory_order_relaxed);
  return sum;
}

int64_t CacheStats::total(Counter c) const {
  int64_t sum = 0;
  for (size_t r = 0; r < routes_; ++r)
    sum += get(static_cast<uint16_t>(r), c);
  return sum;
}

}  // namespace sluice::cache
