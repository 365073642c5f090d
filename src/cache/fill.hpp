// Request coalescing: one upstream fetch per key, however many workers miss on it at once.
//
// The store keeps an in-flight table per shard. The first miss on a key creates a Flight and
// becomes its leader: it fetches the response and ends the flight through its FillLease. Later
// misses on the same key, on any worker, wait for that flight with wait_for_fill(), which
// resumes them on their own executor when the leader stores the response, gives up, or when
// their bounded wait expires (they then go upstream themselves).
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "cache/cached_response.hpp"

namespace sluice::cache {

enum class FillStatus {
  filled,       // the leader stored `entry`; serve it
  uncacheable,  // the leader's response may not be shared; go upstream yourself
  failed,       // the leader's fetch failed; go upstream yourself (or serve stale-if-error)
  timed_out,    // the bounded wait expired; go upstream yourself
  not_stored,   // the leader relayed the response without storing it (admission); go upstream
};

struct FillResult {
  FillStatus status = FillStatus::failed;
  std::shared_ptr<const CachedResponse> entry;
};

class Flight {
 public:
  Flight(std::string key, uint64_t hash, std::string target, uint16_t route, uint64_t shard_epoch,
         bool registered);
  Flight(const Flight&) = delete;
  Flight& operator=(const Flight&) = delete;

  // Runs `fn(result)` on `executor` once the flight ends (at once, posted, if it has ended).
  void on_complete(asio::any_io_executor executor, std::function<void(FillResult)> fn);
  // Ends the flight and resumes every waiter; later calls are ignored.
  void complete(FillResult result);
  bool done() const;
  size_t waiter_count() const;

  const std::string& key() const { return key_; }
  uint64_t hash() const { return hash_; }
  const std::string& target() const { return target_; }
  uint64_t shard_epoch() const { return shard_epoch_; }
  uint16_t route() const { return route_; }
  bool registered() const { return registered_; }
  // Set by a purge that matched this key while the fetch was running: its result, fetched
  // before the purge, is handed to the waiters but not stored.
  void mark_purged() { purged_.store(true, std::memory_order_release); }
  bool purged() const { return purged_.load(std::memory_order_acquire); }

 private:
  struct Waiter {
    asio::any_io_executor executor;
    std::function<void(FillResult)> fn;
  };
  friend void recycle_flight(std::shared_ptr<Flight>&&);
  friend std::shared_ptr<Flight> make_flight(std::string_view, uint64_t, std::string_view, uint16_t,
                                             uint64_t, bool);
  // Fixed for the flight's life; reassigned only when a finished, unshared flight is reused.
  std::string key_;
  uint64_t hash_;
  std::string target_;
  uint16_t route_;
  uint64_t shard_epoch_;
  bool registered_;
  std::atomic<bool> purged_{false};
  mutable std::mutex mu_;
  bool done_ = false;
  FillResult result_;
  std::vector<Waiter> waiters_;
};

// A new flight, reusing this thread's last finished one when nobody else holds it any more, so
// a miss allocates nothing for its coalescing.
std::shared_ptr<Flight> make_flight(std::string_view key, uint64_t hash, std::string_view target,
                                    uint16_t route, uint64_t shard_epoch, bool registered);
// Gives a finished flight back for reuse; kept only when `flight` is its last owner.
void recycle_flight(std::shared_ptr<Flight>&& flight);

// Waits at most `timeout` for `flight` to end. The calling coroutine's executor must not run
// handlers concurrently (one thread per io_context, or a strand).
asio::awaitable<FillResult> wait_for_fill(std::shared_ptr<Flight> flight, Duration timeout);

}  // namespace sluice::cache
