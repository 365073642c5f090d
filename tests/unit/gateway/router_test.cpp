#include "gateway/router.hpp"

#include <gtest/gtest.h>

using namespace sluice::gateway;

TEST(NormaliseTarget, OriginAndAbsoluteForms) {
  NormalisedTarget t;
  ASSERT_TRUE(normalise_target("/a/b?x=1", t));
  EXPECT_EQ(t.path, "/a/b");
  EXPECT_EQ(t.query, "x=1");
  EXPECT_TRUE(t.authority.empty());
  ASSERT_TRUE(normalise_target("http://Example.com:8080/p?q", t));
  EXPECT_EQ(t.authority, "Example.com:8080");
  EXPECT_EQ(t.path, "/p");
  EXPECT_EQ(t.query, "q");
  ASSERT_TRUE(normalise_target("http://h", t));
  EXPECT_EQ(t.path, "/");
  ASSERT_TRUE(normalise_target("http://h?x", t));
  EXPECT_EQ(t.path, "/");
  EXPECT_TRUE(t.has_query);
  EXPECT_FALSE(normalise_target("ftp://h/x", t));
  EXPECT_FALSE(normalise_target("http://user@h/x", t));
  EXPECT_FALSE(normalise_target("*", t));
  EXPECT_FALSE(normalise_target("", t));
}

TEST(NormaliseTarget, DotSegments) {
  NormalisedTarget t;
  for (auto [in, out] :
       std::vector<std::pair<const char*, const char*>>{{"/a/./b", "/a/b"},
                                                        {"/a/../b", "/b"},
                                                        {"/../../etc", "/etc"},
                                                        {"/api/..", "/"},
                                                        {"/api/.", "/api/"},
                                                        {"/a/b/../../c/", "/c/"},
                                                        {"/.hidden/x", "/.hidden/x"}}) {
    ASSERT_TRUE(normalise_target(in, t)) << in;
    EXPECT_EQ(t.path, out) << in;
  }
}

TEST(Router, LongestPrefixHostAndMethod) {
  std::vector<RouteConfig> routes(4);
  routes[0].path = "/";
  routes[1].path = "/api/";
  routes[2].path = "/api/";
  routes[2].host = "admin.example.com";
  routes[3].path = "/api/orders";
  routes[3].methods = {HTTP_POST};
  Router r(routes);
  EXPECT_EQ(r.match("x", "/index.html", HTTP_GET), 0);
  EXPECT_EQ(r.match("x", "/api/items", HTTP_GET), 1);
  EXPECT_EQ(r.match("ADMIN.example.com:8080", "/api/items", HTTP_GET), 2);
  EXPECT_EQ(r.match("x", "/api/orders", HTTP_POST), 3);
  // A GET on /api/orders falls back to the shorter /api/ route.
  EXPECT_EQ(r.match("x", "/api/orders", HTTP_GET), 1);
}

TEST(Router, MethodNotAllowedAndNoRoute) {
  std::vector<RouteConfig> routes(1);
  routes[0].path = "/api/";
  routes[0].methods = {HTTP_GET};
  Router r(routes);
  EXPECT_EQ(r.match("x", "/api/x", HTTP_DELETE), Router::kMethodNotAllowed);
  EXPECT_EQ(r.match("x", "/other", HTTP_GET), Router::kNoRoute);
}
