#include "upstream/balancer.hpp"

#include <gtest/gtest.h>

#include <map>

using namespace sluice;
using namespace sluice::upstream;

namespace {

UpstreamConfig config_with(int endpoints, Balance balance) {
  UpstreamConfig cfg;
  cfg.name = "u";
  cfg.balance = balance;
  for (int i = 0; i < endpoints; ++i) {
    std::string err;
    cfg.endpoints.push_back(*parse_host_port("127.0.0.1:" + std::to_string(9001 + i), err));
  }
  return cfg;
}

}  // namespace

TEST(Balancer, RoundRobinVisitsEveryEndpointEvenly) {
  auto cfg = config_with(3, Balance::round_robin);
  UpstreamState state(cfg);
  Balancer b(state, 0);
  std::map<int, int> seen;
  for (int i = 0; i < 300; ++i)
    ++seen[b.pick({}, 0)];
  EXPECT_EQ(seen.size(), 3u);
  for (auto& [ep, n] : seen)
    EXPECT_EQ(n, 100) << ep;
}

TEST(Balancer, LeastConnPrefersTheIdlest) {
  auto cfg = config_with(3, Balance::least_conn);
  UpstreamState state(cfg);
  state.endpoints[0]->active_requests = 5;
  state.endpoints[1]->active_requests = 1;
  state.endpoints[2]->active_requests = 3;
  Balancer b(state, 0);
  for (int i = 0; i < 10; ++i)
    EXPECT_EQ(b.pick({}, 0), 1);
}

TEST(Balancer, P2cAvoidsTheSlowEndpoint) {
  auto cfg = config_with(3, Balance::p2c);
  UpstreamState state(cfg);
  Balancer b(state, 42);
  for (int i = 0; i < 20; ++i) {
    b.observe(0, 1'000'000);
    b.observe(1, 1'000'000);
    b.observe(2, 50'000'000);
  }
  std::map<int, int> seen;
  for (int i = 0; i < 3000; ++i)
    ++seen[b.pick({}, 0)];
  // The slow endpoint only wins when both random choices are it, which p2c never does.
  EXPECT_EQ(seen[2], 0);
  EXPECT_GT(seen[0], 1000);
  EXPECT_GT(seen[1], 1000);
}

TEST(Balancer, SkipsExcludedAndDownButNeverRefusesEverything) {
  auto cfg = config_with(3, Balance::round_robin);
  UpstreamState state(cfg);
  Balancer b(state, 0);
  int64_t now = 1'000'000'000;
  state.endpoints[0]->mark_down(cfg, now);
  Excluded ex;
  ex.add(1);
  for (int i = 0; i < 10; ++i)
    EXPECT_EQ(b.pick(ex, now), 2);
  ex.add(2);
  // Only a down endpoint remains: it is tried rather than failing the request outright.
  EXPECT_EQ(b.pick(ex, now), 0);
  ex.add(0);
  EXPECT_EQ(b.pick(ex, now), -1);
}

TEST(EndpointState, DownBackoffDoublesAndResets) {
  auto cfg = config_with(1, Balance::round_robin);
  cfg.down_backoff = std::chrono::seconds(1);
  cfg.max_down_backoff = std::chrono::seconds(4);
  UpstreamState state(cfg);
  auto& ep = *state.endpoints[0];
  int64_t s = 1'000'000'000;
  ep.mark_down(cfg, 0);
  EXPECT_EQ(ep.down_until_ns.load(), 1 * s);
  ep.mark_down(cfg, 0);
  EXPECT_EQ(ep.down_until_ns.load(), 2 * s);
  ep.mark_down(cfg, 0);
  ep.mark_down(cfg, 0);
  EXPECT_EQ(ep.down_until_ns.load(), 4 * s);
  EXPECT_TRUE(ep.is_down(3 * s));
  ep.mark_up();
  EXPECT_FALSE(ep.is_down(0));
}

TEST(EndpointState, SlotsAreCapped) {
  auto cfg = config_with(1, Balance::round_robin);
  UpstreamState state(cfg);
  auto& ep = *state.endpoints[0];
  EXPECT_TRUE(ep.try_open_slot(2));
  EXPECT_TRUE(ep.try_open_slot(2));
  EXPECT_FALSE(ep.try_open_slot(2));
  ep.close_slot();
  EXPECT_TRUE(ep.try_open_slot(2));
}
