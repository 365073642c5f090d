#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "limits/gcra.hpp"
#include "limits/rate_limiter.hpp"
#include "request_fixture.hpp"

using namespace sluice::limits;
using sluice::limits::testing::FakeRequest;
using namespace std::chrono_literals;

namespace {

RateLimitSpec limit_by(std::string key, std::string rate, uint32_t burst) {
  RateLimitSpec s;
  s.key.parts.push_back(*KeySpec::parse_part(key));
  s.rate = *Rate::parse(rate);
  s.burst = burst;
  s.name = key + " " + rate;
  return s;
}

}  // namespace

TEST(Rate, ParsesUnitsAndPeriods) {
  EXPECT_EQ(Rate::parse("10/s")->period, 1s);
  EXPECT_EQ(Rate::parse("600/min")->period, 60s);
  EXPECT_EQ(Rate::parse("1000/h")->period, 3600s);
  EXPECT_EQ(Rate::parse("50/5m")->period, 300s);
  EXPECT_EQ(Rate::parse("50/5m")->count, 50u);
  EXPECT_FALSE(Rate::parse("10"));
  EXPECT_FALSE(Rate::parse("0/s"));
  EXPECT_FALSE(Rate::parse("10/fortnight"));
  EXPECT_FALSE(Rate::parse("-1/s"));
}

TEST(Gcra, BurstThenSteadyRate) {
  GcraParams p = GcraParams::make(*Rate::parse("10/s"), 5);
  int64_t tat = 0;
  Duration t0 = 1000s;
  for (uint32_t i = 0; i < 5; ++i) {
    GcraResult r = gcra_step(p, tat, t0);
    ASSERT_TRUE(r.allowed) << i;
    EXPECT_EQ(r.remaining, 4 - i);
  }
  GcraResult rejected = gcra_step(p, tat, t0);
  EXPECT_FALSE(rejected.allowed);
  EXPECT_EQ(rejected.remaining, 0u);
  EXPECT_EQ(rejected.retry_after, 100ms);  // one emission interval
  EXPECT_EQ(rejected.reset, 500ms);        // the whole burst drains in 5 * 100 ms
  EXPECT_FALSE(gcra_step(p, tat, t0 + 99ms).allowed);
  GcraResult later = gcra_step(p, tat, t0 + 100ms);
  EXPECT_TRUE(later.allowed);
  EXPECT_EQ(later.remaining, 0u);
  // Idle for long enough, the whole burst is back.
  EXPECT_EQ(gcra_step(p, tat, t0 + 10s).remaining, 4u);
}

TEST(Gcra, HugeBurstDoesNotOverflow) {
  GcraParams p = GcraParams::make(*Rate::parse("1/h"), 1'000'000'000);
  int64_t tat = 0;
  GcraResult r = gcra_step(p, tat, 1000s);
  EXPECT_TRUE(r.allowed);
  EXPECT_GT(r.remaining, 1000u);
}

TEST(Gcra, SlowRateRetryAfterInSeconds) {
  RateLimitSpec s = limit_by("ip", "50/5m", 50);
  BucketTable table;
  RouteRateLimiter limiter(1, {s}, {}, table);
  FakeRequest req("10.0.0.1", "/orders");
  Duration now = 5000s;
  for (int i = 0; i < 50; ++i)
    ASSERT_TRUE(limiter.check(req.view(), now).allowed);
  RateDecision d = limiter.check(req.view(), now);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.limit, 50u);
  EXPECT_EQ(d.retry_after_seconds, 6u);  // 5 min / 50
  EXPECT_EQ(d.reset_seconds, 300u);
  char buf[256];
  size_t n = write_rate_limit_headers(d, buf, sizeof buf);
  EXPECT_EQ(std::string(buf, n),
            "RateLimit-Limit: 50\r\nRateLimit-Remaining: 0\r\nRateLimit-Reset: 300\r\n"
            "Retry-After: 6\r\n");
  EXPECT_EQ(limiter.counters(0).admitted.load(), 50u);
  EXPECT_EQ(limiter.counters(0).rejected.load(), 1u);
}

TEST(RateLimiter, ExactAcrossTwoThreads) {
  BucketTable table;
  RouteRateLimiter limiter(1, {limit_by("ip", "100/s", 10)}, {}, table);
  FakeRequest req("192.0.2.7", "/");
  std::atomic<uint64_t> admitted{0};
  Duration start = steady_now();
  auto hammer = [&] {
    uint64_t mine = 0;
    while (steady_now() - start < 1s)
      if (limiter.check(req.view()).allowed) ++mine;
    admitted += mine;
  };
  std::thread a(hammer), b(hammer);
  a.join();
  b.join();
  // 10 at once, then 100 per second: one bucket for both threads.
  EXPECT_GE(admitted.load(), 100u);  // lower only if both threads stall near the end
  EXPECT_LE(admitted.load(), 112u);
}

TEST(RateLimiter, KeysAreSeparateAndCapEvictsLeastRecentlyUsed) {
  BucketTable table(64);  // one key per shard
  EXPECT_EQ(table.max_keys(), 64u);
  RouteRateLimiter limiter(1, {limit_by("ip", "1/h", 1)}, {}, table);
  for (uint32_t i = 0; i < 1000; ++i) {
    FakeRequest req(IpAddress::from_v4(0x0a000000 + i).to_string(), "/");
    EXPECT_TRUE(limiter.check(req.view(), 1s).allowed);
  }
  EXPECT_LE(table.size(), 64u);
  EXPECT_GE(table.evictions(), 1000u - 64u);
  FakeRequest last(IpAddress::from_v4(0x0a000000 + 999).to_string(), "/");
  EXPECT_FALSE(limiter.check(last.view(), 1s).allowed);  // still tracked
}

TEST(RateLimiter, EvictionDropsIdleKeyFirst) {
  BucketTable table(128);  // two keys per shard
  GcraParams p = GcraParams::make(*Rate::parse("1/h"), 1);
  // Three keys of one shard.
  std::vector<std::string> same;
  size_t target = table.shard_of("k0");
  for (int i = 0; same.size() < 3; ++i) {
    std::string k = "k" + std::to_string(i);
    if (table.shard_of(k) == target) same.push_back(k);
  }
  EXPECT_TRUE(table.acquire(same[0], p, 1s).allowed);
  EXPECT_TRUE(table.acquire(same[1], p, 2s).allowed);
  EXPECT_FALSE(table.acquire(same[0], p, 3s).allowed);  // same[0] used again: same[1] is idle
  EXPECT_TRUE(table.acquire(same[2], p, 4s).allowed);   // evicts same[1]
  EXPECT_FALSE(table.acquire(same[0], p, 5s).allowed);  // same[0] kept its state
  EXPECT_TRUE(table.acquire(same[1], p, 6s).allowed);   // same[1] was forgotten
}

TEST(RateLimiter, TiersKeyHoldersNeverUseTheIpQuota) {
  RateLimitSpec by_ip = limit_by("ip", "2/s", 2);
  by_ip.tier.unless_header = {"X-Api-Key"};
  RateLimitSpec by_key = limit_by("header:X-Api-Key", "100/s", 100);
  BucketTable table;
  RouteRateLimiter limiter(1, {by_ip, by_key}, {}, table);
  FakeRequest anon("198.51.100.1", "/");
  FakeRequest keyed("198.51.100.1", "/", {{"x-api-key", "k-123"}});
  Duration now = 100s;
  EXPECT_TRUE(limiter.check(anon.view(), now).allowed);
  EXPECT_TRUE(limiter.check(anon.view(), now).allowed);
  EXPECT_FALSE(limiter.check(anon.view(), now).allowed);
  // Same address, with a key: limited by the key's quota only.
  for (int i = 0; i < 100; ++i) {
    RateDecision d = limiter.check(keyed.view(), now);
    ASSERT_TRUE(d.allowed) << i;
    EXPECT_EQ(d.limit, 100u);
  }
  EXPECT_FALSE(limiter.check(keyed.view(), now).allowed);
  EXPECT_EQ(limiter.counters(0).admitted.load(), 2u);
  EXPECT_EQ(limiter.counters(1).admitted.load(), 100u);
}

TEST(RateLimiter, RouteLimitAndTierCombineAndRefund) {
  RateLimitSpec per_key = limit_by("header:X-Api-Key", "100/s", 100);
  RateLimitSpec orders = limit_by("header:X-Api-Key", "50/5m", 3);
  BucketTable table;
  RouteRateLimiter limiter(7, {per_key, orders}, {}, table);
  FakeRequest req("198.51.100.1", "/orders", {{"X-Api-Key", "abc"}});
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(limiter.check(req.view(), 1s).allowed);
  RateDecision d = limiter.check(req.view(), 1s);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.rejected_by, 1);
  // The per-key charge of the rejected request was given back: 97 remain, not 96.
  RouteRateLimiter per_key_only(7, {per_key}, {}, table);
  EXPECT_EQ(per_key_only.check(req.view(), 1s).remaining, 96u);
}

TEST(RateLimiter, MissingKeyPartAndSkipPaths) {
  BucketTable table;
  SkipRule skip;
  skip.paths = {"/health", "/status/*"};
  RouteRateLimiter limiter(1, {limit_by("ip", "1/h", 1), limit_by("query:token", "1/h", 1)}, skip,
                           table);
  FakeRequest health("10.1.1.1", "/health");
  for (int i = 0; i < 5; ++i)
    EXPECT_FALSE(limiter.check(health.view(), 1s).limited);
  FakeRequest status("10.1.1.1", "/status/deep");
  EXPECT_FALSE(limiter.check(status.view(), 1s).limited);
  FakeRequest a("10.1.1.1", "/x?token=a%62c");
  FakeRequest b("10.1.1.2", "/x?token=abc");
  EXPECT_TRUE(limiter.check(a.view(), 1s).allowed);
  RateDecision d = limiter.check(b.view(), 1s);  // other ip, same decoded token
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.rejected_by, 1);
}

TEST(Keys, Ipv6ClientsShareTheirSlash64) {
  KeySpec spec;
  spec.parts = {*KeySpec::parse_part("ip")};
  FakeRequest a("2001:db8:1:2::1", "/"), b("2001:db8:1:2:ffff::9", "/"), c("2001:db8:1:3::1", "/");
  std::string ka, kb, kc;
  append_key(spec, a.view(), ka);
  append_key(spec, b.view(), kb);
  append_key(spec, c.view(), kc);
  EXPECT_EQ(ka, kb);
  EXPECT_NE(ka, kc);
}

TEST(Keys, CombinationsAndCookies) {
  KeySpec spec;
  spec.parts = {*KeySpec::parse_part("ip"), *KeySpec::parse_part("cookie:sid")};
  EXPECT_EQ(spec.describe(), "ip+cookie:sid");
  FakeRequest with("10.0.0.1", "/", {{"Cookie", "a=1; sid=\"xyz\"; b=2"}});
  FakeRequest without("10.0.0.1", "/", {{"Cookie", "a=1"}});
  std::string k1, k2;
  EXPECT_TRUE(append_key(spec, with.view(), k1));
  EXPECT_FALSE(append_key(spec, without.view(), k2));
  EXPECT_EQ(*with.view().cookie("sid"), "xyz");
  EXPECT_FALSE(KeySpec::parse_part("header:"));
  EXPECT_FALSE(KeySpec::parse_part("header:bad name"));
  EXPECT_FALSE(KeySpec::parse_part("body:x"));
}
