// Hit ratio of the store's eviction policy against plain LRU at the same memory budget.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "cache/cache_store.hpp"
#include "cache_test_util.hpp"

using namespace sluice;
using namespace sluice::cache;
using namespace sluice::cache::testing;

namespace {

constexpr uint32_t kKeys = 1'000'000;
constexpr size_t kWarmup = 200'000;
constexpr size_t kMeasured = 500'000;

// Zipf(s = 1.0) samples over kKeys ranks, by inverse CDF; rank 0 is the most popular.
const std::vector<uint32_t>& zipf_trace() {
  static const std::vector<uint32_t> trace = [] {
    std::vector<double> cdf(kKeys);
    double sum = 0;
    for (uint32_t i = 0; i < kKeys; ++i)
      cdf[i] = (sum += 1.0 / (i + 1.0));
    std::mt19937_64 rng(42);
    std::uniform_real_distribution<double> u(0, sum);
    std::vector<uint32_t> out(kWarmup + kMeasured);
    for (auto& r : out)
      r = static_cast<uint32_t>(std::lower_bound(cdf.begin(), cdf.end(), u(rng)) - cdf.begin());
    // Ranks are scattered over key ids so popularity is unrelated to hash or order.
    for (auto& r : out)
      r = static_cast<uint32_t>((uint64_t{r} * 2654435761u) % kKeys);
    return out;
  }();
  return trace;
}

struct Result {
  double hit_ratio;
  uint64_t entries;
};

// Replays `trace` through a store holding about `capacity_entries` entries.
Result replay(EvictionPolicy policy, const std::vector<uint32_t>& trace, size_t warmup,
              uint64_t capacity_entries) {
  auto value = simple_entry("/", at(1'000'000), 0);
  // The budget is computed from the real per-entry charge of a key of typical length.
  CacheStats probe_stats(1);
  CacheStore probe({1 << 20, 1, policy}, probe_stats);
  probe.insert(hash_key("k1234567"), "k1234567", value, at(0));
  uint64_t per_entry = probe.bytes();
  CacheStats stats(1);
  CacheStore store({per_entry * capacity_entries, 64, policy}, stats);
  CacheStore::LookupOptions options;
  options.coalesce = false;
  std::string key = "k";
  size_t hits = 0;
  char digits[16];
  for (size_t i = 0; i < trace.size(); ++i) {
    int n = std::snprintf(digits, sizeof digits, "%07u", trace[i]);
    key.assign("k").append(digits, static_cast<size_t>(n));
    uint64_t h = hash_key(key);
    auto l = store.lookup(h, key, at(1), options);
    if (l.found == CacheStore::Found::fresh) {
      if (i >= warmup) ++hits;
    } else if (l.admit) {  // as the gateway does: adaptive admission may skip a first miss
      store.insert(h, key, value, at(1));
    }
  }
  return {static_cast<double>(hits) / static_cast<double>(trace.size() - warmup), store.entries()};
}

}  // namespace

TEST(EvictionPolicy, ZipfHitRatioBeatsLru) {
  const auto& trace = zipf_trace();
  Result tiny = replay(EvictionPolicy::tinylfu, trace, kWarmup, kKeys / 10);
  Result s3 = replay(EvictionPolicy::s3fifo, trace, kWarmup, kKeys / 10);
  Result lru = replay(EvictionPolicy::lru, trace, kWarmup, kKeys / 10);
  std::printf("[ zipf   ] W-TinyLFU %.2f%% (%lu entries)\n", 100 * tiny.hit_ratio,
              static_cast<unsigned long>(tiny.entries));
  std::printf(
      "[ zipf   ] s=1.0, %u keys, cache of %u entries (10%%), %zu requests measured: "
      "S3-FIFO %.2f%% (%lu entries), LRU %.2f%% (%lu entries)\n",
      kKeys, kKeys / 10, kMeasured, 100 * s3.hit_ratio, static_cast<unsigned long>(s3.entries),
      100 * lru.hit_ratio, static_cast<unsigned long>(lru.entries));
  EXPECT_GE(s3.hit_ratio, lru.hit_ratio);
}

TEST(EvictionPolicy, ScansDoNotFlushTheHotSet) {
  // The Zipf trace with a one-off scan of never-repeated keys after every 10,000 requests.
  const auto& zipf = zipf_trace();
  std::vector<uint32_t> trace;
  trace.reserve(360'000);
  uint32_t scan_key = kKeys;
  for (size_t i = 0; i < 300'000; ++i) {
    trace.push_back(zipf[i]);
    if (i % 10'000 == 9'999)
      for (int j = 0; j < 2'000; ++j)
        trace.push_back(scan_key++ % 9'000'000 + kKeys);
  }
  Result tiny = replay(EvictionPolicy::tinylfu, trace, 100'000, kKeys / 10);
  std::printf("[ scan   ] W-TinyLFU %.2f%%\n", 100 * tiny.hit_ratio);
  Result s3 = replay(EvictionPolicy::s3fifo, trace, 100'000, kKeys / 10);
  Result lru = replay(EvictionPolicy::lru, trace, 100'000, kKeys / 10);
  std::printf("[ scan   ] Zipf with scans: S3-FIFO %.2f%%, LRU %.2f%%\n", 100 * s3.hit_ratio,
              100 * lru.hit_ratio);
  EXPECT_GE(s3.hit_ratio, lru.hit_ratio);
}

namespace {

// A store of one shard holding about `entries` entries, and a miss-then-store step as the
// gateway takes it (stored only when the lookup admits the key).
struct AdmissionRig {
  explicit AdmissionRig(uint64_t entries, bool adaptive = true) {
    auto value = simple_entry("/", at(1'000'000), 0);
    CacheStats probe_stats(1);
    CacheStore probe({1 << 20, 1, EvictionPolicy::s3fifo}, probe_stats);
    probe.insert(hash_key("u1234567"), "u1234567", value, at(0));
    store = std::make_unique<CacheStore>(
        CacheStore::Options{probe.bytes() * entries, 1, EvictionPolicy::s3fifo, adaptive}, stats);
    options.coalesce = false;
  }
  // Requests `key`: true on a hit; otherwise stores it when admitted.
  bool request(const std::string& key) {
    uint64_t h = hash_key(key);
    auto l = store->lookup(h, key, at(1), options);
    if (l.found == CacheStore::Found::fresh) return true;
    if (l.admit) store->insert(h, key, simple_entry("/", at(1'000'000), 0), at(1));
    last_admitted = l.admit;
    return false;
  }
  // A key whose hash is outside the admission sample, so its first miss is judged.
  static std::string unsampled(const std::string& prefix, int& i) {
    for (;; ++i) {
      std::string k = prefix + std::to_string(i);
      if (((hash_key(k) >> 24) & 15) != 0) return k;
    }
  }
  CacheStats stats{1};
  std::unique_ptr<CacheStore> store;
  CacheStore::LookupOptions options;
  bool last_admitted = true;
};

}  // namespace

TEST(EvictionPolicy, OneHitWondersAreStoredOnTheirSecondMissOnly) {
  AdmissionRig rig(1'000);
  // Every key once: once the cache is full and ~all entries leave unhit, stores drop to the
  // sample (a sixteenth) instead of one per miss.
  for (int i = 0; i < 20'000; ++i)
    rig.request("once" + std::to_string(i));
  int64_t stores = rig.stats.total(Counter::stores);
  std::printf("[ admit  ] 20000 one-off keys through 1000 entries: %ld stored\n",
              static_cast<long>(stores));
  EXPECT_LT(stores, 1'000 + 300 + 20'000 / 16 * 3 / 2);
  // A key missed twice is stored on its second miss and hit on its third request.
  int n = 0;
  std::string key = AdmissionRig::unsampled("twice", n);
  EXPECT_FALSE(rig.request(key));
  EXPECT_FALSE(rig.last_admitted);
  EXPECT_FALSE(rig.request(key));
  EXPECT_TRUE(rig.last_admitted);
  EXPECT_TRUE(rig.request(key));

  // Keys that are requested again make entries leave with hits: the filter turns off, and a
  // first miss is stored at once again.
  for (int i = 0; i < 6'000; ++i) {
    std::string k = "again" + std::to_string(i);
    for (int r = 0; r < 3; ++r)
      rig.request(k);
  }
  key = AdmissionRig::unsampled("fresh", n);
  rig.request(key);
  EXPECT_TRUE(rig.last_admitted);
}

TEST(EvictionPolicy, AdmissionAlwaysStoresEveryMiss) {
  AdmissionRig rig(1'000, /*adaptive=*/false);
  for (int i = 0; i < 5'000; ++i)
    rig.request("once" + std::to_string(i));
  EXPECT_EQ(rig.stats.total(Counter::stores), 5'000);
}
