#include "gateway/config.hpp"

#include <gtest/gtest.h>

using namespace sluice;
using namespace sluice::gateway;

TEST(GatewayConfig, ContractKeysParse) {
  config::Diagnostics diag("g.toml");
  auto cfg = parse_config(R"(
[server]
listen = ["127.0.0.1:8080", "[::1]:8080"]
workers = 2
admin = "127.0.0.1:9901"

[upstream.backend]
endpoints = ["127.0.0.1:9001", "127.0.0.1:9002"]
balance = "p2c"
max_connections = 16
idle_timeout = "60s"
connect_timeout = "250ms"

[[route]]
path = "/api/"
methods = ["GET", "POST"]
host = "api.example.com"
upstream = "backend"
timeout = "1m"
)",
                          diag);
  ASSERT_TRUE(cfg) << diag.render();
  EXPECT_EQ(cfg->server.listen.size(), 2u);
  EXPECT_EQ(cfg->server.workers, 2u);
  EXPECT_EQ(cfg->upstreams[0].balance, upstream::Balance::p2c);
  EXPECT_EQ(cfg->upstreams[0].max_connections, 16u);
  EXPECT_EQ(cfg->upstreams[0].connect_timeout, std::chrono::milliseconds(250));
  EXPECT_EQ(cfg->routes[0].methods.size(), 2u);
  EXPECT_EQ(cfg->routes[0].timeout, std::chrono::minutes(1));
  EXPECT_EQ(cfg->routes[0].host, "api.example.com");
}

TEST(GatewayConfig, EveryProblemIsReported) {
  config::Diagnostics diag("g.toml");
  auto cfg = parse_config(R"([server]
listen = "nowhere"
wrkers = 1
[upstream.a]
endpoints = []
[[route]]
path = "/"
upstream = "b"
methods = ["FETCH"]
)",
                          diag);
  EXPECT_FALSE(cfg);
  std::string out = diag.render();
  EXPECT_NE(out.find("g.toml:2:10: server.listen: expected HOST:PORT"), std::string::npos) << out;
  EXPECT_NE(out.find("g.toml:3:1: unknown key \"server.wrkers\""), std::string::npos) << out;
  EXPECT_NE(out.find("g.toml:5:13: upstream.a.endpoints"), std::string::npos) << out;
  EXPECT_NE(out.find("g.toml:8:12: route[0].upstream: no [upstream.b]"), std::string::npos) << out;
  EXPECT_NE(out.find("g.toml:9:11: route[0].methods: unknown method \"FETCH\""), std::string::npos)
      << out;
}

TEST(GatewayConfig, NeedsARoute) {
  config::Diagnostics diag("g.toml");
  EXPECT_FALSE(parse_config("[upstream.a]\nendpoints = [\"127.0.0.1:1\"]\n", diag));
  EXPECT_NE(diag.render().find("no [[route]]"), std::string::npos);
}

TEST(GatewayConfig, TrafficKeysAreStoredWithTheirSections) {
  config::Diagnostics diag("g.toml");
  auto cfg = parse_config(R"(
[server]
trusted_proxies = ["10.0.0.0/8"]
rate_limit_keys = 5000

[upstream.api]
endpoints = ["127.0.0.1:9001", "127.0.0.1:9002"]
max_connections = 8
classes = { critical = "80%" }
retries = { attempts = 2 }
health = { path = "/ping", interval = "2s", timeout = "1s", unhealthy_after = 2, healthy_after = 2 }

[upstream.adaptive]
endpoints = ["127.0.0.1:9003"]
concurrency = "adaptive"

[[route]]
path = "/api/"
upstream = "api"
rate_limit = [{ key = "ip", rate = "10/s", burst = 10 }]
max_concurrent = 50
priority = "critical"
shed_status = 429
)",
                          diag);
  ASSERT_TRUE(cfg) << diag.render();
  EXPECT_FALSE(cfg->server.traffic.trusted_proxies.empty());
  EXPECT_EQ(cfg->server.traffic.rate_limit_keys, 5000u);
  // Upstream tables come in name order: "adaptive" first.
  ASSERT_EQ(cfg->upstreams[1].name, "api");
  const auto& api = cfg->upstreams[1].traffic;
  // Without `concurrency`: endpoints x max_connections.
  EXPECT_FALSE(api.gate.adaptive);
  EXPECT_EQ(api.gate.static_limit, 16u);
  EXPECT_EQ(api.retries.attempts, 2u);
  ASSERT_TRUE(api.health);
  EXPECT_EQ(api.health->path, "/ping");
  EXPECT_TRUE(cfg->upstreams[0].traffic.gate.adaptive);
  const auto& route = cfg->routes[0];
  EXPECT_EQ(route.traffic.rate_limits.size(), 1u);
  EXPECT_EQ(route.traffic.max_concurrent, 50u);
  EXPECT_EQ(route.traffic.shed_status, 429);
  EXPECT_EQ(route.traffic_class, 1u);
}

TEST(GatewayConfig, PriorityMustNameAClassOfTheRoutesUpstream) {
  config::Diagnostics diag("g.toml");
  auto cfg = parse_config(R"(
[upstream.api]
endpoints = ["127.0.0.1:9001"]
classes = { critical = "80%" }

[[route]]
upstream = "api"
priority = "batch"
)",
                          diag);
  EXPECT_FALSE(cfg);
  EXPECT_NE(diag.render().find("g.toml:8:12: route[0].priority"), std::string::npos)
      << diag.render();
}
