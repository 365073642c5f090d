#include "backend/gate.hpp"

#include <asio/experimental/as_tuple.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <algorithm>

namespace sluice::backend {

asio::awaitable<ConcurrencyGate::Slot> ConcurrencyGate::acquire() {
  if (in_service_ < limit_ && waiters_.empty()) {
    ++in_service_;
    max_in_service_ = std::max(max_in_service_, in_service_);
    co_return Slot(this);
  }
  asio::steady_timer wake(co_await asio::this_coro::executor,
                          asio::steady_timer::time_point::max());
  waiters_.push_back(&wake);
  co_await wake.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
  // release() kept in_service_ as is: the slot passed from its holder to us.
  co_return Slot(this);
}

void ConcurrencyGate::release() {
  if (closed_) return;
  if (!waiters_.empty()) {
    asio::steady_timer* next = waiters_.front();
    waiters_.pop_front();
    next->cancel();
    return;
  }
  --in_service_;
}

}  // namespace sluice::backend
