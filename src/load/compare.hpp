// `sluice compare`: the before/after table of two runs, as text or HTML.
#pragma once

#include <string>

#include "load/results.hpp"

namespace sluice::load {

struct CompareRow {
  std::string label;
  std::string before, after, change;
  double before_value = 0, after_value = 0;
};

std::vector<CompareRow> compare_rows(const RunResult& before, const RunResult& after);
std::string compare_text(const RunResult& before, const RunResult& after);
std::string compare_html(const RunResult& before, const RunResult& after);

}  // namespace sluice::load
