// The traffic policies the gateway builds once (per gateway, per upstream, per route) and the
// order in which it applies them to each request:
//
//   1. Identify: view.client = resolve_client_ip(peer, server.trusted_proxies, base, headers).
//   2. Rate limits: RateDecision d = route.rate.check(view). Not allowed: 429, with the fields
//      of write_rate_limit_headers() (which also go on every answer of a limited route).
//   3. Route cap: auto slot = route.concurrency.try_acquire(). None: route.shed_status.
//   4. Upstream: Admission a = co_await upstream.gate.acquire(route.traffic_class, deadline).
//      Not admitted: route.shed_status with "Retry-After: a.retry_after_seconds".
//   5. Attempts: upstream.budget.on_request() once; pick an endpoint that is healthy (its
//      HealthChecker) and not ejected (its OutlierDetector), weighted by OutlierDetector::weight;
//      forward; a.permit.record(time to response head) or a.permit.record_drop() on a timeout or
//      reset; outlier.record(result). On a failure: should_retry(...) && budget.try_spend(), wait
//      retry_backoff(), and try a different endpoint. The permit and the slot release on
//      destruction, when the response is done.
#pragma once

#include <optional>
#include <string_view>

#include "limits/concurrency.hpp"
#include "limits/rate_limiter.hpp"
#include "limits/upstream_config.hpp"

namespace sluice::limits {

struct UpstreamPolicies {
  explicit UpstreamPolicies(const UpstreamLimitsConfig& cfg)
      : gate(cfg.gate),
        retry(cfg.retries),
        budget(cfg.retries),
        outlier(cfg.outlier),
        health(cfg.health) {}

  ConcurrencyGate gate;
  RetryPolicy retry;
  RetryBudget budget;
  OutlierConfig outlier;                    // one OutlierDetector per endpoint
  std::optional<HealthCheckConfig> health;  // one HealthChecker per endpoint
};

// The class index of a route's `priority` on its upstream; nullopt when the upstream has no such
// class, which the gateway reports as a configuration error at the route's `priority`.
inline std::optional<size_t> resolve_traffic_class(std::string_view priority,
                                                   const TrafficClasses& classes) {
  int i = classes.index_of(priority);
  if (i < 0) return std::nullopt;
  return static_cast<size_t>(i);
}

struct RoutePolicies {
  RoutePolicies(uint32_t route_id, const RouteLimitsConfig& cfg, BucketTable& table,
                size_t traffic_class_index)
      : rate(route_id, cfg.rate_limits, cfg.skip, table),
        concurrency(cfg.max_concurrent),
        traffic_class(traffic_class_index),
        shed_status(cfg.shed_status) {}

  RouteRateLimiter rate;
  RouteConcurrency concurrency;
  size_t traffic_class;
  int shed_status;
};

}  // namespace sluice::limits
