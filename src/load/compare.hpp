// `sluice compare`: the before/after table of two runs with the noise of each change, as text or
// HTML, and the --fail-if gates.
#pragma once

#include <string>
#include <vector>

#include "load/fail_if.hpp"
#include "load/results.hpp"

namespace sluice::load {

struct CompareRow {
  std::string label;
  std::string before, after, change;
  double before_value = 0, after_value = 0;
  std::string noise;    // "±3.1%", or "" when the row has none
  std::string verdict;  // "within noise", "worse", "better", or ""
};

struct Comparison {
  NoiseReport noise;
  std::vector<GateOutcome> gates;
  bool any_fired() const;
};

Comparison compare_runs(const RunResult& before, const RunResult& after,
                        const std::vector<Gate>& gates = {});
std::vector<CompareRow> compare_rows(const RunResult& before, const RunResult& after,
                                     const NoiseReport& noise);
std::string compare_text(const RunResult& before, const RunResult& after, const Comparison& c);
std::string compare_text(const RunResult& before, const RunResult& after);
std::string compare_html(const RunResult& before, const RunResult& after, const Comparison& c);
std::string compare_html(const RunResult& before, const RunResult& after);

}  // namespace sluice::load
