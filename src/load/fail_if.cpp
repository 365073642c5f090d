#include "load/fail_if.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>

#include "common/units.hpp"
#include "http/headers.hpp"

namespace sluice::load {
namespace {

bool is_latency(Stat s) {
  return s != Stat::rps && s != Stat::errors && s != Stat::error_rate;
}

bool parse_number(std::string_view text, double& out) {
  if (text.empty()) return false;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && p == text.data() + text.size() && std::isfinite(out) && out >= 0;
}

std::string pct(double fraction) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%+.1f%%", fraction * 100);
  return buf;
}

std::string signed_stat(Stat s, double delta) {
  std::string v = format_stat(s, std::abs(delta));
  return (delta < 0 ? "-" : "+") + v;
}

}  // namespace

bool has_noise(Stat s) {
  return s != Stat::errors && s != Stat::error_rate;
}

std::string format_stat(Stat s, double v) {
  char buf[48];
  if (is_latency(s)) return format_ms(v);
  if (s == Stat::rps)
    std::snprintf(buf, sizeof buf, "%.1f/s", v);
  else if (s == Stat::errors)
    std::snprintf(buf, sizeof buf, "%.0f", v);
  else
    std::snprintf(buf, sizeof buf, "%.2f%%", v * 100);
  return buf;
}

std::optional<Gate> parse_gate(std::string_view text, std::string& error) {
  Gate g;
  std::string_view s = http::trim(text);
  g.expression = std::string(s);
  auto bad = [&](const std::string& why) -> std::optional<Gate> {
    error = "bad --fail-if '" + std::string(s) + "': " + why;
    return std::nullopt;
  };
  size_t op = s.find_first_of("<>");
  if (op == std::string_view::npos)
    return bad("expected METRIC>VALUE or METRIC<VALUE, e.g. 'p99>+10%' or 'rps<-5%'");
  std::string_view name = http::trim(s.substr(0, op));
  auto stat = stat_from_name(name);
  if (!stat)
    return bad("unknown metric '" + std::string(name) +
               "' (rps p50 p90 p95 p99 p999 max mean errors error_rate)");
  g.stat = *stat;
  g.above = s[op] == '>';
  std::string_view v = http::trim(s.substr(op + 1));
  if (!v.empty() && v.front() == '=')
    return bad("use > or < (a gate fires when the change goes beyond the value)");
  if (v.empty()) return bad("missing value after '" + std::string(1, s[op]) + "'");
  bool is_signed = v.front() == '+' || v.front() == '-';
  bool negative = v.front() == '-';
  if (is_signed) v = http::trim(v.substr(1));
  double sign = negative ? -1 : 1;
  if (is_signed && v.ends_with("%")) {
    if (g.stat == Stat::error_rate)
      return bad(
          "a change of error_rate is in percentage points ('error_rate>+0.5pt'); "
          "a level is unsigned ('error_rate>1%')");
    double n;
    if (!parse_number(http::trim(v.substr(0, v.size() - 1)), n))
      return bad("'" + std::string(v) + "' is not a percentage");
    g.kind = Gate::Kind::relative;
    g.value = sign * n / 100;
    return g;
  }
  g.kind = is_signed ? Gate::Kind::absolute : Gate::Kind::level;
  if (is_latency(g.stat)) {
    auto d = parse_duration(v);
    if (!d)
      return bad("'" + std::string(v) +
                 "' is not a duration (e.g. +5ms for a change, 250ms for "
                 "a level, +10% for a relative change)");
    g.value = sign * static_cast<double>(d->count());
    return g;
  }
  if (g.stat == Stat::error_rate) {
    std::string_view unit = is_signed ? "pt" : "%";
    if (!v.ends_with(unit))
      return bad(is_signed ? "a change of error_rate is in percentage points (+0.5pt)"
                           : "an error_rate level is a percentage (error_rate>1%)");
    double n;
    if (!parse_number(http::trim(v.substr(0, v.size() - unit.size())), n))
      return bad("'" + std::string(v) + "' is not a number");
    g.value = sign * n / 100;
    return g;
  }
  double n;
  if (!parse_number(v, n))
    return bad("'" + std::string(v) + "' is not a number (" +
               (g.stat == Stat::rps ? "req/s" : "a count of failed requests") +
               "; use +N% for a relative change)");
  g.value = sign * n;
  return g;
}

GateOutcome evaluate_gate(const Gate& g, const NoiseReport& noise) {
  GateOutcome o;
  o.expression = g.expression;
  const Change& c = noise[g.stat];
  const char* name = stat_name(g.stat);
  auto beyond = [&](double measured) { return g.above ? measured > g.value : measured < g.value; };
  std::string detail;
  if (g.kind == Gate::Kind::level) {
    o.fired = beyond(c.after);
    detail = std::string(name) + " " + format_stat(g.stat, c.after) + " in NEW";
  } else {
    double measured;
    if (g.kind == Gate::Kind::relative) {
      measured = c.before != 0 ? c.rel : c.after > 0 ? std::numeric_limits<double>::infinity() : 0;
      detail = std::string(name) + " " + (std::isinf(measured) ? "+inf%" : pct(measured));
    } else {
      measured = c.abs;
      detail = std::string(name) + " " + signed_stat(g.stat, measured);
    }
    detail += " (" + format_stat(g.stat, c.before) + " -> " + format_stat(g.stat, c.after);
    bool judged = has_noise(g.stat) && c.estimated;
    if (judged) detail += ", noise ±" + pct(c.noise_rel()).substr(1);
    detail += ")";
    o.fired = beyond(measured);
    if (o.fired && judged && !c.significant) {
      o.fired = false;
      detail += ": beyond the limit but within noise";
    }
  }
  if (o.fired) {
    bool worse = g.above != higher_is_better(g.stat);
    detail += g.kind == Gate::Kind::level ? ": beyond the limit"
              : worse                     ? ": regression"
                                          : ": beyond the limit";
  }
  o.line = std::string(o.fired ? "✗ " : "✓ ") + g.expression + ": " + detail;
  return o;
}

}  // namespace sluice::load
