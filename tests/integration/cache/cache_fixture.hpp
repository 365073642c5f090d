// Shared set-up for cache tests: sluice with a cached route in front of nginx, which counts
// every request that reached it in its access log.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "../gateway/gateway_fixture.hpp"

namespace sluice::test {

// nginx locations used by the cache tests.
inline std::string cache_locations(const fs::path& files) {
  return R"(
    location /plain/ { return 200 "plain $uri $args\n"; }
    location /maxage/ { add_header Cache-Control "max-age=1"; return 200 "maxage $uri\n"; }
    location /nostore/ { add_header Cache-Control "no-store"; return 200 "nostore\n"; }
    location /private/ { add_header Cache-Control "private"; return 200 "private\n"; }
    location /cookie/ { add_header Set-Cookie "session=s1"; return 200 "cookie\n"; }
    location /lang/ { return 200 "lang $http_accept_language\n"; }
    location /tenant/ { return 200 "tenant $http_x_tenant\n"; }
    location /whoami/ { return 200 "user $http_authorization $cookie_session\n"; }
    location /tagged/ { add_header Surrogate-Key "product-42 list"; return 200 "tagged $uri\n"; }
    location /api/ { return 200 "api $request_method $uri\n"; }
    location /error/ { return 503 "down\n"; }
    location /static/ { alias )" +
         files.string() + R"(/; add_header Cache-Control "max-age=1"; }
)";
}

struct CacheSetup {
  TempDir files;
  std::unique_ptr<Nginx> nginx;
  GatewaySetup g;
  std::unique_ptr<Sluice> gw;

  // `cache` is the route's inline table; `more` adds sections (e.g. [cache]).
  explicit CacheSetup(const std::string& cache, const std::string& more = "", int workers = 1) {
    write_file(files / "file.txt", "static file v1\n");
    NginxOptions o;
    o.locations = cache_locations(files.path());
    nginx = std::make_unique<Nginx>(o);
    g.endpoints = {nginx->port()};
    g.route_extra = "cache = " + cache + "\n";
    g.more = more;
    g.workers = workers;
    gw = g.start();
  }

  std::optional<Response> get(const std::string& path,
                              const std::vector<std::string>& headers = {}) {
    return http_request(g.port, "GET", path, "", headers);
  }
  // How many requests for exactly `uri` reached nginx.
  int backend_hits(const std::string& uri) {
    auto count = [&] {
      auto lines = nginx->access_log();
      return static_cast<int>(std::count_if(lines.begin(), lines.end(), [&](const std::string& l) {
        auto sp = l.find(' ');
        auto sp2 = l.find(' ', sp + 1);
        auto sp3 = l.find(' ', sp2 + 1);
        return l.substr(sp2 + 1, sp3 - sp2 - 1) == uri;
      }));
    };
    // nginx writes a request's log line after sending its response, so a client can be faster
    // than the line: count until two reads a little apart agree.
    int n = count();
    for (int i = 0; i < 50; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      int again = count();
      if (again == n) break;
      n = again;
    }
    return n;
  }
  std::optional<Response> admin(const std::string& method, const std::string& path) {
    return http_request(g.admin_port, method, path);
  }
};

// A 1 MB cache of one shard (a few thousand small entries) and one keep-alive client, for
// tests that push far more keys through it than fit.
struct SmallCache {
  CacheSetup s{R"({ ttl = "1h" })", "[cache]\nmax_memory = \"1MB\"\nshards = 1\n"};
  RawClient c{s.g.port};
  std::optional<Response> get(const std::string& path) {
    EXPECT_TRUE(c.send(get_request(path)));
    return c.read_response();
  }
};

inline std::string x_cache(const std::optional<Response>& r) {
  return r ? r->header("X-Cache") : "no response";
}

}  // namespace sluice::test
