// Cache configuration: the per-route `cache = { ... }` table and the global `[cache]` section.
// Every key and default is documented in docs/CACHE.md.
#pragma once

#include <toml++/toml.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cache/cache_key.hpp"
#include "cache/purge_pattern.hpp"
#include "common/units.hpp"
#include "config/reader.hpp"

namespace sluice::cache {

// A request that matches any bypass condition is neither served from nor stored into the cache.
// Written "header:NAME", "query:NAME" or "cookie:NAME" (present with any value), or with
// "=VALUE" appended (present with exactly that value, e.g. "query:cache=false").
struct BypassCondition {
  enum class Source { header, query, cookie };
  Source source = Source::header;
  std::string name;
  std::optional<std::string> value;
};

// What a client's `Cache-Control: no-cache` (or `Pragma: no-cache`) does.
enum class ClientNoCache {
  ignore,      // served from the cache as usual (request directives are advisory, RFC 9111 5.2.1)
  revalidate,  // the stored entry is not used; the response is fetched and stored again
  bypass,      // the request goes upstream and its response is not stored
};

inline constexpr uint64_t kDefaultMaxObjectSize = 1024 * 1024;
inline constexpr Duration kDefaultCoalesceTimeout = std::chrono::seconds(5);

struct RouteCacheConfig {
  Duration ttl{0};                // freshness when the origin states none
  KeyTemplate key;                // with the `vary` headers appended
  std::vector<std::string> vary;  // request headers that select a variant
  std::vector<std::string> methods{"GET", "HEAD"};
  // RFC 9110 15.1: the status codes that are heuristically cacheable.
  std::vector<int> statuses{200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501};
  uint64_t max_object_size = kDefaultMaxObjectSize;
  Duration stale_while_revalidate{0};
  Duration stale_if_error{0};
  std::vector<BypassCondition> bypass;
  bool origin_cache_control = true;  // honour the origin's Cache-Control / Expires freshness
  ClientNoCache client_no_cache = ClientNoCache::ignore;
  bool coalesce = true;
  Duration coalesce_timeout = kDefaultCoalesceTimeout;
  std::vector<InvalidationTemplate> invalidate;

  bool method_cacheable(std::string_view method) const;
  bool status_cacheable(int status) const;
};

enum class EvictionPolicy { tinylfu, s3fifo, lru };

struct GlobalCacheConfig {
  uint64_t max_memory = 512ull * 1024 * 1024;
  // Response headers whose values tag an entry for purge_tag(); split on spaces and commas.
  std::vector<std::string> tag_headers{"Surrogate-Key", "Cache-Tag"};
  bool strip_tag_headers = true;  // tag headers are not sent to clients
  EvictionPolicy eviction = EvictionPolicy::s3fifo;
  // S3-FIFO only: when nearly every new entry leaves unhit, store keys on their second miss.
  bool adaptive_admission = true;
  uint32_t shards = 64;
};

// Parses the value of a route's `cache` key (an inline table); nullopt after reporting errors.
std::optional<RouteCacheConfig> parse_route_cache(const toml::node& value,
                                                  config::Diagnostics& diag,
                                                  const std::string& context);

// Parses the `[cache]` table; nullopt after reporting errors.
std::optional<GlobalCacheConfig> parse_global_cache(const toml::table& table,
                                                    config::Diagnostics& diag,
                                                    const std::string& context = "cache");

// Parses one bypass condition ("query:cache=false"); nullopt with `error` set.
std::optional<BypassCondition> parse_bypass_condition(std::string_view text, std::string& error);

}  // namespace sluice::cache
