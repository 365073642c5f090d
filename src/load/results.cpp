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

void SecondSample::compute_percentiles() {
  auto ms = [](uint64_t ns) { return static_cast<double>(ns) / 1e6; };
  p50_ms = ms(latency.value_at(50));
  p90_ms = ms(latency.value_at(90));
  p99_ms = ms(latency.value_at(99));
  max_ms = ms(latency.count() ? latency.max : 0);
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
  // Histograms of folded series are re-bucketed on the coarser of the two grids.
  uint32_t span = std::max(series_span(into), series_span(o));
  std::vector<SecondSample> series(
      std::max(into.series.size() + into_shift, o.series.size() + o_shift));
  auto add_all = [&](const std::vector<SecondSample>& from, size_t shift) {
    for (size_t t = 0; t < from.size(); ++t) {
      const SecondSample& f = from[t];
      SecondSample& to = series[t + shift];
      bool first = to.requests == 0 && to.sent == 0 && to.generator.empty();
      to.requests += f.requests;
      to.errors += f.errors;
      to.bytes_in += f.bytes_in;
      to.target += f.target;
      to.sent += f.sent;
      to.late += f.late;
      to.dropped += f.dropped;
      to.due += f.due;
      to.saturated = to.saturated || f.saturated;
      to.behind = to.behind || f.behind;
      to.generator.insert(to.generator.end(), f.generator.begin(), f.generator.end());
      if (f.server_rss_kib >= 0) to.server_rss_kib = std::max(to.server_rss_kib, f.server_rss_kib);
      if (f.server_cpu_pct >= 0) to.server_cpu_pct = std::max(to.server_cpu_pct, f.server_cpu_pct);
      // Per-second percentiles of folded seconds cannot be merged exactly: the worse is kept.
      // (Unfolded seconds get theirs from the merged histogram.)
      to.p50_ms = first ? f.p50_ms : std::max(to.p50_ms, f.p50_ms);
      to.p90_ms = first ? f.p90_ms : std::max(to.p90_ms, f.p90_ms);
      to.p99_ms = first ? f.p99_ms : std::max(to.p99_ms, f.p99_ms);
      to.max_ms = std::max(to.max_ms, f.max_ms);
      if (f.span > 0) series[(t + shift) / span * span].latency.merge(f.latency);
    }
  };
  add_all(into.series, into_shift);
  add_all(o.series, o_shift);
  for (size_t t = 0; t < series.size(); ++t) {
    series[t].span =
        t % span == 0 ? static_cast<uint32_t>(std::min<size_t>(span, series.size() - t)) : 0;
    if (series[t].span == 1) series[t].compute_percentiles();
  }
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
  into.scheduled += o.scheduled;
  into.sent_in_window += o.sent_in_window;
  into.window_s = std::max(into.window_s, o.window_s);
  into.series_bytes += o.series_bytes;
  into.series_budget += o.series_budget;
  into.thresholds.clear();  // re-evaluated on the merged numbers
  assess_health(into);
}

}  // namespace sluice::load
