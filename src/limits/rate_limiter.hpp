// The rate limits of one route, compiled against the gateway's shared BucketTable.
//
// Every limit whose tier condition holds and whose key can be formed is charged one request; the
// request is admitted only when all of them admit it (earlier charges are refunded otherwise).
// The decision carries the numbers of the most constraining limit for the RateLimit-* fields.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "limits/gcra.hpp"
#include "limits/keys.hpp"
#include "limits/rate_limit_config.hpp"

namespace sluice::limits {

struct RateDecision {
  bool limited = false;              // some limit applied: answer with the RateLimit-* fields
  bool allowed = true;               // false: answer 429 with Retry-After
  uint32_t limit = 0;                // RateLimit-Limit: the burst of the most constraining limit
  uint32_t remaining = 0;            // RateLimit-Remaining
  uint32_t reset_seconds = 0;        // RateLimit-Reset: until the full burst is available
  uint32_t retry_after_seconds = 0;  // Retry-After when rejected, at least 1
  int rejected_by = -1;              // index of the rejecting limit
};

struct LimitCounters {
  std::atomic<uint64_t> admitted{0};
  std::atomic<uint64_t> rejected{0};
};

class RouteRateLimiter {
 public:
  // `route_id` separates the buckets of routes sharing `table`; `table` must outlive this.
  RouteRateLimiter(uint32_t route_id, const std::vector<RateLimitSpec>& specs, SkipRule skip,
                   BucketTable& table);

  // Safe from any thread. Allocation-free once the thread's key buffer has grown to the key size.
  RateDecision check(const RequestView& request, Duration now = steady_now());

  bool empty() const { return limits_.empty(); }
  size_t size() const { return limits_.size(); }
  const RateLimitSpec& spec(size_t i) const { return limits_[i]->spec; }
  const LimitCounters& counters(size_t i) const { return limits_[i]->counters; }

 private:
  struct Compiled {
    RateLimitSpec spec;
    GcraParams params;
    LimitCounters counters;
  };
  bool build_key(size_t i, const RequestView& request, std::string& key) const;

  uint32_t route_id_;
  SkipRule skip_;
  BucketTable& table_;
  std::vector<std::unique_ptr<Compiled>> limits_;
};

// Writes "RateLimit-Limit: ..\r\nRateLimit-Remaining: ..\r\nRateLimit-Reset: ..\r\n" and, when
// rejected, "Retry-After: ..\r\n" into `out`; returns the length (0 when not limited or too small).
size_t write_rate_limit_headers(const RateDecision& d, char* out, size_t capacity);

}  // namespace sluice::limits
