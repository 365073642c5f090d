#include "load/thresholds.hpp"

#include <gtest/gtest.h>

namespace sluice::load {
namespace {

TEST(Thresholds, Parse) {
  std::string error;
  auto t = parse_threshold("p95 < 200ms", error);
  ASSERT_TRUE(t) << error;
  EXPECT_EQ(t->metric, Metric::p95);
  EXPECT_EQ(t->op, Compare::lt);
  EXPECT_EQ(t->limit, 200e6);
  t = parse_threshold("errors<1%", error);
  ASSERT_TRUE(t);
  EXPECT_DOUBLE_EQ(t->limit, 0.01);
  t = parse_threshold("rps>=1000", error);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->op, Compare::ge);
  t = parse_threshold("checkout:p999<=1.5s", error);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->request_name, "checkout");
  EXPECT_EQ(t->metric, Metric::p999);
  EXPECT_EQ(t->op, Compare::le);
  for (const char* bad : {"p95", "p97<1ms", "p95<fast", "errors<1", "rps>x", ":p95<1ms", "p95<"})
    EXPECT_FALSE(parse_threshold(bad, error)) << bad;
  std::vector<Threshold> list;
  EXPECT_TRUE(parse_threshold_list("p95<200ms, errors<1%", list, error));
  EXPECT_EQ(list.size(), 2u);
  EXPECT_FALSE(parse_threshold_list("", list, error));
}

TEST(Thresholds, EvaluateFormatsTheLine) {
  RunResult r;
  for (int i = 0; i < 100; ++i)
    r.latency.record(22'000'000);
  r.requests = 100;
  r.errors = 2;
  r.duration_s = 1;
  std::string error;
  auto t = parse_threshold("p95<200ms", error);
  auto o = evaluate(*t, r);
  EXPECT_TRUE(o.passed);
  EXPECT_EQ(o.line, "✓ p95 22.0 ms (requirement < 200 ms)");
  o = evaluate(*parse_threshold("errors<1%", error), r);
  EXPECT_FALSE(o.passed);
  EXPECT_EQ(o.line, "✗ errors 2.00% (requirement < 1%)");
  EXPECT_TRUE(evaluate(*parse_threshold("rps>=100", error), r).passed);
  EXPECT_FALSE(evaluate(*parse_threshold("rps>100", error), r).passed);
  // A named request that never ran cannot pass a latency threshold.
  EXPECT_FALSE(evaluate(*parse_threshold("nope:p95<1s", error), r).passed);
}

}  // namespace
}  // namespace sluice::load
