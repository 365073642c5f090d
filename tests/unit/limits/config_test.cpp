#include <gtest/gtest.h>

#include "limits/rate_limit_config.hpp"
#include "limits/upstream_config.hpp"

using namespace sluice::limits;
using namespace sluice::config;
using namespace std::chrono_literals;

namespace {

struct Parsed {
  Diagnostics diag{"sluice.toml"};
  std::optional<toml::table> table;
  explicit Parsed(std::string_view text) { table = parse_toml(text, diag); }
  const toml::table& route() { return *(*table)["route"].as_table(); }
};

}  // namespace

TEST(RateLimitConfig, ParsesTheDocumentedForms) {
  Parsed p(R"(
[route]
rate_limit = [
  { key = "ip", rate = "10/s", burst = 10, unless_header = "X-Api-Key" },
  { key = "header:X-Api-Key", rate = "1000/min", burst = 100, name = "per key" },
  { key = ["ip", "cookie:sid"], rate = "50/5m" },
]
skip_limits = ["/health", "/status/*"]
max_concurrent = 64
priority = "critical"
shed_status = 429
)");
  ASSERT_TRUE(p.table);
  RouteLimitsConfig cfg;
  {
    TableReader r(p.route(), p.diag, "route");
    cfg = read_route_limits(r);
  }
  ASSERT_TRUE(p.diag.ok()) << p.diag.render();
  ASSERT_EQ(cfg.rate_limits.size(), 3u);
  EXPECT_EQ(cfg.rate_limits[0].name, "ip 10/s");
  EXPECT_EQ(cfg.rate_limits[0].burst, 10u);
  EXPECT_EQ(cfg.rate_limits[0].tier.unless_header, std::vector<std::string>{"X-Api-Key"});
  EXPECT_EQ(cfg.rate_limits[1].name, "per key");
  EXPECT_EQ(cfg.rate_limits[1].rate.period, 60s);
  EXPECT_EQ(cfg.rate_limits[2].key.parts.size(), 2u);
  EXPECT_EQ(cfg.rate_limits[2].burst, 50u);  // defaults to the count
  EXPECT_TRUE(cfg.skip.matches("/health"));
  EXPECT_TRUE(cfg.skip.matches("/status/x"));
  EXPECT_FALSE(cfg.skip.matches("/healthz"));
  EXPECT_EQ(cfg.max_concurrent, 64u);
  EXPECT_EQ(cfg.priority, "critical");
  EXPECT_EQ(cfg.shed_status, 429);
}

TEST(RateLimitConfig, ErrorsPointAtLineAndColumn) {
  Parsed p(R"([route]
rate_limit = [
  { key = "ip", rate = "10/fortnight" },
  { key = "body:x", rate = "1/s", burts = 3 },
  { rate = "1/s" },
  "ip",
  { key = "ip", rate = "1/s", when_header = "" },
]
shed_status = 418
skip_limits = ["health"]
)");
  ASSERT_TRUE(p.table);
  {
    TableReader r(p.route(), p.diag, "route");
    read_route_limits(r);
  }
  std::string out = p.diag.render();
  EXPECT_NE(out.find("sluice.toml:3:24: route.rate_limit[0].rate: expected a rate"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("sluice.toml:4:11: route.rate_limit[1].key: \"body:x\" is not"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("sluice.toml:4:35: unknown key \"route.rate_limit[1].burts\""),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("sluice.toml:5:3: route.rate_limit[2].key: is required"), std::string::npos)
      << out;
  EXPECT_NE(out.find("sluice.toml:6:3: route.rate_limit[3]: expected a table"), std::string::npos)
      << out;
  EXPECT_NE(out.find("sluice.toml:7:45: route.rate_limit[4].when_header: \"\" is not a header"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("sluice.toml:9:15: route.shed_status: must be 429 or 503"), std::string::npos)
      << out;
  EXPECT_NE(out.find("sluice.toml:10:16: route.skip_limits: expected a path"), std::string::npos)
      << out;
}

TEST(ServerLimitsConfig, TrustedProxies) {
  Parsed p(R"([server]
trusted_proxies = ["10.0.0.0/8", "fd00::/8", "192.168.1.1", "300.1.1.1/8"]
rate_limit_keys = 5000
)");
  ServerLimitsConfig cfg;
  {
    TableReader r(*(*p.table)["server"].as_table(), p.diag, "server");
    cfg = read_server_limits(r);
  }
  EXPECT_EQ(cfg.trusted_proxies.cidrs().size(), 3u);
  EXPECT_EQ(cfg.rate_limit_keys, 5000u);
  EXPECT_TRUE(cfg.trusted_proxies.contains(*IpAddress::parse("fd00::1")));
  EXPECT_EQ(p.diag.render(),
            "sluice.toml:2:61: server.trusted_proxies: expected an address or CIDR such as "
            "\"10.0.0.0/8\" or \"fd00::/8\"\n");
}

TEST(UpstreamLimitsConfig, ParsesEverySection) {
  Parsed p(R"([up]
queue_limit = 50
queue_timeout = "500ms"
concurrency = "adaptive"
adaptive = { min_limit = 3, max_limit = 200 }
classes = { critical = "80%", batch = 0.2 }
circuit = { max_pending = 200, max_active = 300 }
retries = { attempts = 2, budget = "10%", on = [502, 503], backoff = "10ms" }
outlier = { consecutive_failures = 3, base_ejection = "10s" }
health = { path = "/healthz", interval = "2s", timeout = "1s", unhealthy_after = 2, healthy_after = 3 }
)");
  UpstreamLimitsConfig cfg;
  {
    TableReader r(*(*p.table)["up"].as_table(), p.diag, "up");
    cfg = read_upstream_limits(r);
  }
  ASSERT_TRUE(p.diag.ok()) << p.diag.render();
  EXPECT_EQ(cfg.gate.queue_limit, 50u);
  EXPECT_EQ(cfg.gate.queue_timeout, 500ms);
  EXPECT_TRUE(cfg.gate.adaptive);
  EXPECT_EQ(cfg.gate.adaptive_params.min_limit, 3u);
  ASSERT_EQ(cfg.gate.classes.size(), 2u);
  EXPECT_DOUBLE_EQ(cfg.gate.classes[0].share + cfg.gate.classes[1].share, 1.0);
  EXPECT_EQ(cfg.gate.max_pending, 200u);
  EXPECT_EQ(cfg.gate.max_active, 300u);
  EXPECT_EQ(cfg.retries.attempts, 2u);
  EXPECT_DOUBLE_EQ(cfg.retries.budget, 0.1);
  EXPECT_EQ(cfg.retries.on, (std::vector<int>{502, 503}));
  EXPECT_EQ(cfg.outlier.consecutive_failures, 3u);
  ASSERT_TRUE(cfg.health);
  EXPECT_EQ(cfg.health->path, "/healthz");
  EXPECT_EQ(cfg.health->healthy_after, 3u);
}

TEST(UpstreamLimitsConfig, DefaultsAndErrors) {
  Parsed p(R"([up]
concurrency = 0
classes = { critical = "80%", batch = "30%" }
retries = { attempts = 1, budget = "lots", on = [404] }
health = { interval = "1s", timeout = "2s", healthy_afer = 2 }
)");
  UpstreamLimitsConfig cfg;
  {
    TableReader r(*(*p.table)["up"].as_table(), p.diag, "up");
    cfg = read_upstream_limits(r);
  }
  std::string out = p.diag.render();
  EXPECT_NE(out.find("sluice.toml:2:15: up.concurrency: expected \"adaptive\" or a number"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("sluice.toml:3:11: up.classes: the shares add up to more than 100%"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("sluice.toml:4:36: up.retries.budget: expected a percentage"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("sluice.toml:4:50: up.retries.on: expected 5xx status codes"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("up.health.timeout: must not be longer than interval"), std::string::npos)
      << out;
  EXPECT_NE(out.find("unknown key \"up.health.healthy_afer\""), std::string::npos) << out;
  UpstreamLimitsConfig defaults;
  EXPECT_EQ(defaults.gate.queue_limit, 100u);
  EXPECT_EQ(defaults.gate.queue_timeout, 1s);
  EXPECT_FALSE(defaults.gate.adaptive);
  EXPECT_EQ(defaults.retries.attempts, 1u);
  EXPECT_DOUBLE_EQ(defaults.retries.budget, 0.2);
  EXPECT_EQ(defaults.retries.on, (std::vector<int>{502, 503, 504}));
  EXPECT_FALSE(defaults.health);
}
