// One [upstream.NAME] section: the endpoints of a backend service and how to reach them.
#pragma once

#include <string>
#include <vector>

#include "common/address.hpp"
#include "common/units.hpp"
#include "config/reader.hpp"
#include "limits/upstream_config.hpp"

namespace sluice::upstream {

enum class Balance { round_robin, least_conn, p2c };

struct UpstreamConfig {
  std::string name;
  std::vector<HostPort> endpoints;
  Balance balance = Balance::least_conn;
  uint32_t max_connections = 128;  // per endpoint, across all workers
  Duration idle_timeout = std::chrono::seconds(60);
  Duration connect_timeout = std::chrono::seconds(2);
  Duration down_backoff = std::chrono::seconds(1);       // first back-off after a refused connect
  Duration max_down_backoff = std::chrono::seconds(30);  // back-off doubles up to this
  // Admission, retries, outlier ejection, health checks (docs/TRAFFIC.md). Without
  // `concurrency`, the limit is endpoints x max_connections, so requests queue once every
  // connection is busy.
  limits::UpstreamLimitsConfig traffic;
};

// Reads [upstream.NAME]; problems go to diag.
UpstreamConfig parse_upstream(const std::string& name, const toml::table& table,
                              config::Diagnostics& diag);

}  // namespace sluice::upstream
