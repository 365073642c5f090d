#include "metrics/families.hpp"

namespace sluice::metrics {
namespace {

Series endpoint_series(const std::vector<EndpointLabels>& endpoints) {
  std::vector<std::vector<std::string>> values;
  for (const auto& e : endpoints)
    values.push_back({e.upstream, e.endpoint});
  return Series::list({"upstream", "endpoint"}, std::move(values));
}

}  // namespace

UpstreamMetrics::UpstreamMetrics(Registry& registry, const std::vector<EndpointLabels>& endpoints,
                                 std::vector<double> buckets) {
  std::vector<std::vector<std::string>> by_state;
  for (const auto& e : endpoints)
    for (const char* state : {"active", "idle"})
      by_state.push_back({e.upstream, e.endpoint, state});
  // Series order: endpoint-major, state-minor, as in a product, so at(endpoint, state) works.
  Series conn = Series::list({"upstream", "endpoint", "state"}, std::move(by_state));
  conn.strides = {2, 1};
  connections_ = registry.gauge("sluice_upstream_connections",
                                "Connections to upstream endpoints, by state.", std::move(conn));
  requests_ = registry.counter("sluice_upstream_requests_total",
                               "Requests sent to upstream endpoints, retries included.",
                               endpoint_series(endpoints));
  retries_ =
      registry.counter("sluice_upstream_retries_total",
                       "Retried requests sent to upstream endpoints.", endpoint_series(endpoints));
  latency_ = registry.histogram("sluice_upstream_request_duration_seconds",
                                "Time from sending a request upstream to its response's end.",
                                std::move(buckets), endpoint_series(endpoints));
}

void register_queue_depth(Registry& registry, std::vector<std::string> upstreams,
                          std::function<double(size_t)> depth) {
  registry.callback(
      "sluice_upstream_queue_depth", "Requests waiting for an upstream connection.",
      MetricType::gauge, {"upstream"},
      [upstreams = std::move(upstreams), depth = std::move(depth)](CallbackSink& out) {
        for (size_t i = 0; i < upstreams.size(); ++i)
          out.add(depth(i), {upstreams[i]});
      });
}

void register_endpoint_health(Registry& registry, std::vector<EndpointLabels> endpoints,
                              std::function<bool(size_t)> healthy) {
  registry.callback(
      "sluice_upstream_endpoint_healthy", "1 when the endpoint is in rotation, 0 when ejected.",
      MetricType::gauge, {"upstream", "endpoint"},
      [endpoints = std::move(endpoints), healthy = std::move(healthy)](CallbackSink& out) {
        for (size_t i = 0; i < endpoints.size(); ++i)
          out.add(healthy(i) ? 1 : 0, {endpoints[i].upstream, endpoints[i].endpoint});
      });
}

CacheMetrics::CacheMetrics(Registry& registry, const std::vector<std::string>& routes) {
  lookups_ = registry.counter(
      "sluice_cache_lookups_total", "Cache lookups by result: hit, miss, stale (served stale).",
      Series::product({{"route", routes}, {"result", {"hit", "miss", "stale"}}}));
  evictions_ = registry.counter("sluice_cache_evictions_total", "Entries evicted from the cache.");
  served_bytes_ = registry.counter("sluice_cache_served_bytes_total",
                                   "Response body bytes answered from the cache.",
                                   Series::product({{"route", routes}}));
  stored_bytes_ = registry.gauge("sluice_cache_stored_bytes", "Bytes held by the cache.");
}

LimitMetrics::LimitMetrics(Registry& registry, const std::vector<std::string>& routes,
                           const std::vector<RouteLimit>& route_limits) {
  std::vector<std::vector<std::string>> pairs;
  for (const auto& rl : route_limits)
    pairs.push_back({rl.route, rl.limit});
  rejected_ = registry.counter("sluice_ratelimit_rejected_total",
                               "Requests rejected by a rate limit, by route and limit.",
                               Series::list({"route", "limit"}, std::move(pairs)));
  shed_ = registry.counter("sluice_admission_shed_total",
                           "Requests shed by admission control before reaching an upstream.",
                           Series::product({{"route", routes}}));
}

}  // namespace sluice::metrics
