#include "load/timeline.hpp"

#include <gtest/gtest.h>

#include "load/templates.hpp"

namespace sluice::load {
namespace {

// One thread's second: `n` latencies spread over 1..20 ms, so each second fills many bins.
SecondSample thread_second(Rng& rng, uint64_t n, double cpu = 10) {
  Histogram h;
  for (uint64_t i = 0; i < n; ++i)
    h.record(1'000'000 + rng.below(19'000'000));
  SecondSample s;
  s.requests = s.sent = n;
  s.due = static_cast<double>(n);
  h.drain_into(s.latency);
  s.generator.push_back({static_cast<float>(cpu), 0, 0.1f, 0, 0, false});
  return s;
}

TEST(Timeline, MergesThreadsSecondBySecondOnceAllHaveDelivered) {
  Rng rng(7);
  Timeline tl(2, true, false, kDefaultSeriesBudget);
  tl.add(0, thread_second(rng, 100, 20));
  tl.add(0, thread_second(rng, 100));
  tl.settle();
  EXPECT_EQ(tl.last(), nullptr);  // thread 1 has not delivered second 0 yet
  tl.add(1, thread_second(rng, 50, 30));
  tl.settle();
  ASSERT_NE(tl.last(), nullptr);
  EXPECT_EQ(tl.last()->requests, 150u);
  EXPECT_GT(tl.last()->p99_ms, 10);
  tl.thread_done(1);  // thread 1 finished early: it no longer holds the timeline back
  tl.settle();
  EXPECT_EQ(tl.last()->requests, 100u);
  auto series = tl.finish();
  ASSERT_EQ(series.size(), 2u);
  EXPECT_EQ(series[0].latency.count(), 150u);
  ASSERT_EQ(series[0].generator.size(), 2u);
  EXPECT_FLOAT_EQ(series[0].generator[0].cpu_pct, 20);
  EXPECT_FLOAT_EQ(series[0].generator[1].cpu_pct, 30);
  EXPECT_EQ(series[0].span, 1u);
}

TEST(Timeline, MemoryStaysUnderTheBudgetByFoldingOldSeconds) {
  Rng rng(11);
  const size_t budget = 256 << 10;
  Timeline tl(1, true, false, budget);
  const int seconds = 600;
  uint64_t total = 0;
  std::vector<double> p99;
  for (int t = 0; t < seconds; ++t) {
    tl.add(0, thread_second(rng, 2000));
    total += 2000;
    tl.settle();
    p99.push_back(tl.last()->p99_ms);
    EXPECT_LE(tl.histogram_bytes(), budget + (64 << 10)) << t;
  }
  EXPECT_GT(tl.span(), 1u);
  auto series = tl.finish();
  ASSERT_EQ(series.size(), static_cast<size_t>(seconds));
  uint64_t counted = 0, covered = 0;
  for (size_t t = 0; t < series.size(); ++t) {
    counted += series[t].latency.count();
    covered += series[t].span;
    EXPECT_EQ(series[t].requests, 2000u);
    EXPECT_DOUBLE_EQ(series[t].p99_ms, p99[t]);  // per-second percentiles survive folding
  }
  EXPECT_EQ(counted, total);  // nothing is lost, only coarser in time
  EXPECT_EQ(covered, static_cast<uint64_t>(seconds));
}

TEST(Timeline, SecondsFarBehindTheScheduleAreMarked) {
  Rng rng(3);
  Timeline tl(1, true, false, kDefaultSeriesBudget);
  SecondSample s = thread_second(rng, 500);
  s.due = 1000;
  tl.add(0, std::move(s));
  tl.add(0, thread_second(rng, 1000));
  auto series = tl.finish();
  EXPECT_TRUE(series[0].behind);
  EXPECT_FALSE(series[0].trustworthy());
  EXPECT_TRUE(series[1].trustworthy());
}

}  // namespace
}  // namespace sluice::load
