// One self-contained HTML page per run: summary, thresholds, and SVG charts drawn here (no
// scripts, no network).
#pragma once

#include <string>
#include <vector>

#include "load/results.hpp"

namespace sluice::load {

struct ChartSeries {
  std::string name;
  std::string color;
  std::vector<double> values;  // one per second
};

std::string html_escape(const std::string& s);
std::string svg_line_chart(const std::string& title, const std::string& unit,
                           const std::vector<ChartSeries>& series);
std::string html_page(const std::string& title, const std::string& body);
std::string html_report(const RunResult& r);

}  // namespace sluice::load
