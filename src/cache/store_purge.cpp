// Purges: a rule is published to every shard first, so no lookup serves a match from then on;
// the entries older than the rule are then brought into the ordered target and tag indexes
// (a store leaves that to the first purge after it), and the matches removed through them, all
// in small batches.
#include <time.h>

#include <algorithm>
#include <limits>

#include "cache/cache_store.hpp"
#include "cache/store_shard.hpp"

namespace sluice::cache {

using detail::Node;
using detail::PurgeRule;
using detail::Shard;

namespace {

// Entries visited per lock hold: each removal costs a glob match and a few index erasures,
// mostly cache misses, so a batch holds the lock for tens of microseconds.
constexpr size_t kPurgeBatch = 64;
// Entries a request-path purge visits itself before leaving the rest to the background.
constexpr size_t kInlineBudget = 512;
constexpr size_t kUnlimited = std::numeric_limits<size_t>::max();

int64_t thread_cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

void raise_to(std::atomic<int64_t>& longest, int64_t ns) {
  int64_t prev = longest.load(std::memory_order_relaxed);
  while (ns > prev && !longest.compare_exchange_weak(prev, ns, std::memory_order_relaxed)) {
  }
}

// Measures how long a purge holds a shard lock: wall time, and the CPU time of its own work
// (which, unlike wall time, excludes the holder being descheduled).
class HoldTimer {
 public:
  HoldTimer(std::atomic<int64_t>& longest_wall, std::atomic<int64_t>& longest_cpu)
      : wall_(longest_wall),
        cpu_(longest_cpu),
        wall_start_(std::chrono::steady_clock::now()),
        cpu_start_(thread_cpu_ns()) {}
  ~HoldTimer() {
    raise_to(wall_, std::chrono::duration_cast<std::chrono::nanoseconds>(
                        std::chrono::steady_clock::now() - wall_start_)
                        .count());
    raise_to(cpu_, thread_cpu_ns() - cpu_start_);
  }

 private:
  std::atomic<int64_t>& wall_;
  std::atomic<int64_t>& cpu_;
  std::chrono::steady_clock::time_point wall_start_;
  int64_t cpu_start_;
};

void remove_node(Shard& s, Node* n, std::vector<Node*>& garbage) {
  s.stats->add(n->value->route, Counter::purged);
  s.unlink(n);
  garbage.push_back(n);
}

}  // namespace

size_t CacheStore::purge(const PurgePattern& pattern) {
  return purge(std::vector<PurgePattern>{pattern});
}

size_t CacheStore::purge(std::vector<PurgePattern> patterns) {
  if (patterns.empty()) return 0;
  auto rule = std::make_shared<PurgeRule>();
  rule->kind = PurgeRule::Kind::pattern;
  rule->patterns = std::move(patterns);
  return run_purge(std::move(rule), kUnlimited);
}

void CacheStore::purge_soon(std::vector<PurgePattern> patterns) {
  if (patterns.empty()) return;
  auto rule = std::make_shared<PurgeRule>();
  rule->kind = PurgeRule::Kind::pattern;
  rule->patterns = std::move(patterns);
  run_purge(std::move(rule), kInlineBudget);
}

size_t CacheStore::purge_tag(std::string_view tag) {
  auto rule = std::make_shared<PurgeRule>();
  rule->kind = PurgeRule::Kind::tag;
  rule->tag = std::string(tag);
  return run_purge(std::move(rule), kUnlimited);
}

size_t CacheStore::clear() {
  auto rule = std::make_shared<PurgeRule>();
  rule->kind = PurgeRule::Kind::all;
  return run_purge(std::move(rule), kUnlimited);
}

void CacheStore::retire(Shard& s, const std::shared_ptr<const PurgeRule>& rule) {
  std::lock_guard lock(s.mu);
  auto it = std::find_if(s.rules.begin(), s.rules.end(),
                         [&](const detail::ActiveRule& r) { return r.rule == rule; });
  if (it != s.rules.end()) s.rules.erase(it);
}

size_t CacheStore::run_purge(std::shared_ptr<const PurgeRule> rule, size_t inline_budget) {
  detail::PurgeJob job{rule, std::vector<uint64_t>(options_.shards), {}};
  for (uint32_t i = 0; i < options_.shards; ++i) {
    Shard& s = shards_[i];
    std::lock_guard lock(s.mu);
    job.limits[i] = s.seq;
    ++s.purge_epoch;
    s.rules.push_back({rule, s.seq});
    // Fetches already under way return content from before the purge: not to be stored.
    for (auto& f : s.flights)
      if (rule->matches_target(f->target())) f->mark_purged();
  }
  size_t removed = 0;
  size_t budget = inline_budget;
  for (uint32_t i = 0; i < options_.shards; ++i) {
    if (budget > 0 && sweep_shard(shards_[i], *rule, job.limits[i], budget, removed))
      retire(shards_[i], rule);
    else
      job.pending.push_back(i);
  }
  if (!job.pending.empty()) {
    std::lock_guard lock(janitor_mu_);
    if (!janitor_.joinable()) janitor_ = std::thread([this] { janitor_loop(); });
    jobs_.push_back(std::move(job));
    janitor_cv_.notify_all();
  }
  return removed;
}

void CacheStore::janitor_loop() {
  std::unique_lock lock(janitor_mu_);
  for (;;) {
    janitor_cv_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
    if (stopping_) return;
    detail::PurgeJob job = std::move(jobs_.front());
    jobs_.erase(jobs_.begin());
    ++jobs_running_;
    lock.unlock();
    for (uint32_t i : job.pending) {
      size_t budget = kUnlimited, removed = 0;
      sweep_shard(shards_[i], *job.rule, job.limits[i], budget, removed);
      retire(shards_[i], job.rule);
    }
    lock.lock();
    --jobs_running_;
    janitor_cv_.notify_all();
  }
}

void CacheStore::wait_for_background_purges() {
  std::unique_lock lock(janitor_mu_);
  janitor_cv_.wait(lock, [&] { return stopping_ || (jobs_.empty() && jobs_running_ == 0); });
}

void CacheStore::stop_janitor() {
  {
    std::lock_guard lock(janitor_mu_);
    stopping_ = true;
    janitor_cv_.notify_all();
  }
  if (janitor_.joinable()) janitor_.join();
}

bool CacheStore::sweep_shard(Shard& s, const PurgeRule& rule, uint64_t seq_limit, size_t& budget,
                             size_t& removed) {
  switch (rule.kind) {
    case PurgeRule::Kind::all:
      removed += sweep_all(s);
      return true;
    case PurgeRule::Kind::tag:
      if (!index_shard(s, seq_limit, budget)) return false;
      return sweep_tag(s, rule.tag, seq_limit, budget, removed);
    case PurgeRule::Kind::pattern:
      if (!index_shard(s, seq_limit, budget)) return false;
      for (const PurgePattern& pattern : rule.patterns)
        if (!sweep_pattern(s, pattern, seq_limit, budget, removed)) return false;
      return true;
  }
  return true;
}

size_t CacheStore::sweep_all(Shard& s) {
  // Detaches everything at once; the nodes are freed after the lock is released.
  std::vector<Node*> nodes;
  {
    std::lock_guard lock(s.mu);
    HoldTimer hold(longest_hold_ns_, longest_hold_cpu_ns_);
    nodes.reserve(s.map.size());
    s.map.drain([&](Node* n) { nodes.push_back(n); });
    s.by_target.clear();
    s.by_tag.clear();
    s.small = {};
    s.main = {};
    s.protected_ = {};
    s.unindexed.clear();
    s.ghost.clear();
    s.doorkeeper.clear();
    s.unhit_share = 0;
    s.filtering = false;
  }
  for (Node* n : nodes) {
    stats_.add(n->value->route, Counter::purged);
    stats_.add(n->value->route, Counter::bytes, -static_cast<int64_t>(n->charge));
    stats_.add(n->value->route, Counter::keys, -1);
    delete n;
  }
  return nodes.size();
}

bool CacheStore::index_shard(Shard& s, uint64_t seq_limit, size_t& budget) {
  for (;;) {
    size_t batch = std::min(kPurgeBatch, budget);
    if (batch == 0) return false;
    size_t moved;
    {
      std::lock_guard lock(s.mu);
      HoldTimer hold(longest_hold_ns_, longest_hold_cpu_ns_);
      moved = s.index_older(seq_limit, batch);
    }
    budget -= moved;
    if (moved < batch) return true;
  }
}

bool CacheStore::sweep_tag(Shard& s, const std::string& tag, uint64_t seq_limit, size_t& budget,
                           size_t& removed) {
  std::vector<Node*> garbage;
  for (bool done = false; !done;) {
    {
      std::lock_guard lock(s.mu);
      HoldTimer hold(longest_hold_ns_, longest_hold_cpu_ns_);
      auto [it, end] = s.by_tag.equal_range(tag);
      done = true;
      // Equal keys keep insertion order, so entries newer than the purge come last.
      for (size_t visited = 0; it != end;) {
        Node* n = it->second;
        if (n->seq > seq_limit) break;
        if (visited >= kPurgeBatch || budget == 0) {
          done = false;
          break;
        }
        ++visited;
        --budget;
        ++it;
        remove_node(s, n, garbage);
      }
    }
    removed += garbage.size();
    free_nodes(garbage);
    if (!done && budget == 0) return false;
  }
  return true;
}

bool CacheStore::sweep_pattern(Shard& s, const PurgePattern& pattern, uint64_t seq_limit,
                               size_t& budget, size_t& removed) {
  std::vector<Node*> garbage;
  std::string_view prefix = pattern.literal_prefix();
  std::string resume(prefix);
  bool first = true;
  for (bool done = false; !done;) {
    {
      std::lock_guard lock(s.mu);
      HoldTimer hold(longest_hold_ns_, longest_hold_cpu_ns_);
      auto it = first ? s.by_target.lower_bound(resume) : s.by_target.upper_bound(resume);
      std::string_view last;
      size_t visited = 0;
      done = true;
      while (it != s.by_target.end() && it->first.substr(0, prefix.size()) == prefix) {
        if (pattern.exact() && it->first != prefix) break;
        // Batches end between targets, so the next one resumes after the last target seen.
        if ((visited >= kPurgeBatch || budget == 0) && it->first != last) {
          done = false;
          break;
        }
        Node* n = it->second;
        last = it->first;
        ++it;
        ++visited;
        if (budget > 0) --budget;
        if (n->seq <= seq_limit && pattern.matches(n->value->target())) remove_node(s, n, garbage);
      }
      if (!done) resume = std::string(last);
      first = false;
    }
    removed += garbage.size();
    free_nodes(garbage);
    if (!done && budget == 0) return false;
  }
  return true;
}

}  // namespace sluice::cache
