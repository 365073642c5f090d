#include "backend/routes.hpp"

#include <gtest/gtest.h>

using namespace sluice::backend;

TEST(Routes, Items) {
  auto r = route_request(HTTP_GET, "/api/items/42");
  EXPECT_EQ(r.kind, RouteKind::item);
  EXPECT_EQ(r.item_id, "42");
  EXPECT_FALSE(r.head);
  EXPECT_TRUE(r.in_service());
  r = route_request(HTTP_HEAD, "/api/items/abc-1?x=1");
  EXPECT_EQ(r.kind, RouteKind::item);
  EXPECT_EQ(r.item_id, "abc-1");
  EXPECT_TRUE(r.head);
  EXPECT_EQ(route_request(HTTP_GET, "/api/items/").kind, RouteKind::not_found);
  EXPECT_EQ(route_request(HTTP_GET, "/api/items/a/b").kind, RouteKind::not_found);
  EXPECT_EQ(route_request(HTTP_GET, "/api/items/" + std::string(65, 'x')).kind,
            RouteKind::not_found);
  r = route_request(HTTP_DELETE, "/api/items/1");
  EXPECT_EQ(r.kind, RouteKind::method_not_allowed);
  EXPECT_STREQ(r.allow, "GET, HEAD");
}

TEST(Routes, Orders) {
  EXPECT_EQ(route_request(HTTP_POST, "/api/orders").kind, RouteKind::order);
  auto r = route_request(HTTP_GET, "/api/orders");
  EXPECT_EQ(r.kind, RouteKind::method_not_allowed);
  EXPECT_STREQ(r.allow, "POST");
}

TEST(Routes, Slow) {
  auto r = route_request(HTTP_GET, "/api/slow?ms=250");
  EXPECT_EQ(r.kind, RouteKind::slow);
  EXPECT_EQ(r.number, 250);
  EXPECT_EQ(route_request(HTTP_GET, "/api/slow?a=b&ms=0").number, 0);
  EXPECT_EQ(route_request(HTTP_GET, "/api/slow").kind, RouteKind::bad_request);
  EXPECT_EQ(route_request(HTTP_GET, "/api/slow?ms=-1").kind, RouteKind::bad_request);
  EXPECT_EQ(route_request(HTTP_GET, "/api/slow?ms=60001").kind, RouteKind::bad_request);
  EXPECT_EQ(route_request(HTTP_GET, "/api/slow?ms=1x").kind, RouteKind::bad_request);
}

TEST(Routes, Status) {
  auto r = route_request(HTTP_GET, "/api/status/503");
  EXPECT_EQ(r.kind, RouteKind::status);
  EXPECT_EQ(r.number, 503);
  EXPECT_EQ(route_request(HTTP_GET, "/api/status/99").kind, RouteKind::bad_request);
  EXPECT_EQ(route_request(HTTP_GET, "/api/status/600").kind, RouteKind::bad_request);
  EXPECT_EQ(route_request(HTTP_GET, "/api/status/abc").kind, RouteKind::not_found);
}

TEST(Routes, HealthAndStatsBypassTheCap) {
  auto h = route_request(HTTP_GET, "/health");
  EXPECT_EQ(h.kind, RouteKind::health);
  EXPECT_FALSE(h.in_service());
  auto s = route_request(HTTP_GET, "/stats");
  EXPECT_EQ(s.kind, RouteKind::stats);
  EXPECT_FALSE(s.in_service());
  EXPECT_EQ(route_request(HTTP_GET, "/").kind, RouteKind::not_found);
  EXPECT_EQ(route_request(HTTP_GET, "/healthz").kind, RouteKind::not_found);
}

TEST(Items, EtagAndBodyAreStable) {
  EXPECT_EQ(item_etag("42"), item_etag("42"));
  EXPECT_NE(item_etag("42"), item_etag("43"));
  EXPECT_EQ(item_etag("42").front(), '"');
  EXPECT_EQ(item_body("42"), item_body("42"));
  EXPECT_EQ(item_body("7").rfind("{\"id\":\"7\",", 0), 0u);
}

TEST(Items, EtagMatching) {
  std::string tag = item_etag("1");
  EXPECT_TRUE(etag_matches(tag, tag));
  EXPECT_TRUE(etag_matches("\"x\", W/" + tag, tag));
  EXPECT_TRUE(etag_matches("*", tag));
  EXPECT_FALSE(etag_matches("\"x\"", tag));
}
