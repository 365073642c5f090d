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

// The noise and verdict of a statistic's row.
void judge(CompareRow& row, Stat stat, const NoiseReport& noise) {
  const Change& c = noise[stat];
  if (!has_noise(stat)) return;
  if (!c.estimated) {
    row.noise = "n/a";
    return;
  }
  row.noise = num("±%.1f%%", c.noise_rel() * 100);
  if (!c.significant)
    row.verdict = "within noise";
  else
    row.verdict = (c.abs > 0) == higher_is_better(stat) ? "better" : "worse";
}

std::string untrusted_note(const char* which, const RunResult& r) {
  if (r.health.trustworthy) return "";
  std::string out = std::string("note: ") + which + " is not trustworthy:\n";
  for (auto& reason : r.health.reasons)
    out += "  - " + reason + "\n";
  return out;
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

bool Comparison::any_fired() const {
  for (auto& g : gates)
    if (g.fired) return true;
  return false;
}

Comparison compare_runs(const RunResult& b, const RunResult& a, const std::vector<Gate>& gates) {
  Comparison c;
  c.noise = estimate_noise(b, a);
  for (auto& g : gates)
    c.gates.push_back(evaluate_gate(g, c.noise));
  return c;
}

std::vector<CompareRow> compare_rows(const RunResult& b, const RunResult& a,
                                     const NoiseReport& noise) {
  std::vector<CompareRow> rows;
  rows.push_back(row("throughput (req/s)", b.rps(), a.rps(), "%.1f"));
  judge(rows.back(), Stat::rps, noise);
  double bs = b.requests ? 100 * (1 - b.error_ratio()) : 0;
  double as = a.requests ? 100 * (1 - a.error_ratio()) : 0;
  rows.push_back(
      {"success rate", num("%.2f%%", bs), num("%.2f%%", as), num("%+.2f pt", as - bs), bs, as});
  rows.push_back(
      row("requests", static_cast<double>(b.requests), static_cast<double>(a.requests), "%.0f"));
  rows.push_back(
      row("failed", static_cast<double>(b.errors), static_cast<double>(a.errors), "%.0f"));
  const std::pair<const char*, Stat> latencies[] = {
      {"p50", Stat::p50},    {"p90", Stat::p90}, {"p95", Stat::p95},  {"p99", Stat::p99},
      {"p99.9", Stat::p999}, {"max", Stat::max}, {"mean", Stat::mean}};
  for (auto& [label, stat] : latencies) {
    const Change& c = noise[stat];
    rows.push_back(
        latency_row(label, static_cast<uint64_t>(c.before), static_cast<uint64_t>(c.after)));
    judge(rows.back(), stat, noise);
  }
  long brss = b.max_server_rss_kib(), arss = a.max_server_rss_kib();
  if (brss >= 0 || arss >= 0) {
    auto mib = [](long k) { return k < 0 ? std::string("-") : num("%.1f MiB", k / 1024.0); };
    rows.push_back({"server max RSS", mib(brss), mib(arss),
                    brss > 0 && arss > 0 ? pct_change(brss, arss) : "n/a",
                    static_cast<double>(brss), static_cast<double>(arss)});
  }
  return rows;
}

std::string compare_text(const RunResult& b, const RunResult& a, const Comparison& c) {
  std::string out;
  char line[256];
  std::snprintf(line, sizeof line, "%-20s %16s %16s %10s %9s  %s\n", "", "before", "after",
                "change", "noise", "verdict");
  out += line;
  for (auto& r : compare_rows(b, a, c.noise)) {
    std::snprintf(line, sizeof line, "%-20s %16s %16s %10s %9s  %s\n", r.label.c_str(),
                  r.before.c_str(), r.after.c_str(), r.change.c_str(), r.noise.c_str(),
                  r.verdict.c_str());
    out += line;
  }
  if (c.noise.estimated) {
    std::snprintf(line, sizeof line,
                  "noise: 99%% interval of each change, from %zu and %zu blocks of the timelines "
                  "(changes under %.0f%% are never significant)\n",
                  c.noise.blocks_before, c.noise.blocks_after, kMinMeaningfulChange * 100);
  } else {
    std::snprintf(line, sizeof line,
                  "noise: not estimated: each run needs at least %zu seconds of timeline "
                  "(changes are judged as measured)\n",
                  kMinBlocks);
  }
  out += line;
  out += untrusted_note("BEFORE", b);
  out += untrusted_note("AFTER", a);
  auto exprs = threshold_expressions(b, a);
  if (!exprs.empty()) {
    out += "thresholds\n";
    for (auto& e : exprs) {
      out += "  " + e + "\n";
      out += "    before: " + threshold_mark(b, e) + "\n";
      out += "    after:  " + threshold_mark(a, e) + "\n";
    }
  }
  if (!c.gates.empty()) {
    out += "gates\n";
    for (auto& g : c.gates)
      out += "  " + g.line + "\n";
  }
  return out;
}

std::string compare_text(const RunResult& b, const RunResult& a) {
  return compare_text(b, a, compare_runs(b, a));
}

std::string compare_html(const RunResult& b, const RunResult& a) {
  return compare_html(b, a, compare_runs(b, a));
}

std::string compare_html(const RunResult& b, const RunResult& a, const Comparison& c) {
  std::string body =
      "<h1>Before / after</h1>\n<table><tr><th></th><th>before</th><th>after</th>"
      "<th>change</th><th>noise</th><th>verdict</th></tr>\n";
  for (auto& r : compare_rows(b, a, c.noise)) {
    const char* cls = r.verdict == "worse"    ? " class=\"fail\""
                      : r.verdict == "better" ? " class=\"pass\""
                                              : "";
    body += std::string("<tr") + cls + "><td>" + html_escape(r.label) + "</td><td>" +
            html_escape(r.before) + "</td><td>" + html_escape(r.after) + "</td><td>" +
            html_escape(r.change) + "</td><td>" + html_escape(r.noise) + "</td><td>" +
            html_escape(r.verdict) + "</td></tr>\n";
  }
  body += "</table>\n";
  if (!c.gates.empty()) {
    body += "<h2>Gates</h2>\n<table id=\"gates\"><tr><th>gate</th><th>result</th></tr>\n";
    for (auto& g : c.gates)
      body += std::string("<tr class=\"") + (g.fired ? "fail" : "pass") + "\"><td>" +
              html_escape(g.expression) + "</td><td>" + html_escape(g.line) + "</td></tr>\n";
    body += "</table>\n";
  }
  for (auto* which : {"BEFORE", "AFTER"}) {
    std::string note = untrusted_note(which, which[0] == 'B' ? b : a);
    if (!note.empty()) body += "<pre class=\"fail\">" + html_escape(note) + "</pre>\n";
  }
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
  auto p99 = [](const SecondSample& s) { return s.p99_ms; };
  body +=
      svg_line_chart("Requests per second", "req/s",
                     {{"before", "#888888", series(b, rps)}, {"after", "#1f77b4", series(a, rps)}});
  body +=
      svg_line_chart("p99 latency per second", "ms",
                     {{"before", "#888888", series(b, p99)}, {"after", "#d62728", series(a, p99)}});
  return html_page("sluice compare", body);
}

}  // namespace sluice::load
