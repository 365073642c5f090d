// The in-memory response store shared by all workers: sharded by key hash, each shard behind
// its own mutex (held for a map probe on a hit), bounded in bytes including overhead, evicting
// with S3-FIFO (or plain LRU, for comparison), with per-shard in-flight fills for coalescing.
//
// Purges publish a rule to every shard first, so that no lookup serves a match from that moment
// on, then remove the matches in small batches through ordered target and tag indexes, so a
// purge over millions of entries never holds a shard lock for long.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string_view>
#include <thread>
#include <vector>

#include "cache/cache_config.hpp"
#include "cache/cache_stats.hpp"
#include "cache/cached_response.hpp"
#include "cache/fill.hpp"
#include "cache/message_view.hpp"
#include "cache/purge_pattern.hpp"

namespace sluice::cache {

namespace detail {
struct Shard;
struct PurgeRule;
struct PurgeJob;
}  // namespace detail

uint64_t hash_key(std::string_view key);

class CacheStore {
 public:
  struct Options {
    uint64_t max_memory = 512ull * 1024 * 1024;
    uint32_t shards = 64;  // a power of two
    EvictionPolicy policy = EvictionPolicy::s3fifo;
    bool adaptive_admission = true;  // S3-FIFO only
  };
  CacheStore(Options options, CacheStats& stats);
  ~CacheStore();
  CacheStore(const CacheStore&) = delete;
  CacheStore& operator=(const CacheStore&) = delete;

  enum class Found {
    none,     // no entry that serves this request
    fresh,    // `entry` is fresh
    stale,    // `entry` is inside its stale-while-revalidate window
    expired,  // `entry` has expired; it may still serve as stale-if-error
  };
  struct LookupOptions {
    const RequestView* request = nullptr;  // for Vary and HEAD checks; null skips them
    bool coalesce = true;                  // join or open an in-flight fill
    bool skip_entry = false;               // revalidation: the entry is returned, not served
    std::string_view target;               // path?query, recorded by a new fill for purges
    uint16_t route = 0;
  };
  struct Lookup {
    Found found = Found::none;
    std::shared_ptr<const CachedResponse> entry;
    // With found != fresh: the fill to lead (leader) or to wait for (follower). For a stale
    // entry only a leader gets one: it refreshes in the background while others serve stale.
    std::shared_ptr<Flight> flight;
    bool leader = false;
    // For a leader: whether its response should be stored (see Shard::admits).
    bool admit = true;
  };
  Lookup lookup(uint64_t hash, std::string_view key, TimePoint now, const LookupOptions& options);

  // Ends a fill led by this caller: stores `entry` (unless null, or the key was purged during
  // the fetch) and resumes its waiters with `status`. Returns whether the entry was stored.
  bool finish_fill(const std::shared_ptr<Flight>& flight,
                   std::shared_ptr<const CachedResponse> entry, FillStatus status, TimePoint now);

  // Stores an entry outside any fill (benchmarks, warm-up).
  void insert(uint64_t hash, std::string_view key, std::shared_ptr<const CachedResponse> entry,
              TimePoint now);
  bool erase(uint64_t hash, std::string_view key);

  // Each returns the number of entries removed, and is effective for every worker before any
  // entry is removed.
  size_t purge(const PurgePattern& pattern);
  size_t purge(std::vector<PurgePattern> patterns);  // entries matching any of them
  size_t purge_tag(std::string_view tag);
  size_t clear();
  // For the request path: publishes the purge at once, removes what a small inline budget
  // allows and leaves the rest to a background thread, so a purge that matches millions of
  // entries costs the calling worker microseconds.
  void purge_soon(std::vector<PurgePattern> patterns);
  // Blocks until the background purges queued so far are done.
  void wait_for_background_purges();

  uint64_t bytes() const;
  uint64_t entries() const;
  uint64_t capacity() const { return options_.max_memory; }
  uint32_t shard_count() const { return options_.shards; }
  // Longest time a purge held one shard lock, for tests and diagnostics: wall time, and the CPU
  // time the purge itself spent under the lock.
  struct PurgeHold {
    Duration wall{0};
    Duration cpu{0};
  };
  PurgeHold longest_purge_hold() const;

 private:
  detail::Shard& shard_for(uint64_t hash) const;
  std::shared_ptr<Flight> open_flight(detail::Shard& s, uint64_t hash, std::string_view key,
                                      const LookupOptions& options, bool registered);
  // Publishes `rule` to every shard, then sweeps them; returns the entries removed. With a
  // finite `inline_budget` (entries visited), unfinished shards go to the background thread.
  size_t run_purge(std::shared_ptr<const detail::PurgeRule> rule, size_t inline_budget);
  // Removes the shard's matches, visiting at most `budget` entries; returns whether it finished.
  bool sweep_shard(detail::Shard& s, const detail::PurgeRule& rule, uint64_t seq_limit,
                   size_t& budget, size_t& removed);
  bool sweep_pattern(detail::Shard& s, const PurgePattern& pattern, uint64_t seq_limit,
                     size_t& budget, size_t& removed);
  bool sweep_tag(detail::Shard& s, const std::string& tag, uint64_t seq_limit, size_t& budget,
                 size_t& removed);
  size_t sweep_all(detail::Shard& s);
  // Brings the shard's entries older than the purge into its indexes; false when `budget` ran
  // out first.
  bool index_shard(detail::Shard& s, uint64_t seq_limit, size_t& budget);
  void retire(detail::Shard& s, const std::shared_ptr<const detail::PurgeRule>& rule);
  void janitor_loop();
  void stop_janitor();

  Options options_;
  CacheStats& stats_;
  std::unique_ptr<detail::Shard[]> shards_;
  std::atomic<int64_t> longest_hold_ns_{0};
  std::atomic<int64_t> longest_hold_cpu_ns_{0};

  std::mutex janitor_mu_;
  std::condition_variable janitor_cv_;
  std::vector<detail::PurgeJob> jobs_;
  size_t jobs_running_ = 0;
  bool stopping_ = false;
  std::thread janitor_;
};

}  // namespace sluice::cache
