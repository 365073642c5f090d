#include "gateway/gateway_metrics.hpp"

#include "gateway/worker.hpp"

namespace sluice::gateway {

using metrics::CallbackSink;
using metrics::MetricType;

GatewayMetrics::GatewayMetrics(SharedState& shared) {
  metrics::Registry& registry = shared.metrics;
  const GatewayConfig& cfg = shared.config;
  std::vector<metrics::EndpointLabels> endpoints;
  for (const auto& up : shared.upstreams) {
    endpoint_base_.push_back(endpoints.size());
    for (const auto& ep : up->endpoints)
      endpoints.push_back({up->config->name, ep->name});
  }
  upstreams_ = std::make_unique<metrics::UpstreamMetrics>(registry, endpoints,
                                                          metrics::default_latency_buckets());
  std::vector<std::string> upstream_names;
  for (const auto& up : shared.upstreams)
    upstream_names.push_back(up->config->name);
  metrics::register_queue_depth(registry, upstream_names, [&shared](size_t i) {
    return static_cast<double>(shared.upstream_policies[i]->gate.queued());
  });
  std::vector<const upstream::EndpointState*> states;
  for (const auto& up : shared.upstreams)
    for (const auto& ep : up->endpoints)
      states.push_back(ep.get());
  metrics::register_endpoint_health(
      registry, endpoints, [states](size_t i) { return !states[i]->is_down(upstream::mono_ns()); });

  std::vector<std::string> routes;
  std::vector<metrics::RouteLimit> route_limits;
  for (size_t r = 0; r < cfg.routes.size(); ++r) {
    routes.push_back(cfg.routes[r].name);
    const auto& rate = shared.route_policies[r]->rate;
    for (size_t i = 0; i < rate.size(); ++i)
      route_limits.push_back({cfg.routes[r].name, rate.spec(i).name});
  }
  shed_ = registry.counter("sluice_admission_shed_total",
                           "Requests shed by admission control before reaching an upstream.",
                           metrics::Series::product({{"route", routes}}));
  // Each limit already counts its rejections (atomics shared by the workers): read at scrape.
  registry.callback("sluice_ratelimit_rejected_total",
                    "Requests rejected by a rate limit, by route and limit.", MetricType::counter,
                    {"route", "limit"}, [&shared, route_limits](CallbackSink& out) {
                      size_t k = 0;
                      for (const auto& policies : shared.route_policies)
                        for (size_t i = 0; i < policies->rate.size(); ++i, ++k)
                          out.add(static_cast<double>(policies->rate.counters(i).rejected.load()),
                                  {route_limits[k].route, route_limits[k].limit});
                    });

  served_bytes_ = registry.counter("sluice_cache_served_bytes_total",
                                   "Response body bytes answered from the cache.",
                                   metrics::Series::product({{"route", routes}}));
  if (!shared.cache) return;
  const cache::ResponseCache* rc = shared.cache.get();
  registry.callback(
      "sluice_cache_lookups_total", "Cache lookups by result: hit, miss, stale (served stale).",
      MetricType::counter, {"route", "result"}, [rc, routes](CallbackSink& out) {
        for (size_t r = 0; r < routes.size(); ++r) {
          auto id = static_cast<cache::RouteId>(r);
          out.add(static_cast<double>(rc->count(id, cache::Counter::hits)), {routes[r], "hit"});
          out.add(static_cast<double>(rc->count(id, cache::Counter::misses) +
                                      rc->count(id, cache::Counter::expired)),
                  {routes[r], "miss"});
          out.add(static_cast<double>(rc->count(id, cache::Counter::stale)), {routes[r], "stale"});
        }
      });
  registry.callback("sluice_cache_evictions_total", "Entries evicted from the cache.",
                    MetricType::counter, {}, [rc](CallbackSink& out) {
                      out.add(static_cast<double>(rc->total(cache::Counter::evictions)));
                    });
  registry.callback(
      "sluice_cache_stored_bytes", "Bytes held by the cache.", MetricType::gauge, {},
      [rc](CallbackSink& out) { out.add(static_cast<double>(rc->total(cache::Counter::bytes))); });
}

}  // namespace sluice::gateway
