#include <gtest/gtest.h>

#include "limits/health.hpp"
#include "limits/outlier.hpp"
#include "limits/retry.hpp"

using namespace sluice::limits;
using namespace std::chrono_literals;

TEST(Retry, OnlySafeAttemptsAreRetried) {
  RetryPolicy p;  // one retry on 502, 503, 504
  EXPECT_TRUE(should_retry(p, 0, AttemptFailure::status, 503, true, true));
  EXPECT_FALSE(should_retry(p, 0, AttemptFailure::status, 500, true, true));
  EXPECT_FALSE(should_retry(p, 0, AttemptFailure::status, 503, false, true));  // POST
  EXPECT_TRUE(should_retry(p, 0, AttemptFailure::reset, 0, true, true));
  EXPECT_FALSE(should_retry(p, 0, AttemptFailure::reset, 0, false, true));
  // Never reached the backend: any method.
  EXPECT_TRUE(should_retry(p, 0, AttemptFailure::connect, 0, false, false));
  EXPECT_TRUE(should_retry(p, 0, AttemptFailure::reset, 0, false, false));
  EXPECT_FALSE(should_retry(p, 1, AttemptFailure::connect, 0, true, false));  // at most 1
  EXPECT_TRUE(is_idempotent("PUT"));
  EXPECT_FALSE(is_idempotent("POST"));
  EXPECT_TRUE(is_idempotent(HTTP_DELETE));
  EXPECT_FALSE(is_idempotent(HTTP_PATCH));
}

TEST(Retry, BackoffIsJitteredExponentialAndCapped) {
  RetryPolicy p;
  p.backoff = 20ms;
  p.max_backoff = 100ms;
  EXPECT_EQ(retry_backoff(p, 1, 0), 10ms);
  EXPECT_EQ(retry_backoff(p, 1, 10'000'000), 20ms);
  EXPECT_EQ(retry_backoff(p, 2, 0), 20ms);
  EXPECT_EQ(retry_backoff(p, 3, 0), 40ms);
  EXPECT_EQ(retry_backoff(p, 10, 0), 50ms);
  for (int i = 0; i < 100; ++i) {
    Duration d = retry_backoff(p, 2);
    EXPECT_GE(d, 20ms);
    EXPECT_LE(d, 40ms);
  }
}

TEST(RetryBudget, RetriesStayWithinTheBudget) {
  RetryBudget budget(0.2, 10);
  uint64_t retries = 0;
  for (int i = 0; i < 1000; ++i) {
    budget.on_request();
    if (budget.try_spend()) ++retries;  // every request fails and wants a retry
  }
  EXPECT_GE(retries, 200u);
  EXPECT_LE(retries, 210u);  // 20% of 1000, plus the reserve
  EXPECT_GT(budget.denied(), 700u);
  // Healthy traffic refills it, but only up to the reserve.
  for (int i = 0; i < 10'000; ++i)
    budget.on_request();
  EXPECT_DOUBLE_EQ(budget.balance(), 10.0);
}

TEST(Outlier, ConsecutiveFailuresEjectWithExponentialBackoff) {
  OutlierConfig c;
  c.consecutive_failures = 3;
  c.base_ejection = 10s;
  c.max_ejection = 35s;
  c.slow_start = 0s;
  OutlierDetector d(c);
  Duration now = 1000s;
  EXPECT_FALSE(d.record(AttemptResult::failure, now));
  EXPECT_FALSE(d.record(AttemptResult::failure, now));
  EXPECT_FALSE(d.record(AttemptResult::success, now));  // resets the run
  EXPECT_FALSE(d.record(AttemptResult::failure, now));
  EXPECT_FALSE(d.record(AttemptResult::failure, now));
  EXPECT_TRUE(d.record(AttemptResult::failure, now));
  EXPECT_TRUE(d.ejected(now + 9s));
  EXPECT_FALSE(d.ejected(now + 10s));
  EXPECT_EQ(d.weight(now + 5s), 0.0);
  // Fails again right after returning: twice as long, then capped.
  now += 10s;
  for (int i = 0; i < 3; ++i)
    d.record(AttemptResult::failure, now);
  EXPECT_EQ(d.ejected_until(), now + 20s);
  now += 20s;
  for (int i = 0; i < 3; ++i)
    d.record(AttemptResult::failure, now);
  EXPECT_EQ(d.ejected_until(), now + 35s);
  EXPECT_EQ(d.ejections(), 3u);
  // A long healthy stretch forgives earlier ejections.
  now += 35s + 100s;
  for (int i = 0; i < 3; ++i)
    d.record(AttemptResult::failure, now);
  EXPECT_EQ(d.ejections(), 1u);
  EXPECT_EQ(d.ejected_until(), now + 10s);
}

TEST(Outlier, FiveHundredsEjectAndRespectTheEjectionCap) {
  OutlierConfig c;  // 5 consecutive 5xx
  OutlierDetector d(c);
  Duration now = 50s;
  for (int i = 0; i < 4; ++i)
    EXPECT_FALSE(d.record(AttemptResult::server_error, now));
  EXPECT_FALSE(d.record(AttemptResult::server_error, now, /*ejection_allowed=*/false));
  EXPECT_FALSE(d.ejected(now));
  EXPECT_TRUE(d.record(AttemptResult::server_error, now));
  EXPECT_TRUE(d.ejected(now + 29s));
}

TEST(Outlier, SlowStartRampsTheWeight) {
  OutlierConfig c;
  c.consecutive_failures = 1;
  c.base_ejection = 10s;
  c.slow_start = 20s;
  OutlierDetector d(c);
  Duration now = 100s;
  EXPECT_EQ(d.weight(now), 1.0);
  d.record(AttemptResult::failure, now);
  EXPECT_EQ(d.weight(now + 5s), 0.0);
  EXPECT_NEAR(d.weight(now + 10s), 0.1, 1e-9);
  EXPECT_NEAR(d.weight(now + 20s), 0.55, 1e-9);
  EXPECT_EQ(d.weight(now + 30s), 1.0);
  d.start_slow_start(now + 100s);  // an active check saw it recover
  EXPECT_NEAR(d.weight(now + 110s), 0.55, 1e-9);
}

TEST(HealthChecker, TransitionsAfterConsecutiveResults) {
  HealthCheckConfig c;  // unhealthy_after = 2, healthy_after = 2
  Duration now = 0s;
  HealthChecker h(c, now, 7);
  EXPECT_TRUE(h.healthy());
  EXPECT_LT(h.next_probe_at(), now + c.interval);
  EXPECT_EQ(h.on_probe(false, now), HealthTransition::none);
  EXPECT_EQ(h.on_probe(true, now), HealthTransition::none);
  EXPECT_EQ(h.on_probe(false, now), HealthTransition::none);
  EXPECT_EQ(h.on_probe(false, now), HealthTransition::became_unhealthy);
  EXPECT_FALSE(h.healthy());
  EXPECT_EQ(h.on_probe(false, now), HealthTransition::none);
  EXPECT_EQ(h.on_probe(true, now), HealthTransition::none);
  EXPECT_EQ(h.on_probe(true, now), HealthTransition::became_healthy);
  EXPECT_TRUE(h.healthy());
  EXPECT_TRUE(HealthChecker::passes(204));
  EXPECT_FALSE(HealthChecker::passes(503));
}

TEST(HealthChecker, ScheduleIsJitteredAroundTheInterval) {
  HealthCheckConfig c;
  c.interval = 2s;
  HealthChecker h(c, 0s, 99);
  Duration now = 10s;
  bool differ = false;
  Duration first{0};
  for (int i = 0; i < 50; ++i) {
    h.on_probe(true, now);
    Duration gap = h.next_probe_at() - now;
    EXPECT_GE(gap, 1800ms);
    EXPECT_LE(gap, 2200ms);
    if (i == 0) first = gap;
    if (gap != first) differ = true;
    now = h.next_probe_at();
  }
  EXPECT_TRUE(differ);
}
