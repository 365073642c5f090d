// The gateway's metric families beyond the request metrics (docs/METRICS.md): upstream
// endpoints, cache, rate limits and admission. Registered once at start, before the workers;
// request-path counters are per-worker slots, the rest is read from shared state at scrape time.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "metrics/families.hpp"
#include "metrics/registry.hpp"

namespace sluice::gateway {

struct SharedState;

class GatewayMetrics {
 public:
  explicit GatewayMetrics(SharedState& shared);

  // Endpoint `ep` of upstream `u` as one index over all upstreams' endpoints.
  size_t endpoint(size_t upstream, size_t ep) const { return endpoint_base_[upstream] + ep; }
  const metrics::UpstreamMetrics& upstreams() const { return *upstreams_; }
  metrics::CounterId cache_served_bytes(size_t route) const { return served_bytes_.at(route); }
  metrics::CounterId shed(size_t route) const { return shed_.at(route); }

 private:
  std::vector<size_t> endpoint_base_;
  std::unique_ptr<metrics::UpstreamMetrics> upstreams_;
  metrics::CounterFamily shed_;
  metrics::CounterFamily served_bytes_;
};

}  // namespace sluice::gateway
