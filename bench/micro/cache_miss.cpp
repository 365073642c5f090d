// The response cache's own cost per request, without sockets: a miss that fills and stores (with
// evictions once the store is full), and a hit. Run under callgrind for instruction counts:
//   valgrind --tool=callgrind build/micro_bench --benchmark_filter=Miss --benchmark_min_time=0.01
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "cache/response_cache.hpp"

namespace sluice::cache {

// The fields an nginx backend sends with a small 200.
static const std::vector<HeaderView>& origin_fields() {
  static const std::vector<HeaderView> fields{{"Server", "nginx/1.22.1"},
                                              {"Date", "Wed, 02 Dec 2026 06:55:05 GMT"},
                                              {"Content-Type", "text/plain"},
                                              {"Content-Length", "25"},
                                              {"Connection", "keep-alive"}};
  return fields;
}

static std::vector<CacheRoute> one_route() {
  RouteCacheConfig c;
  c.ttl = std::chrono::minutes(10);
  return {{"items", c}};
}

void Miss(benchmark::State& state) {
  GlobalCacheConfig global;
  global.max_memory =
      std::getenv("MICRO_MEMORY") ? std::atoll(std::getenv("MICRO_MEMORY")) : 2 * 1024 * 1024;
  global.adaptive_admission = false;  // every iteration stores, as the gateway would not
  ResponseCache cache(global, one_route());
  std::vector<HeaderView> request_fields{{"Host", "127.0.0.1:8085"}};
  std::string key, path;
  uint64_t n = 0;
  const std::string_view body = "hello world from backend\n";
  for (auto _ : state) {
    path.assign("/m/").append(std::to_string(++n));
    RequestView req{"GET", "127.0.0.1:8085", path, "", request_fields};
    TimePoint now = Clock::now();
    RequestDecision d = cache.classify(0, req);
    ResponseCache::Lookup l = cache.lookup(0, req, d, key, now);
    ResponseView resp{200, "OK", origin_fields()};
    StoreDecision s = cache.storable(0, req, resp, body.size(), now);
    benchmark::DoNotOptimize(cache.store(l.lease, 0, req, resp, body, s, now));
  }
}
BENCHMARK(Miss);

void Hit(benchmark::State& state) {
  ResponseCache cache(GlobalCacheConfig{}, one_route());
  std::vector<HeaderView> request_fields{{"Host", "127.0.0.1:8085"}};
  std::string key;
  RequestView req{"GET", "127.0.0.1:8085", "/hot", "", request_fields};
  {
    auto d = cache.classify(0, req);
    auto l = cache.lookup(0, req, d, key, Clock::now());
    ResponseView resp{200, "OK", origin_fields()};
    auto s = cache.storable(0, req, resp, 25, Clock::now());
    cache.store(l.lease, 0, req, resp, "hello world from backend\n", s, Clock::now());
  }
  char scratch[256];
  for (auto _ : state) {
    TimePoint now = Clock::now();
    RequestDecision d = cache.classify(0, req);
    ResponseCache::Lookup l = cache.lookup(0, req, d, key, now);
    benchmark::DoNotOptimize(ResponseCache::serve_buffers(*l.entry, l.status, l.not_modified, false,
                                                          "", now, scratch, sizeof scratch));
  }
}
BENCHMARK(Hit);

}  // namespace sluice::cache

// MICRO_ITERATIONS=N fixes the iteration count, so that two callgrind runs of different N give
// the instructions of one iteration by difference.
int main(int argc, char** argv) {
  if (const char* n = std::getenv("MICRO_ITERATIONS")) {
    int64_t iterations = std::atoll(n);
    benchmark::RegisterBenchmark("Miss/fixed", sluice::cache::Miss)->Iterations(iterations);
    benchmark::RegisterBenchmark("Hit/fixed", sluice::cache::Hit)->Iterations(iterations);
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
