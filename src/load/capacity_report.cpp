// The capacity search as text, JSON (sluice-capacity/1) and a self-contained HTML page with the
// latency-versus-rate curve.
#include <algorithm>
#include <cstdio>
#include <map>

#include "load/capacity.hpp"
#include "load/health.hpp"
#include "load/json.hpp"
#include "load/report_html.hpp"

namespace sluice::load {
namespace {

std::string verdict_line(const CapacityReport& r) {
  char line[400];
  if (r.generator_limited())
    std::snprintf(line, sizeof line,
                  "capacity: at least %.0f req/s; the generator, not the server, was the limit at "
                  "%.0f req/s (saturated): %s\n",
                  r.capacity, r.first_failing, generator_advice().c_str());
  else if (r.found && r.first_failing > 0)
    std::snprintf(line, sizeof line,
                  "capacity: %.0f req/s meets the SLO (the server was the limit: %.0f req/s "
                  "failed)\n",
                  r.capacity, r.first_failing);
  else if (r.found)
    std::snprintf(line, sizeof line,
                  "capacity: %.0f req/s meets the SLO (the highest rate tried; no step failed)\n",
                  r.capacity);
  else
    std::snprintf(line, sizeof line, "capacity: even the first step fails the SLO\n");
  return line;
}

// Rate -> the latest step at that rate, in rate order.
std::vector<const CapacityStep*> curve(const CapacityReport& r) {
  std::map<double, const CapacityStep*> by_rate;
  for (auto& s : r.steps)
    by_rate[s.rate] = &s;
  std::vector<const CapacityStep*> out;
  for (auto& [rate, s] : by_rate)
    out.push_back(s);
  return out;
}

}  // namespace

std::string capacity_text(const CapacityReport& r) {
  std::string out = "capacity search, SLO:";
  for (auto& s : r.slo)
    out += " " + s;
  char line[240];
  std::snprintf(line, sizeof line, " (%.1f s a step)\n  %-7s %12s %12s %10s %10s %10s %8s  %s\n",
                r.step_seconds, "phase", "asked/s", "got/s", "p50 ms", "p95 ms", "p99 ms", "errors",
                "SLO");
  out += line;
  for (auto& s : r.steps) {
    std::snprintf(line, sizeof line, "  %-7s %12.0f %12.1f %10.2f %10.2f %10.2f %7.2f%%  %s%s\n",
                  s.phase.c_str(), s.rate, s.achieved_rps, s.p50_ms, s.p95_ms, s.p99_ms,
                  s.error_pct, s.passed ? "✓" : "✗", s.saturated ? " generator saturated" : "");
    out += line;
    if (!s.passed)
      for (auto& l : s.lines)
        if (l.rfind("✗", 0) == 0) out += "            " + l + "\n";
  }
  out += verdict_line(r);
  if (r.knee > 0) {
    std::snprintf(line, sizeof line, "knee: %.0f req/s (where p99 starts to climb)\n", r.knee);
    out += line;
  }
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
      .field("first_failing_rps", r.first_failing)
      .field("limit", r.limit)
      .field("knee_rps", r.knee)
      .field("step_seconds", r.step_seconds)
      .key("steps")
      .begin_array();
  for (auto& s : r.steps) {
    w.begin_object()
        .field("phase", s.phase)
        .field("rate", s.rate)
        .field("rps", s.rps)
        .field("achieved_rps", s.achieved_rps)
        .field("p50_ms", s.p50_ms)
        .field("p95_ms", s.p95_ms)
        .field("p99_ms", s.p99_ms)
        .field("error_pct", s.error_pct)
        .field("passed", s.passed)
        .field("generator_saturated", s.saturated)
        .field("dropped", s.dropped)
        .key("thresholds")
        .begin_array();
    for (auto& l : s.lines)
      w.value(l);
    w.end_array().end_object();
  }
  w.end_array().key("curve").begin_array();
  for (auto* s : curve(r))
    w.begin_object()
        .field("rate", s->rate)
        .field("achieved_rps", s->achieved_rps)
        .field("p50_ms", s->p50_ms)
        .field("p95_ms", s->p95_ms)
        .field("p99_ms", s->p99_ms)
        .field("passed", s->passed)
        .end_object();
  w.end_array().end_object();
  return w.out() + "\n";
}

std::string capacity_html(const CapacityReport& r) {
  std::string b = "<h1>sluice capacity search</h1>\n<p>SLO:";
  for (auto& s : r.slo)
    b += " <code>" + html_escape(s) + "</code>";
  b += "</p>\n<p id=\"verdict\" class=\"" + std::string(r.generator_limited() ? "fail" : "pass") +
       "\">" + html_escape(verdict_line(r)) + "</p>\n";
  std::vector<XYPoint> p50, p95, p99;
  for (auto* s : curve(r)) {
    p50.push_back({s->rate, s->p50_ms});
    p95.push_back({s->rate, s->p95_ms});
    p99.push_back({s->rate, s->p99_ms});
  }
  b += svg_xy_chart("Latency versus rate", "req/s", "ms",
                    {{"p50", "#2ca02c", p50}, {"p95", "#ff7f0e", p95}, {"p99", "#d62728", p99}},
                    {{"capacity", r.capacity}, {"knee", r.knee}});
  b += "<table id=\"steps\"><tr><th>phase</th><th>asked/s</th><th>achieved/s</th><th>p50</th>"
       "<th>p95</th><th>p99</th><th>errors</th><th>result</th></tr>\n";
  char row[512];
  for (auto& s : r.steps) {
    std::string why;
    for (auto& l : s.lines)
      if (l.rfind("✗", 0) == 0) why += (why.empty() ? "" : "; ") + l;
    std::snprintf(row, sizeof row,
                  "<tr class=\"%s\"><td>%s</td><td>%.0f</td><td>%.1f</td><td>%.2f ms</td>"
                  "<td>%.2f ms</td><td>%.2f ms</td><td>%.2f%%</td><td>",
                  s.passed ? "pass" : "fail", s.phase.c_str(), s.rate, s.achieved_rps, s.p50_ms,
                  s.p95_ms, s.p99_ms, s.error_pct);
    b += row + html_escape(s.passed ? "✓" : why) + "</td></tr>\n";
  }
  b += "</table>\n";
  return html_page("sluice capacity search", b);
}

}  // namespace sluice::load
