#include "limits/gcra.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <random>

namespace sluice::limits {

std::optional<Rate> Rate::parse(std::string_view text) {
  size_t slash = text.find('/');
  if (slash == std::string_view::npos || slash == 0) return std::nullopt;
  uint64_t count = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + slash, count);
  if (ec != std::errc() || ptr != text.data() + slash || count == 0) return std::nullopt;
  std::string_view per = text.substr(slash + 1);
  if (per.empty()) return std::nullopt;
  std::optional<Duration> period;
  if (per.front() >= '0' && per.front() <= '9')
    period = parse_duration(per);
  else
    period = parse_duration("1" + std::string(per));
  if (!period || period->count() <= 0) return std::nullopt;
  if (period->count() / static_cast<int64_t>(count) <= 0) return std::nullopt;  // under 1 ns
  return Rate{count, *period};
}

GcraParams GcraParams::make(Rate rate, uint32_t burst) {
  GcraParams p;
  p.burst = std::max<uint32_t>(burst, 1);
  p.emission_interval = Duration(rate.period.count() / static_cast<int64_t>(rate.count));
  // Saturates far beyond any useful window instead of overflowing.
  constexpr int64_t kMaxWindow = INT64_MAX / 4;
  int64_t t = p.emission_interval.count();
  p.burst_window = Duration(t > kMaxWindow / p.burst ? kMaxWindow : t * p.burst);
  return p;
}

GcraResult gcra_step(const GcraParams& p, int64_t& tat, Duration now) {
  const int64_t t = p.emission_interval.count();
  const int64_t window = p.burst_window.count();
  const int64_t n = now.count();
  const int64_t new_tat = std::max(tat, n) + t;
  GcraResult r;
  if (new_tat - n <= window) {
    tat = new_tat;
    r.allowed = true;
    r.remaining = static_cast<uint32_t>((window - (new_tat - n)) / t);
    r.reset = Duration(new_tat - n);
  } else {
    r.allowed = false;
    r.remaining = 0;
    r.reset = Duration(std::max<int64_t>(tat - n, 0));
    r.retry_after = Duration(new_tat - n - window);
  }
  return r;
}

BucketTable::BucketTable(size_t max_keys)
    : per_shard_(std::max<size_t>(1, (max_keys + kShards - 1) / kShards)),
      seed_((static_cast<uint64_t>(std::random_device{}()) << 32) ^ std::random_device{}()),
      shards_(new Shard[kShards]) {}

size_t BucketTable::hash_key(std::string_view key, uint64_t seed) {
  constexpr uint64_t k1 = 0x9E3779B97F4A7C15ull, k2 = 0xC2B2AE3D27D4EB4Full;
  uint64_t h = seed ^ (key.size() * k1);
  const char* p = key.data();
  size_t n = key.size();
  auto mix = [&](uint64_t w) {
    h ^= w * k2;
    h = (h << 31) | (h >> 33);
    h *= k1;
  };
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    mix(w);
  }
  if (n > 0) {
    uint64_t w = 0;
    std::memcpy(&w, p, n);
    mix(w);
  }
  // splitmix64 finalizer: every input bit reaches the high bits used for the shard.
  h ^= h >> 30;
  h *= 0xBF58476D1CE4E5B9ull;
  h ^= h >> 27;
  h *= 0x94D049BB133111EBull;
  h ^= h >> 31;
  return static_cast<size_t>(h);
}

BucketTable::Entry& BucketTable::find_or_insert(Shard& s, const HashedKey& key, Duration now) {
  if (auto it = s.index.find(key); it != s.index.end()) {
    if (it->second != s.lru.begin()) s.lru.splice(s.lru.begin(), s.lru, it->second);
    return *it->second;
  }
  if (s.index.size() >= per_shard_) {
    // Reuse the least recently used entry for the new key.
    auto victim = std::prev(s.lru.end());
    s.index.erase(HashedKey{victim->key, victim->hash});
    ++s.evictions;
    victim->key.assign(key.text);
    victim->hash = key.hash;
    victim->tat = now.count();
    s.lru.splice(s.lru.begin(), s.lru, victim);
  } else {
    s.lru.push_front(Entry{std::string(key.text), key.hash, now.count()});
  }
  Entry& e = s.lru.front();
  s.index.emplace(HashedKey{e.key, e.hash}, s.lru.begin());
  return e;
}

GcraResult BucketTable::acquire(std::string_view key, const GcraParams& p, Duration now) {
  HashedKey k = hashed(key);
  Shard& s = shard_for(k);
  std::lock_guard lock(s.mu);
  Entry& e = find_or_insert(s, k, now);
  return gcra_step(p, e.tat, now);
}

void BucketTable::refund(std::string_view key, const GcraParams& p, Duration now) {
  HashedKey k = hashed(key);
  Shard& s = shard_for(k);
  std::lock_guard lock(s.mu);
  auto it = s.index.find(k);
  if (it == s.index.end()) return;
  int64_t& tat = it->second->tat;
  tat = std::max(tat - p.emission_interval.count(), now.count());
}

size_t BucketTable::size() const {
  size_t n = 0;
  for (size_t i = 0; i < kShards; ++i) {
    std::lock_guard lock(shards_[i].mu);
    n += shards_[i].index.size();
  }
  return n;
}

uint64_t BucketTable::evictions() const {
  uint64_t n = 0;
  for (size_t i = 0; i < kShards; ++i) {
    std::lock_guard lock(shards_[i].mu);
    n += shards_[i].evictions;
  }
  return n;
}

}  // namespace sluice::limits
