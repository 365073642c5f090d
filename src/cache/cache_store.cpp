#include "cache/cache_store.hpp"

#include <algorithm>
#include <chrono>
#include <functional>

#include "cache/cache_policy.hpp"
#include "cache/store_shard.hpp"

namespace sluice::cache {

using detail::Node;
using detail::PurgeRule;
using detail::Shard;

namespace {

Node* make_node(uint64_t hash, std::string_view key, std::shared_ptr<const CachedResponse> entry) {
  Node* n = detail::new_node();
  n->key.assign(key);
  n->hash = hash;
  n->charge = entry->charge + detail::node_overhead(n->key.capacity(), entry->tags.size());
  n->value = std::move(entry);
  return n;
}

// How long a key whose response could not be stored skips coalescing.
constexpr Duration kPassDuration = std::chrono::seconds(10);

std::shared_ptr<const CachedResponse> pass_marker(const Flight& flight, TimePoint now) {
  auto e = std::make_shared<CachedResponse>();
  e->pass = true;
  e->route = flight.route();
  e->assign({}, {}, {}, flight.target());
  e->stored_at = now;
  e->fresh_until = now + kPassDuration;
  e->charge =
      allocation_size(sizeof(CachedResponse) + 16) + allocation_size(e->data.capacity() + 1);
  return e;
}

}  // namespace

uint64_t hash_key(std::string_view key) {
  return std::hash<std::string_view>{}(key);
}

CacheStore::CacheStore(Options options, CacheStats& stats)
    : options_(options), stats_(stats), shards_(new Shard[options.shards]) {
  if (options_.shards == 0 || (options_.shards & (options_.shards - 1)) != 0) options_.shards = 64;
  for (uint32_t i = 0; i < options_.shards; ++i) {
    shards_[i].capacity = options_.max_memory / options_.shards;
    shards_[i].policy = options_.policy;
    shards_[i].adaptive_admission = options_.adaptive_admission;
    shards_[i].stats = &stats_;
  }
}

CacheStore::~CacheStore() {
  stop_janitor();
  for (uint32_t i = 0; i < options_.shards; ++i)
    shards_[i].map.drain([](Node* n) { delete n; });
}

Shard& CacheStore::shard_for(uint64_t hash) const {
  // The high bits pick the shard; the map buckets use the low ones.
  return shards_[(hash >> 40) & (options_.shards - 1)];
}

std::shared_ptr<Flight> CacheStore::open_flight(Shard& s, uint64_t hash, std::string_view key,
                                                const LookupOptions& options, bool registered) {
  auto f = make_flight(key, hash, options.target, options.route, s.purge_epoch, registered);
  if (registered) s.flights.push_back(f);
  return f;
}

CacheStore::Lookup CacheStore::lookup(uint64_t hash, std::string_view key, TimePoint now,
                                      const LookupOptions& options) {
  Lookup out;
  Shard& s = shard_for(hash);
  Node* dead = nullptr;
  {
    std::lock_guard lock(s.mu);
    Node* n = s.map.find(hash, key);
    if (!n) s.record_miss(hash);
    if (n) {
      if (n->value->pass) {
        if (n->value->fresh(now)) {
          out.flight = open_flight(s, hash, key, options, false);
          out.leader = true;
          return out;
        }
        s.unlink(n);
        dead = n;
      } else if (!s.rules.empty() && s.matched_by_rule(*n)) {
        // A purge in progress has not reached this entry yet: it is gone all the same, and the
        // purge removes (and counts) it when it gets there.
      } else if (!options.request || entry_serves(*n->value, *options.request)) {
        out.entry = n->value;
        if (options.skip_entry) {
          out.found = Found::none;
        } else if (n->value->fresh(now)) {
          s.touch(n);
          out.found = Found::fresh;
          return out;
        } else if (n->value->revalidatable_stale(now)) {
          s.touch(n);
          out.found = Found::stale;
          // One background refresh per key; without coalescing, each stale answer refreshes.
          if (!options.coalesce || !s.find_flight(hash, key)) {
            out.flight = open_flight(s, hash, key, options, options.coalesce);
            out.leader = true;
          }
          return out;
        } else {
          out.found = Found::expired;
          if (!n->value->retainable(now)) {
            s.unlink(n);
            dead = n;
          }
        }
      }
    }
    if (options.coalesce) {
      if (auto f = s.flight_of(hash, key)) {
        out.flight = std::move(f);
      } else {
        out.flight = open_flight(s, hash, key, options, true);
        out.leader = true;
      }
    } else {
      out.flight = open_flight(s, hash, key, options, false);
      out.leader = true;
    }
    // A key with an entry (expired, or of another variant) was admitted before.
    if (out.leader && !n) {
      out.admit = s.admits(hash);
      // The store that follows will evict: start loading its victims (not for a miss that
      // admission lets pass unstored).
      if (out.admit) s.prefetch_victims();
    }
  }
  delete dead;
  return out;
}

bool CacheStore::finish_fill(const std::shared_ptr<Flight>& flight,
                             std::shared_ptr<const CachedResponse> entry, FillStatus status,
                             TimePoint now) {
  Shard& s = shard_for(flight->hash());
  Node* node = nullptr;
  if (entry && status == FillStatus::filled)
    node = make_node(flight->hash(), flight->key(), entry);
  else if (status == FillStatus::uncacheable && flight->registered())
    node = make_node(flight->hash(), flight->key(), pass_marker(*flight, now));
  // Per thread and reused: a local vector would allocate on every eviction.
  thread_local std::vector<Node*> garbage;
  bool stored = false;
  {
    std::lock_guard lock(s.mu);
    if (flight->registered()) {
      s.remove_flight(flight.get());
    }
    bool purged =
        flight->purged() || (!flight->registered() && s.purge_epoch != flight->shard_epoch());
    if (node && node->value->pass) {
      // A stale entry kept for stale-if-error outranks the marker.
      Node* existing = s.map.find(flight->hash(), flight->key());
      if (existing && !existing->value->pass && existing->value->retainable(now)) purged = true;
    }
    if (node && !purged && node->charge <= s.capacity) {
      if (!node->value->pass) s.stats->add(node->value->route, Counter::stores);
      s.insert(node, now, garbage);
      stored = true;
    }
  }
  if (!stored) delete node;
  free_nodes(garbage);
  flight->complete(FillResult{status, std::move(entry)});
  return stored;
}

void CacheStore::insert(uint64_t hash, std::string_view key,
                        std::shared_ptr<const CachedResponse> entry, TimePoint now) {
  Shard& s = shard_for(hash);
  Node* node = make_node(hash, key, std::move(entry));
  // Per thread and reused: a local vector would allocate on every eviction.
  thread_local std::vector<Node*> garbage;
  {
    std::lock_guard lock(s.mu);
    if (node->charge <= s.capacity) {
      s.stats->add(node->value->route, Counter::stores);
      s.insert(node, now, garbage);
      node = nullptr;
    }
  }
  delete node;
  free_nodes(garbage);
}

bool CacheStore::erase(uint64_t hash, std::string_view key) {
  Shard& s = shard_for(hash);
  Node* dead = nullptr;
  {
    std::lock_guard lock(s.mu);
    dead = s.map.find(hash, key);
    if (!dead) return false;
    s.unlink(dead);
  }
  delete dead;
  return true;
}

uint64_t CacheStore::bytes() const {
  uint64_t total = 0;
  for (uint32_t i = 0; i < options_.shards; ++i) {
    std::lock_guard lock(shards_[i].mu);
    total += shards_[i].bytes();
  }
  return total;
}

uint64_t CacheStore::entries() const {
  uint64_t total = 0;
  for (uint32_t i = 0; i < options_.shards; ++i) {
    std::lock_guard lock(shards_[i].mu);
    total += shards_[i].count();
  }
  return total;
}

CacheStore::PurgeHold CacheStore::longest_purge_hold() const {
  return {Duration(longest_hold_ns_.load(std::memory_order_relaxed)),
          Duration(longest_hold_cpu_ns_.load(std::memory_order_relaxed))};
}

}  // namespace sluice::cache
