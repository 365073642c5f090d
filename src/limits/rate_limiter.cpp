#include "limits/rate_limiter.hpp"

#include <cstdio>

namespace sluice::limits {

RouteRateLimiter::RouteRateLimiter(uint32_t route_id, const std::vector<RateLimitSpec>& specs,
                                   SkipRule skip, BucketTable& table)
    : route_id_(route_id), skip_(std::move(skip)), table_(table) {
  for (const auto& s : specs) {
    auto c = std::make_unique<Compiled>();
    c->spec = s;
    c->params = GcraParams::make(s.rate, s.burst);
    limits_.push_back(std::move(c));
  }
}

bool RouteRateLimiter::build_key(size_t i, const RequestView& request, std::string& key) const {
  const Compiled& c = *limits_[i];
  if (!c.spec.tier.applies(request)) return false;
  const char prefix[5] = {static_cast<char>(route_id_ & 0xff),
                          static_cast<char>((route_id_ >> 8) & 0xff),
                          static_cast<char>((route_id_ >> 16) & 0xff),
                          static_cast<char>(route_id_ >> 24), static_cast<char>(i)};
  key.assign(prefix, sizeof prefix);
  return append_key(c.spec.key, request, key);
}

RateDecision RouteRateLimiter::check(const RequestView& request, Duration now) {
  RateDecision d;
  if (limits_.empty() || skip_.matches(request.path())) return d;
  thread_local std::string key = [] {
    std::string s;
    s.reserve(256);
    return s;
  }();
  uint64_t charged = 0;  // bit i: limit i admitted this request
  for (size_t i = 0; i < limits_.size(); ++i) {
    if (!build_key(i, request, key)) continue;
    Compiled& c = *limits_[i];
    GcraResult r = table_.acquire(key, c.params, now);
    if (!r.allowed) {
      for (size_t j = 0; j < i; ++j)
        if ((charged >> j) & 1)
          if (build_key(j, request, key)) table_.refund(key, limits_[j]->params, now);
      c.counters.rejected.fetch_add(1, std::memory_order_relaxed);
      d.limited = true;
      d.allowed = false;
      d.limit = c.params.burst;
      d.remaining = 0;
      d.reset_seconds = ceil_seconds(r.reset);
      d.retry_after_seconds = std::max<uint32_t>(1, ceil_seconds(r.retry_after));
      d.rejected_by = static_cast<int>(i);
      return d;
    }
    charged |= uint64_t{1} << i;
    if (!d.limited || r.remaining < d.remaining) {
      d.limit = c.params.burst;
      d.remaining = r.remaining;
      d.reset_seconds = ceil_seconds(r.reset);
    }
    d.limited = true;
  }
  for (size_t i = 0; i < limits_.size(); ++i)
    if ((charged >> i) & 1) limits_[i]->counters.admitted.fetch_add(1, std::memory_order_relaxed);
  return d;
}

size_t write_rate_limit_headers(const RateDecision& d, char* out, size_t capacity) {
  if (!d.limited) return 0;
  int n;
  if (d.allowed)
    n = std::snprintf(out, capacity,
                      "RateLimit-Limit: %u\r\nRateLimit-Remaining: %u\r\nRateLimit-Reset: %u\r\n",
                      d.limit, d.remaining, d.reset_seconds);
  else
    n = std::snprintf(out, capacity,
                      "RateLimit-Limit: %u\r\nRateLimit-Remaining: %u\r\nRateLimit-Reset: "
                      "%u\r\nRetry-After: %u\r\n",
                      d.limit, d.remaining, d.reset_seconds, d.retry_after_seconds);
  if (n < 0 || static_cast<size_t>(n) >= capacity) return 0;
  return static_cast<size_t>(n);
}

}  // namespace sluice::limits
