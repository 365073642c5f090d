#include "load/compare.hpp"

#include <algorithm>
#include <cstdio>

#include "load/report_html.hpp"

namespace sluice::load {
namespace {

std::string num(const char* fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

std::string pct_change(double before, double after) {
  if (before == 0) return after == 0 ? "0.0%" : "n/a";
  return num("%+.1f%%", (after - before) / before * 100);
}

CompareRow row(std::string label, double b, double a, const char* fmt) {
  return {std::move(label), num(fmt, b), num(fmt, a), pct_change(b, a), b, a};
}

CompareRow latency_row(std::string label, uint64_t b, uint64_t a) {
  return {std::move(label),
          format_ms(static_cast<double>(b)),
          format_ms(static_cast<double>(a)),
          pct_change(static_cast<double>(b), static_cast<double>(a)),
          static_cast<double>(b),
          static_cast<double>(a)};
}

std::string threshold_mark(const RunResult& r, const std::string& expr) {
  for (auto& t : r.thresholds)
    if (t.expression == expr) return t.line;
  return "-";
}

std::vector<std::string> threshold_expressions(const RunResult& b, const RunResult& a) {
  std::vector<std::string> out;
  for (auto* r : {&b, &a})
    for (auto& t : r->thresholds)
      if (std::find(out.begin(), out.end(), t.expression) == out.end()) out.push_back(t.expression);
  return out;
}

}  // namespace

std::vector<CompareRow> compare_rows(const RunResult& b, const RunResult& a) {
  std::vector<CompareRow> rows;
  rows.push_back(row("throughput (req/s)", b.rps(), a.rps(), "%.1f"));
  double bs = b.requests ? 100 * (1 - b.error_ratio()) : 0;
  double as = a.requests ? 100 * (1 - a.error_ratio()) : 0;
  rows.push_back(
      {"success rate", num("%.2f%%", bs), num("%.2f%%", as), num("%+.2f pt", as - bs), bs, as});
  rows.push_back(
      row("requests", static_cast<double>(b.requests), static_cast<double>(a.requests), "%.0f"));
  rows.push_back(
      row("failed", static_cast<double>(b.errors), static_cast<double>(a.errors), "%.0f"));
  rows.push_back(latency_row("p50", b.latency.value_at(50), a.latency.value_at(50)));
  rows.push_back(latency_row("p95", b.latency.value_at(95), a.latency.value_at(95)));
  rows.push_back(latency_row("p99", b.latency.value_at(99), a.latency.value_at(99)));
  rows.push_back(latency_row("max", b.latency.max(), a.latency.max()));
  long brss = b.max_server_rss_kib(), arss = a.max_server_rss_kib();
  if (brss >= 0 || arss >= 0) {
    auto mib = [](long k) { return k < 0 ? std::string("-") : num("%.1f MiB", k / 1024.0); };
    rows.push_back({"server max RSS", mib(brss), mib(arss),
                    brss > 0 && arss > 0 ? pct_change(brss, arss) : "n/a",
                    static_cast<double>(brss), static_cast<double>(arss)});
  }
  return rows;
}

std::string compare_text(const RunResult& b, const RunResult& a) {
  std::string out;
  char line[256];
  std::snprintf(line, sizeof line, "%-20s %16s %16s %10s\n", "", "before", "after", "change");
  out += line;
  for (auto& r : compare_rows(b, a)) {
    std::snprintf(line, sizeof line, "%-20s %16s %16s %10s\n", r.label.c_str(), r.before.c_str(),
                  r.after.c_str(), r.change.c_str());
    out += line;
  }
  auto exprs = threshold_expressions(b, a);
  if (!exprs.empty()) {
    out += "thresholds\n";
    for (auto& e : exprs) {
      out += "  " + e + "\n";
      out += "    before: " + threshold_mark(b, e) + "\n";
      out += "    after:  " + threshold_mark(a, e) + "\n";
    }
  }
  return out;
}

std::string compare_html(const RunResult& b, const RunResult& a) {
  std::string body =
      "<h1>Before / after</h1>\n<table><tr><th></th><th>before</th><th>after</th>"
      "<th>change</th></tr>\n";
  for (auto& r : compare_rows(b, a))
    body += "<tr><td>" + html_escape(r.label) + "</td><td>" + html_escape(r.before) + "</td><td>" +
            html_escape(r.after) + "</td><td>" + html_escape(r.change) + "</td></tr>\n";
  body += "</table>\n";
  auto exprs = threshold_expressions(b, a);
  if (!exprs.empty()) {
    body +=
        "<h2>Thresholds</h2>\n<table><tr><th>threshold</th><th>before</th><th>after</th></tr>\n";
    for (auto& e : exprs)
      body += "<tr><td>" + html_escape(e) + "</td><td>" + html_escape(threshold_mark(b, e)) +
              "</td><td>" + html_escape(threshold_mark(a, e)) + "</td></tr>\n";
    body += "</table>\n";
  }
  auto series = [](const RunResult& r, auto fn) {
    std::vector<double> v;
    for (auto& s : r.series)
      v.push_back(fn(s));
    return v;
  };
  auto rps = [](const SecondSample& s) { return static_cast<double>(s.requests); };
  auto p99 = [](const SecondSample& s) {
    return static_cast<double>(s.latency.to_histogram().value_at(99)) / 1e6;
  };
  body +=
      svg_line_chart("Requests per second", "req/s",
                     {{"before", "#888888", series(b, rps)}, {"after", "#1f77b4", series(a, rps)}});
  body +=
      svg_line_chart("p99 latency per second", "ms",
                     {{"before", "#888888", series(b, p99)}, {"after", "#d62728", series(a, p99)}});
  return html_page("sluice compare", body);
}

}  // namespace sluice::load
