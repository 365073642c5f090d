// The gateway's request metrics (contract names): sluice_http_requests_total{route,code} and
// sluice_http_request_duration_seconds{route}.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "metrics/registry.hpp"

namespace sluice::metrics {

inline constexpr const char* kHttpRequestsTotal = "sluice_http_requests_total";
inline constexpr const char* kHttpRequestDuration = "sluice_http_request_duration_seconds";

// Latency buckets in seconds, from 1 ms (a cache hit) to 10 s.
std::vector<double> default_latency_buckets();

// The `code` label takes a fixed set of values so that a status becomes a table index: common
// codes have their own value, any other one counts under its class ("1xx".."5xx") or "other".
size_t status_code_slot(int status);
const std::vector<std::string>& status_code_labels();  // indexed by slot

class HttpMetrics {
 public:
  // routes: the configured route names; the gateway refers to a route by its index in this list.
  HttpMetrics(Registry& registry, const std::vector<std::string>& routes,
              std::vector<double> buckets = default_latency_buckets());

  // One finished request: two array increments on the worker's own storage.
  void record(WorkerMetrics& worker, size_t route, int status, double seconds) const {
    worker.add(requests_.at(route, status_code_slot(status)));
    worker.observe(duration_.at(route), seconds);
  }
  size_t route_count() const { return duration_.count; }

 private:
  CounterFamily requests_;
  HistogramFamily duration_;
};

}  // namespace sluice::metrics
