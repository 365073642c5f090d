// Rate limits end to end: keys, tiers, skip paths, trusted proxies, and one bucket per gateway.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "../gateway/gateway_fixture.hpp"

using namespace sluice::test;
using namespace std::chrono_literals;

namespace {

int status_of(uint16_t port, const std::string& path,
              const std::vector<std::string>& headers = {}) {
  auto r = http_request(port, "GET", path, "", headers);
  return r ? r->status : 0;
}

}  // namespace

TEST(RateLimit, ByIpAnswers429WithHeaders) {
  ScriptedBackend backend;
  GatewaySetup g;
  g.endpoints = {backend.port()};
  g.route_extra = "rate_limit = [{ key = \"ip\", rate = \"1/min\", burst = 2 }]\n";
  auto gw = g.start();
  auto first = http_request(g.port, "GET", "/a");
  ASSERT_TRUE(first);
  EXPECT_EQ(first->status, 200);
  EXPECT_EQ(first->header("ratelimit-limit"), "2");
  EXPECT_EQ(first->header("ratelimit-remaining"), "1");
  EXPECT_FALSE(first->header("ratelimit-reset").empty());
  auto second = http_request(g.port, "GET", "/a");
  ASSERT_TRUE(second);
  EXPECT_EQ(second->status, 200);
  EXPECT_EQ(second->header("ratelimit-remaining"), "0");
  auto third = http_request(g.port, "GET", "/a");
  ASSERT_TRUE(third);
  EXPECT_EQ(third->status, 429);
  EXPECT_EQ(third->header("ratelimit-limit"), "2");
  EXPECT_EQ(third->header("ratelimit-remaining"), "0");
  EXPECT_GE(std::stoi(third->header("retry-after")), 1);
  EXPECT_EQ(backend.requests().size(), 2u);
}

TEST(RateLimit, ByHeaderKeyCountsEachKeyApart) {
  ScriptedBackend backend;
  GatewaySetup g;
  g.endpoints = {backend.port()};
  g.route_extra = "rate_limit = [{ key = \"header:X-Api-Key\", rate = \"1/min\", burst = 1 }]\n";
  auto gw = g.start();
  EXPECT_EQ(status_of(g.port, "/", {"X-Api-Key: a"}), 200);
  EXPECT_EQ(status_of(g.port, "/", {"X-Api-Key: a"}), 429);
  EXPECT_EQ(status_of(g.port, "/", {"X-Api-Key: b"}), 200);
  // Without the header the limit does not apply.
  EXPECT_EQ(status_of(g.port, "/"), 200);
  EXPECT_EQ(status_of(g.port, "/"), 200);
}

TEST(RateLimit, TierWithApiKeyIsNotLimitedByTheIpQuota) {
  ScriptedBackend backend;
  GatewaySetup g;
  g.endpoints = {backend.port()};
  g.route_extra =
      "rate_limit = [\n"
      "  { key = \"ip\", rate = \"1/min\", burst = 1, unless_header = \"X-Api-Key\" },\n"
      "  { key = \"header:X-Api-Key\", rate = \"1/min\", burst = 5 },\n]\n";
  auto gw = g.start();
  EXPECT_EQ(status_of(g.port, "/"), 200);
  EXPECT_EQ(status_of(g.port, "/"), 429);
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(status_of(g.port, "/", {"X-Api-Key: k"}), 200) << i;
  EXPECT_EQ(status_of(g.port, "/", {"X-Api-Key: k"}), 429);
}

TEST(RateLimit, SkipPathsBypassTheLimits) {
  ScriptedBackend backend;
  GatewaySetup g;
  g.endpoints = {backend.port()};
  g.route_extra =
      "rate_limit = [{ key = \"ip\", rate = \"1/min\", burst = 1 }]\n"
      "skip_limits = [\"/health\", \"/status/*\"]\n";
  auto gw = g.start();
  EXPECT_EQ(status_of(g.port, "/x"), 200);
  EXPECT_EQ(status_of(g.port, "/x"), 429);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(status_of(g.port, "/health"), 200);
    EXPECT_EQ(status_of(g.port, "/status/deep"), 200);
  }
}

TEST(RateLimit, ForwardedForIsIgnoredFromAnUntrustedPeer) {
  ScriptedBackend backend;
  GatewaySetup g;
  g.endpoints = {backend.port()};
  g.server_extra = "trusted_proxies = [\"10.0.0.0/8\"]\n";
  g.route_extra = "rate_limit = [{ key = \"ip\", rate = \"1/min\", burst = 1 }]\n";
  auto gw = g.start();
  EXPECT_EQ(status_of(g.port, "/", {"X-Forwarded-For: 1.1.1.1"}), 200);
  // The peer (127.0.0.1) is not trusted: a made-up address does not buy a fresh bucket.
  EXPECT_EQ(status_of(g.port, "/", {"X-Forwarded-For: 2.2.2.2"}), 429);
}

TEST(RateLimit, ForwardedForFromATrustedPeerNamesTheClient) {
  ScriptedBackend backend;
  GatewaySetup g;
  g.endpoints = {backend.port()};
  g.server_extra = "trusted_proxies = [\"127.0.0.1\"]\n";
  g.route_extra = "rate_limit = [{ key = \"ip\", rate = \"1/min\", burst = 1 }]\n";
  auto gw = g.start();
  EXPECT_EQ(status_of(g.port, "/", {"X-Forwarded-For: 1.1.1.1"}), 200);
  EXPECT_EQ(status_of(g.port, "/", {"X-Forwarded-For: 2.2.2.2"}), 200);
  EXPECT_EQ(status_of(g.port, "/", {"X-Forwarded-For: 1.1.1.1"}), 429);
  // Entries left of the rightmost untrusted one were written by the client.
  EXPECT_EQ(status_of(g.port, "/", {"X-Forwarded-For: 9.9.9.9, 2.2.2.2"}), 429);
}

TEST(RateLimit, OneBucketAcrossTwoWorkers) {
  ScriptedBackend backend;
  GatewaySetup g;
  g.workers = 2;
  g.endpoints = {backend.port()};
  g.route_extra = "rate_limit = [{ key = \"ip\", rate = \"20/s\", burst = 5 }]\n";
  auto gw = g.start();
  std::atomic<int> admitted{0};
  std::atomic<int> rejected{0};
  auto end = std::chrono::steady_clock::now() + 1s;
  std::vector<std::thread> clients;
  for (int i = 0; i < 8; ++i)
    clients.emplace_back([&] {
      while (std::chrono::steady_clock::now() < end) {
        int s = status_of(g.port, "/");
        if (s == 200) ++admitted;
        if (s == 429) ++rejected;
      }
    });
  for (auto& t : clients)
    t.join();
  // burst 5 plus 20 per second over about one second
  EXPECT_GE(admitted.load(), 22);
  EXPECT_LE(admitted.load(), 28);
  EXPECT_GT(rejected.load(), 50);
}
