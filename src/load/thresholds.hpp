// Pass/fail conditions on a run: "p95<200ms", "errors<1%", "rps>=1000", "checkout:p99<1s".
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "load/results.hpp"

namespace sluice::load {

enum class Metric { p50, p90, p95, p99, p999, max, mean, errors, rps };
enum class Compare { lt, le, gt, ge };

struct Threshold {
  std::string expression;
  std::string request_name;  // empty: the whole run
  Metric metric = Metric::p95;
  Compare op = Compare::lt;
  double limit = 0;  // ns for latencies, a ratio (0.01) for errors, requests/s for rps
};

// Parses one expression; nullopt with `error` set when it is not one.
std::optional<Threshold> parse_threshold(std::string_view text, std::string& error);
// Parses a comma-separated list ("p95<200ms,errors<1%"), appending to `out`.
bool parse_threshold_list(std::string_view text, std::vector<Threshold>& out, std::string& error);

ThresholdOutcome evaluate(const Threshold& t, const RunResult& r);
void evaluate_all(const std::vector<Threshold>& ts, RunResult& r);

}  // namespace sluice::load
