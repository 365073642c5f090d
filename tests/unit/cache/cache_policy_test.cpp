#include "cache/cache_policy.hpp"

#include <gtest/gtest.h>

#include "cache/http_date.hpp"
#include "cache_test_util.hpp"

using namespace sluice;
using namespace sluice::cache;
using namespace sluice::cache::testing;
using namespace std::chrono_literals;

namespace {

std::string key_of(const KeyTemplate& t, Request& r) {
  std::string key;
  t.build(r.view(), key);
  return key;
}

KeyTemplate parse_key(std::string_view text) {
  std::string error;
  auto t = KeyTemplate::parse(text, error);
  EXPECT_TRUE(t) << error;
  return t ? *t : KeyTemplate{};
}

}  // namespace

TEST(KeyTemplate, DefaultSeparatesMethodHostPathAndQuery) {
  KeyTemplate t;
  Request a("GET", "/a", "x=1");
  Request b("HEAD", "/a", "x=1");
  Request c("GET", "/a", "x=2");
  Request d("GET", "/a", "x=1");
  d.host = "EXAMPLE.com";
  EXPECT_NE(key_of(t, a), key_of(t, b));
  EXPECT_NE(key_of(t, a), key_of(t, c));
  EXPECT_EQ(key_of(t, a), key_of(t, d));  // hosts compare case-insensitively
  EXPECT_TRUE(t.keys_method());
  EXPECT_FALSE(t.keys_cookie());
}

TEST(KeyTemplate, HeadersCookiesAndQueryParameters) {
  KeyTemplate t = parse_key("{path}|{header:X-Tenant}|{cookie:session}|{query:page}");
  EXPECT_TRUE(t.keys_cookie());
  EXPECT_FALSE(t.keys_authorization());
  Request a("GET", "/p", "page=2&sort=x");
  a.with("X-Tenant", "acme").with("Cookie", "theme=dark; session=abc");
  Request b("GET", "/p", "sort=y&page=2");
  b.with("x-tenant", "acme").with("Cookie", "session=abc");
  EXPECT_EQ(key_of(t, a), key_of(t, b));  // other cookies and parameters do not matter
  Request c = b;
  c.fields[1].second = "session=xyz";
  EXPECT_NE(key_of(t, a), key_of(t, c));
  Request none("GET", "/p", "page=2");
  Request empty("GET", "/p", "page=2");
  empty.with("X-Tenant", "");
  EXPECT_NE(key_of(t, none), key_of(t, empty));  // absent differs from empty
}

TEST(KeyTemplate, ValuesCannotShiftBetweenSubstitutions) {
  KeyTemplate t = parse_key("{header:A}{header:B}");
  Request a, b;
  a.with("A", "xy").with("B", "z");
  b.with("A", "x").with("B", "yz");
  EXPECT_NE(key_of(t, a), key_of(t, b));
  Request c, d;
  c.with("A", "x\x1f").with("B", "z");
  d.with("A", "x").with("B", "\x1fz");
  EXPECT_NE(key_of(t, c), key_of(t, d));
}

TEST(KeyTemplate, RejectsMalformedTemplates) {
  std::string error;
  EXPECT_FALSE(KeyTemplate::parse("{path", error));
  EXPECT_FALSE(KeyTemplate::parse("{header:}", error));
  EXPECT_FALSE(KeyTemplate::parse("{body}", error));
  EXPECT_FALSE(KeyTemplate::parse("a}b", error));
  EXPECT_TRUE(parse_key("{header:Authorization}").keys_authorization());
  EXPECT_TRUE(parse_key("{header:cookie}").keys_cookie());
}

TEST(Classify, MethodsAndBypassConditions) {
  RouteCacheConfig route = route_with_ttl(60s);
  std::string error;
  route.bypass.push_back(*parse_bypass_condition("query:cache=false", error));
  route.bypass.push_back(*parse_bypass_condition("header:X-No-Cache", error));
  route.bypass.push_back(*parse_bypass_condition("cookie:admin=1", error));
  Request get("GET", "/x");
  EXPECT_EQ(classify_request(route, get.view()).action, RequestAction::lookup);
  Request post("POST", "/x");
  EXPECT_EQ(classify_request(route, post.view()).action, RequestAction::invalidate);
  Request options("OPTIONS", "/x");
  EXPECT_EQ(classify_request(route, options.view()).action, RequestAction::pass);
  Request q("GET", "/x", "a=1&cache=false");
  EXPECT_EQ(classify_request(route, q.view()).action, RequestAction::bypass);
  Request q2("GET", "/x", "cache=true");
  EXPECT_EQ(classify_request(route, q2.view()).action, RequestAction::lookup);
  Request h("GET", "/x");
  h.with("x-no-cache", "");
  EXPECT_EQ(classify_request(route, h.view()).action, RequestAction::bypass);
}

TEST(Classify, CredentialsBypassUnlessTheKeyIncludesThem) {
  RouteCacheConfig route = route_with_ttl(60s);
  Request auth("GET", "/me");
  auth.with("Authorization", "Bearer alice");
  Request cookie("GET", "/me");
  cookie.with("Cookie", "session=alice");
  EXPECT_EQ(classify_request(route, auth.view()).action, RequestAction::bypass);
  EXPECT_EQ(classify_request(route, cookie.view()).action, RequestAction::bypass);
  route.key = parse_key("{path}{header:Authorization}");
  EXPECT_EQ(classify_request(route, auth.view()).action, RequestAction::lookup);
  EXPECT_EQ(classify_request(route, cookie.view()).action, RequestAction::bypass);
  route.key = parse_key("{path}{cookie:session}");
  EXPECT_EQ(classify_request(route, cookie.view()).action, RequestAction::lookup);
  EXPECT_EQ(classify_request(route, auth.view()).action, RequestAction::bypass);
}

TEST(Classify, ClientNoCacheFollowsTheRoute) {
  RouteCacheConfig route = route_with_ttl(60s);
  Request r("GET", "/x");
  r.with("Cache-Control", "no-cache");
  EXPECT_EQ(classify_request(route, r.view()).action, RequestAction::lookup);
  EXPECT_FALSE(classify_request(route, r.view()).revalidate);
  route.client_no_cache = ClientNoCache::revalidate;
  EXPECT_TRUE(classify_request(route, r.view()).revalidate);
  route.client_no_cache = ClientNoCache::bypass;
  EXPECT_EQ(classify_request(route, r.view()).action, RequestAction::bypass);
  Request pragma("GET", "/x");
  pragma.with("Pragma", "no-cache");
  EXPECT_EQ(classify_request(route, pragma.view()).action, RequestAction::bypass);
}

TEST(Storage, NeverStoresPrivateNoStoreOrSetCookie) {
  RouteCacheConfig route = route_with_ttl(60s);
  route.origin_cache_control = false;  // even when the origin's freshness is ignored
  Request req("GET", "/x");
  for (auto [name, value] : std::vector<std::pair<std::string, std::string>>{
           {"Set-Cookie", "session=1"},
           {"Cache-Control", "private"},
           {"Cache-Control", "public, no-store"},
           {"Cache-Control", "private=\"Set-Cookie\""}}) {
    Response resp(200);
    resp.with(name, value);
    auto d = decide_storage(route, req.view(), resp.view(), 10, at(0));
    EXPECT_FALSE(d.store) << name << ": " << value;
  }
  Response ok(200);
  EXPECT_TRUE(decide_storage(route, req.view(), ok.view(), 10, at(0)).store);
}

TEST(Storage, StatusSizeMethodAndCredentials) {
  RouteCacheConfig route = route_with_ttl(60s);
  route.max_object_size = 100;
  Request req("GET", "/x");
  Response ok(200), err(500), redirect(302);
  EXPECT_TRUE(decide_storage(route, req.view(), ok.view(), 100, at(0)).store);
  EXPECT_FALSE(decide_storage(route, req.view(), ok.view(), 101, at(0)).store);
  EXPECT_TRUE(decide_storage(route, req.view(), ok.view(), std::nullopt, at(0)).store);
  EXPECT_FALSE(decide_storage(route, req.view(), err.view(), 1, at(0)).store);
  EXPECT_FALSE(decide_storage(route, req.view(), redirect.view(), 1, at(0)).store);
  Request auth("GET", "/x");
  auth.with("Authorization", "Basic x");
  EXPECT_FALSE(decide_storage(route, auth.view(), ok.view(), 1, at(0)).store);
  Request post("POST", "/x");
  EXPECT_FALSE(decide_storage(route, post.view(), ok.view(), 1, at(0)).store);
  Response vary_any(200);
  vary_any.with("Vary", "*");
  EXPECT_FALSE(decide_storage(route, req.view(), vary_any.view(), 1, at(0)).store);
}

TEST(Freshness, OriginDirectivesOverrideTheRouteTtl) {
  RouteCacheConfig route = route_with_ttl(600s);
  Request req("GET", "/x");
  auto lifetime = [&](Response resp) {
    auto d = decide_storage(route, req.view(), resp.view(), 1, at(0));
    return d.store ? d.freshness : Duration(-1);
  };
  EXPECT_EQ(lifetime(Response(200)), 600s);
  EXPECT_EQ(lifetime(Response(200).with("Cache-Control", "max-age=30")), 30s);
  EXPECT_EQ(lifetime(Response(200).with("Cache-Control", "max-age=30, s-maxage=90")), 90s);
  EXPECT_EQ(lifetime(Response(200).with("Cache-Control", "max-age=30").with("Age", "10")), 20s);
  EXPECT_EQ(lifetime(Response(200)
                         .with("Date", "Sun, 06 Nov 1994 08:49:37 GMT")
                         .with("Expires", "Sun, 06 Nov 1994 08:50:37 GMT")),
            60s);
  EXPECT_EQ(lifetime(Response(200).with("Expires", "0")), Duration(-1));  // already expired
  EXPECT_EQ(lifetime(Response(200).with("Cache-Control", "no-cache")), Duration(-1));
  route.origin_cache_control = false;
  EXPECT_EQ(lifetime(Response(200).with("Cache-Control", "max-age=30")), 600s);
}

TEST(Freshness, StaleWindowsFromRouteAndOrigin) {
  RouteCacheConfig route = route_with_ttl(60s);
  route.stale_while_revalidate = 30s;
  route.stale_if_error = 300s;
  Request req("GET", "/x");
  Response plain(200);
  auto d = decide_storage(route, req.view(), plain.view(), 1, at(0));
  EXPECT_EQ(d.stale_while_revalidate, 30s);
  EXPECT_EQ(d.stale_if_error, 300s);
  Response origin(200);
  origin.with("Cache-Control", "max-age=0, stale-while-revalidate=5");
  d = decide_storage(route, req.view(), origin.view(), 1, at(0));
  EXPECT_TRUE(d.store);
  EXPECT_EQ(d.freshness, 0s);
  EXPECT_EQ(d.stale_while_revalidate, 5s);
  Response strict(200);
  strict.with("Cache-Control", "max-age=10, must-revalidate");
  d = decide_storage(route, req.view(), strict.view(), 1, at(0));
  EXPECT_EQ(d.stale_if_error, 0s);
}

TEST(HttpDate, ParsesTheThreeForms) {
  EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777);
  EXPECT_EQ(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), 784111777);
  EXPECT_EQ(parse_http_date("Sun Nov  6 08:49:37 1994"), 784111777);
  EXPECT_FALSE(parse_http_date("yesterday"));
  char buf[40];
  EXPECT_EQ(std::string(buf, format_http_date(784111777, buf, sizeof buf)),
            "Sun, 06 Nov 1994 08:49:37 GMT");
}

namespace {

std::shared_ptr<CachedResponse> entry_for(Request& req, Response& resp, std::string body = "hi") {
  RouteCacheConfig route = route_with_ttl(60s);
  auto d = decide_storage(route, req.view(), resp.view(), body.size(), at(0));
  EXPECT_TRUE(d.store) << d.reason;
  BuildOptions options;
  std::vector<std::string> tags{"Surrogate-Key"};
  options.tag_headers = tags;
  return build_entry(req.view(), resp.view(), body, d, options, at(0));
}

}  // namespace

TEST(Conditional, IfNoneMatchUsesWeakComparison) {
  Request req("GET", "/x");
  Response resp(200);
  resp.with("ETag", "\"v1\"").with("Last-Modified", "Sun, 06 Nov 1994 08:49:37 GMT");
  auto e = entry_for(req, resp);
  auto check = [&](std::string name, std::string value) {
    Request r("GET", "/x");
    r.with(name, value);
    return is_not_modified(*e, r.view());
  };
  EXPECT_TRUE(check("If-None-Match", "\"v1\""));
  EXPECT_TRUE(check("If-None-Match", "W/\"v1\""));
  EXPECT_TRUE(check("If-None-Match", "\"v0\", \"v1\""));
  EXPECT_TRUE(check("If-None-Match", "*"));
  EXPECT_FALSE(check("If-None-Match", "\"v2\""));
  EXPECT_TRUE(check("If-Modified-Since", "Sun, 06 Nov 1994 08:49:37 GMT"));
  EXPECT_TRUE(check("If-Modified-Since", "Mon, 07 Nov 1994 08:49:37 GMT"));
  EXPECT_FALSE(check("If-Modified-Since", "Sat, 05 Nov 1994 08:49:37 GMT"));
  Request plain("GET", "/x");
  EXPECT_FALSE(is_not_modified(*e, plain.view()));
  Request both("GET", "/x");
  both.with("If-None-Match", "\"v2\"").with("If-Modified-Since", "Mon, 07 Nov 1994 08:49:37 GMT");
  EXPECT_FALSE(is_not_modified(*e, both.view()));  // If-None-Match takes precedence
  EXPECT_EQ(e->not_modified_head().rfind("HTTP/1.1 304 Not Modified\r\n", 0), 0u);
  EXPECT_NE(e->not_modified_head().find("ETag: \"v1\"\r\n"), std::string::npos);
}

TEST(Vary, StoredValuesMustMatch) {
  Request req("GET", "/x");
  req.with("Accept-Encoding", "gzip");
  Response resp(200);
  resp.with("Vary", "Accept-Encoding, Accept-Language");
  auto e = entry_for(req, resp);
  Request same("GET", "/x");
  same.with("accept-encoding", "gzip");
  Request other("GET", "/x");
  other.with("Accept-Encoding", "br");
  Request more("GET", "/x");
  more.with("Accept-Encoding", "gzip").with("Accept-Language", "fr");
  EXPECT_TRUE(entry_serves(*e, same.view()));
  EXPECT_FALSE(entry_serves(*e, other.view()));
  EXPECT_FALSE(entry_serves(*e, more.view()));
}

TEST(BuildEntry, HeadIsPreSerializedWithoutHopByHopFields) {
  Request req("GET", "/x", "a=1");
  Response resp(200);
  resp.with("Content-Type", "text/plain")
      .with("Connection", "keep-alive, X-Secret")
      .with("X-Secret", "1")
      .with("Transfer-Encoding", "chunked")
      .with("Keep-Alive", "timeout=5")
      .with("Age", "3")
      .with("Surrogate-Key", "product-42  page-home")
      .with("Date", "Sun, 06 Nov 1994 08:49:37 GMT");
  auto e = entry_for(req, resp, "hello");
  EXPECT_EQ(e->head(),
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nDate: Sun, 06 Nov 1994 08:49:37 "
            "GMT\r\nContent-Length: 5\r\n");
  EXPECT_EQ(e->body(), "hello");
  EXPECT_EQ(e->tags, (std::vector<std::string>{"product-42", "page-home"}));
  EXPECT_EQ(e->target(), "/x?a=1");
  EXPECT_EQ(e->initial_age, 3);
  EXPECT_GT(e->charge, e->data.size());
  char buf[128];
  size_t n = render_dynamic_headers(*e, at(10), CacheStatus::hit, "Connection: close\r\n", buf,
                                    sizeof buf);
  EXPECT_EQ(std::string(buf, n), "Age: 13\r\nX-Cache: HIT\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(render_dynamic_headers(*e, at(10), CacheStatus::hit, "", buf, 10), 0u);
}
