#include "backend/gate.hpp"

#include <gtest/gtest.h>

#include <asio.hpp>
#include <asio/experimental/as_tuple.hpp>

#include <chrono>
#include <vector>

using namespace sluice::backend;
using namespace std::chrono_literals;

namespace {

asio::awaitable<void> hold(ConcurrencyGate& gate, int id, std::vector<int>& order,
                           std::chrono::milliseconds time) {
  auto slot = co_await gate.acquire();
  order.push_back(id);
  EXPECT_LE(gate.in_service(), gate.limit());
  asio::steady_timer t(co_await asio::this_coro::executor, time);
  co_await t.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
}

}  // namespace

TEST(Gate, CapsAndServesInArrivalOrder) {
  asio::io_context ctx;
  ConcurrencyGate gate(3);
  std::vector<int> order;
  for (int i = 0; i < 10; ++i)
    asio::co_spawn(ctx, hold(gate, i, order, 5ms), asio::detached);
  ctx.run_for(5s);
  ASSERT_EQ(order.size(), 10u);
  for (int i = 0; i < 10; ++i)
    EXPECT_EQ(order[i], i);
  EXPECT_EQ(gate.max_in_service(), 3u);
  EXPECT_EQ(gate.in_service(), 0u);
  EXPECT_EQ(gate.queued(), 0u);
}

TEST(Gate, QueueDepthWhileBusy) {
  asio::io_context ctx;
  ConcurrencyGate gate(2);
  std::vector<int> order;
  for (int i = 0; i < 5; ++i)
    asio::co_spawn(ctx, hold(gate, i, order, 50ms), asio::detached);
  ctx.run_for(20ms);
  EXPECT_EQ(gate.in_service(), 2u);
  EXPECT_EQ(gate.queued(), 3u);
  ctx.run_for(5s);
  EXPECT_EQ(order.size(), 5u);
  EXPECT_EQ(gate.in_service(), 0u);
}
