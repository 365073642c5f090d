// --find-capacity: steps the open-model rate up until the SLO breaks, then bisects between the
// last passing and the first failing rate.
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
  double p50_ms = 0, p95_ms = 0, p99_ms = 0;
  double error_pct = 0;
  bool passed = false;
  std::vector<std::string> lines;  // threshold lines
};

struct CapacityReport {
  std::vector<std::string> slo;
  std::vector<CapacityStep> steps;
  bool found = false;
  double capacity = 0;  // highest passing rate
  double step_seconds = 0;
};

// Each step runs for the plan's duration (5 s when none was given) from the plan's rate.
CapacityReport find_capacity(const Plan& plan, const std::vector<Threshold>& slo);
std::string capacity_text(const CapacityReport& r);
std::string capacity_json(const CapacityReport& r);

}  // namespace sluice::load
