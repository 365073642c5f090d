#include <gtest/gtest.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include <atomic>
#include <cstdio>
#include <thread>

#include "limits/concurrency.hpp"

using namespace sluice::limits;
using namespace std::chrono_literals;

namespace {

sluice::Task<> sleep_for(Duration d) {
  sluice::SteadyTimer t(co_await asio::this_coro::executor, d);
  co_await t.async_wait(asio::use_awaitable_t<sluice::Executor>{});
}

GateConfig static_gate(uint32_t limit, uint32_t queue_limit, Duration queue_timeout) {
  GateConfig c;
  c.static_limit = limit;
  c.queue_limit = queue_limit;
  c.queue_timeout = queue_timeout;
  return c;
}

constexpr Duration kNoDeadline = Duration::max();

}  // namespace

TEST(ConcurrencyGate, StaticLimitFastPath) {
  ConcurrencyGate gate(static_gate(2, 0, 1s));
  Permit a = gate.try_acquire(0);
  Permit b = gate.try_acquire(0);
  EXPECT_TRUE(a);
  EXPECT_TRUE(b);
  EXPECT_FALSE(gate.try_acquire(0));
  EXPECT_EQ(gate.in_flight(), 2u);
  a.release();
  EXPECT_TRUE(gate.try_acquire(0));  // released and taken again in the same statement
  EXPECT_EQ(gate.in_flight(), 1u);
}

TEST(ConcurrencyGate, WaiterOnOneThreadIsWokenByReleaseOnAnother) {
  ConcurrencyGate gate(static_gate(1, 10, 5s));
  asio::io_context a, b;
  std::thread::id b_thread;
  std::atomic<bool> holder_ready{false};
  std::thread::id resumed_on;
  Shed result = Shed::timeout;
  Permit held = gate.try_acquire(0);
  ASSERT_TRUE(held);
  asio::co_spawn(
      b,
      [&]() -> sluice::Task<> {
        Admission adm = co_await gate.acquire(0, kNoDeadline);
        resumed_on = std::this_thread::get_id();
        result = adm.shed;
        EXPECT_TRUE(adm.admitted());
      },
      asio::detached);
  asio::co_spawn(
      a,
      [&]() -> sluice::Task<> {
        while (gate.queued() == 0)
          co_await sleep_for(1ms);
        holder_ready = true;
        held.release();  // on thread A
        co_return;
      },
      asio::detached);
  std::thread tb([&] {
    b_thread = std::this_thread::get_id();
    b.run();
  });
  std::thread ta([&] { a.run(); });
  ta.join();
  tb.join();
  EXPECT_TRUE(holder_ready);
  EXPECT_EQ(result, Shed::none);
  EXPECT_EQ(resumed_on, b_thread);
  EXPECT_EQ(gate.in_flight(), 0u);
  EXPECT_EQ(gate.queued(), 0u);
}

TEST(ConcurrencyGate, TwoThreadsNeverExceedTheLimit) {
  ConcurrencyGate gate(static_gate(5, 1000, 10s));
  asio::io_context a, b;
  std::atomic<uint32_t> over{0}, done{0};
  auto worker = [&]() -> sluice::Task<> {
    for (int i = 0; i < 200; ++i) {
      Admission adm = co_await gate.acquire(0, kNoDeadline);
      if (!adm.admitted()) continue;
      if (gate.in_flight() > 5) ++over;
      co_await sleep_for(Duration(((i * 7) % 3) * 100'000));
      adm.permit.record(1ms);
    }
    ++done;
  };
  for (int i = 0; i < 20; ++i) {
    asio::co_spawn(a, worker, asio::detached);
    asio::co_spawn(b, worker, asio::detached);
  }
  std::thread ta([&] { a.run(); }), tb([&] { b.run(); });
  ta.join();
  tb.join();
  EXPECT_EQ(done.load(), 40u);
  EXPECT_EQ(over.load(), 0u);
  EXPECT_EQ(gate.in_flight(), 0u);
  EXPECT_EQ(gate.queued(), 0u);
  EXPECT_EQ(gate.counters().admitted.load(), 40u * 200u);
}

TEST(ConcurrencyGate, TwoThreadsWithClassesTimeoutsAndSheddingKeepTheBooks) {
  GateConfig c = static_gate(3, 8, 2ms);
  c.classes = {{"critical", 0.6}};
  ConcurrencyGate gate(c);
  asio::io_context a, b;
  std::atomic<uint64_t> attempts{0}, admitted{0}, shed{0};
  std::atomic<uint32_t> over{0};
  auto worker = [&](size_t cls, int seed) -> sluice::Task<> {
    for (int i = 0; i < 300; ++i) {
      ++attempts;
      Duration deadline = (i % 5 == 0) ? steady_now() + 1ms : kNoDeadline;
      Admission adm = co_await gate.acquire(cls, deadline);
      if (!adm.admitted()) {
        ++shed;
        continue;
      }
      ++admitted;
      if (gate.in_flight() > 3) ++over;
      co_await sleep_for(Duration(((i + seed) % 4) * 200'000));
      if (i % 7 == 0)
        adm.permit.record_drop();
      else
        adm.permit.record(1ms);
    }
  };
  for (int i = 0; i < 6; ++i) {
    asio::co_spawn(a, worker(i % 2, i), asio::detached);
    asio::co_spawn(b, worker((i + 1) % 2, i + 100), asio::detached);
  }
  std::thread ta([&] { a.run(); }), tb([&] { b.run(); });
  ta.join();
  tb.join();
  EXPECT_EQ(attempts.load(), 12u * 300u);
  EXPECT_EQ(admitted.load() + shed.load(), attempts.load());
  EXPECT_GT(admitted.load(), 0u);
  EXPECT_EQ(over.load(), 0u);
  EXPECT_EQ(gate.in_flight(), 0u);
  EXPECT_EQ(gate.queued(), 0u);
  const GateCounters& k = gate.counters();
  EXPECT_EQ(k.admitted.load(), admitted.load());
  EXPECT_EQ(k.shed_queue_full.load() + k.shed_deadline.load() + k.shed_timeout.load(), shed.load());
}

TEST(ConcurrencyGate, QueueFullAndTimeoutShed) {
  ConcurrencyGate gate(static_gate(1, 1, 30ms));
  asio::io_context io;
  Permit held = gate.try_acquire(0);
  std::vector<Shed> results;
  Duration started = steady_now(), timed_out_after{0};
  for (int i = 0; i < 2; ++i)
    asio::co_spawn(
        io,
        [&]() -> sluice::Task<> {
          Admission adm = co_await gate.acquire(0, kNoDeadline);
          if (adm.shed == Shed::timeout) timed_out_after = steady_now() - started;
          results.push_back(adm.shed);
          EXPECT_GE(adm.retry_after_seconds, 1u);
        },
        asio::detached);
  io.run();
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0], Shed::queue_full);  // the second found the one-place queue taken
  EXPECT_EQ(results[1], Shed::timeout);
  EXPECT_GE(timed_out_after, 30ms);
  EXPECT_LT(timed_out_after, 500ms);
  EXPECT_EQ(gate.counters().shed_queue_full.load(), 1u);
  EXPECT_EQ(gate.counters().shed_timeout.load(), 1u);
}

TEST(ConcurrencyGate, DeadlineThatCannotBeMetIsShedAtOnce) {
  ConcurrencyGate gate(static_gate(1, 100, 10s));
  {
    Permit p = gate.try_acquire(0);
    p.record(100ms);  // drain rate: 1 slot / 100 ms = 10/s
  }
  EXPECT_NEAR(gate.drain_rate(), 10.0, 0.01);
  Permit held = gate.try_acquire(0);
  asio::io_context io;
  Admission early, late;
  Duration shed_after{0};
  asio::co_spawn(
      io,
      [&]() -> sluice::Task<> {
        Duration t0 = steady_now();
        early = co_await gate.acquire(0, t0 + 50ms);
        shed_after = steady_now() - t0;
      },
      asio::detached);
  io.run();
  EXPECT_EQ(early.shed, Shed::deadline);
  EXPECT_LT(shed_after, 20ms);  // not after waiting
  EXPECT_EQ(early.retry_after_seconds, 1u);
  // A generous deadline waits and is admitted when the slot frees.
  io.restart();
  asio::co_spawn(
      io, [&]() -> sluice::Task<> { late = co_await gate.acquire(0, steady_now() + 2s); },
      asio::detached);
  asio::co_spawn(
      io,
      [&]() -> sluice::Task<> {
        co_await sleep_for(10ms);
        held.release();
      },
      asio::detached);
  io.run();
  EXPECT_TRUE(late.admitted());
}

TEST(ConcurrencyGate, RetryAfterFollowsDrainRate) {
  GateConfig c = static_gate(1, 1000, 60s);
  ConcurrencyGate gate(c);
  {
    Permit p = gate.try_acquire(0);
    p.record(1s);  // 1 request per second
  }
  Permit held = gate.try_acquire(0);
  asio::io_context io;
  std::vector<Admission> waiting;
  for (int i = 0; i < 5; ++i)
    asio::co_spawn(
        io, [&]() -> sluice::Task<> { waiting.push_back(co_await gate.acquire(0, kNoDeadline)); },
        asio::detached);
  io.run_for(50ms);
  EXPECT_EQ(gate.queued(), 5u);
  // A sixth request with a 3 s deadline: 6 requests ahead at 1/s cannot make it.
  Admission shed;
  asio::co_spawn(
      io, [&]() -> sluice::Task<> { shed = co_await gate.acquire(0, steady_now() + 3s); },
      asio::detached);
  io.run_for(50ms);
  EXPECT_EQ(shed.shed, Shed::deadline);
  EXPECT_EQ(shed.retry_after_seconds, 6u);  // (5 queued + 1) / (1 per second)
  held.release();
  io.run_for(50ms);
  EXPECT_EQ(waiting.size(), 1u);
  waiting.clear();  // releases the slot: the next waiter is admitted, and so on
  io.run_for(50ms);
  EXPECT_EQ(waiting.size(), 1u);
  waiting.clear();
  io.run_for(50ms);
  EXPECT_EQ(gate.queued(), 2u);
  io.stop();
}

TEST(ConcurrencyGate, BatchFloodCannotTakeTheCriticalShare) {
  GateConfig c = static_gate(10, 1000, 10s);
  c.classes = {{"critical", 0.8}, {"batch", 0.2}};
  ConcurrencyGate gate(c);
  const size_t critical = static_cast<size_t>(gate.classes().index_of("critical"));
  const size_t batch = static_cast<size_t>(gate.classes().index_of("batch"));
  EXPECT_EQ(gate.classes().reserved(critical, 10), 8u);
  asio::io_context io;
  Duration stop = steady_now() + 400ms;
  bool critical_started = false;
  uint64_t critical_admitted = 0, batch_admitted = 0, critical_shed = 0;
  Duration critical_wait{0}, critical_hold{0}, batch_wait{0}, batch_hold{0};
  auto loop = [&](size_t cls, Duration start_delay) -> sluice::Task<> {
    co_await sleep_for(start_delay);
    if (cls == critical) critical_started = true;
    while (steady_now() < stop) {
      Duration t0 = steady_now();
      Admission adm = co_await gate.acquire(cls, kNoDeadline);
      Duration t1 = steady_now();
      if (!adm.admitted()) {
        if (cls == critical) ++critical_shed;
        continue;
      }
      co_await sleep_for(5ms);
      Duration t2 = steady_now();
      (cls == critical ? critical_wait : batch_wait) += t1 - t0;
      (cls == critical ? critical_hold : batch_hold) += t2 - t1;
      ++(cls == critical ? critical_admitted : batch_admitted);
    }
  };
  // Samples how many slots critical holds while it has demand.
  uint64_t samples = 0, critical_slots = 0;
  auto sampler = [&]() -> sluice::Task<> {
    while (steady_now() < stop) {
      co_await sleep_for(1ms);
      if (!critical_started) continue;
      ++samples;
      critical_slots += gate.in_flight(critical);
    }
  };
  for (int i = 0; i < 50; ++i)
    asio::co_spawn(io, loop(batch, 0ms), asio::detached);
  for (int i = 0; i < 8; ++i)
    asio::co_spawn(io, loop(critical, 50ms), asio::detached);
  asio::co_spawn(io, sampler(), asio::detached);
  io.run();
  EXPECT_EQ(critical_shed, 0u);
  EXPECT_GT(critical_admitted, 0u);
  EXPECT_GT(batch_admitted, 0u);  // batch still gets its share
  // Critical requests hardly wait although 50 batch loopers compete for the same slots...
  EXPECT_LT(critical_wait.count(), critical_hold.count() / 4)
      << "wait " << critical_wait.count() / 1e6 << " ms, hold " << critical_hold.count() / 1e6;
  // ...while batch requests queue for their two slots.
  EXPECT_GT(batch_wait.count(), batch_hold.count());
  ASSERT_GT(samples, 0u);
  double critical_avg = static_cast<double>(critical_slots) / static_cast<double>(samples);
  EXPECT_GE(critical_avg, 6.5) << critical_avg;  // of the 8 its loopers ask for
  std::printf("classes: critical holds %.1f of 10 slots, waits %.0f%% of its hold time\n",
              critical_avg,
              100.0 * static_cast<double>(critical_wait.count()) /
                  static_cast<double>(critical_hold.count()));
}

TEST(ConcurrencyGate, AdaptiveGateMovesItsLimit) {
  GateConfig c;
  c.adaptive = true;
  c.adaptive_params.initial_limit = 4;
  c.adaptive_params.window = 0ms;
  c.adaptive_params.window_samples = 1;
  c.max_active = 6;
  ConcurrencyGate gate(c);
  EXPECT_EQ(gate.limit(), 4u);
  for (int i = 0; i < 20; ++i) {
    Permit a = gate.try_acquire(0), b = gate.try_acquire(0), d = gate.try_acquire(0);
    a.record(10ms);
    b.record(10ms);
    d.record(10ms);
  }
  EXPECT_EQ(gate.limit(), 6u);  // grew, capped by the circuit's max_active
}

TEST(RouteConcurrency, CapsAndReleases) {
  RouteConcurrency route(2);
  auto a = route.try_acquire();
  auto b = route.try_acquire();
  EXPECT_TRUE(a && b);
  EXPECT_FALSE(route.try_acquire());
  { auto moved = std::move(a); }
  EXPECT_EQ(route.in_flight(), 1u);
  EXPECT_TRUE(route.try_acquire());
}
