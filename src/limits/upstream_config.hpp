// Configuration of the per-upstream traffic policies: admission (concurrency, queue, traffic
// classes, circuit caps), retries, passive outlier ejection and active health checks.
//
// The gateway's upstream parser hands its TableReader to read_upstream_limits(), which takes the
// keys documented in docs/TRAFFIC.md.
#pragma once

#include <optional>
#include <string_view>

#include "config/reader.hpp"
#include "limits/concurrency.hpp"
#include "limits/health.hpp"
#include "limits/outlier.hpp"
#include "limits/retry.hpp"

namespace sluice::limits {

struct UpstreamLimitsConfig {
  GateConfig gate;
  RetryPolicy retries;
  OutlierConfig outlier;
  std::optional<HealthCheckConfig> health;
};

RetryPolicy parse_retries(const toml::node& node, config::Diagnostics& diag,
                          std::string_view context);
HealthCheckConfig parse_health(const toml::node& node, config::Diagnostics& diag,
                               std::string_view context);
OutlierConfig parse_outlier(const toml::node& node, config::Diagnostics& diag,
                            std::string_view context);
std::vector<TrafficClassSpec> parse_classes(const toml::node& node, config::Diagnostics& diag,
                                            std::string_view context);

// Reads queue_limit, queue_timeout, concurrency, adaptive, classes, circuit, retries, outlier
// and health.
UpstreamLimitsConfig read_upstream_limits(config::TableReader& upstream);

}  // namespace sluice::limits
