// The cache's decisions, as pure functions of a route's configuration and the messages.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "cache/cache_config.hpp"
#include "cache/cached_response.hpp"
#include "cache/message_view.hpp"

namespace sluice::cache {

enum class RequestAction {
  lookup,      // consult the cache
  bypass,      // go upstream, answer with X-Cache: BYPASS, store nothing
  pass,        // a method the cache neither serves nor invalidates (OPTIONS, TRACE, ...)
  invalidate,  // unsafe method: go upstream, and on success purge the route's invalidate patterns
};

struct RequestDecision {
  RequestAction action = RequestAction::pass;
  // Client no-cache with client_no_cache = "revalidate": skip the stored entry, refetch, store.
  bool revalidate = false;
  std::string_view reason;  // for logs and tests
};

RequestDecision classify_request(const RouteCacheConfig& route, const RequestView& req);

bool is_unsafe_method(std::string_view method);
bool matches_bypass(const BypassCondition& condition, const RequestView& req);

// Cache-Control directives that matter to a shared cache; seconds for the numeric ones.
struct CacheControl {
  bool no_store = false;
  bool no_cache = false;
  bool private_ = false;
  bool public_ = false;
  bool must_revalidate = false;  // must-revalidate or proxy-revalidate
  std::optional<int64_t> max_age;
  std::optional<int64_t> s_maxage;
  std::optional<int64_t> stale_while_revalidate;
  std::optional<int64_t> stale_if_error;
};
// Merges every Cache-Control field line of `headers`.
CacheControl parse_cache_control(std::span<const HeaderView> headers);

struct StoreDecision {
  bool store = false;
  std::string_view reason;  // why not, or "" when storable
  Duration freshness{0};    // lifetime minus the age the response already had
  Duration stale_while_revalidate{0};
  Duration stale_if_error{0};
  int64_t initial_age = 0;
};

// Whether the response to `req` may be stored, and for how long it is fresh. `body_size` is
// nullopt while unknown (chunked); the size limit is then checked again when the body is done.
StoreDecision decide_storage(const RouteCacheConfig& route, const RequestView& req,
                             const ResponseView& resp, std::optional<uint64_t> body_size,
                             TimePoint now);

// Whether a stored entry answers this request: its Vary fields match and a GET is not served
// from a bodiless HEAD entry.
bool entry_serves(const CachedResponse& entry, const RequestView& req);

// Whether the request's If-None-Match / If-Modified-Since make the entry "not modified" (304).
bool is_not_modified(const CachedResponse& entry, const RequestView& req);
// RFC 9110 8.8.3.2 weak comparison: W/"x" equals "x".
bool weak_etag_equal(std::string_view a, std::string_view b);

struct BuildOptions {
  std::span<const std::string> tag_headers;
  bool strip_tag_headers = true;
  uint16_t route = 0;
};

// Serializes a storable response into an immutable entry (head, 304 head, validators, Vary
// values, tags, target, charge).
std::shared_ptr<CachedResponse> build_entry(const RequestView& req, const ResponseView& resp,
                                            std::string_view body, const StoreDecision& decision,
                                            const BuildOptions& options, TimePoint now);

// The conditional fields that revalidate `entry` upstream ("If-None-Match: ..." and/or
// "If-Modified-Since: ..." lines, each ending in CRLF); empty when it has no validator.
std::string revalidation_fields(const CachedResponse& entry);

// The stored response's header fields, updated by those of the origin's 304 answer to a
// revalidation (RFC 9111 4.3.4), as a response with the stored status and body. The views point
// into `stored`, `not_modified` and `scratch`.
ResponseView merge_not_modified(const CachedResponse& stored, const ResponseView& not_modified,
                                std::vector<HeaderView>& scratch);

}  // namespace sluice::cache
