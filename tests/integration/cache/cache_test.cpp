// The response cache end to end: freshness, keys, variants, bypass, invalidation, purge through
// the admin API, conditional requests and the stale windows, against nginx counting its hits.
#include <thread>

#include "cache_fixture.hpp"

using namespace sluice::test;
using namespace std::chrono_literals;

TEST(Cache, StoresForTtlThenRefetches) {
  CacheSetup s(R"({ ttl = "1s" })");
  auto a = s.get("/plain/1");
  auto b = s.get("/plain/1");
  auto c = s.get("/plain/1");
  ASSERT_TRUE(a && b && c);
  EXPECT_EQ(x_cache(a), "MISS");
  EXPECT_EQ(x_cache(b), "HIT");
  EXPECT_EQ(x_cache(c), "HIT");
  EXPECT_EQ(b->body, a->body);
  EXPECT_TRUE(b->has_header("Age"));
  EXPECT_EQ(b->header("Content-Length"), std::to_string(a->body.size()));
  EXPECT_EQ(s.backend_hits("/plain/1"), 1);
  std::this_thread::sleep_for(1200ms);
  auto d = s.get("/plain/1");
  EXPECT_EQ(x_cache(d), "EXPIRED");
  EXPECT_EQ(s.backend_hits("/plain/1"), 2);
  EXPECT_EQ(x_cache(s.get("/plain/1")), "HIT");
}

TEST(Cache, HonoursOriginFreshnessAndNoStore) {
  CacheSetup s(R"({ ttl = "10m" })");
  EXPECT_EQ(x_cache(s.get("/maxage/1")), "MISS");
  EXPECT_EQ(x_cache(s.get("/maxage/1")), "HIT");
  std::this_thread::sleep_for(1200ms);  // max-age=1 wins over the route's ttl
  EXPECT_EQ(x_cache(s.get("/maxage/1")), "EXPIRED");
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(x_cache(s.get("/nostore/1")), "MISS");
  EXPECT_EQ(s.backend_hits("/nostore/1"), 3);
}

TEST(Cache, KeyTemplateSelectsEntries) {
  CacheSetup s(R"({ ttl = "1m", key = "{method} {path} {header:X-Tenant}" })");
  auto a1 = s.get("/tenant/x?page=1", {"X-Tenant: a"});
  auto a2 = s.get("/tenant/x?page=2", {"X-Tenant: a"});  // the query is not in the key
  auto b1 = s.get("/tenant/x", {"X-Tenant: b"});
  auto b2 = s.get("/tenant/x", {"X-Tenant: b"});
  ASSERT_TRUE(a1 && a2 && b1 && b2);
  EXPECT_EQ(x_cache(a1), "MISS");
  EXPECT_EQ(x_cache(a2), "HIT");
  EXPECT_EQ(a2->body, "tenant a\n");
  EXPECT_EQ(x_cache(b1), "MISS");
  EXPECT_EQ(x_cache(b2), "HIT");
  EXPECT_EQ(b2->body, "tenant b\n");
}

TEST(Cache, VaryKeepsOneEntryPerVariant) {
  CacheSetup s(R"({ ttl = "1m", vary = ["Accept-Language"] })");
  EXPECT_EQ(x_cache(s.get("/lang/1", {"Accept-Language: en"})), "MISS");
  EXPECT_EQ(x_cache(s.get("/lang/1", {"Accept-Language: de"})), "MISS");
  auto en = s.get("/lang/1", {"Accept-Language: en"});
  auto de = s.get("/lang/1", {"Accept-Language: de"});
  ASSERT_TRUE(en && de);
  EXPECT_EQ(x_cache(en), "HIT");
  EXPECT_EQ(en->body, "lang en\n");
  EXPECT_EQ(x_cache(de), "HIT");
  EXPECT_EQ(de->body, "lang de\n");
  EXPECT_EQ(s.backend_hits("/lang/1"), 2);
}

TEST(Cache, BypassConditions) {
  CacheSetup s(R"({ ttl = "1m", bypass = ["query:cache=false", "header:X-No-Cache"] })");
  EXPECT_EQ(x_cache(s.get("/plain/b")), "MISS");
  EXPECT_EQ(x_cache(s.get("/plain/b?cache=false")), "BYPASS");
  EXPECT_EQ(x_cache(s.get("/plain/b", {"X-No-Cache: 1"})), "BYPASS");
  EXPECT_EQ(x_cache(s.get("/plain/b", {"X-No-Cache: 1"})), "BYPASS");
  EXPECT_EQ(x_cache(s.get("/plain/b")), "HIT");
  EXPECT_EQ(s.backend_hits("/plain/b"), 3);
}

TEST(Cache, SuccessfulWritesInvalidateTheirPatterns) {
  CacheSetup s(R"({ ttl = "1m", invalidate = ["/api/projects*"] })");
  for (const char* p : {"/api/projects", "/api/projects/42", "/api/projects/7?x=1", "/api/users"})
    EXPECT_EQ(x_cache(s.get(p)), "MISS") << p;
  for (const char* p : {"/api/projects", "/api/projects/42", "/api/projects/7?x=1", "/api/users"})
    EXPECT_EQ(x_cache(s.get(p)), "HIT") << p;
  auto post = http_request(s.g.port, "POST", "/api/projects/42", "{\"name\":\"n\"}");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 200);
  EXPECT_FALSE(post->has_header("X-Cache"));
  for (const char* p : {"/api/projects", "/api/projects/42", "/api/projects/7?x=1"})
    EXPECT_EQ(x_cache(s.get(p)), "MISS") << p;
  EXPECT_EQ(x_cache(s.get("/api/users")), "HIT");
}

TEST(Cache, AdminPurgesByPatternTagAndEverything) {
  CacheSetup s(R"({ ttl = "1m" })");
  for (const char* p : {"/plain/1", "/plain/2", "/tagged/1", "/tagged/2", "/api/x"})
    s.get(p);
  auto tagged = s.get("/tagged/1");
  ASSERT_TRUE(tagged);
  EXPECT_EQ(x_cache(tagged), "HIT");
  EXPECT_FALSE(tagged->has_header("Surrogate-Key"));  // tags are for purging, not for clients
  auto first = http_request(s.g.port, "GET", "/tagged/3");
  ASSERT_TRUE(first);
  EXPECT_FALSE(first->has_header("Surrogate-Key"));

  auto purge = s.admin("DELETE", "/cache/invalidate?pattern=/plain/*");
  ASSERT_TRUE(purge);
  EXPECT_EQ(purge->status, 200);
  EXPECT_EQ(purge->body, "{\"purged\":2}\n");
  EXPECT_EQ(x_cache(s.get("/plain/1")), "MISS");
  auto tag = s.admin("DELETE", "/cache/tag?tag=product-42");
  ASSERT_TRUE(tag);
  EXPECT_EQ(tag->body, "{\"purged\":3}\n");
  EXPECT_EQ(x_cache(s.get("/tagged/2")), "MISS");
  EXPECT_EQ(x_cache(s.get("/api/x")), "HIT");

  auto stats = s.admin("GET", "/cache/stats");
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->status, 200);
  for (const char* field : {"\"hits\":", "\"misses\":", "\"hit_rate\":", "\"keys\":", "\"bytes\":",
                            "\"evictions\":", "\"routes\":"})
    EXPECT_NE(stats->body.find(field), std::string::npos) << field;

  auto clear = s.admin("DELETE", "/cache/clear");
  ASSERT_TRUE(clear);
  EXPECT_EQ(clear->status, 200);
  EXPECT_EQ(x_cache(s.get("/api/x")), "MISS");
  auto wrong = s.admin("GET", "/cache/clear");
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 405);
  auto missing = s.admin("DELETE", "/cache/invalidate");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 400);
}

TEST(Cache, AnswersConditionalRequestsWith304AndRevalidatesUpstream) {
  CacheSetup s(R"({ ttl = "1m" })");
  auto a = s.get("/static/file.txt");
  ASSERT_TRUE(a);
  EXPECT_EQ(x_cache(a), "MISS");
  std::string etag = a->header("ETag");
  ASSERT_FALSE(etag.empty());
  auto nm = s.get("/static/file.txt", {"If-None-Match: " + etag});
  ASSERT_TRUE(nm);
  EXPECT_EQ(nm->status, 304);
  EXPECT_EQ(x_cache(nm), "HIT");
  EXPECT_EQ(nm->header("ETag"), etag);
  EXPECT_TRUE(nm->body.empty());
  auto other = s.get("/static/file.txt", {"If-None-Match: \"other\""});
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 200);
  EXPECT_EQ(s.backend_hits("/static/file.txt"), 1);

  // Expired (the origin's max-age=1): revalidated with the stored ETag; nginx answers 304 and
  // the stored body is served without being transferred again.
  std::this_thread::sleep_for(1200ms);
  auto r = s.get("/static/file.txt");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(x_cache(r), "EXPIRED");
  EXPECT_EQ(r->body, "static file v1\n");
  auto log = s.nginx->access_log();
  ASSERT_EQ(s.backend_hits("/static/file.txt"), 2);
  EXPECT_NE(log.back().find(" 304 "), std::string::npos) << log.back();
  EXPECT_EQ(x_cache(s.get("/static/file.txt")), "HIT");
}

TEST(Cache, StaleWhileRevalidateServesAtOnceAndRefreshesOnce) {
  int version = 0;
  std::mutex mu;
  ScriptedBackend backend([&](const ReceivedRequest&) {
    std::lock_guard lock(mu);
    std::string body = "v" + std::to_string(++version) + "\n";
    BackendReply r;
    r.delay = 300ms;
    r.raw = "HTTP/1.1 200 OK\r\nCache-Control: max-age=1\r\nContent-Length: " +
            std::to_string(body.size()) + "\r\n\r\n" + body;
    return r;
  });
  GatewaySetup g;
  g.endpoints = {backend.port()};
  g.route_extra = R"(cache = { ttl = "1m", stale_while_revalidate = "30s" })";
  auto gw = g.start();
  auto first = http_request(g.port, "GET", "/swr");
  ASSERT_TRUE(first);
  EXPECT_EQ(first->body, "v1\n");
  std::this_thread::sleep_for(1200ms);
  auto start = std::chrono::steady_clock::now();
  auto stale = http_request(g.port, "GET", "/swr");
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(stale);
  EXPECT_EQ(x_cache(stale), "STALE");
  EXPECT_EQ(stale->body, "v1\n");
  EXPECT_LT(took, 250ms);                            // not behind the 300 ms refresh
  auto again = http_request(g.port, "GET", "/swr");  // while the refresh runs: stale too
  EXPECT_EQ(x_cache(again), "STALE");
  std::this_thread::sleep_for(600ms);
  auto fresh = http_request(g.port, "GET", "/swr");
  ASSERT_TRUE(fresh);
  EXPECT_EQ(x_cache(fresh), "HIT");
  EXPECT_EQ(fresh->body, "v2\n");
  EXPECT_EQ(backend.requests().size(), 2u);
}

TEST(Cache, StaleIfErrorCoversFailuresAnd5xx) {
  std::atomic<bool> failing{false};
  ScriptedBackend backend([&](const ReceivedRequest&) {
    BackendReply r;
    if (failing)
      r.raw = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 5\r\n\r\ndown\n";
    else
      r.raw = "HTTP/1.1 200 OK\r\nCache-Control: max-age=1\r\nContent-Length: 5\r\n\r\ndata\n";
    return r;
  });
  GatewaySetup g;
  g.endpoints = {backend.port()};
  g.route_extra = R"(cache = { ttl = "1m", stale_if_error = "1h" })";
  auto gw = g.start();
  ASSERT_EQ(x_cache(http_request(g.port, "GET", "/e")), "MISS");
  std::this_thread::sleep_for(1200ms);
  failing = true;
  auto on_5xx = http_request(g.port, "GET", "/e");
  ASSERT_TRUE(on_5xx);
  EXPECT_EQ(on_5xx->status, 200);
  EXPECT_EQ(x_cache(on_5xx), "STALE");
  EXPECT_EQ(on_5xx->body, "data\n");
  backend.kill();
  auto on_down = http_request(g.port, "GET", "/e");
  ASSERT_TRUE(on_down);
  EXPECT_EQ(on_down->status, 200);
  EXPECT_EQ(x_cache(on_down), "STALE");
  auto uncached = http_request(g.port, "GET", "/never-cached");
  ASSERT_TRUE(uncached);
  EXPECT_EQ(uncached->status, 502);
}

TEST(Cache, MetricsCountLookupsAndServedBytes) {
  CacheSetup s(R"({ ttl = "1m" })");
  auto a = s.get("/plain/m");
  for (int i = 0; i < 3; ++i)
    s.get("/plain/m");
  auto m = s.admin("GET", "/metrics");
  ASSERT_TRUE(a && m);
  const std::string& t = m->body;
  auto has = [&](const std::string& line) {
    EXPECT_NE(t.find("\n" + line + "\n"), std::string::npos) << line << "\n" << t;
  };
  has("sluice_cache_lookups_total{route=\"/\",result=\"hit\"} 3");
  has("sluice_cache_lookups_total{route=\"/\",result=\"miss\"} 1");
  has("sluice_cache_lookups_total{route=\"/\",result=\"stale\"} 0");
  has("sluice_cache_served_bytes_total{route=\"/\"} " + std::to_string(3 * a->body.size()));
  has("sluice_cache_evictions_total 0");
  EXPECT_NE(t.find("\nsluice_cache_stored_bytes "), std::string::npos);
}
