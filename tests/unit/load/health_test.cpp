#include "load/health.hpp"

#include <gtest/gtest.h>

#include <thread>

#include "load/capacity.hpp"

namespace sluice::load {
namespace {

// An open-model run of `seconds` full seconds at `rate`, everything sent and answered.
RunResult healthy_open_run(int seconds, uint64_t rate) {
  RunResult r;
  r.model = "open";
  r.rate = static_cast<double>(rate);
  r.duration_s = seconds;
  r.window_s = seconds;
  r.scheduled = r.sent_in_window = rate * static_cast<uint64_t>(seconds);
  r.latency.record(2'000'000);
  for (int t = 0; t < seconds; ++t) {
    SecondSample s;
    s.requests = s.sent = rate;
    s.due = static_cast<double>(rate);
    s.generator.push_back({12.5f, 0.5f, 0.3f, 0.01f, 0, false});
    r.series.push_back(s);
  }
  r.requests = r.scheduled;
  return r;
}

TEST(Health, HealthyRunIsTrustworthy) {
  RunResult r = healthy_open_run(5, 1000);
  assess_health(r);
  EXPECT_TRUE(r.health.trustworthy);
  EXPECT_TRUE(r.health.reasons.empty());
  EXPECT_DOUBLE_EQ(r.health.target_rps, 1000);
  EXPECT_DOUBLE_EQ(r.health.achieved_ratio, 1);
  EXPECT_DOUBLE_EQ(r.health.max_cpu_pct, 12.5);
}

TEST(Health, SaturatedSecondMarksTheRun) {
  RunResult r = healthy_open_run(5, 1000);
  r.series[2].saturated = true;
  r.series[2].generator[0].cpu_pct = 97;
  assess_health(r);
  EXPECT_FALSE(r.health.trustworthy);
  EXPECT_EQ(r.health.saturated_seconds, 1u);
  EXPECT_EQ(r.health.untrustworthy_seconds, 1u);
  ASSERT_EQ(r.health.problems, std::vector<std::string>{"generator_saturated"});
  EXPECT_NE(r.health.reasons[0].find("saturated in 1 of 5 seconds"), std::string::npos)
      << r.health.reasons[0];
  EXPECT_NE(r.health.reasons[0].find("add threads (-t)"), std::string::npos);
  EXPECT_FALSE(r.series[2].trustworthy());
  EXPECT_TRUE(r.series[1].trustworthy());
}

TEST(Health, SendsBehindTheScheduleAreARateNotReached) {
  RunResult r = healthy_open_run(5, 1000);
  r.sent_in_window = 4800;  // 96 %
  r.late = 200;
  r.series[3].late = 200;
  assess_health(r);
  EXPECT_FALSE(r.health.trustworthy);
  EXPECT_EQ(r.health.problems, std::vector<std::string>{"rate_not_reached"});
  EXPECT_NEAR(r.health.achieved_rps, 960, 1e-6);
  EXPECT_NE(r.health.reasons[0].find("achieved 960.0 req/s of the 1000.0 req/s target"),
            std::string::npos)
      << r.health.reasons[0];
  EXPECT_NE(r.health.reasons[0].find("--max-inflight"), std::string::npos);
}

TEST(Health, AServerThatFallsBehindIsARateNotReachedEvenWhenSendsAreOnTime) {
  RunResult r = healthy_open_run(5, 1000);
  for (auto& s : r.series)
    s.requests = 900;  // every send on time, 90 % answered in the steady seconds
  assess_health(r);
  EXPECT_EQ(r.health.problems, std::vector<std::string>{"rate_not_reached"});
  EXPECT_NEAR(r.health.achieved_ratio, 0.9, 1e-9);
  EXPECT_NE(r.health.reasons[0].find("did not keep up"), std::string::npos);
  // The first second (connections opening, first answers in flight) is not judged.
  RunResult warmup = healthy_open_run(5, 1000);
  warmup.series[0].requests = 500;
  assess_health(warmup);
  EXPECT_TRUE(warmup.health.trustworthy);
}

TEST(Health, DroppedSendsAreReported) {
  RunResult r = healthy_open_run(3, 100);
  // Two sends dropped: counted as requests (failed), never sent.
  r.error_kinds[static_cast<int>(ErrorKind::dropped)] = 2;
  r.series[1].dropped = 2;
  r.series[1].sent = 98;
  r.sent_in_window -= 2;
  assess_health(r);
  EXPECT_FALSE(r.health.trustworthy);
  EXPECT_EQ(r.health.dropped, 2u);
  EXPECT_EQ(r.health.problems, std::vector<std::string>{"dropped_sends"});
  EXPECT_FALSE(r.series[1].trustworthy());
}

TEST(Health, ClosedModelHasNoRateCheck) {
  RunResult r;
  r.model = "closed";
  r.series.resize(3);
  r.series[1].requests = 10;
  assess_health(r);
  EXPECT_TRUE(r.health.trustworthy);
  EXPECT_EQ(r.health.target_rps, 0);
}

TEST(Health, SecondBehindAllowsRoundingAndPoissonSpread) {
  EXPECT_FALSE(second_behind(1000, 995, 2, false));
  EXPECT_TRUE(second_behind(1000, 900, 2, false));
  EXPECT_FALSE(second_behind(5, 4, 1, false));      // one-off rounding at low rates
  EXPECT_FALSE(second_behind(1000, 920, 1, true));  // within 3 sigma of a Poisson count
  EXPECT_TRUE(second_behind(1000, 800, 1, true));
  EXPECT_FALSE(second_behind(0, 0, 1, false));
}

TEST(Health, ThreadClockOfASleepingThreadIsNotSaturated) {
  ThreadClock clock;
  auto now = [] {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  };
  clock.start(now());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ThreadSecond s = clock.sample(now(), 1'000'000, 0);
  EXPECT_LT(s.cpu_pct, 50);
  EXPECT_FALSE(s.saturated);
  EXPECT_FLOAT_EQ(s.lag_ms, 1);
  // A loop that spent 60 ms of the second over 20 ms late is saturated whatever its CPU.
  std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_TRUE(clock.sample(now(), 80'000'000, 60'000'000).saturated);
}

TEST(Capacity, KneeIsWhereP99StartsToClimb) {
  auto step = [](double rate, double p99) {
    CapacityStep s;
    s.rate = rate;
    s.p99_ms = p99;
    return s;
  };
  std::vector<CapacityStep> steps = {step(100, 20),  step(200, 20), step(400, 21), step(800, 900),
                                     step(600, 400), step(500, 40), step(550, 200)};
  EXPECT_EQ(find_knee(steps), 500);
  EXPECT_EQ(find_knee({step(100, 20), step(200, 20)}), 0);                 // too few rates
  EXPECT_EQ(find_knee({step(100, 20), step(200, 20), step(400, 21)}), 0);  // flat
}

}  // namespace
}  // namespace sluice::load
