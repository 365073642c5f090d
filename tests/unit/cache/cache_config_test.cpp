#include "cache/cache_config.hpp"

#include <gtest/gtest.h>

using namespace sluice;
using namespace sluice::cache;

namespace {

std::optional<RouteCacheConfig> parse_route(const std::string& text, config::Diagnostics& diag) {
  auto doc = config::parse_toml(text, diag);
  if (!doc) return std::nullopt;
  const toml::node* n = doc->get("cache");
  EXPECT_TRUE(n);
  return parse_route_cache(*n, diag, "routes.api.cache");
}

}  // namespace

TEST(RouteCacheConfig, MinimalTableHasDocumentedDefaults) {
  config::Diagnostics diag("g.toml");
  auto c = parse_route("cache = { ttl = \"10m\" }\n", diag);
  ASSERT_TRUE(c) << diag.render();
  EXPECT_EQ(c->ttl, std::chrono::minutes(10));
  EXPECT_EQ(c->key.text(), "{method} {host}{path}?{query}");
  EXPECT_EQ(c->methods, (std::vector<std::string>{"GET", "HEAD"}));
  EXPECT_TRUE(c->status_cacheable(200));
  EXPECT_TRUE(c->status_cacheable(404));
  EXPECT_FALSE(c->status_cacheable(500));
  EXPECT_FALSE(c->status_cacheable(302));
  EXPECT_EQ(c->max_object_size, 1024u * 1024u);
  EXPECT_EQ(c->stale_while_revalidate.count(), 0);
  EXPECT_TRUE(c->origin_cache_control);
  EXPECT_EQ(c->client_no_cache, ClientNoCache::ignore);
  EXPECT_TRUE(c->coalesce);
}

TEST(RouteCacheConfig, ReadsEveryKey) {
  config::Diagnostics diag("g.toml");
  auto c = parse_route(
      "cache = { ttl = \"30s\", key = \"{host}{path}{header:X-Tenant}\", vary = [\"Accept\"], "
      "methods = [\"GET\"], statuses = [200, 404], max_object_size = \"64KB\", "
      "stale_while_revalidate = \"1m\", stale_if_error = \"1h\", "
      "bypass = [\"query:cache=false\", \"header:X-Debug\"], origin_cache_control = false, "
      "client_no_cache = \"revalidate\", coalesce = false, coalesce_timeout = \"2s\", "
      "invalidate = [\"/api/projects*\", \"/api/projects/{3}*\"] }\n",
      diag);
  ASSERT_TRUE(c) << diag.render();
  EXPECT_EQ(c->ttl, std::chrono::seconds(30));
  EXPECT_EQ(c->key.text(), "{host}{path}{header:X-Tenant}{header:Accept}");
  EXPECT_EQ(c->statuses, (std::vector<int>{200, 404}));
  EXPECT_EQ(c->max_object_size, 65536u);
  EXPECT_EQ(c->stale_while_revalidate, std::chrono::minutes(1));
  EXPECT_EQ(c->stale_if_error, std::chrono::hours(1));
  ASSERT_EQ(c->bypass.size(), 2u);
  EXPECT_EQ(c->bypass[0].source, BypassCondition::Source::query);
  EXPECT_EQ(c->bypass[0].name, "cache");
  EXPECT_EQ(*c->bypass[0].value, "false");
  EXPECT_FALSE(c->bypass[1].value);
  EXPECT_FALSE(c->origin_cache_control);
  EXPECT_EQ(c->client_no_cache, ClientNoCache::revalidate);
  EXPECT_FALSE(c->coalesce);
  EXPECT_EQ(c->coalesce_timeout, std::chrono::seconds(2));
  ASSERT_EQ(c->invalidate.size(), 2u);
  EXPECT_EQ(*c->invalidate[1].expand("/api/projects/42"), "/api/projects/42*");
  std::string error;
  auto by_query = cache::InvalidationTemplate::parse("/api/items/{query:item}", error);
  ASSERT_TRUE(by_query) << error;
  EXPECT_EQ(*by_query->expand("/api/orders", "qty=2&item=17"), "/api/items/17");
  EXPECT_FALSE(by_query->expand("/api/orders", "qty=2"));
  EXPECT_FALSE(by_query->expand("/api/orders", "item=*"));  // no widening by the client
}

TEST(RouteCacheConfig, ErrorsPointAtTheValue) {
  config::Diagnostics diag("g.toml");
  auto c = parse_route(
      "cache = { ttl = \"10m\", methods = [\"POST\"], key = \"{nope}\", typo = 1, "
      "bypass = [\"body:x\"], invalidate = [\"/a/{x}\"] }\n",
      diag);
  EXPECT_FALSE(c);
  std::string out = diag.render();
  EXPECT_NE(out.find("routes.api.cache.methods: \"POST\" cannot be cached"), std::string::npos)
      << out;
  EXPECT_NE(out.find("routes.api.cache.key: unknown key variable {nope}"), std::string::npos)
      << out;
  EXPECT_NE(out.find("unknown key \"routes.api.cache.typo\""), std::string::npos) << out;
  EXPECT_NE(out.find("unknown bypass source \"body\""), std::string::npos) << out;
  EXPECT_NE(out.find("/a/{x}"), std::string::npos) << out;
  EXPECT_EQ(out.rfind("g.toml:1:", 0), 0u) << out;
}

TEST(RouteCacheConfig, TtlIsRequiredAndValueMustBeATable) {
  config::Diagnostics diag("g.toml");
  EXPECT_FALSE(parse_route("cache = { stale_if_error = \"1m\" }\n", diag));
  EXPECT_NE(diag.render().find("cache.ttl: is required"), std::string::npos) << diag.render();
  config::Diagnostics diag2("g.toml");
  EXPECT_FALSE(parse_route("cache = \"10m\"\n", diag2));
  EXPECT_NE(diag2.render().find("expected a table"), std::string::npos);
}

TEST(GlobalCacheConfig, ReadsMaxMemoryAndTagHeaders) {
  config::Diagnostics diag("g.toml");
  auto doc = config::parse_toml(
      "[cache]\nmax_memory = \"256MB\"\ntag_headers = \"Cache-Tag\"\neviction = \"lru\"\n"
      "admission = \"always\"\n",
      diag);
  ASSERT_TRUE(doc);
  auto g = parse_global_cache(*(*doc)["cache"].as_table(), diag);
  ASSERT_TRUE(g) << diag.render();
  EXPECT_EQ(g->max_memory, 256u * 1024 * 1024);
  EXPECT_EQ(g->tag_headers, std::vector<std::string>{"Cache-Tag"});
  EXPECT_EQ(g->eviction, EvictionPolicy::lru);
  EXPECT_FALSE(g->adaptive_admission);

  config::Diagnostics bad("g.toml");
  auto doc2 = config::parse_toml(
      "[cache]\nmax_memory = \"lots\"\nshards = 3\nadmission = \"sometimes\"\n", bad);
  EXPECT_FALSE(parse_global_cache(*(*doc2)["cache"].as_table(), bad));
  EXPECT_NE(bad.render().find("cache.max_memory: expected a size"), std::string::npos);
  EXPECT_NE(bad.render().find("cache.shards: must be a power of two"), std::string::npos);
  EXPECT_NE(bad.render().find("cache.admission"), std::string::npos) << bad.render();
}

TEST(GlobalCacheConfig, Defaults) {
  GlobalCacheConfig g;
  EXPECT_EQ(g.max_memory, 512u * 1024 * 1024);
  EXPECT_EQ(g.eviction, EvictionPolicy::s3fifo);
  EXPECT_EQ(g.shards, 64u);
  EXPECT_TRUE(g.adaptive_admission);
}
