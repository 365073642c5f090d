#include "cache/cache_admin.hpp"

#include <gtest/gtest.h>

#include "cache_test_util.hpp"

using namespace sluice;
using namespace sluice::cache;
using namespace sluice::cache::testing;
using namespace std::chrono_literals;

namespace {

void fill(ResponseCache& cache, const std::string& path, const std::string& tag) {
  Request r("GET", path);
  RequestView req = r.view();
  std::string key;
  auto l = cache.lookup(0, req, cache.classify(0, req), key, Clock::now());
  Response resp(200);
  resp.with("Surrogate-Key", tag);
  ResponseView rv = resp.view();
  cache.store(l.lease, 0, req, rv, "x", cache.storable(0, req, rv, 1, Clock::now()), Clock::now());
}

}  // namespace

TEST(CacheAdmin, RoutesRequestsToPurgesAndStats) {
  GlobalCacheConfig g;
  g.max_memory = 8 << 20;
  ResponseCache cache(g, {{"api", route_with_ttl(60s)}});
  fill(cache, "/api/projects/1", "p1");
  fill(cache, "/api/projects/2", "p2");
  fill(cache, "/api/users/1", "u1");
  fill(cache, "/static/a", "s");

  EXPECT_FALSE(handle_cache_admin(cache, "GET", "/limits/stats", ""));
  auto stats = handle_cache_admin(cache, "GET", "/cache/stats", "");
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->status, 200);
  EXPECT_NE(stats->body.find("\"keys\":4"), std::string::npos) << stats->body;

  auto inv =
      handle_cache_admin(cache, "DELETE", "/cache/invalidate", "pattern=%2Fapi%2Fprojects%2A");
  EXPECT_EQ(inv->status, 200);
  EXPECT_EQ(inv->body, "{\"purged\":2}");
  EXPECT_EQ(handle_cache_admin(cache, "DELETE", "/cache/tag", "tag=u1")->body, "{\"purged\":1}");
  EXPECT_EQ(handle_cache_admin(cache, "DELETE", "/cache/clear", "")->body, "{\"purged\":1}");

  EXPECT_EQ(handle_cache_admin(cache, "GET", "/cache/clear", "")->status, 405);
  EXPECT_EQ(handle_cache_admin(cache, "DELETE", "/cache/invalidate", "")->status, 400);
  EXPECT_EQ(handle_cache_admin(cache, "DELETE", "/cache/invalidate", "pattern=%zz")->status, 400);
  EXPECT_EQ(handle_cache_admin(cache, "GET", "/cache/nope", "")->status, 404);
}

TEST(CacheAdmin, PercentDecoding) {
  EXPECT_EQ(*percent_decode("/a%2Ab%20c"), "/a*b c");
  EXPECT_EQ(*percent_decode("plain"), "plain");
  EXPECT_FALSE(percent_decode("%4"));
  EXPECT_FALSE(percent_decode("%"));
  EXPECT_FALSE(percent_decode("%g1"));
}
