// Predefined gateway metric families beyond the request metrics: upstreams, cache, limits.
// Each class registers its families in its constructor (before any add_worker) and hands out
// ids for the hot path; scrape-time gauges are registered with a function that reads the state.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "metrics/registry.hpp"

namespace sluice::metrics {

struct EndpointLabels {
  std::string upstream;
  std::string endpoint;  // "host:port"
};

enum class ConnectionState { active = 0, idle = 1 };

// sluice_upstream_connections{upstream,endpoint,state}   gauge, per worker, summed
// sluice_upstream_requests_total{upstream,endpoint}      counter
// sluice_upstream_retries_total{upstream,endpoint}       counter: retries sent to the endpoint
// sluice_upstream_request_duration_seconds{upstream,endpoint}  histogram
class UpstreamMetrics {
 public:
  UpstreamMetrics(Registry& registry, const std::vector<EndpointLabels>& endpoints,
                  std::vector<double> buckets);
  GaugeId connections(size_t endpoint, ConnectionState state) const {
    return connections_.at(endpoint, static_cast<size_t>(state));
  }
  CounterId requests(size_t endpoint) const { return requests_.at(endpoint); }
  CounterId retries(size_t endpoint) const { return retries_.at(endpoint); }
  HistogramId latency(size_t endpoint) const { return latency_.at(endpoint); }

 private:
  GaugeFamily connections_;
  CounterFamily requests_;
  CounterFamily retries_;
  HistogramFamily latency_;
};

// sluice_upstream_queue_depth{upstream}: depth(i) for upstream i, read at scrape time.
void register_queue_depth(Registry& registry, std::vector<std::string> upstreams,
                          std::function<double(size_t)> depth);
// sluice_upstream_endpoint_healthy{upstream,endpoint}: 1 or 0, read at scrape time.
void register_endpoint_health(Registry& registry, std::vector<EndpointLabels> endpoints,
                              std::function<bool(size_t)> healthy);

enum class CacheResult { hit = 0, miss = 1, stale = 2 };

// sluice_cache_lookups_total{route,result}   counter: hit, miss, stale (served stale)
// sluice_cache_evictions_total               counter
// sluice_cache_served_bytes_total{route}     counter: body bytes answered from the cache
// sluice_cache_stored_bytes                  gauge, per worker, summed
class CacheMetrics {
 public:
  CacheMetrics(Registry& registry, const std::vector<std::string>& routes);
  CounterId lookup(size_t route, CacheResult result) const {
    return lookups_.at(route, static_cast<size_t>(result));
  }
  CounterId evictions() const { return evictions_.at(0); }
  CounterId served_bytes(size_t route) const { return served_bytes_.at(route); }
  GaugeId stored_bytes() const { return stored_bytes_.at(0); }

 private:
  CounterFamily lookups_;
  CounterFamily evictions_;
  CounterFamily served_bytes_;
  GaugeFamily stored_bytes_;
};

struct RouteLimit {
  std::string route;
  std::string limit;  // the limit's configured name
};

// sluice_ratelimit_rejected_total{route,limit}   counter
// sluice_admission_shed_total{route}             counter
class LimitMetrics {
 public:
  // route_limits: every (route, limit) pair of the config; rejected() takes an index into it.
  LimitMetrics(Registry& registry, const std::vector<std::string>& routes,
               const std::vector<RouteLimit>& route_limits);
  CounterId rejected(size_t route_limit) const { return rejected_.at(route_limit); }
  CounterId shed(size_t route) const { return shed_.at(route); }

 private:
  CounterFamily rejected_;
  CounterFamily shed_;
};

}  // namespace sluice::metrics
