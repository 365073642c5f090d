// Admission to an upstream: a concurrency limit (static or adaptive) shared by all worker
// threads, traffic classes with guaranteed shares, and a bounded, deadline-aware waiting queue.
//
// The fast path (a free slot and nobody waiting) is a compare-and-swap on the in-flight count.
// Otherwise the request takes the gate's mutex and is admitted, shed at once (queue full, or its
// deadline cannot be met at the current drain rate), or queued. A slot released on any thread is
// handed to the next waiter by posting its completion to the waiter's own executor, which must be
// single-threaded (a worker's io_context, or a strand). The gate must outlive its permits and
// waiters.
#pragma once

// Standard headers come first: standalone Asio picks its aligned allocation functions from
// macros that only the standard library defines, and every file must see the same choice.
#include <array>
#include <atomic>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include <asio/any_io_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/awaitable.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include "common/async.hpp"
#include "limits/adaptive.hpp"
#include "limits/classes.hpp"
#include "limits/clock.hpp"

namespace sluice::limits {

enum class Shed : uint8_t {
  none,
  queue_full,  // the class's share of the queue is taken
  deadline,    // the deadline or queue_timeout cannot be met at the current drain rate
  timeout,     // waited until the deadline or queue_timeout without a slot
};
const char* to_string(Shed s);

class ConcurrencyGate;

// One admitted request; the slot is released on destruction.
class Permit {
 public:
  Permit() = default;
  Permit(Permit&& o) noexcept { *this = std::move(o); }
  Permit& operator=(Permit&& o) noexcept;
  Permit(const Permit&) = delete;
  Permit& operator=(const Permit&) = delete;
  ~Permit() { release(); }

  explicit operator bool() const { return gate_ != nullptr; }
  size_t traffic_class() const { return cls_; }
  // Latency from dispatch to the response head: feeds the adaptive limit and the drain rate.
  void record(Duration latency);
  // The request timed out, was reset, or was answered with an overload status.
  void record_drop();
  void release();

 private:
  friend class ConcurrencyGate;
  enum class Outcome : uint8_t { none, latency, drop };
  Permit(ConcurrencyGate* gate, uint8_t cls, uint32_t inflight_at_start)
      : gate_(gate), cls_(cls), inflight_at_start_(inflight_at_start) {}

  ConcurrencyGate* gate_ = nullptr;
  uint8_t cls_ = 0;
  Outcome outcome_ = Outcome::none;
  uint32_t inflight_at_start_ = 0;
  Duration latency_{0};
};

struct Admission {
  Permit permit;
  Shed shed = Shed::none;
  uint32_t retry_after_seconds = 0;  // when shed: time to drain the queue, at least 1

  bool admitted() const { return static_cast<bool>(permit); }
};

struct GateConfig {
  bool adaptive = false;
  uint32_t static_limit = 0;  // when not adaptive; 0 means unlimited
  AdaptiveParams adaptive_params;
  uint32_t max_active = 1024;  // circuit cap on the limit; 0 means none
  uint32_t queue_limit = 100;
  uint32_t max_pending = 1024;  // circuit cap on the queue; 0 means none
  Duration queue_timeout{std::chrono::seconds(1)};
  std::vector<TrafficClassSpec> classes;
};

struct GateCounters {
  std::atomic<uint64_t> admitted{0};
  std::atomic<uint64_t> queued{0};
  std::atomic<uint64_t> shed_queue_full{0};
  std::atomic<uint64_t> shed_deadline{0};
  std::atomic<uint64_t> shed_timeout{0};
};

class ConcurrencyGate {
 public:
  explicit ConcurrencyGate(GateConfig config, Duration now = steady_now());
  ConcurrencyGate(const ConcurrencyGate&) = delete;
  ConcurrencyGate& operator=(const ConcurrencyGate&) = delete;

  // A permit when a slot is free for `cls` now and nobody waits; never queues.
  Permit try_acquire(size_t cls);

  // Admits, queues, or sheds. The wait ends at min(deadline, now + queue_timeout); `deadline` is
  // on the steady_now() clock (Duration::max() for none). For coroutines on the workers'
  // executor (sluice::Task) by default; any other executor type works as well.
  template <class Executor = sluice::Executor>
  asio::awaitable<Admission, Executor> acquire(size_t cls, Duration deadline);

  // Callback form of acquire: `handler(Admission)` is always posted to `executor`.
  template <class Token>
  auto async_acquire(asio::any_io_executor executor, size_t cls, Duration deadline, Token&& token);

  // Sheds every waiter (Shed::timeout), for shutdown: call while the workers still run, since
  // waiters keep their io_context busy and are completed on it.
  void cancel_all();

  uint32_t limit() const { return limit_.load(std::memory_order_relaxed); }
  uint32_t in_flight() const { return total_.load(std::memory_order_relaxed); }
  uint32_t in_flight(size_t cls) const { return inflight_[cls].load(std::memory_order_relaxed); }
  size_t queued() const;
  // Requests per second the upstream completes at the current limit; 0 when not yet known.
  double drain_rate() const;
  const TrafficClasses& classes() const { return classes_; }
  const GateCounters& counters() const { return counters_; }
  bool adaptive() const { return config_.adaptive; }

 private:
  friend class Permit;
  struct Waiter {
    Waiter(asio::any_io_executor ex);
    virtual ~Waiter() = default;
    virtual void complete(Admission a) = 0;
    asio::any_io_executor executor;  // keeps the worker's io_context running while waiting
    asio::steady_timer timer;
    std::list<std::shared_ptr<Waiter>>::iterator position;
    uint64_t seq = 0;
    uint8_t cls = 0;
    bool done = false;  // under the gate's mutex
  };
  template <class Handler>
  struct WaiterWith final : Waiter {
    WaiterWith(asio::any_io_executor ex, Handler h)
        : Waiter(std::move(ex)), handler(std::move(h)) {}
    void complete(Admission a) override { std::move(handler)(std::move(a)); }
    Handler handler;
  };

  void enqueue(std::shared_ptr<Waiter> w, Duration deadline);
  void on_timeout(const std::shared_ptr<Waiter>& w);
  void release(const Permit& p);
  bool try_take_slot();  // increments total_ below the limit
  bool admissible_locked(size_t cls) const;
  void dispatch_locked();
  uint32_t retry_after_locked() const;
  static void post_completion(const std::shared_ptr<Waiter>& w, Admission a);

  GateConfig config_;
  TrafficClasses classes_;
  uint32_t queue_limit_;
  std::atomic<uint32_t> limit_;
  std::atomic<uint32_t> total_{0};
  std::array<std::atomic<uint32_t>, TrafficClasses::kMaxClasses> inflight_{};
  std::atomic<uint32_t> waiting_{0};  // announced or queued waiters
  std::atomic<int64_t> latency_ewma_ns_{0};

  mutable std::mutex mu_;
  std::array<std::list<std::shared_ptr<Waiter>>, TrafficClasses::kMaxClasses> queues_;
  size_t queued_ = 0;
  uint64_t next_seq_ = 0;

  std::mutex sample_mu_;
  AdaptiveLimit adaptive_;

  GateCounters counters_;
};

// Per-route cap on concurrent requests (`max_concurrent`); never waits.
class RouteConcurrency {
 public:
  class Slot {
   public:
    Slot() = default;
    Slot(Slot&& o) noexcept : owner_(std::exchange(o.owner_, nullptr)) {}
    Slot& operator=(Slot&& o) noexcept;
    ~Slot();
    explicit operator bool() const { return owner_ != nullptr; }

   private:
    friend class RouteConcurrency;
    explicit Slot(RouteConcurrency* owner) : owner_(owner) {}
    RouteConcurrency* owner_ = nullptr;
  };

  explicit RouteConcurrency(uint32_t max) : max_(max == 0 ? UINT32_MAX : max) {}
  Slot try_acquire();
  uint32_t in_flight() const { return count_.load(std::memory_order_relaxed); }

 private:
  uint32_t max_;
  std::atomic<uint32_t> count_{0};
};

template <class Token>
auto ConcurrencyGate::async_acquire(asio::any_io_executor executor, size_t cls, Duration deadline,
                                    Token&& token) {
  return asio::async_initiate<Token, void(Admission)>(
      [this, cls, deadline](auto handler, asio::any_io_executor ex) {
        using Handler = decltype(handler);
        auto w = std::make_shared<WaiterWith<Handler>>(std::move(ex), std::move(handler));
        w->cls = static_cast<uint8_t>(cls < classes_.size() ? cls : 0);
        enqueue(std::move(w), deadline);
      },
      token, std::move(executor));
}

template <class Executor>
asio::awaitable<Admission, Executor> ConcurrencyGate::acquire(size_t cls, Duration deadline) {
  if (Permit p = try_acquire(cls)) co_return Admission{std::move(p)};
  Executor executor = co_await asio::this_coro::executor;
  co_return co_await async_acquire(asio::any_io_executor(executor), cls, deadline,
                                   asio::use_awaitable_t<Executor>{});
}

}  // namespace sluice::limits
