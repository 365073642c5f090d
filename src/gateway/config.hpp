// The gateway's configuration: [server], [upstream.NAME] and [[route]] (see docs/CONFIG.md).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cache/cache_config.hpp"
#include "common/address.hpp"
#include "common/units.hpp"
#include "config/reader.hpp"
#include "http/parser.hpp"
#include "limits/rate_limit_config.hpp"
#include "upstream/upstream_config.hpp"

namespace sluice::gateway {

struct ServerConfig {
  std::vector<HostPort> listen;
  uint32_t workers = 0;  // 0 = one per core
  std::optional<HostPort> admin;
  Duration drain_timeout = std::chrono::seconds(30);
  Duration header_timeout = std::chrono::seconds(10);     // whole head, a deadline
  Duration keepalive_timeout = std::chrono::seconds(75);  // idle between requests
  Duration send_timeout = std::chrono::seconds(60);       // a client that stops reading
  uint32_t max_requests_per_connection = 0;               // 0 = unlimited
  uint32_t max_connections = 100000;                      // client connections, per worker
  http::Limits limits;
  std::string access_log;  // path; empty = off
  std::string log_level = "info";
  // Requests slower than this are logged with where their time went; none = off.
  std::optional<Duration> slow_request_threshold;
  limits::ServerLimitsConfig traffic;  // trusted_proxies, rate_limit_keys
};

struct RouteConfig {
  std::string name;                      // label in metrics and stats; default host + path
  std::string path = "/";                // prefix; longest wins
  std::vector<llhttp_method_t> methods;  // empty = any
  std::string host;                      // empty = any
  std::string upstream_name;
  size_t upstream = 0;                          // index into GatewayConfig::upstreams
  Duration timeout = std::chrono::seconds(30);  // until the full response head
  std::optional<Duration> connect_timeout;      // overrides the upstream's
  std::optional<Duration> idle_timeout;         // inactivity while bodies stream; send_timeout
  std::optional<Duration> total_timeout;        // the whole exchange, from the request's head
  uint64_t max_body_size = 100ull << 20;
  limits::RouteLimitsConfig traffic;  // rate limits, max_concurrent, priority, shed_status
  size_t traffic_class = 0;           // index of `priority` among the upstream's classes
  std::optional<cache::RouteCacheConfig> cache;  // `cache = { ttl = ... }`; none = not cached
};

struct GatewayConfig {
  ServerConfig server;
  std::vector<upstream::UpstreamConfig> upstreams;
  std::vector<RouteConfig> routes;
  cache::GlobalCacheConfig cache;  // [cache]; used when any route caches
  bool caching() const;
};

// Parses and validates; nullopt when diag has errors.
std::optional<GatewayConfig> parse_config(std::string_view text, config::Diagnostics& diag);
std::optional<GatewayConfig> load_config(const std::string& path, config::Diagnostics& diag);

}  // namespace sluice::gateway
