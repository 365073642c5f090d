#include "cache/response_cache.hpp"

#include <cstdio>

#include "common/json_text.hpp"

namespace sluice::cache {

FillLease& FillLease::operator=(FillLease&& o) noexcept {
  if (this != &o) {
    abandon(FillStatus::failed);
    store_ = o.store_;
    flight_ = std::move(o.flight_);
  }
  return *this;
}

void FillLease::abandon(FillStatus status, TimePoint now) {
  if (!flight_) return;
  auto flight = std::move(flight_);
  store_->finish_fill(flight, nullptr, status, now);
  recycle_flight(std::move(flight));
}

bool FillLease::complete(std::shared_ptr<const CachedResponse> entry, TimePoint now) {
  if (!flight_) return false;
  auto flight = std::move(flight_);
  FillStatus status = entry ? FillStatus::filled : FillStatus::uncacheable;
  bool stored = store_->finish_fill(flight, std::move(entry), status, now);
  recycle_flight(std::move(flight));
  return stored;
}

namespace {

CacheStore::Options store_options(const GlobalCacheConfig& g) {
  return {g.max_memory, g.shards, g.eviction, g.adaptive_admission};
}

template <class Get>
void append_counters(std::string& out, Get&& get) {
  out += '{';
  int64_t hits = get(Counter::hits);
  int64_t misses = get(Counter::misses) + get(Counter::expired);
  for (size_t i = 0; i < kCounterCount; ++i) {
    auto c = static_cast<Counter>(i);
    out += '"';
    out += counter_name(c);
    out += "\":";
    out += std::to_string(get(c));
    out += ',';
  }
  char rate[32];
  double lookups = static_cast<double>(hits + misses + get(Counter::stale));
  std::snprintf(rate, sizeof rate, "%.4f",
                lookups > 0 ? static_cast<double>(hits + get(Counter::stale)) / lookups : 0.0);
  out += "\"hit_rate\":";
  out += rate;
  out += '}';
}

// The request's target as purge patterns see it.
std::string_view target_of(const RequestView& req, std::string& buffer) {
  if (req.query.empty()) return req.path;
  buffer.assign(req.path);
  buffer += '?';
  buffer += req.query;
  return buffer;
}

}  // namespace

ResponseCache::ResponseCache(GlobalCacheConfig global, std::vector<CacheRoute> routes)
    : global_(std::move(global)),
      routes_(std::move(routes)),
      stats_(routes_.size()),
      store_(store_options(global_), stats_) {
  if (routes_.empty()) routes_.push_back({"default", RouteCacheConfig{}});
}

std::optional<RouteId> ResponseCache::find_route(std::string_view name) const {
  for (size_t i = 0; i < routes_.size(); ++i)
    if (routes_[i].name == name) return static_cast<RouteId>(i);
  return std::nullopt;
}

RequestDecision ResponseCache::classify(RouteId route, const RequestView& req) {
  RequestDecision d = classify_request(routes_[route].config, req);
  if (d.action == RequestAction::bypass) stats_.add(route, Counter::bypass);
  return d;
}

ResponseCache::Lookup ResponseCache::lookup(RouteId route, const RequestView& req,
                                            const RequestDecision& decision,
                                            std::string& key_buffer, TimePoint now) {
  const RouteCacheConfig& config = routes_[route].config;
  config.key.build(req, key_buffer);
  thread_local std::string target_buffer;
  CacheStore::LookupOptions options;
  options.request = &req;
  options.coalesce = config.coalesce;
  options.skip_entry = decision.revalidate;
  options.target = target_of(req, target_buffer);
  options.route = route;
  CacheStore::Lookup found = store_.lookup(hash_key(key_buffer), key_buffer, now, options);

  Lookup out;
  out.entry = std::move(found.entry);
  if (found.leader) {
    out.lease = FillLease(&store_, std::move(found.flight));
    out.admit = found.admit;
  }
  switch (found.found) {
    case CacheStore::Found::fresh:
      out.status = CacheStatus::hit;
      out.not_modified = is_not_modified(*out.entry, req);
      stats_.add(route, Counter::hits);
      if (out.not_modified) stats_.add(route, Counter::not_modified);
      break;
    case CacheStore::Found::stale:
      out.status = CacheStatus::stale;
      out.not_modified = is_not_modified(*out.entry, req);
      stats_.add(route, Counter::stale);
      break;
    case CacheStore::Found::expired:
      out.status = CacheStatus::expired;
      out.wait = std::move(found.flight);
      stats_.add(route, Counter::expired);
      break;
    case CacheStore::Found::none:
      out.status = CacheStatus::miss;
      out.wait = std::move(found.flight);
      stats_.add(route, Counter::misses);
      break;
  }
  return out;
}

asio::awaitable<FillResult> ResponseCache::wait(RouteId route, std::shared_ptr<Flight> flight,
                                                const RequestView& req) {
  FillResult r = co_await wait_for_fill(std::move(flight), routes_[route].config.coalesce_timeout);
  co_return accept_fill(route, std::move(r), req);
}

FillResult ResponseCache::accept_fill(RouteId route, FillResult r, const RequestView& req) {
  // The leader fetched for the same key, but perhaps another variant of it.
  if (r.status == FillStatus::filled && (!r.entry || !entry_serves(*r.entry, req)))
    r = FillResult{FillStatus::uncacheable, nullptr};
  if (r.status == FillStatus::filled) stats_.add(route, Counter::coalesced);
  return r;
}

StoreDecision ResponseCache::storable(RouteId route, const RequestView& req,
                                      const ResponseView& resp,
                                      std::optional<uint64_t> content_length, TimePoint now) const {
  return decide_storage(routes_[route].config, req, resp, content_length, now);
}

std::shared_ptr<const CachedResponse> ResponseCache::store(
    FillLease& lease, RouteId route, const RequestView& req, const ResponseView& resp,
    std::string_view body, const StoreDecision& decision, TimePoint now) {
  if (!decision.store || body.size() > routes_[route].config.max_object_size) {
    lease.abandon(FillStatus::uncacheable, now);
    return nullptr;
  }
  BuildOptions options{global_.tag_headers, global_.strip_tag_headers, route};
  std::shared_ptr<const CachedResponse> entry =
      build_entry(req, resp, body, decision, options, now);
  lease.complete(entry, now);
  return entry;
}

std::shared_ptr<const CachedResponse> ResponseCache::refresh(FillLease& lease, RouteId route,
                                                             const RequestView& req,
                                                             const CachedResponse& stored,
                                                             const ResponseView& not_modified,
                                                             TimePoint now) {
  std::vector<HeaderView> fields;
  ResponseView merged = merge_not_modified(stored, not_modified, fields);
  std::string_view body = stored.body();
  StoreDecision decision = storable(route, req, merged, body.size(), now);
  if (!decision.store) {
    lease.abandon(FillStatus::uncacheable, now);
    return nullptr;
  }
  BuildOptions options{global_.tag_headers, global_.strip_tag_headers, route};
  std::shared_ptr<CachedResponse> entry = build_entry(req, merged, body, decision, options, now);
  if (entry->tags.empty() && !stored.tags.empty()) {
    // Stripped tag headers are not in the stored head; the tags carry over.
    entry->tags = stored.tags;
    for (const std::string& t : entry->tags)
      entry->charge += sizeof(std::string) + allocation_size(t.capacity() + 1);
  }
  lease.complete(entry, now);
  return entry;
}

bool ResponseCache::serve_on_error(RouteId route,
                                   const std::shared_ptr<const CachedResponse>& entry,
                                   TimePoint now) {
  if (!entry || !entry->usable_on_error(now)) return false;
  stats_.add(route, Counter::stale);
  return true;
}

ServeBuffers ResponseCache::serve_buffers(const CachedResponse& entry, CacheStatus status,
                                          bool not_modified, bool head_request,
                                          std::string_view extra, TimePoint now, char* scratch,
                                          size_t scratch_size) {
  ServeBuffers out;
  out.head = not_modified ? entry.not_modified_head() : entry.head();
  size_t n = render_dynamic_headers(entry, now, status, extra, scratch, scratch_size);
  out.dynamic = std::string_view(scratch, n);
  if (!not_modified && !head_request) out.body = entry.body();
  return out;
}

void ResponseCache::invalidate_after_unsafe(RouteId route, const RequestView& req) {
  std::vector<PurgePattern> patterns;
  patterns.emplace_back(std::string(req.path));
  patterns.emplace_back(std::string(req.path) + "?*");
  for (const InvalidationTemplate& t : routes_[route].config.invalidate)
    if (auto pattern = t.expand(req.path, req.query)) patterns.emplace_back(std::move(*pattern));
  store_.purge_soon(std::move(patterns));
}

std::string ResponseCache::stats_json() const {
  std::string out = "{\"max_memory\":" + std::to_string(global_.max_memory) +
                    ",\"bytes\":" + std::to_string(stats_.total(Counter::bytes)) +
                    ",\"keys\":" + std::to_string(stats_.total(Counter::keys)) + ",\"total\":";
  append_counters(out, [&](Counter c) { return stats_.total(c); });
  out += ",\"routes\":{";
  for (size_t i = 0; i < routes_.size(); ++i) {
    if (i) out += ',';
    append_json_string(out, routes_[i].name);
    out += ':';
    append_counters(out, [&](Counter c) { return stats_.get(static_cast<RouteId>(i), c); });
  }
  out += "}}";
  return out;
}

size_t ResponseCache::invalidate(std::string_view pattern) {
  return store_.purge(PurgePattern(std::string(pattern)));
}

size_t ResponseCache::purge_tag(std::string_view tag) {
  return store_.purge_tag(tag);
}

size_t ResponseCache::clear() {
  return store_.clear();
}

}  // namespace sluice::cache
