// The response cache's part of the request pipeline (docs/CACHE.md): the lookup that runs after
// the rate limits and before admission, so hits and coalesced waiters never take an upstream
// slot, and the hooks the upstream exchange calls to store, revalidate, purge and fall back on
// stale entries.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cache/response_cache.hpp"
#include "common/async.hpp"
#include "common/buffer.hpp"

namespace sluice::gateway {

class ClientConnection;
class Worker;
struct RequestContext;

// One request's cache state, owned by the connection and reused from one request to the next.
struct CacheExchange {
  bool enabled = false;  // the route caches
  cache::RequestAction action = cache::RequestAction::pass;
  cache::ResponseCache::Lookup lookup;  // the fill to lead; the expired or stale entry
  bool revalidating = false;            // the fill carries the stored entry's validators
  bool capturing = false;               // the relayed body is kept for the store
  uint64_t max_object_size = 0;         // the route's; a larger body streams through
  cache::StoreDecision decision;
  cache::RequestView request;
  std::vector<cache::HeaderView> request_headers;
  std::vector<cache::HeaderView> response_headers;  // views into response_head
  std::string response_head;  // copied: relaying may move the upstream buffer's bytes
  std::string body;
  std::string key;
  std::string revalidation;  // the entry's validators, sent with a fill
  char dynamic_fields[384];  // Age, X-Cache and the connection's fields of a cached answer

  void reset();
};

// Phase: answers from the cache (a hit, a stale entry, another request's fill), or prepares
// the request to go upstream (to fill the cache, bypassing it, or to invalidate it). In two
// steps, so that a request that goes upstream (a miss, a bypass, a write) runs no coroutine of
// its own: look_up_cache() decides without suspending; only when it returns `answer` does the
// caller co_await answer_from_cache(), which returns the keep-alive decision when it answered
// and nullopt when the request goes upstream after all (a coalesced fill it could not share).
enum class CacheStep { upstream, answer };
CacheStep look_up_cache(ClientConnection& conn, RequestContext& ctx);
Task<std::optional<bool>> answer_from_cache(ClientConnection& conn, RequestContext& ctx);

// --- Hooks of the upstream exchange (proxy.cpp) ---

// Whether the upstream request is a fill: it leaves out the client's conditionals and carries
// the entry's validators (revalidation()).
bool is_fill(const RequestContext& ctx);

enum class HeadVerdict {
  relay,        // relay the upstream's answer (capturing its body when it is to be stored)
  serve_entry,  // the answer comes from the cache: ctx.cache.lookup.entry, see answer_status
};
// Called on the final upstream response head (its bytes at the front of `ubuf`). Purges after
// a successful unsafe request, decides whether the response is stored, refreshes the entry on
// a 304 to a revalidation, and falls back on the stale entry when the origin answers 5xx.
HeadVerdict on_response_head(ClientConnection& conn, RequestContext& ctx, const Buffer& ubuf,
                             size_t head_size);
// Body bytes relayed to the client; kept while the response may still be stored.
void capture_body(RequestContext& ctx, std::span<const std::string_view> spans);
// The relayed response ended complete: stores a captured body.
void on_response_complete(ClientConnection& conn, RequestContext& ctx);
// The upstream failed: whether the stale entry may answer (stale-if-error).
bool stale_on_error(ClientConnection& conn, RequestContext& ctx);

// Writes ctx.cache.lookup.entry to the client with `status` as X-Cache (304 when the request's
// conditionals match it). The request's head must already be consumed from `conn.in`.
Task<bool> serve_entry(ClientConnection& conn, RequestContext& ctx, cache::CacheStatus status);

}  // namespace sluice::gateway
