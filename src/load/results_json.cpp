// The sluice-load/1 JSON form of a RunResult, written and read back exactly.
#include "load/results.hpp"

#include <algorithm>
#include <cmath>

#include "load/json.hpp"

namespace sluice::load {

namespace {

double ms(uint64_t ns) {
  return static_cast<double>(ns) / 1e6;
}

void write_percentiles(json::Writer& w, const Histogram& h) {
  w.begin_object()
      .field("p50", ms(h.value_at(50)))
      .field("p90", ms(h.value_at(90)))
      .field("p95", ms(h.value_at(95)))
      .field("p99", ms(h.value_at(99)))
      .field("p999", ms(h.value_at(99.9)))
      .field("max", ms(h.max()))
      .field("min", ms(h.min()))
      .field("mean", h.mean() / 1e6)
      .field("stdev", h.stdev() / 1e6)
      .end_object();
}

void write_bins(json::Writer& w, const std::vector<std::pair<uint32_t, uint32_t>>& bins) {
  w.begin_array();
  for (auto& [i, c] : bins)
    w.begin_array().value(Histogram::lowest_equivalent(i)).value(uint64_t{c}).end_array();
  w.end_array();
}

void write_histogram(json::Writer& w, const Histogram& h) {
  w.begin_object()
      .field("unit", "ns")
      .field("significant_digits", 3)
      .field("count", h.count())
      .field("min_ns", h.min())
      .field("max_ns", h.max())
      .field("sum_ns", h.sum())
      .key("bins")
      .begin_array();
  h.for_each_bin([&](uint32_t i, uint64_t c) {
    w.begin_array().value(Histogram::lowest_equivalent(i)).value(c).end_array();
  });
  w.end_array().end_object();
}

// A count or size from a file: negative, fractional junk or huge values must not become
// undefined conversions.
uint64_t to_u64(double v) {
  if (!(v >= 0)) return 0;
  if (v >= 1.8e19) return UINT64_MAX;
  return static_cast<uint64_t>(v);
}

int64_t to_i64(double v) {
  if (!(v > -9.2e18)) return v < 0 ? INT64_MIN : 0;
  if (v >= 9.2e18) return INT64_MAX;
  return static_cast<int64_t>(v);
}
int to_int(double v) {
  return static_cast<int>(std::clamp<int64_t>(to_i64(v), -(1 << 30), 1 << 30));
}

// Sorted by bin, duplicates added: files written by hand or by other tools still merge.
bool read_bins(const json::Value& bins, std::vector<std::pair<uint32_t, uint64_t>>& out) {
  if (!bins.is_array()) return false;
  for (auto& b : bins.arr) {
    if (!b.is_array() || b.arr.size() != 2 || b.arr[0].num < 0 || b.arr[1].num < 0) return false;
    out.emplace_back(Histogram::index_of(to_u64(b.arr[0].num)), to_u64(b.arr[1].num));
  }
  std::sort(out.begin(), out.end());
  size_t w = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    if (w > 0 && out[w - 1].first == out[i].first)
      out[w - 1].second += out[i].second;
    else
      out[w++] = out[i];
  }
  out.resize(w);
  return true;
}

bool read_histogram(const json::Value& v, Histogram& h) {
  if (!v.is_object()) return true;  // optional
  std::vector<std::pair<uint32_t, uint64_t>> bins;
  if (!read_bins(v["bins"], bins)) return false;
  for (auto& [i, c] : bins)
    h.add_bin(i, c);
  if (h.count())
    h.set_exact(to_u64(v.number("min_ns")), to_u64(v.number("max_ns")), to_u64(v.number("sum_ns")));
  return true;
}

void write_health(json::Writer& w, const RunResult& r) {
  const Health& h = r.health;
  w.key("health")
      .begin_object()
      .field("saturated_seconds", h.saturated_seconds)
      .field("untrustworthy_seconds", h.untrustworthy_seconds)
      .field("max_thread_cpu_pct", h.max_cpu_pct)
      .field("busiest_thread", h.busiest_thread)
      .field("max_wait_pct", h.max_wait_pct)
      .field("max_sched_delay_ms", h.max_sched_delay_ms)
      .field("max_loop_lag_ms", h.max_lag_ms)
      .field("target_rps", h.target_rps)
      .field("achieved_rps", h.achieved_rps)
      .field("achieved_ratio", h.achieved_ratio)
      .field("scheduled", r.scheduled)
      .field("sent_in_window", r.sent_in_window)
      .field("window_s", r.window_s)
      .field("dropped", h.dropped)
      .key("problems")
      .begin_array();
  for (auto& p : h.problems)
    w.value(p);
  w.end_array().key("reasons").begin_array();
  for (auto& p : h.reasons)
    w.value(p);
  w.end_array().end_object();
  w.key("timeline")
      .begin_object()
      .field("span_s", uint64_t{series_span(r)})
      .field("histogram_bytes", uint64_t{r.series_bytes})
      .field("budget_bytes", uint64_t{r.series_budget})
      .end_object();
}

void read_health(const json::Value& v, RunResult& r) {
  const json::Value& h = v["health"];
  Health& out = r.health;
  out.trustworthy = v.find("trustworthy") ? v["trustworthy"].b : true;
  out.saturated_seconds = to_u64(h.number("saturated_seconds"));
  out.untrustworthy_seconds = to_u64(h.number("untrustworthy_seconds"));
  out.max_cpu_pct = h.number("max_thread_cpu_pct");
  out.busiest_thread = to_int(h.number("busiest_thread"));
  out.max_wait_pct = h.number("max_wait_pct", -1);
  out.max_lag_ms = h.number("max_loop_lag_ms");
  out.max_sched_delay_ms = h.number("max_sched_delay_ms");
  out.target_rps = h.number("target_rps");
  out.achieved_rps = h.number("achieved_rps");
  out.achieved_ratio = h.number("achieved_ratio", 1);
  out.dropped = to_u64(h.number("dropped"));
  for (auto& p : h["problems"].arr)
    out.problems.push_back(p.str);
  for (auto& p : h["reasons"].arr)
    out.reasons.push_back(p.str);
  r.scheduled = to_u64(h.number("scheduled"));
  r.sent_in_window = to_u64(h.number("sent_in_window"));
  r.window_s = h.number("window_s");
  r.series_bytes = to_u64(v["timeline"].number("histogram_bytes"));
  r.series_budget = to_u64(v["timeline"].number("budget_bytes"));
}

double two_decimals(float v) {
  return std::round(static_cast<double>(v) * 100) / 100;
}

// Per thread, in thread order: [cpu...], [wait...], [lag...], [stalled...].
void write_generator(json::Writer& w, const std::vector<ThreadSecond>& g) {
  w.key("generator").begin_object().key("cpu_pct").begin_array();
  for (auto& t : g)
    w.value(two_decimals(t.cpu_pct));
  w.end_array().key("wait_pct").begin_array();
  for (auto& t : g)
    w.value(two_decimals(t.wait_pct));
  w.end_array().key("lag_ms").begin_array();
  for (auto& t : g)
    w.value(two_decimals(t.lag_ms));
  w.end_array().key("sched_delay_ms").begin_array();
  for (auto& t : g)
    w.value(std::round(static_cast<double>(t.sched_delay_ms) * 1000) / 1000);
  w.end_array().key("stalled_ms").begin_array();
  for (auto& t : g)
    w.value(two_decimals(t.stalled_ms));
  w.end_array().end_object();
}

void read_generator(const json::Value& v, std::vector<ThreadSecond>& out) {
  const auto& cpu = v["cpu_pct"].arr;
  const auto& wait = v["wait_pct"].arr;
  const auto& lag = v["lag_ms"].arr;
  const auto& stalled = v["stalled_ms"].arr;
  const auto& delay = v["sched_delay_ms"].arr;
  out.resize(cpu.size());
  for (size_t i = 0; i < cpu.size(); ++i) {
    out[i].cpu_pct = static_cast<float>(cpu[i].num);
    out[i].wait_pct = i < wait.size() ? static_cast<float>(wait[i].num) : -1.0f;
    out[i].lag_ms = i < lag.size() ? static_cast<float>(lag[i].num) : 0.0f;
    out[i].stalled_ms = i < stalled.size() ? static_cast<float>(stalled[i].num) : 0.0f;
    out[i].sched_delay_ms = i < delay.size() ? static_cast<float>(delay[i].num) : 0.0f;
  }
}

}  // namespace

std::string to_json(const RunResult& r) {
  json::Writer w;
  w.begin_object()
      .field("schema", "sluice-load/1")
      .field("url", r.url)
      .field("model", r.model)
      .field("connections", r.connections)
      .field("rate", r.rate)
      .field("threads", r.threads)
      .field("generators", r.generators)
      .field("start_unix_ms", r.start_unix_ms)
      .field("duration_s", r.duration_s)
      .field("requests", r.requests)
      .field("errors", r.errors)
      .field("rps", r.rps())
      .field("success_rate", r.requests ? 1.0 - r.error_ratio() : 0.0)
      .field("late", r.late)
      .field("trustworthy", r.health.trustworthy)
      .key("errors_by_kind")
      .begin_object();
  for (int i = 0; i < kErrorKinds; ++i)
    w.field(error_kind_name(static_cast<ErrorKind>(i)), r.error_kinds[i]);
  w.end_object().key("status_codes").begin_object();
  for (auto& [code, n] : r.statuses)
    w.field(std::to_string(code), n);
  w.end_object();
  w.key("bytes")
      .begin_object()
      .field("received", r.bytes_in)
      .field("sent", r.bytes_out)
      .end_object();
  if (r.cache_hits + r.cache_misses) {
    w.key("cache")
        .begin_object()
        .field("hits", r.cache_hits)
        .field("misses", r.cache_misses)
        .field("hit_ratio", static_cast<double>(r.cache_hits) /
                                static_cast<double>(r.cache_hits + r.cache_misses))
        .end_object();
  }
  w.key("latency_ms");
  write_percentiles(w, r.latency);
  w.key("service_time_ms");
  write_percentiles(w, r.service_time);
  if (r.connect_time.count()) {
    w.key("connect_ms");
    write_percentiles(w, r.connect_time);
  }
  w.key("histogram");
  write_histogram(w, r.latency);
  w.key("service_time_histogram");
  write_histogram(w, r.service_time);
  w.key("connect_histogram");
  write_histogram(w, r.connect_time);
  w.key("requests_by_name").begin_object();
  for (auto& [name, s] : r.by_name) {
    w.key(name).begin_object().field("requests", s.requests).field("errors", s.errors);
    w.key("latency_ms");
    write_percentiles(w, s.latency);
    w.key("histogram");
    write_histogram(w, s.latency);
    w.end_object();
  }
  w.end_object();
  if (long rss = r.max_server_rss_kib(); rss >= 0)
    w.key("server").begin_object().field("max_rss_kib", int64_t{rss}).end_object();
  write_health(w, r);
  w.key("series").begin_array();
  for (size_t t = 0; t < r.series.size(); ++t) {
    SecondSample s = r.series[t];
    if (s.span == 1) s.compute_percentiles();  // the histogram is this second's alone
    w.begin_object()
        .field("t", static_cast<uint64_t>(t))
        .field("requests", s.requests)
        .field("errors", s.errors)
        .field("bytes", s.bytes_in)
        .field("target", s.target)
        .field("sent", s.sent)
        .field("late", s.late)
        .field("dropped", s.dropped)
        .field("due", s.due)
        .field("saturated", s.saturated)
        .field("trustworthy", s.trustworthy())
        .field("p50_ms", s.p50_ms)
        .field("p90_ms", s.p90_ms)
        .field("p99_ms", s.p99_ms)
        .field("max_ms", s.max_ms);
    if (s.server_rss_kib >= 0) w.field("server_rss_kib", int64_t{s.server_rss_kib});
    if (s.server_cpu_pct >= 0) w.field("server_cpu_pct", s.server_cpu_pct);
    if (s.span != 1) w.field("span", uint64_t{s.span});
    if (s.span > 0) {
      w.field("max_ns", s.latency.max).field("sum_ns", s.latency.sum).key("bins");
      write_bins(w, s.latency.bins);
    }
    write_generator(w, s.generator);
    w.end_object();
  }
  w.end_array();
  w.key("thresholds").begin_array();
  for (auto& t : r.thresholds)
    w.begin_object()
        .field("expression", t.expression)
        .field("passed", t.passed)
        .field("measured", t.measured)
        .field("line", t.line)
        .end_object();
  w.end_array().end_object();
  w.out().push_back('\n');
  return std::move(w.out());
}

bool from_json(const std::string& text, RunResult& r, std::string& error) {
  auto doc = json::parse(text, error);
  if (!doc) return false;
  const json::Value& v = *doc;
  if (!v.is_object() || v.string("schema") != "sluice-load/1") {
    error = "not a sluice load result (schema sluice-load/1)";
    return false;
  }
  auto u64 = [](const json::Value& o, std::string_view k) { return to_u64(o.number(k)); };
  r.url = v.string("url");
  r.model = v.string("model", "closed");
  r.connections = to_int(v.number("connections"));
  r.rate = v.number("rate");
  r.threads = to_int(v.number("threads"));
  r.generators = to_int(v.number("generators", 1));
  r.start_unix_ms = to_i64(v.number("start_unix_ms"));
  r.duration_s = v.number("duration_s");
  r.requests = u64(v, "requests");
  r.errors = u64(v, "errors");
  r.late = u64(v, "late");
  for (int i = 0; i < kErrorKinds; ++i)
    r.error_kinds[i] = u64(v["errors_by_kind"], error_kind_name(static_cast<ErrorKind>(i)));
  for (auto& [code, n] : v["status_codes"].obj)
    r.statuses[std::atoi(code.c_str())] = to_u64(n.num);
  r.bytes_in = u64(v["bytes"], "received");
  r.bytes_out = u64(v["bytes"], "sent");
  r.cache_hits = u64(v["cache"], "hits");
  r.cache_misses = u64(v["cache"], "misses");
  if (!read_histogram(v["histogram"], r.latency) ||
      !read_histogram(v["service_time_histogram"], r.service_time) ||
      !read_histogram(v["connect_histogram"], r.connect_time)) {
    error = "malformed histogram";
    return false;
  }
  for (auto& [name, s] : v["requests_by_name"].obj) {
    auto& n = r.by_name[name];
    n.requests = u64(s, "requests");
    n.errors = u64(s, "errors");
    if (!read_histogram(s["histogram"], n.latency)) {
      error = "malformed histogram of " + name;
      return false;
    }
  }
  for (auto& s : v["series"].arr) {
    SecondSample out;
    out.requests = u64(s, "requests");
    out.errors = u64(s, "errors");
    out.bytes_in = u64(s, "bytes");
    out.target = s.number("target");
    out.sent = u64(s, "sent");
    out.late = u64(s, "late");
    out.dropped = u64(s, "dropped");
    out.due = s.number("due");
    out.saturated = s["saturated"].b;
    out.behind = s.find("trustworthy") && !s["trustworthy"].b && !out.saturated && !out.dropped;
    out.server_rss_kib = static_cast<long>(s.number("server_rss_kib", -1));
    out.server_cpu_pct = s.number("server_cpu_pct", -1);
    out.span = static_cast<uint32_t>(std::min<uint64_t>(to_u64(s.number("span", 1)), 1u << 24));
    if (out.span > 0) {
      std::vector<std::pair<uint32_t, uint64_t>> bins;
      if (!read_bins(s["bins"], bins)) {
        error = "malformed series";
        return false;
      }
      for (auto& [i, c] : bins)
        out.latency.bins.emplace_back(i, static_cast<uint32_t>(std::min<uint64_t>(c, UINT32_MAX)));
      out.latency.max = u64(s, "max_ns");
      out.latency.sum = u64(s, "sum_ns");
    }
    if (out.span == 1) {
      out.compute_percentiles();
    } else {
      out.p50_ms = s.number("p50_ms");
      out.p90_ms = s.number("p90_ms");
      out.p99_ms = s.number("p99_ms");
      out.max_ms = s.number("max_ms");
    }
    read_generator(s["generator"], out.generator);
    r.series.push_back(std::move(out));
  }
  read_health(v, r);
  for (auto& t : v["thresholds"].arr) {
    ThresholdOutcome o;
    o.expression = t.string("expression");
    o.passed = t["passed"].b;
    o.measured = t.number("measured");
    o.line = t.string("line");
    r.thresholds.push_back(std::move(o));
  }
  return true;
}

}  // namespace sluice::load
