// Concurrent misses on one key, on several workers (io_contexts), reach the backend once.
#include <gtest/gtest.h>

#include <asio.hpp>

#include <atomic>
#include <thread>

#include "cache/response_cache.hpp"
#include "cache_test_util.hpp"

using namespace sluice;
using namespace sluice::cache;
using namespace sluice::cache::testing;
using namespace std::chrono_literals;

namespace {

struct Workers {
  explicit Workers(int n) {
    for (int i = 0; i < n; ++i)
      contexts.push_back(std::make_unique<asio::io_context>());
  }
  void run() {
    std::vector<std::thread> threads;
    for (auto& c : contexts)
      threads.emplace_back([&c] { c->run(); });
    for (auto& t : threads)
      t.join();
  }
  std::vector<std::unique_ptr<asio::io_context>> contexts;
};

GlobalCacheConfig small_cache() {
  GlobalCacheConfig g;
  g.max_memory = 64 << 20;
  return g;
}

struct Outcome {
  std::atomic<int> backend_fetches{0};
  std::atomic<int> served_from_cache{0};
  std::atomic<int> went_upstream{0};
};

// One request through the cache; the "backend" takes `backend_delay` and answers 200.
asio::awaitable<void> request(ResponseCache& cache, Outcome& out, Duration backend_delay,
                              bool backend_fails) {
  Request r("GET", "/cold");
  RequestView req = r.view();
  std::string key;
  auto decision = cache.classify(0, req);
  auto l = cache.lookup(0, req, decision, key, Clock::now());
  if (l.status == CacheStatus::hit) {
    ++out.served_from_cache;
    co_return;
  }
  if (l.wait) {
    FillResult f = co_await cache.wait(0, l.wait, req);
    if (f.status == FillStatus::filled && f.entry->body() == "fresh") {
      ++out.served_from_cache;
      co_return;
    }
    ++out.went_upstream;
    co_return;
  }
  EXPECT_TRUE(l.lease);
  ++out.backend_fetches;
  asio::steady_timer t(co_await asio::this_coro::executor, backend_delay);
  co_await t.async_wait(asio::use_awaitable);
  if (backend_fails) {
    l.lease.abandon(FillStatus::failed);
    co_return;
  }
  Response resp(200);
  ResponseView rv = resp.view();
  auto d = cache.storable(0, req, rv, 5, Clock::now());
  auto entry = cache.store(l.lease, 0, req, rv, "fresh", d, Clock::now());
  EXPECT_TRUE(entry);
  ++out.served_from_cache;
}

}  // namespace

TEST(Coalescing, ThousandConcurrentMissesAcrossWorkersFetchOnce) {
  ResponseCache cache(small_cache(), {{"api", route_with_ttl(60s)}});
  Workers workers(2);
  Outcome out;
  for (int i = 0; i < 1000; ++i)
    asio::co_spawn(*workers.contexts[i % 2], request(cache, out, 50ms, false), asio::detached);
  workers.run();
  EXPECT_EQ(out.backend_fetches, 1);
  EXPECT_EQ(out.served_from_cache, 1000);
  EXPECT_EQ(out.went_upstream, 0);
  EXPECT_GE(cache.total(Counter::coalesced) + cache.total(Counter::hits), 999);
}

TEST(Coalescing, FollowersGoUpstreamWhenTheLeaderFails) {
  ResponseCache cache(small_cache(), {{"api", route_with_ttl(60s)}});
  Workers workers(2);
  Outcome out;
  for (int i = 0; i < 100; ++i)
    asio::co_spawn(*workers.contexts[i % 2], request(cache, out, 20ms, true), asio::detached);
  workers.run();
  EXPECT_EQ(out.backend_fetches, 1);
  EXPECT_EQ(out.went_upstream, 99);
}

TEST(Coalescing, WaitIsBounded) {
  RouteCacheConfig route = route_with_ttl(60s);
  route.coalesce_timeout = 30ms;
  ResponseCache cache(small_cache(), {{"api", route}});
  Workers workers(2);
  Outcome out;
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 10; ++i)
    asio::co_spawn(*workers.contexts[i % 2], request(cache, out, 300ms, false), asio::detached);
  workers.run();
  EXPECT_EQ(out.backend_fetches, 1);
  EXPECT_EQ(out.went_upstream, 9);  // timed out after 30ms
  EXPECT_GE(std::chrono::steady_clock::now() - start, 300ms);
}

TEST(Coalescing, AbandonedLeaseReleasesWaiters) {
  ResponseCache cache(small_cache(), {{"api", route_with_ttl(60s)}});
  Request r("GET", "/x");
  RequestView req = r.view();
  std::string key;
  auto d = cache.classify(0, req);
  std::optional<ResponseCache::Lookup> leader = cache.lookup(0, req, d, key, Clock::now());
  ASSERT_TRUE(leader->lease);
  auto follower = cache.lookup(0, req, d, key, Clock::now());
  ASSERT_TRUE(follower.wait);
  EXPECT_FALSE(follower.lease);
  asio::io_context io;
  FillStatus status = FillStatus::filled;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        FillResult f = co_await cache.wait(0, follower.wait, req);
        status = f.status;
      },
      asio::detached);
  io.poll();
  leader.reset();  // the leader's request died without storing
  io.run();
  EXPECT_EQ(status, FillStatus::failed);
  // The next miss leads a new fill.
  EXPECT_TRUE(cache.lookup(0, req, d, key, Clock::now()).lease);
}

TEST(Coalescing, WaitersOfAnotherVariantGoUpstream) {
  ResponseCache cache(small_cache(), {{"api", route_with_ttl(60s)}});
  Request gzip("GET", "/v"), brotli("GET", "/v");
  gzip.with("Accept-Encoding", "gzip");
  brotli.with("Accept-Encoding", "br");
  RequestView g = gzip.view(), b = brotli.view();
  std::string key;
  auto leader = cache.lookup(0, g, cache.classify(0, g), key, Clock::now());
  auto same = cache.lookup(0, g, cache.classify(0, g), key, Clock::now());
  auto other = cache.lookup(0, b, cache.classify(0, b), key, Clock::now());
  ASSERT_TRUE(leader.lease && same.wait && other.wait);
  asio::io_context io;
  FillStatus same_status{}, other_status{};
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        same_status = (co_await cache.wait(0, same.wait, g)).status;
      },
      asio::detached);
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        other_status = (co_await cache.wait(0, other.wait, b)).status;
      },
      asio::detached);
  io.poll();
  Response resp(200);
  resp.with("Vary", "Accept-Encoding");
  ResponseView rv = resp.view();
  cache.store(leader.lease, 0, g, rv, "gzipped", cache.storable(0, g, rv, 7, Clock::now()),
              Clock::now());
  io.run();
  EXPECT_EQ(same_status, FillStatus::filled);
  EXPECT_EQ(other_status, FillStatus::uncacheable);
}
