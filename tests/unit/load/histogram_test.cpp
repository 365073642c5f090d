#include "load/histogram.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace sluice::load {
namespace {

TEST(Histogram, IndexRoundTripKeepsThreeSignificantDigits) {
  for (uint64_t v :
       {0ULL, 1ULL, 2047ULL, 2048ULL, 2049ULL, 123456ULL, 999999999ULL, 3600000000000ULL}) {
    uint32_t i = Histogram::index_of(v);
    EXPECT_LE(Histogram::lowest_equivalent(i), v);
    EXPECT_GE(Histogram::highest_equivalent(i), v);
    double width =
        static_cast<double>(Histogram::highest_equivalent(i) - Histogram::lowest_equivalent(i) + 1);
    if (v >= 2048)
      EXPECT_LE(width / static_cast<double>(v), 1.0 / 1000) << v;
    else
      EXPECT_EQ(width, 1) << v;
  }
  EXPECT_LT(Histogram::index_of(Histogram::kMaxValue), Histogram::kBinCount);
}

TEST(Histogram, PercentilesOfAUniformRange) {
  Histogram h;
  for (uint64_t v = 1; v <= 100000; ++v)
    h.record(v * 1000);  // 1 us .. 100 ms
  EXPECT_EQ(h.count(), 100000u);
  EXPECT_NEAR(static_cast<double>(h.value_at(50)), 50e6, 50e6 * 0.001);
  EXPECT_NEAR(static_cast<double>(h.value_at(99)), 99e6, 99e6 * 0.001);
  EXPECT_EQ(h.max(), 100000000u);
  EXPECT_EQ(h.min(), 1000u);
  EXPECT_NEAR(h.mean(), 50.0005e6, 1);
  EXPECT_NEAR(h.stdev(), 28.87e6, 0.05e6);
  EXPECT_LE(h.value_at(50), h.value_at(90));
  EXPECT_LE(h.value_at(99.9), h.max());
}

TEST(Histogram, MergeEqualsRecordingEverythingInOne) {
  Histogram a, b, all;
  for (uint64_t v = 1; v < 5000; ++v) {
    uint64_t x = v * v * 37 % 10000019;
    (v % 3 ? a : b).record(x);
    all.record(x);
  }
  a.merge(b);
  EXPECT_EQ(a.count(), all.count());
  for (double p : {50.0, 90.0, 99.0, 99.9})
    EXPECT_EQ(a.value_at(p), all.value_at(p));
  EXPECT_EQ(a.max(), all.max());
  EXPECT_EQ(a.sum(), all.sum());
}

TEST(Histogram, SparseDrainAndMerge) {
  Histogram h;
  for (uint64_t v : {100u, 100u, 5000u, 70000u})
    h.record(v);
  SparseHistogram s;
  h.drain_into(s);
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(s.count(), 4u);
  EXPECT_EQ(s.max, 70000u);
  SparseHistogram t = s;
  t.merge(s);
  EXPECT_EQ(t.count(), 8u);
  Histogram back = t.to_histogram();
  EXPECT_EQ(back.count(), 8u);
  EXPECT_EQ(back.value_at(50), 100u);
  EXPECT_EQ(back.max(), 70000u);
}

TEST(Histogram, EmptyIsZero) {
  Histogram h;
  EXPECT_EQ(h.value_at(99), 0u);
  EXPECT_EQ(h.max(), 0u);
  EXPECT_EQ(h.mean(), 0);
}

}  // namespace
}  // namespace sluice::load
