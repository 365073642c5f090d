#include "load/report_html.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "load/health.hpp"

namespace sluice::load {
namespace {

std::string num(const char* fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

// 1, 2, 5 × 10^k steps for the y axis.
double nice_step(double range) {
  if (range <= 0) return 1;
  double raw = range / 4;
  double mag = std::pow(10, std::floor(std::log10(raw)));
  double f = raw / mag;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
}

constexpr const char* kStyle = R"(
body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1000px}
table{border-collapse:collapse;margin:8px 0 20px}
td,th{border:1px solid #ccc;padding:4px 10px;text-align:right}
td:first-child,th:first-child{text-align:left}
.pass{color:#1a7f37}.fail{color:#cf222e}
svg.chart{display:block;margin:8px 0 24px;background:#fafafa;border:1px solid #ddd}
svg text{font-size:11px;fill:#444}
)";

}  // namespace

std::string html_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

std::string svg_line_chart(const std::string& title, const std::string& unit,
                           const std::vector<ChartSeries>& series) {
  const double w = 900, h = 240, left = 60, right = 20, top = 28, bottom = 30;
  size_t n = 0;
  double ymax = 0;
  for (auto& s : series) {
    n = std::max(n, s.values.size());
    for (double v : s.values)
      if (std::isfinite(v)) ymax = std::max(ymax, v);
  }
  double step = nice_step(ymax);
  double top_value = std::max(step, std::ceil(ymax / step) * step);
  double plot_w = w - left - right, plot_h = h - top - bottom;
  auto x_of = [&](size_t i) {
    return left + (n > 1 ? plot_w * static_cast<double>(i) / (n - 1) : 0);
  };
  auto y_of = [&](double v) { return top + plot_h * (1 - v / top_value); };
  std::string out = "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" +
                    num("%.0f", w) + "\" height=\"" + num("%.0f", h) + "\" data-points=\"" +
                    std::to_string(n) + "\">\n";
  out += "<text x=\"" + num("%.0f", left) +
         "\" y=\"16\" style=\"font-size:13px;font-weight:bold\">" + html_escape(title) + " (" +
         html_escape(unit) + ")</text>\n";
  for (double v = 0; v <= top_value * 1.0001; v += step) {
    double y = y_of(v);
    out += "<line x1=\"" + num("%.1f", left) + "\" x2=\"" + num("%.1f", w - right) + "\" y1=\"" +
           num("%.1f", y) + "\" y2=\"" + num("%.1f", y) + "\" stroke=\"#e0e0e0\"/>";
    out += "<text x=\"" + num("%.1f", left - 6) + "\" y=\"" + num("%.1f", y + 4) +
           "\" text-anchor=\"end\">" + num("%g", v) + "</text>\n";
  }
  size_t xstep = std::max<size_t>(1, n / 10);
  for (size_t i = 0; i < n; i += xstep)
    out += "<text x=\"" + num("%.1f", x_of(i)) + "\" y=\"" + num("%.1f", h - 10) +
           "\" text-anchor=\"middle\">" + std::to_string(i) + "s</text>";
  out += "\n";
  double legend_x = w - right - 10;
  for (size_t k = series.size(); k-- > 0;) {
    const auto& s = series[k];
    legend_x -= 12 + 7 * static_cast<double>(s.name.size()) + 12;
    out += "<rect x=\"" + num("%.0f", legend_x) + "\" y=\"8\" width=\"10\" height=\"10\" fill=\"" +
           s.color + "\"/><text x=\"" + num("%.0f", legend_x + 14) + "\" y=\"17\">" +
           html_escape(s.name) + "</text>\n";
  }
  for (auto& s : series) {
    if (s.values.empty()) continue;
    out += "<polyline class=\"series\" data-name=\"" + html_escape(s.name) +
           "\" fill=\"none\" stroke-width=\"1.8\" stroke=\"" + s.color + "\" points=\"";
    for (size_t i = 0; i < s.values.size(); ++i) {
      double v = std::isfinite(s.values[i]) ? s.values[i] : 0;
      out += num("%.1f", x_of(i)) + "," + num("%.1f", y_of(v)) + " ";
    }
    out += "\"/>\n";
  }
  out += "</svg>\n";
  return out;
}

std::string svg_xy_chart(const std::string& title, const std::string& x_unit,
                         const std::string& y_unit, const std::vector<XYSeries>& series,
                         const std::vector<std::pair<std::string, double>>& marks) {
  const double w = 900, h = 300, left = 60, right = 20, top = 28, bottom = 40;
  double xmin = 0, xmax = 0, ymax = 0;
  bool any = false;
  for (auto& s : series)
    for (auto& p : s.points) {
      if (!std::isfinite(p.x) || !std::isfinite(p.y)) continue;
      xmin = any ? std::min(xmin, p.x) : p.x;
      xmax = any ? std::max(xmax, p.x) : p.x;
      ymax = std::max(ymax, p.y);
      any = true;
    }
  xmin = 0;  // rates start at zero: the shape of the curve reads right
  if (xmax <= xmin) xmax = xmin + 1;
  double ystep = nice_step(ymax), xstep = nice_step(xmax - xmin);
  double ytop = std::max(ystep, std::ceil(ymax / ystep) * ystep);
  double xtop = std::max(xstep, std::ceil(xmax / xstep) * xstep);
  double plot_w = w - left - right, plot_h = h - top - bottom;
  auto x_of = [&](double x) { return left + plot_w * (x - xmin) / (xtop - xmin); };
  auto y_of = [&](double y) { return top + plot_h * (1 - std::clamp(y, 0.0, ytop) / ytop); };
  std::string out = "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" +
                    num("%.0f", w) + "\" height=\"" + num("%.0f", h) + "\">\n";
  out += "<text x=\"" + num("%.0f", left) +
         "\" y=\"16\" style=\"font-size:13px;font-weight:bold\">" + html_escape(title) + " (" +
         html_escape(y_unit) + " by " + html_escape(x_unit) + ")</text>\n";
  for (double v = 0; v <= ytop * 1.0001; v += ystep) {
    double y = y_of(v);
    out += "<line x1=\"" + num("%.1f", left) + "\" x2=\"" + num("%.1f", w - right) + "\" y1=\"" +
           num("%.1f", y) + "\" y2=\"" + num("%.1f", y) + "\" stroke=\"#e0e0e0\"/>";
    out += "<text x=\"" + num("%.1f", left - 6) + "\" y=\"" + num("%.1f", y + 4) +
           "\" text-anchor=\"end\">" + num("%g", v) + "</text>\n";
  }
  for (double v = xmin; v <= xtop * 1.0001; v += xstep)
    out += "<text x=\"" + num("%.1f", x_of(v)) + "\" y=\"" + num("%.1f", h - 22) +
           "\" text-anchor=\"middle\">" + num("%g", v) + "</text>";
  out += "<text x=\"" + num("%.1f", left + plot_w / 2) + "\" y=\"" + num("%.1f", h - 6) +
         "\" text-anchor=\"middle\">" + html_escape(x_unit) + "</text>\n";
  double label_y = top + 12;
  for (auto& [label, x] : marks) {
    if (!(x > 0)) continue;
    double px = x_of(x);
    out += "<line class=\"mark\" x1=\"" + num("%.1f", px) + "\" x2=\"" + num("%.1f", px) +
           "\" y1=\"" + num("%.1f", top) + "\" y2=\"" + num("%.1f", top + plot_h) +
           "\" stroke=\"#555\" stroke-dasharray=\"4 3\"/><text x=\"" + num("%.1f", px + 4) +
           "\" y=\"" + num("%.1f", label_y) + "\">" + html_escape(label) + " " + num("%.0f", x) +
           "</text>\n";
    label_y += 14;  // marks at the same rate keep readable labels
  }
  double legend_x = w - right - 10;
  for (size_t k = series.size(); k-- > 0;) {
    const auto& s = series[k];
    legend_x -= 12 + 7 * static_cast<double>(s.name.size()) + 12;
    out += "<rect x=\"" + num("%.0f", legend_x) + "\" y=\"8\" width=\"10\" height=\"10\" fill=\"" +
           s.color + "\"/><text x=\"" + num("%.0f", legend_x + 14) + "\" y=\"17\">" +
           html_escape(s.name) + "</text>\n";
  }
  for (auto& s : series) {
    if (s.points.empty()) continue;
    out += "<polyline class=\"series\" data-name=\"" + html_escape(s.name) +
           "\" fill=\"none\" stroke-width=\"1.8\" stroke=\"" + s.color + "\" points=\"";
    for (auto& p : s.points)
      if (std::isfinite(p.x) && std::isfinite(p.y))
        out += num("%.1f", x_of(p.x)) + "," + num("%.1f", y_of(p.y)) + " ";
    out += "\"/>\n";
    for (auto& p : s.points)
      if (std::isfinite(p.x) && std::isfinite(p.y))
        out += "<circle cx=\"" + num("%.1f", x_of(p.x)) + "\" cy=\"" + num("%.1f", y_of(p.y)) +
               "\" r=\"2.5\" fill=\"" + s.color + "\"/>";
    out += "\n";
  }
  out += "</svg>\n";
  return out;
}

std::string html_page(const std::string& title, const std::string& body) {
  return "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" +
         html_escape(title) + "</title><style>" + kStyle + "</style></head><body>\n" + body +
         "</body></html>\n";
}

std::string html_report(const RunResult& r) {
  std::string b = "<h1>sluice load: " + html_escape(r.url) + "</h1>\n";
  b += "<p>" +
       html_escape(r.model == "open" ? num("open model at %.0f req/s", r.rate)
                                     : num("%.0f connections", r.connections)) +
       ", " + std::to_string(r.threads) + " threads, " + num("%.2f s", r.duration_s) + "</p>\n";
  const Histogram& h = r.latency;
  auto ms = [](uint64_t ns) { return html_escape(format_ms(static_cast<double>(ns))); };
  b += "<table id=\"summary\"><tr><th>requests</th><th>req/s</th><th>errors</th><th>p50</th>"
       "<th>p90</th><th>p95</th><th>p99</th><th>p99.9</th><th>max</th><th>mean</th></tr><tr><td>" +
       std::to_string(r.requests) + "</td><td>" + num("%.1f", r.rps()) + "</td><td>" +
       std::to_string(r.errors) + num(" (%.2f%%)", r.error_ratio() * 100) + "</td><td>" +
       ms(h.value_at(50)) + "</td><td>" + ms(h.value_at(90)) + "</td><td>" + ms(h.value_at(95)) +
       "</td><td>" + ms(h.value_at(99)) + "</td><td>" + ms(h.value_at(99.9)) + "</td><td>" +
       ms(h.max()) + "</td><td>" + html_escape(format_ms(h.mean())) + "</td></tr></table>\n";
  if (r.health.trustworthy)
    b += "<p id=\"generator\" class=\"pass\">" +
         html_escape(num("Generator healthy: busiest thread at %.0f%% CPU", r.health.max_cpu_pct) +
                     num(", event loop at most %.1f ms late", r.health.max_lag_ms)) +
         "</p>\n";
  if (!r.health.trustworthy) {
    b += "<div id=\"untrustworthy\" class=\"fail\"><h2>Not trustworthy</h2><p>These numbers "
         "describe the generator as much as the server:</p><ul>\n";
    for (auto& reason : r.health.reasons)
      b += "<li>" + html_escape(reason) + "</li>\n";
    b += "</ul></div>\n";
  }
  if (!r.thresholds.empty()) {
    b += "<h2>Thresholds</h2>\n<table "
         "id=\"thresholds\"><tr><th>threshold</th><th>result</th></tr>\n";
    for (auto& t : r.thresholds)
      b += std::string("<tr class=\"") + (t.passed ? "pass" : "fail") + "\"><td>" +
           html_escape(t.expression) + "</td><td>" + html_escape(t.line) + "</td></tr>\n";
    b += "</table>\n";
  }
  std::vector<double> rps, target, sent, errors, p50, p90, p99, rss, cpu, gen_cpu, gen_lag;
  bool watched = false;
  for (auto& s : r.series) {
    rps.push_back(static_cast<double>(s.requests));
    target.push_back(s.target);
    sent.push_back(static_cast<double>(s.sent));
    errors.push_back(static_cast<double>(s.errors));
    p50.push_back(s.p50_ms);
    p90.push_back(s.p90_ms);
    p99.push_back(s.p99_ms);
    double busiest = 0, lag = 0;
    for (auto& g : s.generator) {
      busiest = std::max<double>(busiest, g.cpu_pct);
      lag = std::max<double>(lag, g.lag_ms);
    }
    gen_cpu.push_back(busiest);
    gen_lag.push_back(lag);
    rss.push_back(s.server_rss_kib >= 0 ? static_cast<double>(s.server_rss_kib) / 1024 : 0);
    cpu.push_back(std::max(0.0, s.server_cpu_pct));
    watched = watched || s.server_rss_kib >= 0;
  }
  b += "<h2>Over time</h2>\n";
  std::vector<ChartSeries> rps_series{{"req/s", "#1f77b4", rps}};
  if (r.model == "open") {
    rps_series.push_back({"sent", "#17becf", sent});
    rps_series.push_back({"target rate", "#aaaaaa", target});
  }
  b += svg_line_chart("Throughput", "req/s", rps_series);
  b += svg_line_chart("Latency percentiles", "ms",
                      {{"p50", "#2ca02c", p50}, {"p90", "#ff7f0e", p90}, {"p99", "#d62728", p99}});
  b += svg_line_chart("Errors", "per second", {{"errors", "#cf222e", errors}});
  b += svg_line_chart(num("Generator: busiest thread CPU (saturated at %.0f%%)", kSaturatedCpuPct),
                      "%", {{"CPU", "#7f7f7f", gen_cpu}});
  b += svg_line_chart("Generator: event loop lag (saturated when over " +
                          num("%.0f ms for ", kMaxLoopLagMs) +
                          num("%.0f ms of a second)", kMaxStalledMs),
                      "ms", {{"lag", "#bcbd22", gen_lag}});
  if (watched) {
    b += svg_line_chart("Server memory", "MiB RSS", {{"RSS", "#9467bd", rss}});
    b += svg_line_chart("Server CPU", "%", {{"CPU", "#8c564b", cpu}});
  }
  b += "<h2>Status codes</h2>\n<table><tr><th>status</th><th>count</th></tr>\n";
  for (auto& [code, n] : r.statuses)
    b += "<tr><td>" + std::to_string(code) + "</td><td>" + std::to_string(n) + "</td></tr>\n";
  b += "</table>\n";
  if (r.errors) {
    b += "<h2>Errors</h2>\n<table><tr><th>kind</th><th>count</th></tr>\n";
    for (int i = 0; i < kErrorKinds; ++i)
      if (r.error_kinds[i])
        b += std::string("<tr><td>") + error_kind_name(static_cast<ErrorKind>(i)) + "</td><td>" +
             std::to_string(r.error_kinds[i]) + "</td></tr>\n";
    b += "</table>\n";
  }
  if (!r.by_name.empty()) {
    b += "<h2>By request</h2>\n<table><tr><th>name</th><th>requests</th><th>errors</th>"
         "<th>p50</th><th>p95</th><th>p99</th></tr>\n";
    for (auto& [name, s] : r.by_name)
      b += "<tr><td>" + html_escape(name) + "</td><td>" + std::to_string(s.requests) + "</td><td>" +
           std::to_string(s.errors) + "</td><td>" + ms(s.latency.value_at(50)) + "</td><td>" +
           ms(s.latency.value_at(95)) + "</td><td>" + ms(s.latency.value_at(99)) + "</td></tr>\n";
    b += "</table>\n";
  }
  return html_page("sluice load report", b);
}

}  // namespace sluice::load
