// Per-route cache counters, striped across threads so workers do not contend on one line.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace sluice::cache {

enum class Counter : uint8_t {
  hits,          // served fresh from the cache (including 304s and coalesced waiters)
  misses,        // no usable entry: fetched upstream
  stale,         // served stale (stale-while-revalidate or stale-if-error)
  expired,       // an expired entry was refetched
  bypass,        // the request skipped the cache
  not_modified,  // hits answered with 304
  coalesced,     // misses that waited for another request's fetch instead of going upstream
  stores,        // responses stored
  not_admitted,  // misses whose response was relayed unstored by adaptive admission
  evictions,     // entries removed to make room
  purged,        // entries removed by invalidate, purge_tag or clear
  bytes,         // bytes held now (a gauge)
  keys,          // entries held now (a gauge)
  count_
};
inline constexpr size_t kCounterCount = static_cast<size_t>(Counter::count_);
const char* counter_name(Counter c);

class CacheStats {
 public:
  explicit CacheStats(size_t routes);
  void add(uint16_t route, Counter c, int64_t n = 1) {
    row(stripe_index(), route)[static_cast<size_t>(c)].fetch_add(n, std::memory_order_relaxed);
  }
  int64_t get(uint16_t route, Counter c) const;
  int64_t total(Counter c) const;
  size_t routes() const { return routes_; }

 private:
  static constexpr size_t kStripes = 16;
  struct alignas(64) Row {
    std::array<std::atomic<int64_t>, kCounterCount> values{};
  };
  static size_t stripe_index();
  std::atomic<int64_t>* row(size_t stripe, uint16_t route) {
    return rows_[stripe * routes_ + route].values.data();
  }
  size_t routes_;
  std::unique_ptr<Row[]> rows_;
};

}  // namespace sluice::cache
