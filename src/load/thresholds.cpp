#include "load/thresholds.hpp"

#include <charconv>
#include <cstdio>

#include "common/units.hpp"
#include "http/headers.hpp"

namespace sluice::load {
namespace {

struct MetricName {
  std::string_view name;
  Metric metric;
};
constexpr MetricName kMetrics[] = {
    {"p50", Metric::p50},   {"p90", Metric::p90},       {"p95", Metric::p95},
    {"p999", Metric::p999}, {"p99", Metric::p99},       {"max", Metric::max},
    {"mean", Metric::mean}, {"errors", Metric::errors}, {"rps", Metric::rps},
};

const char* op_text(Compare op) {
  switch (op) {
    case Compare::lt:
      return "<";
    case Compare::le:
      return "<=";
    case Compare::gt:
      return ">";
    case Compare::ge:
      return ">=";
  }
  return "?";
}

bool is_latency(Metric m) {
  return m != Metric::errors && m != Metric::rps;
}

std::string metric_text(Metric m) {
  for (auto& k : kMetrics)
    if (k.metric == m) return std::string(k.name);
  return "?";
}

std::string format_limit(const Threshold& t) {
  char buf[48];
  if (is_latency(t.metric)) {
    double ms = t.limit / 1e6;
    if (ms >= 1000 && static_cast<long long>(ms) % 1000 == 0)
      std::snprintf(buf, sizeof buf, "%g s", ms / 1000);
    else
      std::snprintf(buf, sizeof buf, "%g ms", ms);
  } else if (t.metric == Metric::errors) {
    std::snprintf(buf, sizeof buf, "%g%%", t.limit * 100);
  } else {
    std::snprintf(buf, sizeof buf, "%g/s", t.limit);
  }
  return buf;
}

}  // namespace

std::optional<Threshold> parse_threshold(std::string_view text, std::string& error) {
  Threshold t;
  std::string_view s = http::trim(text);
  t.expression = std::string(s);
  auto bad = [&](const std::string& why) -> std::optional<Threshold> {
    error = "bad threshold '" + std::string(s) + "': " + why;
    return std::nullopt;
  };
  if (size_t colon = s.find(':'); colon != std::string_view::npos) {
    t.request_name = std::string(http::trim(s.substr(0, colon)));
    if (t.request_name.empty()) return bad("empty request name before ':'");
    s = http::trim(s.substr(colon + 1));
  }
  size_t op_pos = s.find_first_of("<>");
  if (op_pos == std::string_view::npos) return bad("expected <, <=, > or >=");
  std::string_view name = http::trim(s.substr(0, op_pos));
  bool found = false;
  for (auto& k : kMetrics)
    if (name == k.name) t.metric = k.metric, found = true;
  if (!found)
    return bad("unknown metric '" + std::string(name) +
               "' (p50 p90 p95 p99 p999 max mean errors rps)");
  bool less = s[op_pos] == '<';
  size_t value_pos = op_pos + 1;
  bool or_equal = value_pos < s.size() && s[value_pos] == '=';
  if (or_equal) ++value_pos;
  t.op = less ? (or_equal ? Compare::le : Compare::lt) : (or_equal ? Compare::ge : Compare::gt);
  std::string_view value = http::trim(s.substr(value_pos));
  if (value.empty()) return bad("missing value");
  if (is_latency(t.metric)) {
    auto d = parse_duration(value);
    if (!d) return bad("'" + std::string(value) + "' is not a duration (e.g. 200ms)");
    t.limit = static_cast<double>(d->count());
  } else {
    bool percent = t.metric == Metric::errors && value.back() == '%';
    if (percent) value.remove_suffix(1);
    double v = 0;
    auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
    if (ec != std::errc() || p != value.data() + value.size() || v < 0)
      return bad("'" + std::string(value) + "' is not a number");
    if (t.metric == Metric::errors && !percent) return bad("error rate needs a % (errors<1%)");
    t.limit = percent ? v / 100 : v;
  }
  return t;
}

bool parse_threshold_list(std::string_view text, std::vector<Threshold>& out, std::string& error) {
  bool ok = true;
  bool any = false;
  http::for_each_token(text, [&](std::string_view tok) {
    if (!ok) return;
    any = true;
    auto t = parse_threshold(tok, error);
    if (!t)
      ok = false;
    else
      out.push_back(std::move(*t));
  });
  if (ok && !any) {
    error = "empty threshold expression";
    return false;
  }
  return ok;
}

ThresholdOutcome evaluate(const Threshold& t, const RunResult& r) {
  ThresholdOutcome o;
  o.expression = t.expression;
  const Histogram* h = &r.latency;
  uint64_t requests = r.requests, errors = r.errors;
  std::string label = metric_text(t.metric);
  if (!t.request_name.empty()) {
    label = t.request_name + " " + label;
    auto it = r.by_name.find(t.request_name);
    static const NameStats empty;
    const NameStats& s = it == r.by_name.end() ? empty : it->second;
    h = &s.latency;
    requests = s.requests;
    errors = s.errors;
  }
  double v = 0;
  switch (t.metric) {
    case Metric::p50:
      v = static_cast<double>(h->value_at(50));
      break;
    case Metric::p90:
      v = static_cast<double>(h->value_at(90));
      break;
    case Metric::p95:
      v = static_cast<double>(h->value_at(95));
      break;
    case Metric::p99:
      v = static_cast<double>(h->value_at(99));
      break;
    case Metric::p999:
      v = static_cast<double>(h->value_at(99.9));
      break;
    case Metric::max:
      v = static_cast<double>(h->max());
      break;
    case Metric::mean:
      v = h->mean();
      break;
    case Metric::errors:
      // No requests at all cannot meet an error budget.
      v = requests ? static_cast<double>(errors) / static_cast<double>(requests) : 1.0;
      break;
    case Metric::rps:
      v = r.duration_s > 0 ? static_cast<double>(requests) / r.duration_s : 0;
      break;
  }
  switch (t.op) {
    case Compare::lt:
      o.passed = v < t.limit;
      break;
    case Compare::le:
      o.passed = v <= t.limit;
      break;
    case Compare::gt:
      o.passed = v > t.limit;
      break;
    case Compare::ge:
      o.passed = v >= t.limit;
      break;
  }
  // A latency threshold with no samples cannot be judged: it fails.
  if (is_latency(t.metric) && h->count() == 0) o.passed = false;
  o.measured = is_latency(t.metric) ? v / 1e6 : v;
  char measured[48];
  if (is_latency(t.metric))
    std::snprintf(measured, sizeof measured, "%s", format_ms(v).c_str());
  else if (t.metric == Metric::errors)
    std::snprintf(measured, sizeof measured, "%.2f%%", v * 100);
  else
    std::snprintf(measured, sizeof measured, "%.1f/s", v);
  o.line = std::string(o.passed ? "✓ " : "✗ ") + label + " " + measured + " (requirement " +
           op_text(t.op) + " " + format_limit(t) + ")";
  return o;
}

void evaluate_all(const std::vector<Threshold>& ts, RunResult& r) {
  r.thresholds.clear();
  for (auto& t : ts)
    r.thresholds.push_back(evaluate(t, r));
}

}  // namespace sluice::load
