// Workers looking up, filling and purging the same keys at once: the accounting stays exact and
// nothing is served that a finished purge matched.
#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <thread>

#include "cache/response_cache.hpp"
#include "cache_test_util.hpp"

using namespace sluice;
using namespace sluice::cache;
using namespace sluice::cache::testing;
using namespace std::chrono_literals;

TEST(Concurrency, MixedTrafficKeepsAccountingExact) {
  GlobalCacheConfig g;
  g.max_memory = 4 << 20;  // small enough to evict all the time
  g.shards = 8;
  RouteCacheConfig route = route_with_ttl(60s);
  route.stale_while_revalidate = 5s;
  std::string error;
  route.invalidate.push_back(*InvalidationTemplate::parse("/p/{2}*", error));
  ResponseCache cache(g, {{"a", route}, {"b", route}});
  std::atomic<bool> stop{false};
  std::atomic<long> ops{0};
  auto worker = [&](int id) {
    std::mt19937 rng(id);
    std::string key;
    std::string body(1000 + id * 100, 'x');
    while (!stop.load(std::memory_order_relaxed)) {
      int k = static_cast<int>(rng() % 2000);
      RouteId r = static_cast<RouteId>(k % 2);
      Request req(rng() % 50 == 0 ? "POST" : "GET",
                  "/p/" + std::to_string(k % 40) + "/" + std::to_string(k));
      RequestView view = req.view();
      TimePoint now = at(static_cast<int64_t>(rng() % 100));
      auto d = cache.classify(r, view);
      if (d.action == RequestAction::invalidate) {
        cache.invalidate_after_unsafe(r, view);
      } else if (rng() % 500 == 0) {
        cache.invalidate("/p/" + std::to_string(rng() % 40) + "/*");
      } else if (rng() % 700 == 0) {
        cache.purge_tag("t" + std::to_string(rng() % 5));
      } else if (rng() % 5000 == 0) {
        cache.clear();
      } else {
        auto l = cache.lookup(r, view, d, key, now);
        if (l.lease) {
          Response resp(200);
          resp.with("Surrogate-Key", "t" + std::to_string(k % 5));
          ResponseView rv = resp.view();
          if (rng() % 10 == 0)
            l.lease.abandon(rng() % 2 ? FillStatus::failed : FillStatus::uncacheable, now);
          else
            cache.store(l.lease, r, view, rv, body, cache.storable(r, view, rv, body.size(), now),
                        now);
        }
      }
      ops.fetch_add(1, std::memory_order_relaxed);
    }
  };
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i)
    threads.emplace_back(worker, i);
  std::this_thread::sleep_for(700ms);
  stop = true;
  for (auto& t : threads)
    t.join();
  cache.store().wait_for_background_purges();
  EXPECT_GT(ops.load(), 1000);
  EXPECT_EQ(static_cast<uint64_t>(cache.total(Counter::bytes)), cache.store().bytes());
  EXPECT_EQ(static_cast<uint64_t>(cache.total(Counter::keys)), cache.store().entries());
  EXPECT_LE(cache.store().bytes(), g.max_memory);
  // After a finished purge nothing it matched is served.
  cache.invalidate("/p/*");
  std::string key;
  for (int k = 0; k < 2000; ++k) {
    Request req("GET", "/p/" + std::to_string(k % 40) + "/" + std::to_string(k));
    RequestView view = req.view();
    auto l = cache.lookup(static_cast<RouteId>(k % 2), view, cache.classify(0, view), key, at(1));
    EXPECT_NE(l.status, CacheStatus::hit) << k;
  }
  EXPECT_EQ(cache.store().entries(), 0u);
}
