#include "cache/fill.hpp"

#include <asio/post.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

namespace sluice::cache {

Flight::Flight(std::string key, uint64_t hash, std::string target, uint16_t route,
               uint64_t shard_epoch, bool registered)
    : key_(std::move(key)),
      hash_(hash),
      target_(std::move(target)),
      route_(route),
      shard_epoch_(shard_epoch),
      registered_(registered) {}

namespace {
// A few, for the bursts in which one event-loop turn finishes many fills before the next starts.
constexpr size_t kSpareFlights = 64;
thread_local std::vector<std::shared_ptr<Flight>> spare_flights;
}  // namespace

std::shared_ptr<Flight> make_flight(std::string_view key, uint64_t hash, std::string_view target,
                                    uint16_t route, uint64_t shard_epoch, bool registered) {
  if (spare_flights.empty())
    return std::make_shared<Flight>(std::string(key), hash, std::string(target), route, shard_epoch,
                                    registered);
  std::shared_ptr<Flight> f = std::move(spare_flights.back());
  spare_flights.pop_back();
  f->key_.assign(key);
  f->hash_ = hash;
  f->target_.assign(target);
  f->route_ = route;
  f->shard_epoch_ = shard_epoch;
  f->registered_ = registered;
  f->purged_.store(false, std::memory_order_relaxed);
  f->done_ = false;
  return f;
}

void recycle_flight(std::shared_ptr<Flight>&& flight) {
  // Sole owner: no waiter, lookup or table entry can still reach it.
  if (!flight || flight.use_count() != 1 || !flight->done_) return;
  flight->result_ = FillResult{};  // releases the entry now
  flight->waiters_.clear();
  if (flight->key_.capacity() > 1024 || flight->target_.capacity() > 1024) return;
  if (spare_flights.size() < kSpareFlights) spare_flights.push_back(std::move(flight));
}

void Flight::on_complete(asio::any_io_executor executor, std::function<void(FillResult)> fn) {
  std::unique_lock lock(mu_);
  if (!done_) {
    waiters_.push_back({std::move(executor), std::move(fn)});
    return;
  }
  FillResult result = result_;
  lock.unlock();
  asio::post(executor,
             [fn = std::move(fn), result = std::move(result)]() mutable { fn(std::move(result)); });
}

void Flight::complete(FillResult result) {
  std::vector<Waiter> waiters;
  {
    std::lock_guard lock(mu_);
    if (done_) return;
    done_ = true;
    result_ = result;
    waiters.swap(waiters_);
  }
  // Each waiter resumes on its own worker; the callbacks travel with the posted handlers so the
  // waiters' state is released on their own threads.
  for (Waiter& w : waiters)
    asio::post(w.executor, [fn = std::move(w.fn), result]() mutable { fn(std::move(result)); });
}

bool Flight::done() const {
  std::lock_guard lock(mu_);
  return done_;
}

size_t Flight::waiter_count() const {
  std::lock_guard lock(mu_);
  return waiters_.size();
}

namespace {

struct WaitState {
  explicit WaitState(const asio::any_io_executor& ex) : timer(ex) {}
  asio::steady_timer timer;
  std::optional<FillResult> result;
};

}  // namespace

asio::awaitable<FillResult> wait_for_fill(std::shared_ptr<Flight> flight, Duration timeout) {
  auto executor = co_await asio::this_coro::executor;
  auto state = std::make_shared<WaitState>(executor);
  state->timer.expires_after(timeout);
  flight->on_complete(executor, [state](FillResult r) {
    if (state->result) return;
    state->result = std::move(r);
    state->timer.cancel();
  });
  asio::error_code ec;
  co_await state->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  if (state->result) co_return *state->result;
  // Late completions find `result` set and do nothing.
  state->result = FillResult{FillStatus::timed_out, nullptr};
  co_return *state->result;
}

}  // namespace sluice::cache
