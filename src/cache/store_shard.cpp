#include "cache/store_shard.hpp"

#include <algorithm>

namespace sluice::cache::detail {

namespace {

// Bounded, so that a thread that once evicted a million entries does not keep their nodes.
constexpr size_t kRecycled = 256;

struct Recycler {
  std::vector<Node*> nodes;
  std::vector<TargetIndex::node_type> target_nodes;
  ~Recycler() {
    for (Node* n : nodes)
      delete n;
  }
};
thread_local Recycler recycler;

template <class Handle>
void keep(std::vector<Handle>& pool, Handle&& handle) {
  if (pool.size() < kRecycled) pool.push_back(std::move(handle));
}

// A target index node for a new entry: one a removal left behind, or a new one.
TargetIndex::node_type target_slot() {
  if (!recycler.target_nodes.empty()) {
    TargetIndex::node_type handle = std::move(recycler.target_nodes.back());
    recycler.target_nodes.pop_back();
    return handle;
  }
  thread_local TargetIndex scratch;
  return scratch.extract(scratch.emplace(std::string_view(), nullptr));
}

}  // namespace

Node* new_node() {
  if (recycler.nodes.empty()) return new Node;
  Node* n = recycler.nodes.back();
  recycler.nodes.pop_back();
  return n;
}

void free_nodes(std::vector<Node*>& nodes) {
  for (Node* n : nodes) {
    if (recycler.nodes.size() >= kRecycled || n->key.capacity() > 1024) {
      delete n;
      continue;
    }
    n->value.reset();
    n->tag_its.clear();
    n->prev = n->next = nullptr;
    recycler.nodes.push_back(n);
  }
  nodes.clear();
}

Node* EntryTable::find(uint64_t hash, std::string_view key) const {
  if (slots_.empty()) return nullptr;
  for (size_t i = home(hash);; i = (i + 1) & (slots_.size() - 1)) {
    const Slot& slot = slots_[i];
    if (!slot.node) return nullptr;
    if (slot.hash == hash && slot.node->key == key) return slot.node;
  }
}

void EntryTable::place(uint64_t hash, Node* node) {
  size_t i = home(hash);
  while (slots_[i].node)
    i = (i + 1) & (slots_.size() - 1);
  slots_[i] = Slot{hash, node};
}

void EntryTable::insert(Node* node) {
  if ((size_ + 1) * 4 > slots_.size() * 3) grow();
  place(node->hash, node);
  ++size_;
}

void EntryTable::erase(Node* node) {
  if (slots_.empty()) return;
  const size_t mask = slots_.size() - 1;
  size_t i = home(node->hash);
  while (slots_[i].node != node) {
    if (!slots_[i].node) return;
    i = (i + 1) & mask;
  }
  // Backward-shift deletion: a later slot of the run whose home is not between the hole and
  // itself moves into the hole, so every run stays unbroken and no tombstones build up.
  for (size_t j = (i + 1) & mask; slots_[j].node; j = (j + 1) & mask) {
    size_t k = home(slots_[j].hash);
    bool stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
    if (stays) continue;
    slots_[i] = slots_[j];
    i = j;
  }
  slots_[i] = Slot{};
  --size_;
}

void EntryTable::grow() {
  std::vector<Slot> old(slots_.empty() ? 16 : slots_.size() * 2);
  old.swap(slots_);
  for (const Slot& slot : old)
    if (slot.node) place(slot.hash, slot.node);
}

Flight* Shard::find_flight(uint64_t hash, std::string_view key) const {
  for (const auto& f : flights)
    if (f->hash() == hash && f->key() == key) return f.get();
  return nullptr;
}

std::shared_ptr<Flight> Shard::flight_of(uint64_t hash, std::string_view key) const {
  for (const auto& f : flights)
    if (f->hash() == hash && f->key() == key) return f;
  return nullptr;
}

void Shard::remove_flight(const Flight* flight) {
  for (auto& f : flights)
    if (f.get() == flight) {
      f = std::move(flights.back());
      flights.pop_back();
      return;
    }
}

size_t node_overhead(size_t key_capacity, size_t tag_count) {
  // Multimap nodes: the libstdc++ node (links and colour) plus the value.
  constexpr size_t kTreeNode = 32 + sizeof(std::string_view) + sizeof(Node*);
  // The entry table's slots: 16 bytes each at a load between 3/8 and 3/4.
  constexpr size_t kBucket = 40;
  size_t bytes = allocation_size(sizeof(Node)) + kBucket +
                 allocation_size(kTreeNode) * (1 + tag_count) +
                 (key_capacity > 15 ? allocation_size(key_capacity + 1) : 0);
  if (tag_count) bytes += allocation_size(tag_count * sizeof(TagIndex::iterator));
  // The slot in the unindexed list (kept at most about twice as long as it has entries) and
  // the ghost fingerprint the entry may leave behind.
  return bytes + 2 * sizeof(Node*) + 2 * sizeof(uint32_t);
}

void NodeList::push_front(Node* n) {
  n->prev = nullptr;
  n->next = head_;
  if (head_) head_->prev = n;
  head_ = n;
  if (!tail_) tail_ = n;
  bytes += n->charge;
  ++count;
}

void NodeList::remove(Node* n) {
  if (n->prev)
    n->prev->next = n->next;
  else
    head_ = n->next;
  if (n->next)
    n->next->prev = n->prev;
  else
    tail_ = n->prev;
  n->prev = n->next = nullptr;
  bytes -= n->charge;
  --count;
}

void UnindexedList::push(Node* n) {
  n->pending_pos = base_ + slots_.size();
  slots_.push_back(n);
  ++live_;
}

void UnindexedList::remove(Node* n) {
  slots_[n->pending_pos - base_] = nullptr;
  --live_;
  trim();
}

void UnindexedList::clear() {
  base_ += slots_.size();
  slots_.clear();
  head_ = live_ = 0;
}

void UnindexedList::trim() {
  while (head_ < slots_.size() && !slots_[head_])
    ++head_;
  if (head_ == slots_.size()) {
    clear();
    return;
  }
  // Entries mostly leave oldest first, so the removed slots gather at the front; those the
  // long-lived entries leave behind them are squeezed out once they outnumber the live ones.
  if (slots_.size() - head_ > 2 * live_ + 64) {
    size_t out = 0;
    for (size_t i = head_; i < slots_.size(); ++i)
      if (Node* n = slots_[i]) {
        n->pending_pos = base_ + out;
        slots_[out++] = n;
      }
    slots_.resize(out);
    head_ = 0;
  } else if (head_ > 64 && head_ * 2 > slots_.size()) {
    slots_.erase(slots_.begin(), slots_.begin() + static_cast<std::ptrdiff_t>(head_));
    base_ += head_;
    head_ = 0;
  }
}

void GhostSet::resize(size_t buckets) {
  std::vector<Bucket> old(buckets, Bucket{});
  old.swap(buckets_);
  for (const Bucket& b : old)
    for (uint32_t fp : b.fingerprints)
      if (fp) bucket_of(fp).push(fp);
}

void GhostSet::add(uint64_t hash, size_t capacity) {
  // Seven slots a bucket, a power of two of buckets: two to four times `capacity` slots, so
  // that nearly all of the last `capacity` hashes are kept although buckets fill unevenly.
  size_t wanted = 16;
  while (wanted * 7 < 2 * capacity)
    wanted *= 2;
  if (wanted > buckets_.size() || wanted * 4 < buckets_.size()) resize(wanted);
  uint32_t fp = fingerprint(hash);
  bucket_of(fp).push(fp);
}

bool GhostSet::take(uint64_t hash) {
  if (buckets_.empty()) return false;
  uint32_t fp = fingerprint(hash);
  for (uint32_t& slot : bucket_of(fp).fingerprints)
    if (slot == fp) {
      slot = 0;
      return true;
    }
  return false;
}

void GhostSet::clear() {
  std::fill(buckets_.begin(), buckets_.end(), Bucket{});
}

bool PurgeRule::matches(const CachedResponse& e) const {
  switch (kind) {
    case Kind::all:
      return true;
    case Kind::pattern:
      return matches_target(e.target());
    case Kind::tag:
      for (const std::string& t : e.tags)
        if (t == tag) return true;
      return false;
  }
  return false;
}

bool PurgeRule::matches_target(std::string_view target) const {
  // A fill's tags are unknown until its response arrives: a tag purge catches every fill.
  if (kind != Kind::pattern) return true;
  for (const PurgePattern& p : patterns)
    if (p.matches(target)) return true;
  return false;
}

bool Shard::matched_by_rule(const Node& node) const {
  for (const ActiveRule& r : rules)
    if (node.seq <= r.seq_limit && r.rule->matches(*node.value)) return true;
  return false;
}

size_t Shard::index_older(uint64_t seq_limit, size_t max) {
  size_t moved = 0;
  for (Node* n; moved < max && (n = unindexed.front()) && n->seq <= seq_limit; ++moved) {
    unindexed.remove(n);
    n->target_slot.key() = n->value->target();
    n->target_slot.mapped() = n;
    n->target_it = by_target.insert(std::move(n->target_slot));
    n->tag_its.reserve(n->value->tags.size());
    for (const std::string& t : n->value->tags)
      n->tag_its.push_back(by_tag.emplace(std::string_view(t), n));
  }
  return moved;
}

void Shard::unlink(Node* node) {
  list_of(node).remove(node);
  map.erase(node);
  if (node->indexed()) {
    keep(recycler.target_nodes, by_target.extract(node->target_it));
    for (auto it : node->tag_its)
      by_tag.erase(it);
    node->tag_its.clear();
  } else {
    unindexed.remove(node);
    keep(recycler.target_nodes, std::move(node->target_slot));
  }
  stats->add(node->value->route, Counter::bytes, -static_cast<int64_t>(node->charge));
  stats->add(node->value->route, Counter::keys, -1);
}

void Shard::drop(Node* node, std::vector<Node*>& garbage, Counter reason) {
  stats->add(node->value->route, reason);
  unlink(node);
  garbage.push_back(node);
}

NodeList& Shard::list_of(const Node* node) {
  return node->queue == kSmall ? small : node->queue == kMain ? main : protected_;
}

void Shard::move_to(Node* node, uint8_t queue) {
  list_of(node).remove(node);
  node->queue = queue;
  list_of(node).push_front(node);
}

void Shard::touch(Node* node) {
  switch (policy) {
    case EvictionPolicy::lru:
      move_to(node, kMain);
      break;
    case EvictionPolicy::s3fifo:
      if (node->freq < 3) ++node->freq;
      break;
    case EvictionPolicy::tinylfu:
      sketch.increment(node->hash);
      if (node->queue == kSmall) {
        move_to(node, kSmall);
      } else {
        move_to(node, kProtected);
        // The protected segment keeps 80% of the main space; its least recent go back.
        size_t main_capacity = capacity - capacity / 100;
        while (protected_.bytes > main_capacity / 10 * 8 && protected_.count > 1)
          move_to(protected_.back(), kMain);
      }
      break;
  }
}

void Shard::prefetch_victims() const {
  if (Node* n = small.back()) __builtin_prefetch(n, 1);
  if (Node* n = main.back()) __builtin_prefetch(n, 1);
}

void Shard::record_miss(uint64_t hash) {
  if (policy == EvictionPolicy::tinylfu) sketch.increment(hash);
}

bool Shard::admits(uint64_t hash) {
  if (!filtering) return true;
  if (((hash >> 24) & 15) == 0) return true;  // the sample that keeps unhit_share current
  if (doorkeeper.take(hash)) return true;
  doorkeeper.add(hash, count() < 64 ? 64 : count());
  return false;
}

void Shard::record_small_exit(bool hit) {
  if (!adaptive_admission) return;
  constexpr uint32_t kAll = 1u << 16;
  const uint32_t sample = hit ? 0 : kAll;
  unhit_share = unhit_share - (unhit_share >> 8) + (sample >> 8);
  // Hysteresis: on above 95%, off below 90%.
  if (unhit_share > kAll / 100 * 95)
    filtering = true;
  else if (unhit_share < kAll / 100 * 90)
    filtering = false;
}

void Shard::insert(Node* node, TimePoint now, std::vector<Node*>& garbage) {
  // The likely victim itself is loaded by now (prefetch_victims at the miss): start on what its
  // eviction reads next.
  if (Node* v = small.back()) {
    __builtin_prefetch(v->value.get());
    __builtin_prefetch(v->prev, 1);
  }
  if (Node* old = map.find(node->hash, node->key)) {
    unlink(old);
    garbage.push_back(old);
  }
  node->seq = ++seq;
  node->freq = 0;
  switch (policy) {
    case EvictionPolicy::lru:
      node->queue = kMain;
      break;
    case EvictionPolicy::s3fifo:
      node->queue = ghost.take(node->hash) ? kMain : kSmall;
      break;
    case EvictionPolicy::tinylfu:
      node->queue = kSmall;
      sketch.ensure_capacity(count() + 1);
      break;
  }
  list_of(node).push_front(node);
  map.insert(node);
  // A recycled node may still hold the slot its last entry had (when the recycler was full).
  if (node->target_slot.empty()) node->target_slot = target_slot();
  unindexed.push(node);
  stats->add(node->value->route, Counter::bytes, static_cast<int64_t>(node->charge));
  stats->add(node->value->route, Counter::keys, 1);
  if (policy == EvictionPolicy::tinylfu) admit_from_window(now, garbage);
  while (bytes() > capacity && count() > 0)
    evict(now, garbage);
}

void Shard::evict(TimePoint now, std::vector<Node*>& garbage) {
  if (policy == EvictionPolicy::lru) {
    drop(main.back(), garbage, Counter::evictions);
    return;
  }
  if (policy == EvictionPolicy::tinylfu) {
    evict_tinylfu(garbage);
    return;
  }
  // S3-FIFO: the small queue holds about a tenth of the bytes; new keys that are not
  // re-accessed while in it leave without disturbing the main queue.
  if (!small.empty() && (small.bytes > capacity / 10 || main.empty()))
    evict_small(now, garbage);
  else
    evict_main(now, garbage);
}

void Shard::evict_small(TimePoint now, std::vector<Node*>& garbage) {
  while (!small.empty()) {
    Node* n = small.back();
    if (n->freq > 0 && n->value->retainable(now)) {
      record_small_exit(true);
      n->freq = 0;
      move_to(n, kMain);
      if (main.bytes > capacity - capacity / 10 && main.count > 1) {
        evict_main(now, garbage);
        return;
      }
      continue;
    }
    record_small_exit(false);
    ghost.add(n->hash, main.count < 64 ? 64 : main.count);
    drop(n, garbage, Counter::evictions);
    return;
  }
  if (!main.empty()) evict_main(now, garbage);
}

void Shard::evict_main(TimePoint now, std::vector<Node*>& garbage) {
  // Each pass lowers a frequency, so this ends within four passes over the queue.
  while (!main.empty()) {
    Node* n = main.back();
    if (n->freq > 0 && n->value->retainable(now)) {
      --n->freq;
      move_to(n, kMain);
      continue;
    }
    drop(n, garbage, Counter::evictions);
    return;
  }
  if (!small.empty()) drop(small.back(), garbage, Counter::evictions);
}

void Shard::admit_from_window(TimePoint now, std::vector<Node*>& garbage) {
  // The window (1% of the space) takes every new entry; its overflow enters the main space,
  // and once that is full, only by beating the main space's next victim in estimated request
  // frequency.
  while (small.bytes > capacity / 100 && small.count > 1) {
    Node* candidate = small.back();
    move_to(candidate, kMain);
    if (bytes() <= capacity) continue;
    Node* victim = main.back() != candidate ? main.back() : protected_.back();
    if (!victim) return;
    bool admit = !victim->value->retainable(now) ||
                 (candidate->value->retainable(now) &&
                  sketch.estimate(candidate->hash) > sketch.estimate(victim->hash));
    drop(admit ? victim : candidate, garbage, Counter::evictions);
  }
}

void Shard::evict_tinylfu(std::vector<Node*>& garbage) {
  Node* victim = !main.empty()         ? main.back()
                 : !protected_.empty() ? protected_.back()
                                       : small.back();
  drop(victim, garbage, Counter::evictions);
}

}  // namespace sluice::cache::detail
