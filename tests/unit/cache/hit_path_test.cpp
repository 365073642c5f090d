// The cost of serving a hit: key build, shard lookup, conditional check and the dynamic lines.
#include <gtest/gtest.h>

#include <cstdlib>
#include <new>
#include <thread>

#include "cache/response_cache.hpp"
#include "cache_test_util.hpp"

using namespace sluice;
using namespace sluice::cache;
using namespace sluice::cache::testing;
using namespace std::chrono_literals;

// Counts this thread's allocations, to prove that serving a hit makes none.
namespace {
thread_local long allocations = 0;
}  // namespace

void* operator new(std::size_t size) {
  ++allocations;
  if (void* p = std::malloc(size ? size : 1)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  ++allocations;
  return std::malloc(size ? size : 1);
}
void* operator new[](std::size_t size) {
  return operator new(size);
}
void* operator new[](std::size_t size, const std::nothrow_t& tag) noexcept {
  return operator new(size, tag);
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete(void* p, const std::nothrow_t&) noexcept {
  std::free(p);
}
void operator delete[](void* p) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, const std::nothrow_t&) noexcept {
  std::free(p);
}

namespace {

// Hits per thread on `keys` distinct cached pages; returns nanoseconds per hit.
double hit_cost(ResponseCache& cache, int threads, int hits_per_thread, int keys) {
  std::vector<std::thread> pool;
  std::atomic<int64_t> total_ns{0};
  std::atomic<int64_t> served{0};
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      std::vector<Request> requests;
      for (int k = 0; k < keys; ++k)
        requests.emplace_back("GET", "/page/" + std::to_string(k), "lang=en");
      std::vector<RequestView> views;
      for (auto& r : requests) {
        r.with("User-Agent", "bench").with("Accept", "*/*");
        views.push_back(r.view());
      }
      std::string key;
      char scratch[128];
      size_t bytes = 0;
      auto start = std::chrono::steady_clock::now();
      for (int i = 0; i < hits_per_thread; ++i) {
        const RequestView& req = views[(i * 7 + t) % keys];
        auto d = cache.classify(0, req);
        auto l = cache.lookup(0, req, d, key, at(1));
        if (l.status != CacheStatus::hit) continue;
        auto b = ResponseCache::serve_buffers(*l.entry, l.status, l.not_modified, false, "", at(1),
                                              scratch, sizeof scratch);
        bytes += b.head.size() + b.dynamic.size() + b.body.size();
        served.fetch_add(1, std::memory_order_relaxed);
      }
      total_ns += (std::chrono::steady_clock::now() - start).count();
      EXPECT_GT(bytes, 0u);
    });
  for (auto& th : pool)
    th.join();
  EXPECT_EQ(served.load(), int64_t{threads} * hits_per_thread);
  return static_cast<double>(total_ns.load()) / (double(threads) * hits_per_thread);
}

}  // namespace

TEST(HitPath, ServingAHitIsALookupAndThreeBuffers) {
  GlobalCacheConfig g;
  g.max_memory = 256 << 20;
  ResponseCache cache(g, {{"pages", route_with_ttl(3600s)}});
  constexpr int kKeys = 1000;
  std::string key;
  for (int k = 0; k < kKeys; ++k) {
    Request r("GET", "/page/" + std::to_string(k), "lang=en");
    RequestView req = r.view();
    auto l = cache.lookup(0, req, cache.classify(0, req), key, at(0));
    Response resp(200);
    resp.with("Content-Type", "text/html").with("ETag", "\"v1\"");
    ResponseView rv = resp.view();
    std::string body(2048, 'x');
    cache.store(l.lease, 0, req, rv, body, cache.storable(0, req, rv, body.size(), at(0)), at(0));
  }
  double one = hit_cost(cache, 1, 200'000, kKeys);
  double two = hit_cost(cache, 2, 200'000, kKeys);
  // A miss: the lookup that opens a fill, the storage decision, and storing a 2KB response.
  auto start = std::chrono::steady_clock::now();
  constexpr int kMisses = 20'000;
  for (int k = 0; k < kMisses; ++k) {
    Request r("GET", "/miss/" + std::to_string(k));
    RequestView req = r.view();
    auto l = cache.lookup(0, req, cache.classify(0, req), key, at(0));
    Response resp(200);
    resp.with("Content-Type", "text/html").with("ETag", "\"v1\"");
    ResponseView rv = resp.view();
    std::string body(2048, 'x');
    cache.store(l.lease, 0, req, rv, body, cache.storable(0, req, rv, body.size(), at(0)), at(0));
  }
  double miss = static_cast<double>((std::chrono::steady_clock::now() - start).count()) / kMisses;
  std::printf(
      "[ hit    ] %.0f ns per hit on one thread, %.0f ns per hit per thread on two; "
      "%.0f ns of cache work per miss (2KB response)\n",
      one, two, miss);
  if (!kSanitized) {
    EXPECT_LT(one, 5000.0);  // generous: shared, loaded machines
  }
}

TEST(HitPath, AHitAllocatesNothing) {
  GlobalCacheConfig g;
  g.max_memory = 8 << 20;
  RouteCacheConfig route = route_with_ttl(3600s);
  std::string error;
  route.key =
      *KeyTemplate::parse("{method}{host}{path}?{query}{header:X-Tenant}{cookie:session}", error);
  ResponseCache cache(g, {{"pages", route}});
  Request r("GET", "/page/with/a/rather/long/path/to/defeat/small/strings", "lang=en&page=2");
  r.with("X-Tenant", "acme").with("Cookie", "session=abc123; theme=dark");
  r.with("If-None-Match", "\"nope\"");
  RequestView req = r.view();
  std::string key;
  {
    auto l = cache.lookup(0, req, cache.classify(0, req), key, at(0));
    Response resp(200);
    resp.with("ETag", "\"v1\"").with("Vary", "Accept-Encoding");
    ResponseView rv = resp.view();
    ASSERT_TRUE(cache.store(l.lease, 0, req, rv, std::string(4096, 'x'),
                            cache.storable(0, req, rv, 4096, at(0)), at(0)));
  }
  char scratch[128];
  size_t bytes = 0;
  auto serve = [&] {
    auto d = cache.classify(0, req);
    auto l = cache.lookup(0, req, d, key, at(1));
    EXPECT_EQ(l.status, CacheStatus::hit);
    auto b = ResponseCache::serve_buffers(*l.entry, l.status, l.not_modified, false, "", at(1),
                                          scratch, sizeof scratch);
    bytes += b.head.size() + b.dynamic.size() + b.body.size();
  };
  serve();  // warms the reusable buffers
  long before = allocations;
  for (int i = 0; i < 1000; ++i)
    serve();
  EXPECT_EQ(allocations - before, 0);
  EXPECT_GT(bytes, 4096u * 1000);
}
