// A fixed pool of service slots with a FIFO queue, for coroutines on one executor (no locking).
#pragma once

// A standard header first: Asio's config decides on aligned_alloc from libstdc++'s macros, and
// every translation unit must decide alike.
#include <cstddef>
#include <deque>

#include <asio/awaitable.hpp>
#include <asio/steady_timer.hpp>

namespace sluice::backend {

class ConcurrencyGate {
 public:
  explicit ConcurrencyGate(size_t limit) : limit_(limit) {}
  ConcurrencyGate(const ConcurrencyGate&) = delete;
  ConcurrencyGate& operator=(const ConcurrencyGate&) = delete;

  // Holds one slot; releases it on destruction.
  class Slot {
   public:
    Slot() = default;
    explicit Slot(ConcurrencyGate* gate) : gate_(gate) {}
    Slot(Slot&& o) noexcept : gate_(o.gate_) { o.gate_ = nullptr; }
    Slot& operator=(Slot&&) = delete;
    ~Slot() {
      if (gate_) gate_->release();
    }

   private:
    ConcurrencyGate* gate_ = nullptr;
  };

  // Completes when a slot is free; waiters are served in arrival order.
  asio::awaitable<Slot> acquire();

  // After close(), releases wake nobody: used while the event loop is being torn down.
  void close() { closed_ = true; }

  size_t limit() const { return limit_; }
  size_t in_service() const { return in_service_; }
  size_t queued() const { return waiters_.size(); }
  size_t max_in_service() const { return max_in_service_; }

 private:
  void release();

  size_t limit_;
  size_t in_service_ = 0;
  size_t max_in_service_ = 0;
  bool closed_ = false;
  // Each waiter parks on its own timer that never expires; a release cancels the first one,
  // handing it the slot directly so that a newcomer cannot overtake it.
  std::deque<asio::steady_timer*> waiters_;
};

}  // namespace sluice::backend
