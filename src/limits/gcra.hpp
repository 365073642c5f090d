// GCRA (generic cell rate algorithm) over a sharded, bounded table of keys.
//
// A limit of `count` per `period` with `burst` admits `burst` requests at once from idle and then
// one every emission interval T = period / count. The only state per key is the theoretical
// arrival time (TAT); a request conforms when max(TAT, now) + T - now <= burst * T.
//
// The table is shared by every worker thread, so a key has one bucket per gateway. It is split
// into shards, each with its own mutex held for a lookup and a few arithmetic operations, and
// each shard keeps at most its share of `max_keys`, dropping the least recently used key.
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "limits/clock.hpp"

namespace sluice::limits {

struct Rate {
  uint64_t count = 0;
  Duration period{0};

  // "10/s", "600/min", "1000/h", and any duration as the period: "50/5m", "50/5min", "3/250ms".
  static std::optional<Rate> parse(std::string_view text);
};

struct GcraParams {
  Duration emission_interval{0};  // T
  Duration burst_window{0};       // burst * T: how far ahead of now the TAT may run
  uint32_t burst = 1;

  static GcraParams make(Rate rate, uint32_t burst);
};

struct GcraResult {
  bool allowed = false;
  uint32_t remaining = 0;   // requests still admissible right now
  Duration reset{0};        // until the full burst is available again
  Duration retry_after{0};  // when rejected: until the next request would conform
};

// Pure GCRA step: updates `tat` when the request conforms.
GcraResult gcra_step(const GcraParams& p, int64_t& tat, Duration now);

class BucketTable {
 public:
  static constexpr size_t kShards = 64;
  explicit BucketTable(size_t max_keys = 100'000);
  BucketTable(const BucketTable&) = delete;
  BucketTable& operator=(const BucketTable&) = delete;

  // One request against the bucket of `key`, created full when absent.
  GcraResult acquire(std::string_view key, const GcraParams& p, Duration now);
  // Gives back one admitted request (when a later limit of the same request rejected it).
  void refund(std::string_view key, const GcraParams& p, Duration now);

  size_t shard_of(std::string_view key) const { return (hashed(key).hash >> 58) % kShards; }
  size_t size() const;  // tracked keys, for metrics
  size_t max_keys() const { return per_shard_ * kShards; }
  uint64_t evictions() const;

 private:
  struct Entry {
    std::string key;
    size_t hash = 0;
    int64_t tat = 0;
  };
  // The key's hash is computed once per request and shared by the shard choice and the map.
  struct HashedKey {
    std::string_view text;
    size_t hash;
    bool operator==(const HashedKey& o) const { return text == o.text; }
  };
  struct Hash {
    size_t operator()(const HashedKey& k) const { return k.hash; }
  };
  struct alignas(64) Shard {
    mutable std::mutex mu;
    std::list<Entry> lru;  // most recently used first
    std::unordered_map<HashedKey, std::list<Entry>::iterator, Hash> index;
    uint64_t evictions = 0;
  };
  Shard& shard_for(const HashedKey& key) { return shards_[(key.hash >> 58) % kShards]; }
  HashedKey hashed(std::string_view key) const { return {key, hash_key(key, seed_)}; }
  // Fast, and seeded per table so that clients cannot aim keys at one hash bucket.
  static size_t hash_key(std::string_view key, uint64_t seed);
  Entry& find_or_insert(Shard& s, const HashedKey& key, Duration now);

  size_t per_shard_;
  uint64_t seed_;
  std::unique_ptr<Shard[]> shards_;
};

}  // namespace sluice::limits
