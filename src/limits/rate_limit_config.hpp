// Configuration of the per-route traffic policies and of `[server] trusted_proxies`.
//
// The gateway's own route and server parsers hand their TableReader to read_route_limits() and
// read_server_limits(), which take the keys documented in docs/TRAFFIC.md; the value parsers are
// public for callers that hold a single node.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "config/reader.hpp"
#include "limits/gcra.hpp"
#include "limits/keys.hpp"
#include "limits/trusted_proxies.hpp"

namespace sluice::limits {

struct RateLimitSpec {
  std::string name;  // metrics label; "<key> <rate>" unless given
  KeySpec key;
  Rate rate;
  uint32_t burst = 0;
  TierCondition tier;
};

// Paths that bypass rate limits: the whole route (`skip_limits = true`) or exact paths and
// prefixes ending in '*' (`skip_limits = ["/health", "/status/*"]`).
struct SkipRule {
  bool all = false;
  std::vector<std::string> paths;

  bool matches(std::string_view path) const;
};

struct RouteLimitsConfig {
  std::vector<RateLimitSpec> rate_limits;
  SkipRule skip;
  uint32_t max_concurrent = 0;  // 0: no per-route cap
  std::string priority;         // traffic class on the upstream; empty: the default class
  int shed_status = 503;        // answer when admission sheds (429 or 503)
};

struct ServerLimitsConfig {
  TrustedProxies trusted_proxies;
  size_t rate_limit_keys = 100'000;  // tracked keys per gateway, least recently used dropped
};

std::vector<RateLimitSpec> parse_rate_limits(const toml::node& node, config::Diagnostics& diag,
                                             std::string_view context);
SkipRule parse_skip_limits(const toml::node& node, config::Diagnostics& diag,
                           std::string_view context);
TrustedProxies parse_trusted_proxies(const toml::node& node, config::Diagnostics& diag,
                                     std::string_view context);

// Reads rate_limit, skip_limits, max_concurrent, priority and shed_status.
RouteLimitsConfig read_route_limits(config::TableReader& route);
// Reads trusted_proxies and rate_limit_keys.
ServerLimitsConfig read_server_limits(config::TableReader& server);

}  // namespace sluice::limits
