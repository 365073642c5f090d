// The response cache as the gateway uses it: per-route policy over one shared store.
//
// Per request, on any worker:
//   auto decision = cache.classify(route, req);
//   lookup:     auto l = cache.lookup(route, req, decision, key_buffer, now);
//     l.status == hit / stale: write serve_buffers(...) with one writev (304 when l.not_modified);
//                 a stale answer with l.lease set also refreshes the entry in the background.
//     l.wait:     auto r = co_await cache.wait(route, l.wait, req); filled -> serve r.entry as
//                 HIT (304 when is_not_modified(*r.entry, req)), otherwise go upstream without
//                 storing.
//     l.lease:    fetch; auto d = cache.storable(route, req, resp, content_length, now);
//                 if d.store, buffer the body and cache.store(l.lease, route, req, resp, body, d,
//                 now), then answer from the returned entry like a hit (X-Cache: MISS or EXPIRED;
//                 304 when is_not_modified); otherwise stream the response through and
//                 l.lease.abandon(FillStatus::uncacheable).
//                 On upstream failure: l.lease.abandon(FillStatus::failed), and serve l.entry as
//                 STALE when cache.serve_on_error(route, l.entry, now).
//                 A fill sends no client validators upstream (it needs the full response; the
//                 client's conditional is answered from the stored entry). With l.entry set
//                 (expired), it may send revalidation_fields(*l.entry) instead and, on a 304,
//                 call cache.refresh(l.lease, route, req, *l.entry, resp, now).
//   bypass:     go upstream, answer with X-Cache: BYPASS.
//   invalidate: go upstream; on a 2xx/3xx answer call cache.invalidate_after_unsafe(route, req).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cache/cache_config.hpp"
#include "cache/cache_policy.hpp"
#include "cache/cache_stats.hpp"
#include "cache/cache_store.hpp"
#include "cache/cached_response.hpp"
#include "cache/fill.hpp"
#include "cache/message_view.hpp"

namespace sluice::cache {

using RouteId = uint16_t;

struct CacheRoute {
  std::string name;
  RouteCacheConfig config;
};

// The right, and the duty, to end one fill: store the response or give up. A lease that is
// destroyed unused gives up with FillStatus::failed, so waiters never hang.
class FillLease {
 public:
  FillLease() = default;
  FillLease(CacheStore* store, std::shared_ptr<Flight> flight)
      : store_(store), flight_(std::move(flight)) {}
  FillLease(FillLease&& o) noexcept : store_(o.store_), flight_(std::move(o.flight_)) {}
  FillLease& operator=(FillLease&& o) noexcept;
  ~FillLease() {
    if (flight_) abandon(FillStatus::failed);
  }

  explicit operator bool() const { return flight_ != nullptr; }
  // Whether requests wait on this fill.
  bool shared() const { return flight_ && flight_->waiter_count() > 0; }
  void abandon(FillStatus status, TimePoint now = Clock::now());
  // Stores `entry` (may be null) and resumes the waiters; returns whether it was stored.
  bool complete(std::shared_ptr<const CachedResponse> entry, TimePoint now);

 private:
  CacheStore* store_ = nullptr;
  std::shared_ptr<Flight> flight_;
};

// The three pieces of a cached answer, for one vectored write.
struct ServeBuffers {
  std::string_view head;
  std::string_view dynamic;  // Age, X-Cache, extra lines and the blank line
  std::string_view body;
};

class ResponseCache {
 public:
  ResponseCache(GlobalCacheConfig global, std::vector<CacheRoute> routes);
  ResponseCache(const ResponseCache&) = delete;
  ResponseCache& operator=(const ResponseCache&) = delete;

  const RouteCacheConfig& route(RouteId id) const { return routes_[id].config; }
  size_t route_count() const { return routes_.size(); }
  std::optional<RouteId> find_route(std::string_view name) const;

  // Decides what the cache does with a request; counts bypasses.
  RequestDecision classify(RouteId route, const RequestView& req);

  struct Lookup {
    // hit and stale: serve `entry` now. miss and expired: wait on `wait`, or fetch with `lease`.
    CacheStatus status = CacheStatus::miss;
    std::shared_ptr<const CachedResponse> entry;
    bool not_modified = false;  // a hit whose conditional request matched: answer 304
    FillLease lease;
    // With a lease: whether to store the response. False when adaptive admission skips this
    // key's first miss; unless others wait on the fill (FillLease::shared()), the caller then
    // relays the response and ends the lease with abandon(FillStatus::not_stored).
    bool admit = true;
    std::shared_ptr<Flight> wait;
  };
  // `key_buffer` is reused across requests so a hit allocates nothing.
  Lookup lookup(RouteId route, const RequestView& req, const RequestDecision& decision,
                std::string& key_buffer, TimePoint now);

  // Waits, bounded by the route's coalesce_timeout, for another request's fill. A filled
  // result is returned only when the entry serves `req` (same Vary values, not a HEAD entry for
  // a GET); otherwise the status is uncacheable and the caller goes upstream. `req` must stay
  // valid until the wait completes.
  asio::awaitable<FillResult> wait(RouteId route, std::shared_ptr<Flight> flight,
                                   const RequestView& req);
  // The checks wait() applies to a fill's result, for callers that wait on the Flight with
  // their own timer: an entry of another variant becomes uncacheable; a served fill counts.
  FillResult accept_fill(RouteId route, FillResult result, const RequestView& req);

  // Whether the upstream response may be stored; call on its head, before reading the body.
  StoreDecision storable(RouteId route, const RequestView& req, const ResponseView& resp,
                         std::optional<uint64_t> content_length, TimePoint now) const;
  // Builds the entry, stores it and ends the fill. Returns the entry (also when the fill was
  // purged meanwhile and it was not stored), or null when the body turned out too large.
  std::shared_ptr<const CachedResponse> store(FillLease& lease, RouteId route,
                                              const RequestView& req, const ResponseView& resp,
                                              std::string_view body, const StoreDecision& decision,
                                              TimePoint now);

  // After the origin answered 304 to a revalidation of `stored` (sent with
  // revalidation_fields(*stored)): stores the stored response refreshed by the 304's fields and
  // ends the fill. Returns the refreshed entry, or null (fill ended) when it may not be stored.
  std::shared_ptr<const CachedResponse> refresh(FillLease& lease, RouteId route,
                                                const RequestView& req,
                                                const CachedResponse& stored,
                                                const ResponseView& not_modified, TimePoint now);

  // Whether `entry` may answer because the upstream failed (stale-if-error); counts it.
  bool serve_on_error(RouteId route, const std::shared_ptr<const CachedResponse>& entry,
                      TimePoint now);

  // The pieces to write for a hit, a stale answer or a 304. `scratch` receives the dynamic
  // lines; 128 bytes plus `extra` always suffice.
  static ServeBuffers serve_buffers(const CachedResponse& entry, CacheStatus status,
                                    bool not_modified, bool head_request, std::string_view extra,
                                    TimePoint now, char* scratch, size_t scratch_size);

  // Purges the request's own target and the route's `invalidate` patterns, expanded with the
  // request's path segments. Call after a successful (2xx or 3xx) unsafe request. Effective at
  // once; large purges finish in the background, so this is cheap on a worker.
  void invalidate_after_unsafe(RouteId route, const RequestView& req);

  // Admin API: `GET /cache/stats`, `DELETE /cache/invalidate?pattern=`, purge by tag,
  // `DELETE /cache/clear`. Each purge is effective for all workers at once and returns the
  // number of entries removed once they all are; over millions of entries that takes a while,
  // so call these from the admin thread, not from a worker's event loop.
  std::string stats_json() const;
  size_t invalidate(std::string_view pattern);
  size_t purge_tag(std::string_view tag);
  size_t clear();

  int64_t total(Counter c) const { return stats_.total(c); }
  int64_t count(RouteId route, Counter c) const { return stats_.get(route, c); }
  CacheStats& stats() { return stats_; }
  CacheStore& store() { return store_; }
  const GlobalCacheConfig& global() const { return global_; }

 private:
  GlobalCacheConfig global_;
  std::vector<CacheRoute> routes_;
  CacheStats stats_;
  CacheStore store_;
};

}  // namespace sluice::cache
