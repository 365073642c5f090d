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

struct XYPoint {
  double x = 0, y = 0;
};
struct XYSeries {
  std::string name;
  std::string color;
  std::vector<XYPoint> points;  // in x order
};

std::string html_escape(const std::string& s);
// Lines over a numeric x axis (latency versus rate); `marks` are labelled dashed verticals.
std::string svg_xy_chart(const std::string& title, const std::string& x_unit,
                         const std::string& y_unit, const std::vector<XYSeries>& series,
                         const std::vector<std::pair<std::string, double>>& marks = {});
std::string svg_line_chart(const std::string& title, const std::string& unit,
                           const std::vector<ChartSeries>& series);
std::string html_page(const std::string& title, const std::string& body);
std::string html_report(const RunResult& r);

}  // namespace sluice::load
