#include "load/capacity.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <thread>

#include "load/health.hpp"

namespace sluice::load {
namespace {

constexpr int kMaxRampSteps = 16;
constexpr int kMaxBisections = 5;
constexpr double kResolution = 0.05;  // stop bisecting within 5 %

CapacityStep run_step(const Plan& base, const std::vector<Threshold>& slo, double rate,
                      const char* phase) {
  Plan plan = base;
  plan.rate = rate;
  plan.opts.rate = rate;
  plan.opts.stages.clear();
  RunResult r = run_load(plan, true);
  evaluate_all(slo, r);
  const Health& h = r.health;
  CapacityStep s;
  s.phase = phase;
  s.rate = rate;
  s.rps = r.rps();
  s.achieved_rps = h.target_rps > 0 ? h.achieved_rps : s.rps;
  s.p50_ms = static_cast<double>(r.latency.value_at(50)) / 1e6;
  s.p95_ms = static_cast<double>(r.latency.value_at(95)) / 1e6;
  s.p99_ms = static_cast<double>(r.latency.value_at(99)) / 1e6;
  s.error_pct = r.error_ratio() * 100;
  s.saturated = h.saturated_seconds > 0;
  s.dropped = h.dropped;
  for (auto& t : r.thresholds)
    s.lines.push_back(t.line);
  char buf[200];
  bool rate_ok = h.achieved_ratio >= kMinAchievedRatio;
  if (!rate_ok) {
    std::snprintf(buf, sizeof buf, "✗ achieved %.0f/s of %.0f/s asked (%.1f%%, needs %.0f%%)",
                  s.achieved_rps, rate, h.achieved_ratio * 100, kMinAchievedRatio * 100);
    s.lines.push_back(buf);
  }
  if (s.dropped) {
    std::snprintf(buf, sizeof buf, "✗ %llu sends dropped",
                  static_cast<unsigned long long>(s.dropped));
    s.lines.push_back(buf);
  }
  if (s.saturated) {
    std::snprintf(buf, sizeof buf,
                  "✗ generator saturated in %llu s (CPU up to %.0f%%, loop up to %.1f ms late)",
                  static_cast<unsigned long long>(h.saturated_seconds), h.max_cpu_pct,
                  h.max_lag_ms);
    s.lines.push_back(buf);
  }
  s.passed = r.thresholds_passed() && rate_ok && s.dropped == 0 && !s.saturated;
  if (isatty(STDERR_FILENO))
    std::fprintf(stderr, "  %-6s %10.0f/s  -> %10.0f/s  p95 %8.2f ms  errors %.2f%%  %s\n", phase,
                 rate, s.achieved_rps, s.p95_ms, s.error_pct,
                 s.passed      ? "pass"
                 : s.saturated ? "GENERATOR SATURATED"
                               : "FAIL");
  // Let the closed connections drain before the next step.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  return s;
}

// An SLO that says nothing about errors would call a server answering only errors fast.
std::vector<Threshold> with_error_limit(std::vector<Threshold> slo) {
  bool has_errors = std::any_of(slo.begin(), slo.end(), [](const Threshold& t) {
    return t.metric == Metric::errors && t.request_name.empty();
  });
  if (!has_errors) {
    std::string error;
    if (auto t = parse_threshold("errors<1%", error)) slo.push_back(*t);
  }
  return slo;
}

}  // namespace

CapacityReport find_capacity(const Plan& base_plan, const std::vector<Threshold>& user_slo) {
  std::vector<Threshold> slo = with_error_limit(user_slo);
  Plan plan = base_plan;
  plan.opts.request_count = 0;
  if (plan.opts.duration.count() == 0)
    plan.duration = std::chrono::seconds(5);
  else
    plan.duration = plan.opts.duration;
  CapacityReport report;
  report.step_seconds = static_cast<double>(plan.duration.count()) / 1e9;
  for (auto& t : slo)
    report.slo.push_back(t.expression);
  double rate = base_plan.opts.rate > 1 ? base_plan.opts.rate : 100;
  double pass = 0, fail = 0;
  bool generator = false;
  for (int i = 0; i < kMaxRampSteps; ++i) {
    auto s = run_step(plan, slo, rate, "step");
    report.steps.push_back(s);
    if (!s.passed) {
      fail = rate;
      generator = s.saturated;
      break;
    }
    pass = rate;
    rate *= 2;
  }
  if (pass > 0 && fail > 0 && !generator) {
    for (int i = 0; i < kMaxBisections && (fail - pass) / pass > kResolution; ++i) {
      double mid = std::round((pass + fail) / 2);
      auto s = run_step(plan, slo, mid, "bisect");
      report.steps.push_back(s);
      if (s.saturated) {
        // Below the failing rate but the generator could not keep up either: it is the limit.
        generator = true;
        fail = mid;
        break;
      }
      (s.passed ? pass : fail) = mid;
    }
  }
  report.found = pass > 0;
  report.capacity = pass;
  report.first_failing = fail;
  report.limit = generator ? "generator" : fail > 0 ? "server" : "none";
  report.knee = find_knee(report.steps);
  return report;
}

double find_knee(const std::vector<CapacityStep>& steps) {
  std::map<double, double> curve;  // rate -> p99, the latest step at each rate
  for (auto& s : steps)
    curve[s.rate] = s.p99_ms;
  if (curve.size() < 3) return 0;
  double x0 = curve.begin()->first, x1 = curve.rbegin()->first;
  double y0 = curve.begin()->second, y1 = y0;
  for (auto& [x, y] : curve) {
    y0 = std::min(y0, y);
    y1 = std::max(y1, y);
  }
  // A curve that never rises by half its floor has no knee worth naming.
  if (x1 <= x0 || y1 - y0 <= 0.5 * std::max(y0, 1e-3)) return 0;
  double best = 0, knee = 0;
  for (auto& [x, y] : curve) {
    double d = (x - x0) / (x1 - x0) - (y - y0) / (y1 - y0);
    if (d > best) best = d, knee = x;
  }
  return knee;
}

}  // namespace sluice::load
