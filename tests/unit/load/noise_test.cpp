#include "load/noise.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "load/compare.hpp"
#include "load/fail_if.hpp"
#include "load/templates.hpp"

namespace sluice::load {
namespace {

// A run of `seconds` seconds at `rate`, latencies lognormal around `median_ms` (sigma 0.5),
// plus `extra_ms` on every request.
RunResult synthetic_run(uint64_t seed, int seconds, uint64_t rate, double median_ms,
                        double extra_ms = 0) {
  Rng rng(seed);
  RunResult r;
  r.model = "open";
  r.duration_s = seconds;
  for (int t = 0; t < seconds; ++t) {
    Histogram h;
    for (uint64_t i = 0; i < rate; ++i) {
      // Box-Muller: a standard normal from two uniforms.
      double z =
          std::sqrt(-2 * std::log(1 - rng.uniform())) * std::cos(6.283185307 * rng.uniform());
      double ms = median_ms * std::exp(0.5 * z) + extra_ms;
      auto ns = static_cast<uint64_t>(ms * 1e6);
      h.record(ns);
      r.latency.record(ns);
    }
    SecondSample s;
    s.requests = s.sent = rate;
    h.drain_into(s.latency);
    r.series.push_back(std::move(s));
  }
  r.requests = rate * static_cast<uint64_t>(seconds);
  return r;
}

TEST(Noise, TwoRunsOfTheSameServiceAreWithinNoise) {
  RunResult a = synthetic_run(1, 10, 300, 20), b = synthetic_run(2, 10, 300, 20);
  NoiseReport n = estimate_noise(a, b);
  ASSERT_TRUE(n.estimated);
  EXPECT_EQ(n.blocks_before, 10u);
  for (Stat s : {Stat::rps, Stat::p50, Stat::p90, Stat::p99, Stat::mean}) {
    EXPECT_FALSE(n[s].significant) << stat_name(s) << " " << n[s].rel;
    EXPECT_LE(n[s].rel_lo, n[s].rel);
    EXPECT_GE(n[s].rel_hi, n[s].rel);
  }
  EXPECT_GT(n[Stat::p99].noise_rel(), n[Stat::p50].noise_rel());  // the tail is noisier
  // The same files always give the same answer.
  EXPECT_EQ(estimate_noise(a, b)[Stat::p99].rel_hi, n[Stat::p99].rel_hi);
}

TEST(Noise, ASlowerServiceIsSignificant) {
  RunResult a = synthetic_run(1, 10, 300, 20), b = synthetic_run(2, 10, 300, 20, 10);
  NoiseReport n = estimate_noise(a, b);
  EXPECT_TRUE(n[Stat::p50].significant);
  EXPECT_TRUE(n[Stat::p99].significant);
  EXPECT_GT(n[Stat::p50].rel, 0.3);
  EXPECT_FALSE(n[Stat::rps].significant);
}

TEST(Noise, ShortRunsAreNotEstimated) {
  RunResult a = synthetic_run(1, 3, 300, 20), b = synthetic_run(2, 10, 300, 20);
  NoiseReport n = estimate_noise(a, b);
  EXPECT_FALSE(n.estimated);
  EXPECT_FALSE(n[Stat::p99].estimated);
  // Gates then judge the measured change.
  std::string error;
  auto g = parse_gate("p50>+1000%", error);
  ASSERT_TRUE(g) << error;
  EXPECT_FALSE(evaluate_gate(*g, n).fired);
}

TEST(Noise, LongRunsAreCutIntoAtMostMaxBlocks) {
  RunResult a = synthetic_run(1, 130, 20, 20), b = synthetic_run(2, 130, 20, 20);
  NoiseReport n = estimate_noise(a, b);
  EXPECT_LE(n.blocks_before, kMaxBlocks);
  EXPECT_GE(n.blocks_before, kMinBlocks);
}

TEST(FailIf, ParsesTheGrammar) {
  std::string error;
  auto g = parse_gate("p99>+10%", error);
  ASSERT_TRUE(g) << error;
  EXPECT_EQ(g->stat, Stat::p99);
  EXPECT_TRUE(g->above);
  EXPECT_EQ(g->kind, Gate::Kind::relative);
  EXPECT_DOUBLE_EQ(g->value, 0.10);
  g = parse_gate(" rps < -5% ", error);
  ASSERT_TRUE(g) << error;
  EXPECT_FALSE(g->above);
  EXPECT_DOUBLE_EQ(g->value, -0.05);
  g = parse_gate("p95>+5ms", error);
  ASSERT_TRUE(g) << error;
  EXPECT_EQ(g->kind, Gate::Kind::absolute);
  EXPECT_DOUBLE_EQ(g->value, 5e6);
  g = parse_gate("p999>250ms", error);
  ASSERT_TRUE(g) << error;
  EXPECT_EQ(g->kind, Gate::Kind::level);
  EXPECT_EQ(g->stat, Stat::p999);
  g = parse_gate("error_rate>1%", error);
  ASSERT_TRUE(g) << error;
  EXPECT_EQ(g->kind, Gate::Kind::level);
  EXPECT_DOUBLE_EQ(g->value, 0.01);
  g = parse_gate("error_rate>+0.5pt", error);
  ASSERT_TRUE(g) << error;
  EXPECT_EQ(g->kind, Gate::Kind::absolute);
  EXPECT_DOUBLE_EQ(g->value, 0.005);
  g = parse_gate("errors>0", error);
  ASSERT_TRUE(g) << error;
  EXPECT_EQ(g->stat, Stat::errors);
  g = parse_gate("rps<900", error);
  ASSERT_TRUE(g) << error;
  EXPECT_EQ(g->kind, Gate::Kind::level);
  for (const char* bad : {"p99", "p97>+10%", "p99>=+10%", "p99>", "p99>+x%", "p99>fast",
                          "error_rate>+1%", "error_rate>2", "rps<-5", "rps<-5ms", "errors>+1.5.2",
                          "p99>+-10%", ">+10%", "", "p99>+10%%", "p99>nan%"}) {
    if (std::string(bad) == "rps<-5") continue;  // a valid absolute change of -5 req/s
    error.clear();
    EXPECT_FALSE(parse_gate(bad, error)) << bad;
    EXPECT_EQ(error.rfind("bad --fail-if", 0), 0u) << bad << ": " << error;
  }
  EXPECT_TRUE(parse_gate("rps<-5", error));
}

TEST(FailIf, FiresOnARealRegressionOnly) {
  RunResult a = synthetic_run(1, 10, 300, 20), same = synthetic_run(2, 10, 300, 20),
            slow = synthetic_run(3, 10, 300, 20, 10);
  std::string error;
  std::vector<Gate> gates = {*parse_gate("p99>+10%", error), *parse_gate("rps<-5%", error),
                             *parse_gate("p50>+5ms", error), *parse_gate("errors>0", error)};
  Comparison c = compare_runs(a, same, gates);
  for (auto& g : c.gates)
    EXPECT_FALSE(g.fired) << g.line;
  c = compare_runs(a, slow, gates);
  EXPECT_TRUE(c.gates[0].fired) << c.gates[0].line;
  EXPECT_NE(c.gates[0].line.find("regression"), std::string::npos) << c.gates[0].line;
  EXPECT_FALSE(c.gates[1].fired);
  EXPECT_TRUE(c.gates[2].fired) << c.gates[2].line;
  EXPECT_TRUE(c.any_fired());
  std::string text = compare_text(a, slow, c);
  EXPECT_NE(text.find("worse"), std::string::npos) << text;
  EXPECT_NE(text.find("gates"), std::string::npos);
  text = compare_text(a, same, compare_runs(a, same, gates));
  EXPECT_NE(text.find("within noise"), std::string::npos) << text;
}

TEST(FailIf, AChangeBeyondTheLimitButWithinNoiseDoesNotFire) {
  // Few samples a second: the p99 of each run is very uncertain.
  RunResult a = synthetic_run(1, 6, 20, 20), b = synthetic_run(9, 6, 20, 20, 1);
  std::string error;
  NoiseReport n = estimate_noise(a, b);
  ASSERT_TRUE(n.estimated);
  auto g = *parse_gate("p99>+1%", error);
  GateOutcome o = evaluate_gate(g, n);
  ASSERT_GT(n[Stat::p99].rel, 0.01);  // the seeds are fixed: this holds every time
  ASSERT_FALSE(n[Stat::p99].significant);
  EXPECT_FALSE(o.fired);
  EXPECT_NE(o.line.find("within noise"), std::string::npos) << o.line;
  // A level gate has no noise: it compares NEW's value.
  auto level = *parse_gate("p50>1ms", error);
  EXPECT_TRUE(evaluate_gate(level, n).fired);
}

TEST(Noise, FewBlocksWidenTheInterval) {
  // Student's t at 99 %: a spread from six blocks is worth 4.03 standard errors, not 2.58.
  EXPECT_NEAR(noise_multiplier(6), 4.032, 1e-3);
  EXPECT_NEAR(noise_multiplier(21), 2.845, 1e-3);
  EXPECT_NEAR(noise_multiplier(50), 2.68, 0.02);  // interpolated beyond 30
  EXPECT_DOUBLE_EQ(noise_multiplier(1000), kNoiseZ);
  for (size_t b = 2; b < 200; ++b)
    EXPECT_LE(noise_multiplier(b + 1), noise_multiplier(b)) << b;
}

}  // namespace
}  // namespace sluice::load
