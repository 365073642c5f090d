// Internals of one store shard: its entries, eviction queues, purge indexes and in-flight fills.
// Everything here is guarded by Shard::mu.
#pragma once

#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "cache/cache_config.hpp"
#include "cache/cache_stats.hpp"
#include "cache/cached_response.hpp"
#include "cache/fill.hpp"
#include "cache/frequency_sketch.hpp"
#include "cache/purge_pattern.hpp"

namespace sluice::cache::detail {

struct Node;

// Byte order of std::string_view, comparing eight bytes at a time inline: targets share long
// prefixes ("/api/items/..."), and a memcmp call per tree level is most of an insert's cost.
struct TargetLess {
  static uint64_t load_be(const char* p) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    return __builtin_bswap64(v);
  }
  bool operator()(std::string_view a, std::string_view b) const {
    size_t n = a.size() < b.size() ? a.size() : b.size();
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
      uint64_t x = load_be(a.data() + i), y = load_be(b.data() + i);
      if (x != y) return x < y;
    }
    for (; i < n; ++i)
      if (a[i] != b[i]) return static_cast<unsigned char>(a[i]) < static_cast<unsigned char>(b[i]);
    return a.size() < b.size();
  }
};
using TargetIndex = std::multimap<std::string_view, Node*, TargetLess>;
using TagIndex = std::multimap<std::string_view, Node*>;

struct Node {
  std::string key;
  uint64_t hash = 0;
  std::shared_ptr<const CachedResponse> value;
  Node* prev = nullptr;
  Node* next = nullptr;
  uint64_t seq = 0;  // shard insertion sequence: purges match only entries older than them
  size_t charge = 0;
  uint8_t freq = 0;
  uint8_t queue = 0;  // which NodeList of its shard holds it: Shard::kSmall, kMain or kProtected
  uint64_t pending_pos = 0;  // its place in Shard::unindexed while not indexed
  // While not indexed: the target index's node, allocated (or recycled) with the entry, so
  // that indexing at purge time allocates nothing. Indexing moves it into the index.
  TargetIndex::node_type target_slot;
  TargetIndex::iterator target_it;  // once indexed
  std::vector<TagIndex::iterator> tag_its;
  // For a node in a shard: in the target and tag indexes, rather than in Shard::unindexed.
  bool indexed() const { return target_slot.empty(); }
};

// Nodes and the containers' node allocations are recycled per thread: a store in steady state
// (one entry in, one evicted) then allocates nothing for its bookkeeping, only the response.
Node* new_node();
// Frees nodes removed under a shard lock, once it is released (their responses are released
// here, outside the lock; the nodes themselves are kept for reuse).
void free_nodes(std::vector<Node*>& nodes);

// Bytes accounted for a node beyond its response: the node, its key, its map and index slots.
size_t node_overhead(size_t key_capacity, size_t tag_count);

// The shard's entries by key: open addressing with linear probing over (hash, node) slots, so a
// lookup compares hashes within one cache line or two and reads a node only on a hash match,
// and an insert or a removal allocates nothing (the slot array doubles at a load of 3/4).
class EntryTable {
 public:
  Node* find(uint64_t hash, std::string_view key) const;
  void insert(Node* node);  // the key must not be present
  void erase(Node* node);
  size_t size() const { return size_; }
  // Detaches every node; calls fn(node) for each.
  template <class Fn>
  void drain(Fn&& fn) {
    for (Slot& slot : slots_)
      if (Node* n = slot.node) {
        slot = Slot{};
        fn(n);
      }
    size_ = 0;
  }

 private:
  struct Slot {
    uint64_t hash = 0;
    Node* node = nullptr;  // nullptr: empty
  };
  size_t home(uint64_t hash) const { return hash & (slots_.size() - 1); }
  void grow();
  void place(uint64_t hash, Node* node);
  std::vector<Slot> slots_;
  size_t size_ = 0;
};

class NodeList {
 public:
  void push_front(Node* n);
  void remove(Node* n);
  Node* back() const { return tail_; }
  bool empty() const { return head_ == nullptr; }
  size_t bytes = 0;
  size_t count = 0;

 private:
  Node* head_ = nullptr;
  Node* tail_ = nullptr;
};

// Entries not yet in the purge indexes, oldest first. A purge indexes the ones older than
// itself before it sweeps, so an entry evicted before any purge (most entries of a miss-heavy
// workload) never costs an ordered-tree insertion and removal, only a slot here.
class UnindexedList {
 public:
  void push(Node* n);
  void remove(Node* n);
  Node* front() const { return live_ ? slots_[head_] : nullptr; }
  size_t size() const { return live_; }
  void clear();

 private:
  void trim();
  std::vector<Node*> slots_;  // nullptr: removed
  uint64_t base_ = 0;         // the position of slots_[0]
  size_t head_ = 0;           // the first live slot
  size_t live_ = 0;
};

// Hashes of keys recently evicted from the small queue (S3-FIFO's ghost queue), about the
// last `capacity` of them: buckets of seven 32-bit fingerprints, each bucket a FIFO of its own,
// so a lookup or an insert touches one half cache line and allocates nothing.
class GhostSet {
 public:
  void add(uint64_t hash, size_t capacity);
  bool take(uint64_t hash);  // removes and reports membership
  void clear();

 private:
  struct Bucket {
    uint32_t fingerprints[7];  // 0: empty
    uint32_t next;             // the slot the next add overwrites
    void push(uint32_t fp) {
      fingerprints[next] = fp;
      next = (next + 1) % 7;
    }
  };
  // The low half of the hash: the high half picks the shard, so within one shard some of its
  // bits are the same for every key, and buckets chosen by them would go unused.
  static uint32_t fingerprint(uint64_t hash) { return static_cast<uint32_t>(hash) | 1; }
  Bucket& bucket_of(uint32_t fp) { return buckets_[fp & (buckets_.size() - 1)]; }
  void resize(size_t buckets);
  std::vector<Bucket> buckets_;
};

// A purge in progress, visible to lookups so that its matches are never served.
struct PurgeRule {
  enum class Kind { pattern, tag, all };
  Kind kind = Kind::all;
  std::vector<PurgePattern> patterns;  // Kind::pattern: any of them
  std::string tag;
  bool matches(const CachedResponse& e) const;
  bool matches_target(std::string_view target) const;  // for fills still in flight
};

struct ActiveRule {
  std::shared_ptr<const PurgeRule> rule;
  uint64_t seq_limit;  // entries with seq <= seq_limit are purged
};

// A purge whose sweep was left to the background thread.
struct PurgeJob {
  std::shared_ptr<const PurgeRule> rule;
  std::vector<uint64_t> limits;   // per shard
  std::vector<uint32_t> pending;  // shards still to sweep
};

struct Shard {
  std::mutex mu;
  EntryTable map;
  // Fills in flight on this shard: as many as requests in flight at most, a handful at a time,
  // so a vector searched by hash beats a map and allocates nothing.
  std::vector<std::shared_ptr<Flight>> flights;
  // S3-FIFO: small (probation) and main FIFOs and the ghost set. LRU: main only.
  // W-TinyLFU: small is the admission window, main the probation and protected_ the protected
  // segment of the main LRU, and the sketch counts requests.
  static constexpr uint8_t kSmall = 0, kMain = 1, kProtected = 2;
  NodeList small;
  NodeList main;
  NodeList protected_;
  GhostSet ghost;
  // Adaptive admission (S3-FIFO): the share of entries that leave the small queue without a
  // hit, as a moving average over about the last 256 (fixed point, 1 << 16 = all). Above 95%,
  // storing is nearly all cost; admits() then stores a key on its second miss (remembered in
  // the doorkeeper) and a sixteenth of the others, which keeps the average measured.
  uint32_t unhit_share = 0;
  bool filtering = false;
  bool adaptive_admission = true;
  GhostSet doorkeeper;
  FrequencySketch sketch;
  TargetIndex by_target;
  TagIndex by_tag;
  UnindexedList unindexed;
  std::vector<ActiveRule> rules;
  uint64_t seq = 0;
  uint64_t purge_epoch = 0;  // bumped by every purge: unregistered fills compare it
  size_t capacity = 0;
  EvictionPolicy policy = EvictionPolicy::s3fifo;
  CacheStats* stats = nullptr;

  size_t bytes() const { return small.bytes + main.bytes + protected_.bytes; }
  size_t count() const { return small.count + main.count + protected_.count; }

  // Takes ownership of `node`, replacing any entry with its key; evicts to stay in budget.
  // Removed nodes are appended to `garbage` to be freed outside the lock.
  void insert(Node* node, TimePoint now, std::vector<Node*>& garbage);
  // Detaches `node` from every structure; the caller frees it.
  void unlink(Node* node);
  void touch(Node* node);           // a hit
  void record_miss(uint64_t hash);  // a lookup that found nothing
  // Whether a fill of this absent key should store its response.
  bool admits(uint64_t hash);
  // Starts loading what the next eviction reads, long before it: the queues' tails were stored
  // long ago and are in no cache, and a miss is followed by a store that evicts one of them.
  void prefetch_victims() const;
  bool matched_by_rule(const Node& node) const;
  // Moves up to `max` of the unindexed entries with seq <= seq_limit into the indexes; returns
  // how many it moved. Fewer than `max`: none is left.
  size_t index_older(uint64_t seq_limit, size_t max);
  Flight* find_flight(uint64_t hash, std::string_view key) const;
  std::shared_ptr<Flight> flight_of(uint64_t hash, std::string_view key) const;
  void remove_flight(const Flight* flight);

 private:
  void evict(TimePoint now, std::vector<Node*>& garbage);
  void evict_small(TimePoint now, std::vector<Node*>& garbage);
  void evict_main(TimePoint now, std::vector<Node*>& garbage);
  void admit_from_window(TimePoint now, std::vector<Node*>& garbage);
  void evict_tinylfu(std::vector<Node*>& garbage);
  void record_small_exit(bool hit);
  NodeList& list_of(const Node* node);
  void move_to(Node* node, uint8_t queue);
  void drop(Node* node, std::vector<Node*>& garbage, Counter reason);
};

}  // namespace sluice::cache::detail
