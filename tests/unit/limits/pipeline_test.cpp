// The whole pipeline as the gateway drives it, from configuration text to admission.
#include <gtest/gtest.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>

#include "limits/admission.hpp"
#include "limits/rate_limit_config.hpp"
#include "request_fixture.hpp"

using namespace sluice::limits;
using namespace sluice::config;
using sluice::limits::testing::FakeRequest;
using namespace std::chrono_literals;

namespace {

constexpr const char* kConfig = R"(
[server]
trusted_proxies = ["10.0.0.0/8"]

[upstream]
concurrency = 2
queue_limit = 0
classes = { critical = "50%" }

[route]
rate_limit = [
  { key = "ip", rate = "2/s", burst = 2, unless_header = "X-Api-Key" },
  { key = "header:X-Api-Key", rate = "100/s", burst = 100 },
]
skip_limits = ["/health"]
priority = "critical"
shed_status = 429
)";

}  // namespace

TEST(Pipeline, FromConfigurationToAdmission) {
  Diagnostics diag("sluice.toml");
  auto table = parse_toml(kConfig, diag);
  ASSERT_TRUE(table);
  ServerLimitsConfig server;
  UpstreamLimitsConfig upstream_cfg;
  RouteLimitsConfig route_cfg;
  {
    TableReader s(*(*table)["server"].as_table(), diag, "server");
    server = read_server_limits(s);
    TableReader u(*(*table)["upstream"].as_table(), diag, "upstream");
    upstream_cfg = read_upstream_limits(u);
    TableReader r(*(*table)["route"].as_table(), diag, "route");
    route_cfg = read_route_limits(r);
  }
  ASSERT_TRUE(diag.ok()) << diag.render();
  BucketTable buckets(server.rate_limit_keys);
  UpstreamPolicies upstream(upstream_cfg);
  auto cls = resolve_traffic_class(route_cfg.priority, upstream.gate.classes());
  ASSERT_TRUE(cls);
  EXPECT_FALSE(resolve_traffic_class("checkout", upstream.gate.classes()));
  RoutePolicies route(1, route_cfg, buckets, *cls);

  // Behind a trusted proxy, two clients with forged leftmost entries.
  auto identify = [&](FakeRequest& r) {
    RequestView v = r.view();
    v.client = resolve_client_ip(*IpAddress::parse("10.0.0.1"), server.trusted_proxies, r.base(),
                                 r.fields());
    return v;
  };
  FakeRequest alice("10.0.0.1", "/x", {{"X-Forwarded-For", "1.1.1.1, 203.0.113.1"}});
  FakeRequest bob("10.0.0.1", "/x", {{"X-Forwarded-For", "1.1.1.1, 203.0.113.2"}});
  FakeRequest health("10.0.0.1", "/health", {{"X-Forwarded-For", "203.0.113.1"}});
  Duration now = 10s;
  EXPECT_TRUE(route.rate.check(identify(alice), now).allowed);
  EXPECT_TRUE(route.rate.check(identify(alice), now).allowed);
  EXPECT_FALSE(route.rate.check(identify(alice), now).allowed);
  EXPECT_TRUE(route.rate.check(identify(bob), now).allowed);  // own bucket despite the forgery
  EXPECT_TRUE(route.rate.check(identify(health), now).allowed);
  EXPECT_EQ(route.shed_status, 429);

  // Concurrency 2, half of it reserved for critical; no queue.
  asio::io_context io;
  std::vector<Admission> got;
  for (int i = 0; i < 3; ++i)
    asio::co_spawn(
        io,
        [&]() -> sluice::Task<> {
          got.push_back(co_await upstream.gate.acquire(route.traffic_class, Duration::max()));
        },
        asio::detached);
  io.run();
  ASSERT_EQ(got.size(), 3u);
  EXPECT_TRUE(got[0].admitted());
  EXPECT_TRUE(got[1].admitted());
  EXPECT_EQ(got[2].shed, Shed::queue_full);
  EXPECT_GE(got[2].retry_after_seconds, 1u);
}

TEST(Pipeline, CancelAllShedsWaitersForShutdown) {
  GateConfig c;
  c.static_limit = 1;
  ConcurrencyGate gate(c);
  Permit held = gate.try_acquire(0);
  asio::io_context io;
  std::vector<Shed> results;
  for (int i = 0; i < 3; ++i)
    asio::co_spawn(
        io,
        [&]() -> sluice::Task<> {
          results.push_back((co_await gate.acquire(0, Duration::max())).shed);
        },
        asio::detached);
  io.run_for(20ms);
  EXPECT_EQ(gate.queued(), 3u);
  gate.cancel_all();
  io.restart();
  io.run();  // returns: nothing keeps the context busy any more
  EXPECT_EQ(results, (std::vector<Shed>{Shed::timeout, Shed::timeout, Shed::timeout}));
  EXPECT_EQ(gate.queued(), 0u);
}
