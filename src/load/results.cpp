#include "load/results.hpp"

#include <algorithm>
#include <cstdio>

#include "load/json.hpp"

namespace sluice::load {

const char* error_kind_name(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::connect_refused:
      return "connect_refused";
    case ErrorKind::connect_error:
      return "connect_error";
    case ErrorKind::timeout:
      return "timeout";
    case ErrorKind::reset:
      return "reset";
    case ErrorKind::closed:
      return "closed";
    case ErrorKind::protocol:
      return "protocol";
    case ErrorKind::non_2xx:
      return "non_2xx";
    case ErrorKind::check_failed:
      return "check_failed";
    case ErrorKind::dropped:
      return "dropped";
    case ErrorKind::count_:
      break;
  }
  return "unknown";
}

std::string format_ms(double ns) {
  char buf[32];
  double ms = ns / 1e6;
  if (ms >= 10000)
    std::snprintf(buf, sizeof buf, "%.2f s", ms / 1000);
  else if (ms >= 10)
    std::snprintf(buf, sizeof buf, "%.1f ms", ms);
  else if (ms >= 1)
    std::snprintf(buf, sizeof buf, "%.2f ms", ms);
  else
    std::snprintf(buf, sizeof buf, "%.3f ms", ms);
  return buf;
}

long RunResult::max_server_rss_kib() const {
  long m = -1;
  for (auto& s : series)
    m = std::max(m, s.server_rss_kib);
  return m;
}

bool RunResult::thresholds_passed() const {
  return std::all_of(thresholds.begin(), thresholds.end(), [](auto& t) { return t.passed; });
}

void merge_into(RunResult& into, const RunResult& o) {
  if (into.url.empty()) into.url = o.url;
  into.model = o.model;
  into.connections += o.connections;
  into.rate += o.rate;
  into.threads += o.threads;
  into.generators += o.generators;
  int64_t start = into.start_unix_ms;
  if (start == 0 || (o.start_unix_ms && o.start_unix_ms < start)) start = o.start_unix_ms;
  // The merged run spans from the earliest start to the latest end.
  auto end_of = [](const RunResult& r) {
    return r.start_unix_ms + static_cast<int64_t>(r.duration_s * 1000);
  };
  int64_t end = std::max(into.start_unix_ms ? end_of(into) : 0, end_of(o));
  // Re-align both series on the merged start.
  auto shift_series = [&](const RunResult& r) {
    return static_cast<size_t>(std::max<int64_t>(0, (r.start_unix_ms - start + 500) / 1000));
  };
  size_t into_shift = into.start_unix_ms ? shift_series(into) : 0;
  size_t o_shift = shift_series(o);
  std::vector<SecondSample> series(
      std::max(into.series.size() + into_shift, o.series.size() + o_shift));
  auto add = [](SecondSample& to, const SecondSample& from) {
    to.requests += from.requests;
    to.errors += from.errors;
    to.bytes_in += from.bytes_in;
    to.target += from.target;
    to.latency.merge(from.latency);
    if (from.server_rss_kib >= 0)
      to.server_rss_kib = std::max(to.server_rss_kib, from.server_rss_kib);
    if (from.server_cpu_pct >= 0)
      to.server_cpu_pct = std::max(to.server_cpu_pct, from.server_cpu_pct);
  };
  for (size_t i = 0; i < into.series.size(); ++i)
    add(series[i + into_shift], into.series[i]);
  for (size_t i = 0; i < o.series.size(); ++i)
    add(series[i + o_shift], o.series[i]);
  into.series = std::move(series);
  into.start_unix_ms = start;
  into.duration_s = static_cast<double>(end - start) / 1000.0;

  into.requests += o.requests;
  into.errors += o.errors;
  for (int i = 0; i < kErrorKinds; ++i)
    into.error_kinds[i] += o.error_kinds[i];
  for (auto& [code, n] : o.statuses)
    into.statuses[code] += n;
  into.bytes_in += o.bytes_in;
  into.bytes_out += o.bytes_out;
  into.late += o.late;
  into.cache_hits += o.cache_hits;
  into.cache_misses += o.cache_misses;
  into.latency.merge(o.latency);
  into.service_time.merge(o.service_time);
  into.connect_time.merge(o.connect_time);
  for (auto& [name, s] : o.by_name) {
    auto& t = into.by_name[name];
    t.requests += s.requests;
    t.errors += s.errors;
    t.latency.merge(s.latency);
  }
  into.thresholds.clear();  // re-evaluated on the merged numbers
}

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

bool read_bins(const json::Value& bins, std::vector<std::pair<uint32_t, uint64_t>>& out) {
  if (!bins.is_array()) return false;
  for (auto& b : bins.arr) {
    if (!b.is_array() || b.arr.size() != 2) return false;
    out.emplace_back(Histogram::index_of(static_cast<uint64_t>(b.arr[0].num)),
                     static_cast<uint64_t>(b.arr[1].num));
  }
  return true;
}

bool read_histogram(const json::Value& v, Histogram& h) {
  if (!v.is_object()) return true;  // optional
  std::vector<std::pair<uint32_t, uint64_t>> bins;
  if (!read_bins(v["bins"], bins)) return false;
  for (auto& [i, c] : bins)
    h.add_bin(i, c);
  if (h.count())
    h.set_exact(static_cast<uint64_t>(v.number("min_ns")),
                static_cast<uint64_t>(v.number("max_ns")),
                static_cast<uint64_t>(v.number("sum_ns")));
  return true;
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
  w.key("series").begin_array();
  for (size_t t = 0; t < r.series.size(); ++t) {
    const auto& s = r.series[t];
    Histogram h = s.latency.to_histogram();
    w.begin_object()
        .field("t", static_cast<uint64_t>(t))
        .field("requests", s.requests)
        .field("errors", s.errors)
        .field("bytes", s.bytes_in)
        .field("target", s.target)
        .field("p50_ms", ms(h.value_at(50)))
        .field("p90_ms", ms(h.value_at(90)))
        .field("p99_ms", ms(h.value_at(99)))
        .field("max_ms", ms(h.max()))
        .field("max_ns", s.latency.max)
        .field("sum_ns", s.latency.sum);
    if (s.server_rss_kib >= 0) w.field("server_rss_kib", int64_t{s.server_rss_kib});
    if (s.server_cpu_pct >= 0) w.field("server_cpu_pct", s.server_cpu_pct);
    w.key("bins");
    write_bins(w, s.latency.bins);
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
  auto u64 = [](const json::Value& o, std::string_view k) {
    return static_cast<uint64_t>(o.number(k));
  };
  r.url = v.string("url");
  r.model = v.string("model", "closed");
  r.connections = static_cast<int>(v.number("connections"));
  r.rate = v.number("rate");
  r.threads = static_cast<int>(v.number("threads"));
  r.generators = static_cast<int>(v.number("generators", 1));
  r.start_unix_ms = static_cast<int64_t>(v.number("start_unix_ms"));
  r.duration_s = v.number("duration_s");
  r.requests = u64(v, "requests");
  r.errors = u64(v, "errors");
  r.late = u64(v, "late");
  for (int i = 0; i < kErrorKinds; ++i)
    r.error_kinds[i] = u64(v["errors_by_kind"], error_kind_name(static_cast<ErrorKind>(i)));
  for (auto& [code, n] : v["status_codes"].obj)
    r.statuses[std::atoi(code.c_str())] = static_cast<uint64_t>(n.num);
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
    out.server_rss_kib = static_cast<long>(s.number("server_rss_kib", -1));
    out.server_cpu_pct = s.number("server_cpu_pct", -1);
    std::vector<std::pair<uint32_t, uint64_t>> bins;
    if (!read_bins(s["bins"], bins)) {
      error = "malformed series";
      return false;
    }
    for (auto& [i, c] : bins)
      out.latency.bins.emplace_back(i, static_cast<uint32_t>(c));
    out.latency.max = u64(s, "max_ns");
    out.latency.sum = u64(s, "sum_ns");
    r.series.push_back(std::move(out));
  }
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
