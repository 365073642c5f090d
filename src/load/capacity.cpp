#include "load/capacity.hpp"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <thread>

#include "load/json.hpp"

namespace sluice::load {
namespace {

constexpr int kMaxRampSteps = 16;
constexpr int kMaxBisections = 5;
constexpr double kResolution = 0.05;  // stop bisecting within 5 %
// A rate the generator or server cannot actually deliver does not pass, whatever the latency.
constexpr double kMinDelivered = 0.95;

CapacityStep run_step(const Plan& base, const std::vector<Threshold>& slo, double rate,
                      const char* phase) {
  Plan plan = base;
  plan.rate = rate;
  plan.opts.rate = rate;
  plan.opts.stages.clear();
  RunResult r = run_load(plan, true);
  evaluate_all(slo, r);
  CapacityStep s;
  s.phase = phase;
  s.rate = rate;
  s.rps = r.rps();
  s.p50_ms = static_cast<double>(r.latency.value_at(50)) / 1e6;
  s.p95_ms = static_cast<double>(r.latency.value_at(95)) / 1e6;
  s.p99_ms = static_cast<double>(r.latency.value_at(99)) / 1e6;
  s.error_pct = r.error_ratio() * 100;
  s.passed = r.thresholds_passed() && s.rps >= kMinDelivered * rate;
  for (auto& t : r.thresholds)
    s.lines.push_back(t.line);
  if (s.rps < kMinDelivered * rate) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "✗ delivered %.0f/s of %.0f/s asked", s.rps, rate);
    s.lines.push_back(buf);
  }
  if (isatty(STDERR_FILENO))
    std::fprintf(stderr, "  %-6s %10.0f/s  -> %10.0f/s  p95 %8.2f ms  errors %.2f%%  %s\n", phase,
                 rate, s.rps, s.p95_ms, s.error_pct, s.passed ? "pass" : "FAIL");
  // Let the closed connections drain before the next step.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  return s;
}

}  // namespace

CapacityReport find_capacity(const Plan& base_plan, const std::vector<Threshold>& slo) {
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
  for (int i = 0; i < kMaxRampSteps; ++i) {
    auto s = run_step(plan, slo, rate, "step");
    report.steps.push_back(s);
    if (!s.passed) {
      fail = rate;
      break;
    }
    pass = rate;
    rate *= 2;
  }
  if (pass > 0 && fail > 0) {
    for (int i = 0; i < kMaxBisections && (fail - pass) / pass > kResolution; ++i) {
      double mid = std::round((pass + fail) / 2);
      auto s = run_step(plan, slo, mid, "bisect");
      report.steps.push_back(s);
      (s.passed ? pass : fail) = mid;
    }
  }
  report.found = pass > 0;
  report.capacity = pass;
  return report;
}

std::string capacity_text(const CapacityReport& r) {
  std::string out = "capacity search, SLO:";
  for (auto& s : r.slo)
    out += " " + s;
  char line[200];
  std::snprintf(line, sizeof line, " (%.1f s a step)\n  %-7s %12s %12s %10s %10s %10s %8s  %s\n",
                r.step_seconds, "phase", "asked/s", "got/s", "p50 ms", "p95 ms", "p99 ms", "errors",
                "SLO");
  out += line;
  for (auto& s : r.steps) {
    std::snprintf(line, sizeof line, "  %-7s %12.0f %12.1f %10.2f %10.2f %10.2f %7.2f%%  %s\n",
                  s.phase.c_str(), s.rate, s.rps, s.p50_ms, s.p95_ms, s.p99_ms, s.error_pct,
                  s.passed ? "✓" : "✗");
    out += line;
  }
  if (r.found)
    std::snprintf(line, sizeof line, "capacity: %.0f req/s meets the SLO\n", r.capacity);
  else
    std::snprintf(line, sizeof line, "capacity: even the first step fails the SLO\n");
  out += line;
  return out;
}

std::string capacity_json(const CapacityReport& r) {
  json::Writer w;
  w.begin_object().field("schema", "sluice-capacity/1").key("slo").begin_array();
  for (auto& s : r.slo)
    w.value(s);
  w.end_array()
      .field("found", r.found)
      .field("capacity_rps", r.capacity)
      .field("step_seconds", r.step_seconds)
      .key("steps")
      .begin_array();
  for (auto& s : r.steps) {
    w.begin_object()
        .field("phase", s.phase)
        .field("rate", s.rate)
        .field("rps", s.rps)
        .field("p50_ms", s.p50_ms)
        .field("p95_ms", s.p95_ms)
        .field("p99_ms", s.p99_ms)
        .field("error_pct", s.error_pct)
        .field("passed", s.passed)
        .key("thresholds")
        .begin_array();
    for (auto& l : s.lines)
      w.value(l);
    w.end_array().end_object();
  }
  w.end_array().end_object();
  return w.out() + "\n";
}

}  // namespace sluice::load
