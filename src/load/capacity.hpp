// --find-capacity: steps the open-model rate up until a step fails, then bisects between the
// last passing and the first failing rate. A step fails when the SLO breaks (an SLO without an
// error clause gets errors<1%), when less than 98 % of the asked rate was achieved, when sends
// were dropped, or when the generator itself was saturated; in the last case the search stops
// and reports that the generator, not the server, was the limit.
#pragma once

#include <string>
#include <vector>

#include "load/engine.hpp"
#include "load/thresholds.hpp"

namespace sluice::load {

struct CapacityStep {
  std::string phase;  // "step" or "bisect"
  double rate = 0;
  double rps = 0;
  double achieved_rps = 0;
  double p50_ms = 0, p95_ms = 0, p99_ms = 0;
  double error_pct = 0;
  bool passed = false;
  bool saturated = false;  // the generator was saturated in this step
  uint64_t dropped = 0;
  std::vector<std::string> lines;  // threshold lines, then the health checks that failed
};

struct CapacityReport {
  std::vector<std::string> slo;
  std::vector<CapacityStep> steps;
  bool found = false;
  double capacity = 0;  // highest passing rate
  double first_failing = 0;
  std::string limit = "none";  // "server", "generator", or "none" (never failed)
  double knee = 0;             // rate where latency starts to climb; 0: none seen
  double step_seconds = 0;
  bool generator_limited() const { return limit == "generator"; }
};

// Each step runs for the plan's duration (5 s when none was given) from the plan's rate.
CapacityReport find_capacity(const Plan& plan, const std::vector<Threshold>& slo);

// The rate where the p99-versus-rate curve bends upwards (the point furthest below the chord
// from the first to the last point, once normalised); 0 with fewer than 3 rates or a flat curve.
double find_knee(const std::vector<CapacityStep>& steps);

std::string capacity_text(const CapacityReport& r);
std::string capacity_json(const CapacityReport& r);
std::string capacity_html(const CapacityReport& r);

}  // namespace sluice::load
