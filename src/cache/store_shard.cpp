#include "cache/store_shard.hpp"

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

// Inserts into the target index, reusing a node handle a removal left behind.
TargetIndex::iterator emplace_target(TargetIndex& index, std::string_view target, Node* node) {
  if (recycler.target_nodes.empty()) return index.emplace(target, node);
  TargetIndex::node_type handle = std::move(recycler.target_nodes.back());
  recycler.target_nodes.pop_back();
  handle.key() = target;
  handle.mapped() = node;
  return index.insert(std::move(handle));
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
  if (buckets_.empty()) return nullptr;
  for (Node* n = buckets_[bucket(hash)]; n; n = n->chain)
    if (n->hash == hash && n->key == key) return n;
  return nullptr;
}

void EntryTable::insert(Node* node) {
  if (size_ >= buckets_.size()) grow();
  Node*& head = buckets_[bucket(node->hash)];
  node->chain = head;
  head = node;
  ++size_;
}

void EntryTable::erase(Node* node) {
  if (buckets_.empty()) return;
  for (Node** link = &buckets_[bucket(node->hash)]; *link; link = &(*link)->chain)
    if (*link == node) {
      *link = node->chain;
      node->chain = nullptr;
      --size_;
      return;
    }
}

void EntryTable::grow() {
  std::vector<Node*> old(buckets_.empty() ? 16 : buckets_.size() * 2, nullptr);
  old.swap(buckets_);
  for (Node* head : old)
    while (Node* n = head) {
      head = n->chain;
      Node*& slot = buckets_[bucket(n->hash)];
      n->chain = slot;
      slot = n;
    }
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
  // The entry table's bucket pointers: one to two per entry, as it doubles at a load of one.
  constexpr size_t kBucket = 2 * sizeof(void*);
  size_t bytes = allocation_size(sizeof(Node)) + kBucket +
                 allocation_size(kTreeNode) * (1 + tag_count) +
                 (key_capacity > 15 ? allocation_size(key_capacity + 1) : 0);
  if (tag_count) bytes += allocation_size(tag_count * sizeof(TagIndex::iterator));
  return bytes + 2 * sizeof(uint64_t);  // the ghost slot the entry may leave behind
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

void GhostSet::add(uint64_t hash, size_t capacity) {
  while (!order_.empty() && order_.size() >= capacity) {
    auto it = members_.find(order_.front());
    if (it != members_.end()) {
      if (spare_.empty())
        spare_ = members_.extract(it);
      else
        members_.erase(it);
    }
    order_.pop_front();
  }
  order_.push_back(hash);
  if (spare_.empty()) {
    members_.insert(hash);
  } else {
    spare_.value() = hash;
    members_.insert(std::move(spare_));
  }
}

bool GhostSet::take(uint64_t hash) {
  auto it = members_.find(hash);
  if (it == members_.end()) return false;
  members_.erase(it);
  return true;
}

void GhostSet::clear() {
  order_.clear();
  members_.clear();
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

void Shard::unlink(Node* node) {
  list_of(node).remove(node);
  map.erase(node);
  keep(recycler.target_nodes, by_target.extract(node->target_it));
  for (auto it : node->tag_its)
    by_tag.erase(it);
  node->tag_its.clear();
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

void Shard::record_miss(uint64_t hash) {
  if (policy == EvictionPolicy::tinylfu) sketch.increment(hash);
}

void Shard::insert(Node* node, TimePoint now, std::vector<Node*>& garbage) {
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
  node->target_it = emplace_target(by_target, node->value->target(), node);
  node->tag_its.reserve(node->value->tags.size());
  for (const std::string& t : node->value->tags)
    node->tag_its.push_back(by_tag.emplace(std::string_view(t), node));
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
      n->freq = 0;
      move_to(n, kMain);
      if (main.bytes > capacity - capacity / 10 && main.count > 1) {
        evict_main(now, garbage);
        return;
      }
      continue;
    }
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
