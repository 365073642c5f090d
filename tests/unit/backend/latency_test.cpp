#include "backend/latency.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <vector>

using namespace sluice;
using namespace sluice::backend;
using namespace std::chrono_literals;

namespace {

double mean_ms(LatencyModel& model, int samples) {
  double sum = 0;
  for (int i = 0; i < samples; ++i)
    sum += std::chrono::duration<double, std::milli>(model.sample()).count();
  return sum / samples;
}

}  // namespace

TEST(Latency, FixedIsExact) {
  LatencyModel m(LatencyDist::fixed, 20ms, 1);
  for (int i = 0; i < 100; ++i)
    EXPECT_EQ(m.sample(), Duration(20ms));
}

TEST(Latency, LognormalMeanWithinThreePercent) {
  LatencyModel m(LatencyDist::lognormal, 20ms, 42);
  EXPECT_NEAR(mean_ms(m, 200000), 20.0, 0.6);
}

TEST(Latency, ExponentialMeanWithinThreePercent) {
  LatencyModel m(LatencyDist::exponential, 20ms, 7);
  EXPECT_NEAR(mean_ms(m, 200000), 20.0, 0.6);
}

TEST(Latency, LognormalHasATail) {
  LatencyModel m(LatencyDist::lognormal, 10ms, 3);
  std::vector<Duration> v(100000);
  for (auto& d : v)
    d = m.sample();
  std::sort(v.begin(), v.end());
  auto p50 = v[v.size() / 2], p99 = v[v.size() * 99 / 100];
  EXPECT_LT(p50, Duration(10ms));  // the median sits below the mean
  EXPECT_GT(p99, Duration(20ms));
  EXPECT_LE(v.back(), Duration(500ms));  // capped at 50 x mean
}

TEST(Latency, ZeroMeanIsZero) {
  LatencyModel m(LatencyDist::exponential, 0ms, 1);
  EXPECT_EQ(m.sample(), Duration(0));
}

TEST(Latency, SameSeedSameSequence) {
  LatencyModel a(LatencyDist::lognormal, 20ms, 9), b(LatencyDist::lognormal, 20ms, 9);
  for (int i = 0; i < 10; ++i)
    EXPECT_EQ(a.sample(), b.sample());
}

TEST(Latency, ParseNames) {
  EXPECT_EQ(parse_latency_dist("lognormal"), LatencyDist::lognormal);
  EXPECT_EQ(parse_latency_dist("exponential"), LatencyDist::exponential);
  EXPECT_EQ(parse_latency_dist("fixed"), LatencyDist::fixed);
  EXPECT_FALSE(parse_latency_dist("normal"));
}
