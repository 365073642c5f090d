#include "cache/response_cache.hpp"

#include <gtest/gtest.h>

#include "cache_test_util.hpp"

using namespace sluice;
using namespace sluice::cache;
using namespace sluice::cache::testing;
using namespace std::chrono_literals;

namespace {

GlobalCacheConfig small_cache() {
  GlobalCacheConfig g;
  g.max_memory = 16 << 20;
  return g;
}

KeyTemplate parse_key(std::string_view text) {
  std::string error;
  return *KeyTemplate::parse(text, error);
}

// Drives one request through the cache the way the gateway does; a miss fetches `origin`.
struct Client {
  ResponseCache& cache;
  RouteId route = 0;
  std::string key;
  int fetches = 0;

  struct Answer {
    CacheStatus status = CacheStatus::miss;
    bool bypassed = false;
    bool not_modified = false;
    std::string body;
    std::string wire;  // the bytes a hit writes
  };

  Answer send(Request& r, Response origin, std::string origin_body, TimePoint now) {
    RequestView req = r.view();
    Answer a;
    auto d = cache.classify(route, req);
    if (d.action != RequestAction::lookup) {
      ++fetches;
      a.bypassed = true;
      a.body = origin_body;
      a.status = CacheStatus::bypass;
      if (d.action == RequestAction::invalidate) cache.invalidate_after_unsafe(route, req);
      return a;
    }
    auto l = cache.lookup(route, req, d, key, now);
    a.status = l.status;
    if (l.status == CacheStatus::hit || l.status == CacheStatus::stale) {
      char scratch[128];
      auto b = ResponseCache::serve_buffers(*l.entry, l.status, l.not_modified, r.method == "HEAD",
                                            "", now, scratch, sizeof scratch);
      a.wire = std::string(b.head) + std::string(b.dynamic) + std::string(b.body);
      a.body = std::string(b.body);
      a.not_modified = l.not_modified;
      if (l.lease) {  // stale-while-revalidate: refresh in the background
        ++fetches;
        ResponseView rv = origin.view();
        cache.store(l.lease, route, req, rv, origin_body,
                    cache.storable(route, req, rv, origin_body.size(), now), now);
      }
      return a;
    }
    EXPECT_TRUE(l.lease) << "no concurrent fill expected here";
    ++fetches;
    ResponseView rv = origin.view();
    if (origin.status >= 500 && cache.serve_on_error(route, l.entry, now)) {
      l.lease.abandon(FillStatus::failed, now);
      a.status = CacheStatus::stale;
      a.body = std::string(l.entry->body());
      return a;
    }
    auto sd = cache.storable(route, req, rv, origin_body.size(), now);
    if (sd.store)
      cache.store(l.lease, route, req, rv, origin_body, sd, now);
    else
      l.lease.abandon(FillStatus::uncacheable, now);
    a.body = origin_body;
    return a;
  }
};

}  // namespace

TEST(ResponseCache, MissThenHitWithAgeAndXCache) {
  ResponseCache cache(small_cache(), {{"api", route_with_ttl(60s)}});
  Client c{cache};
  Request r("GET", "/a");
  Response origin(200);
  origin.with("Content-Type", "text/plain").with("Date", "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(c.send(r, origin, "hello", at(0)).status, CacheStatus::miss);
  auto hit = c.send(r, origin, "other", at(5));
  EXPECT_EQ(hit.status, CacheStatus::hit);
  EXPECT_EQ(hit.wire,
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nDate: Sun, 06 Nov 1994 08:49:37 "
            "GMT\r\nContent-Length: 5\r\nAge: 5\r\nX-Cache: HIT\r\n\r\nhello");
  EXPECT_EQ(c.fetches, 1);
  Request head("HEAD", "/a");
  EXPECT_EQ(c.send(head, origin, "", at(6)).status, CacheStatus::miss);  // method is in the key
  EXPECT_EQ(cache.count(0, Counter::hits), 1);
  EXPECT_EQ(cache.count(0, Counter::misses), 2);
}

TEST(ResponseCache, TtlExpiryStaleWhileRevalidateAndStaleIfError) {
  RouteCacheConfig route = route_with_ttl(60s);
  route.stale_while_revalidate = 30s;
  route.stale_if_error = 600s;
  ResponseCache cache(small_cache(), {{"api", route}});
  Client c{cache};
  Request r("GET", "/a");
  c.send(r, Response(200), "v1", at(0));
  EXPECT_EQ(c.send(r, Response(200), "x", at(59)).status, CacheStatus::hit);
  // Inside the stale window: served at once, refreshed by this one request in the background.
  auto stale = c.send(r, Response(200), "v2", at(70));
  EXPECT_EQ(stale.status, CacheStatus::stale);
  EXPECT_EQ(stale.body, "v1");
  EXPECT_NE(stale.wire.find("X-Cache: STALE\r\n"), std::string::npos);
  EXPECT_EQ(c.fetches, 2);
  auto fresh = c.send(r, Response(200), "x", at(71));
  EXPECT_EQ(fresh.status, CacheStatus::hit);
  EXPECT_EQ(fresh.body, "v2");
  // Expired past the revalidation window, the origin fails: stale-if-error serves v2.
  auto on_error = c.send(r, Response(502), "bad", at(200));
  EXPECT_EQ(on_error.status, CacheStatus::stale);
  EXPECT_EQ(on_error.body, "v2");
  // The origin recovers: EXPIRED, refetched.
  EXPECT_EQ(c.send(r, Response(200), "v3", at(201)).status, CacheStatus::expired);
  EXPECT_EQ(c.send(r, Response(200), "x", at(202)).body, "v3");
}

TEST(ResponseCache, ConditionalRequestsGet304FromTheCache) {
  ResponseCache cache(small_cache(), {{"api", route_with_ttl(60s)}});
  Client c{cache};
  Request r("GET", "/a");
  Response origin(200);
  origin.with("ETag", "\"v1\"").with("Cache-Control", "max-age=60");
  c.send(r, origin, "body", at(0));
  Request cond("GET", "/a");
  cond.with("If-None-Match", "W/\"v1\"");
  auto a = c.send(cond, origin, "", at(1));
  EXPECT_TRUE(a.not_modified);
  EXPECT_EQ(a.wire.rfind("HTTP/1.1 304 Not Modified\r\n", 0), 0u);
  EXPECT_NE(a.wire.find("ETag: \"v1\"\r\n"), std::string::npos);
  EXPECT_EQ(a.wire.find("body"), std::string::npos);
  Request other("GET", "/a");
  other.with("If-None-Match", "\"v0\"");
  EXPECT_FALSE(c.send(other, origin, "", at(1)).not_modified);
  EXPECT_EQ(cache.count(0, Counter::not_modified), 1);
}

TEST(ResponseCache, NoUserReceivesAnotherUsersResponse) {
  RouteCacheConfig shared = route_with_ttl(60s);
  RouteCacheConfig per_user = route_with_ttl(60s);
  per_user.key = parse_key("{method} {host}{path}?{query}{cookie:session}");
  RouteCacheConfig per_token = route_with_ttl(60s);
  per_token.key = parse_key("{method} {host}{path}?{query}{header:Authorization}");
  ResponseCache cache(small_cache(),
                      {{"shared", shared}, {"user", per_user}, {"token", per_token}});

  for (RouteId route : {0, 1, 2}) {
    Client c{cache, route};
    Request alice("GET", "/me"), bob("GET", "/me"), anon("GET", "/me");
    alice.with("Cookie", "session=alice").with("Authorization", "Bearer alice");
    bob.with("Cookie", "session=bob").with("Authorization", "Bearer bob");
    c.send(alice, Response(200), "alice's page", at(0));
    EXPECT_NE(c.send(bob, Response(200), "bob's page", at(1)).body, "alice's page") << route;
    EXPECT_NE(c.send(anon, Response(200), "anonymous", at(2)).body, "alice's page") << route;
    EXPECT_NE(c.send(anon, Response(200), "anonymous", at(3)).body, "bob's page") << route;
    EXPECT_NE(c.send(bob, Response(200), "bob's page", at(4)).body, "alice's page") << route;
  }
  // The shared route bypasses credentialed requests entirely; the keyed ones hit per user.
  EXPECT_EQ(cache.count(0, Counter::bypass), 3);
  EXPECT_EQ(cache.count(0, Counter::stores), 1);  // only the anonymous page
  EXPECT_EQ(cache.count(1, Counter::bypass), 3);  // Authorization without a keyed token
  EXPECT_EQ(cache.count(2, Counter::bypass), 3);  // Cookie without a keyed cookie

  // A Set-Cookie or private response is never stored, even on a per-user route.
  RouteCacheConfig both = route_with_ttl(60s);
  both.key = parse_key("{path}{cookie:session}");
  ResponseCache cache2(small_cache(), {{"user", both}});
  Client c{cache2};
  Request alice("GET", "/me");
  alice.with("Cookie", "session=alice");
  c.send(alice, Response(200).with("Set-Cookie", "session=alice2"), "alice", at(0));
  c.send(alice, Response(200).with("Cache-Control", "private"), "alice", at(1));
  c.send(alice, Response(200).with("Cache-Control", "no-store"), "alice", at(2));
  EXPECT_EQ(cache2.count(0, Counter::stores), 0);
  EXPECT_EQ(c.fetches, 3);
}

TEST(ResponseCache, VaryingResponsesServeOnlyTheirVariant) {
  ResponseCache cache(small_cache(), {{"api", route_with_ttl(60s)}});
  Client c{cache};
  Request gz("GET", "/a"), br("GET", "/a");
  gz.with("Accept-Encoding", "gzip");
  br.with("Accept-Encoding", "br");
  Response origin(200);
  origin.with("Vary", "Accept-Encoding");
  c.send(gz, origin, "gzip body", at(0));
  EXPECT_EQ(c.send(br, origin, "br body", at(1)).status, CacheStatus::miss);
  EXPECT_EQ(c.send(br, origin, "x", at(2)).body, "br body");
  // A route `vary` puts the header in the key: both variants stay cached.
  RouteCacheConfig route = route_with_ttl(60s);
  route.key.add_header("Accept-Encoding");
  ResponseCache keyed(small_cache(), {{"api", route}});
  Client k{keyed};
  k.send(gz, origin, "gzip body", at(0));
  k.send(br, origin, "br body", at(0));
  EXPECT_EQ(k.send(gz, origin, "x", at(1)).body, "gzip body");
  EXPECT_EQ(k.send(br, origin, "x", at(1)).body, "br body");
}

TEST(ResponseCache, ClientNoCacheRevalidates) {
  RouteCacheConfig route = route_with_ttl(60s);
  route.client_no_cache = ClientNoCache::revalidate;
  ResponseCache cache(small_cache(), {{"api", route}});
  Client c{cache};
  Request r("GET", "/a"), reload("GET", "/a");
  reload.with("Cache-Control", "no-cache");
  c.send(r, Response(200), "v1", at(0));
  EXPECT_EQ(c.send(reload, Response(200), "v2", at(1)).status, CacheStatus::miss);
  EXPECT_EQ(c.send(r, Response(200), "x", at(2)).body, "v2");
}

TEST(ResponseCache, UnsafeRequestsPurgeTheirTargetAndRoutePatterns) {
  RouteCacheConfig route = route_with_ttl(60s);
  std::string error;
  route.invalidate.push_back(*InvalidationTemplate::parse("/api/projects", error));
  route.invalidate.push_back(*InvalidationTemplate::parse("/api/projects?*", error));
  route.invalidate.push_back(*InvalidationTemplate::parse("/api/{2}/{3}/*", error));
  ResponseCache cache(small_cache(), {{"projects", route}});
  Client c{cache};
  std::vector<Request> pages{{"GET", "/api/projects"},         {"GET", "/api/projects", "page=2"},
                             {"GET", "/api/projects/42"},      {"GET", "/api/projects/42/tasks"},
                             {"GET", "/api/projects/42", "x"}, {"GET", "/api/projects/7"}};
  for (auto& p : pages)
    c.send(p, Response(200), "page", at(0));
  Request post("POST", "/api/projects/42");
  c.send(post, Response(200), "", at(1));
  std::vector<CacheStatus> after;
  for (auto& p : pages)
    after.push_back(c.send(p, Response(200), "page", at(2)).status);
  EXPECT_EQ(after,
            (std::vector<CacheStatus>{CacheStatus::miss, CacheStatus::miss, CacheStatus::miss,
                                      CacheStatus::miss, CacheStatus::miss, CacheStatus::hit}));
}

TEST(ResponseCache, AdminPurgesAndStats) {
  ResponseCache cache(small_cache(),
                      {{"api", route_with_ttl(60s)}, {"static", route_with_ttl(60s)}});
  Client api{cache, 0}, files{cache, 1};
  Request p1("GET", "/api/products/42"), p2("GET", "/api/home"), p3("GET", "/api/products/7");
  api.send(p1, Response(200).with("Surrogate-Key", "product-42"), "42", at(0));
  api.send(p2, Response(200).with("Cache-Tag", "home,product-42"), "home", at(0));
  api.send(p3, Response(200).with("Surrogate-Key", "product-7"), "7", at(0));
  Request f("GET", "/logo.png");
  files.send(f, Response(200), "png", at(0));
  EXPECT_EQ(api.send(p2, Response(200), "", at(1)).wire.find("Cache-Tag"), std::string::npos);

  EXPECT_EQ(cache.purge_tag("product-42"), 2u);
  EXPECT_EQ(api.send(p1, Response(200), "42", at(2)).status, CacheStatus::miss);
  EXPECT_EQ(api.send(p3, Response(200), "7", at(2)).status, CacheStatus::hit);
  EXPECT_EQ(cache.invalidate("/api/*"), 2u);
  EXPECT_EQ(files.send(f, Response(200), "", at(3)).status, CacheStatus::hit);

  std::string json = cache.stats_json();
  EXPECT_NE(json.find("\"routes\":{\"api\":{\"hits\":"), std::string::npos) << json;
  EXPECT_NE(json.find("\"static\":{\"hits\":1,"), std::string::npos) << json;
  EXPECT_NE(json.find("\"hit_rate\":"), std::string::npos) << json;
  EXPECT_NE(json.find("\"evictions\":0"), std::string::npos) << json;
  EXPECT_NE(json.find("\"keys\":1"), std::string::npos) << json;
  EXPECT_EQ(cache.clear(), 1u);
  EXPECT_EQ(cache.total(Counter::keys), 0);
  EXPECT_EQ(cache.total(Counter::bytes), 0);
  EXPECT_NE(cache.stats_json().find("\"purged\":5"), std::string::npos) << cache.stats_json();
}

TEST(ResponseCache, OversizedBodiesAreNotStored) {
  RouteCacheConfig route = route_with_ttl(60s);
  route.max_object_size = 8;
  ResponseCache cache(small_cache(), {{"api", route}});
  Client c{cache};
  Request r("GET", "/big");
  c.send(r, Response(200), "0123456789", at(0));
  EXPECT_EQ(c.send(r, Response(200), "0123456789", at(1)).status, CacheStatus::miss);
  EXPECT_EQ(cache.total(Counter::stores), 0);
}

TEST(ResponseCache, ExpiredEntriesRevalidateWithA304) {
  ResponseCache cache(small_cache(), {{"api", route_with_ttl(60s)}});
  Client c{cache};
  Request r("GET", "/a");
  c.send(r,
         Response(200)
             .with("ETag", "\"v1\"")
             .with("Cache-Control", "max-age=60")
             .with("Content-Type", "text/plain")
             .with("Surrogate-Key", "a a b"),
         "body", at(0));
  RequestView req = r.view();
  std::string key;
  auto l = cache.lookup(0, req, cache.classify(0, req), key, at(100));
  ASSERT_EQ(l.status, CacheStatus::expired);
  ASSERT_TRUE(l.lease);
  ASSERT_TRUE(l.entry);
  EXPECT_EQ(revalidation_fields(*l.entry), "If-None-Match: \"v1\"\r\n");
  Response not_modified(304);
  not_modified.with("Cache-Control", "max-age=120").with("ETag", "\"v1\"");
  ResponseView nm = not_modified.view();
  auto fresh = cache.refresh(l.lease, 0, req, *l.entry, nm, at(100));
  ASSERT_TRUE(fresh);
  EXPECT_EQ(fresh->body(), "body");
  EXPECT_EQ(fresh->status, 200);
  EXPECT_EQ(fresh->tags, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(fresh->head().find("max-age=60"), std::string::npos);
  EXPECT_NE(fresh->head().find("Cache-Control: max-age=120\r\n"), std::string::npos);
  EXPECT_NE(fresh->head().find("Content-Type: text/plain\r\n"), std::string::npos);
  EXPECT_NE(fresh->head().find("Content-Length: 4\r\n"), std::string::npos);
  auto hit = c.send(r, Response(200), "x", at(200));
  EXPECT_EQ(hit.status, CacheStatus::hit);
  EXPECT_EQ(hit.body, "body");
  EXPECT_EQ(cache.purge_tag("a"), 1u);
}

TEST(ResponseCache, StaleWithoutCoalescingStillRefreshes) {
  RouteCacheConfig route = route_with_ttl(60s);
  route.stale_while_revalidate = 60s;
  route.coalesce = false;
  ResponseCache cache(small_cache(), {{"api", route}});
  Client c{cache};
  Request r("GET", "/a");
  c.send(r, Response(200), "v1", at(0));
  EXPECT_EQ(c.send(r, Response(200), "v2", at(70)).status, CacheStatus::stale);
  EXPECT_EQ(c.send(r, Response(200), "x", at(71)).body, "v2");
}

TEST(ResponseCache, UncacheableKeysStopQueueingBehindOneAnother) {
  ResponseCache cache(small_cache(), {{"api", route_with_ttl(60s)}});
  Request r("GET", "/private");
  RequestView req = r.view();
  std::string key;
  auto d = cache.classify(0, req);
  auto first = cache.lookup(0, req, d, key, at(0));
  ASSERT_TRUE(first.lease);
  EXPECT_TRUE(cache.lookup(0, req, d, key, at(0)).wait);  // queued behind the first
  Response resp(200);
  resp.with("Cache-Control", "private");
  ResponseView rv = resp.view();
  EXPECT_FALSE(
      cache.store(first.lease, 0, req, rv, "mine", cache.storable(0, req, rv, 4, at(0)), at(0)));
  // For a while, each request goes upstream at once.
  auto a = cache.lookup(0, req, d, key, at(1));
  auto b = cache.lookup(0, req, d, key, at(1));
  EXPECT_TRUE(a.lease && b.lease);
  EXPECT_FALSE(a.wait || b.wait);
  // A response that can be stored ends that.
  Response ok(200);
  ResponseView okv = ok.view();
  EXPECT_TRUE(
      cache.store(a.lease, 0, req, okv, "shared", cache.storable(0, req, okv, 6, at(1)), at(1)));
  b.lease.abandon(FillStatus::failed, at(1));
  EXPECT_EQ(cache.lookup(0, req, d, key, at(2)).status, CacheStatus::hit);
  // Markers expire.
  Request r2("GET", "/private2");
  RequestView req2 = r2.view();
  auto c = cache.lookup(0, req2, d, key, at(0));
  c.lease.abandon(FillStatus::uncacheable, at(0));
  auto later = cache.lookup(0, req2, d, key, at(30));
  EXPECT_TRUE(later.lease);
  EXPECT_TRUE(cache.lookup(0, req2, d, key, at(30)).wait);
}

TEST(ResponseCache, AnUncacheableRefreshKeepsTheStaleEntry) {
  RouteCacheConfig route = route_with_ttl(60s);
  route.stale_if_error = 600s;
  ResponseCache cache(small_cache(), {{"api", route}});
  Client c{cache};
  Request r("GET", "/a");
  c.send(r, Response(200), "v1", at(0));
  // Expired; the origin answers 500, which cannot be stored: the stale entry still serves.
  EXPECT_EQ(c.send(r, Response(500), "oops", at(100)).body, "v1");
  RequestView req = r.view();
  std::string key;
  auto l = cache.lookup(0, req, cache.classify(0, req), key, at(101));
  ASSERT_TRUE(l.lease);
  l.lease.abandon(FillStatus::uncacheable, at(101));
  EXPECT_TRUE(cache.serve_on_error(
      0, cache.lookup(0, req, cache.classify(0, req), key, at(102)).entry, at(102)));
}
