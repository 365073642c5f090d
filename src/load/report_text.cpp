#include "load/report_text.hpp"

#include <algorithm>
#include <cstdarg>
#include <cstdio>

namespace sluice::load {
namespace {

void appendf(std::string& out, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
void appendf(std::string& out, const char* fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  out += buf;
}

std::string ms(uint64_t ns) {
  return format_ms(static_cast<double>(ns));
}

std::string bytes_text(uint64_t b) {
  char buf[32];
  if (b >= (1ULL << 30))
    std::snprintf(buf, sizeof buf, "%.2f GiB", static_cast<double>(b) / (1ULL << 30));
  else if (b >= (1ULL << 20))
    std::snprintf(buf, sizeof buf, "%.2f MiB", static_cast<double>(b) / (1ULL << 20));
  else if (b >= 1024)
    std::snprintf(buf, sizeof buf, "%.1f KiB", static_cast<double>(b) / 1024);
  else
    std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(b));
  return buf;
}

// One line on the generator itself, then, when the run cannot be trusted, why in plain words.
void append_generator(std::string& out, const RunResult& r) {
  const Health& h = r.health;
  bool measured = false;
  for (auto& sec : r.series)
    measured = measured || !sec.generator.empty();
  if (measured) {
    appendf(out, "  generator  CPU max %.0f%% (thread %d)", h.max_cpu_pct, h.busiest_thread);
    if (h.max_wait_pct >= 0)
      appendf(out, ", waited for a CPU max %.0f%% (%.2f ms a wake-up)", h.max_wait_pct,
              h.max_sched_delay_ms);
    appendf(out, ", event loop late max %.1f ms", h.max_lag_ms);
    if (h.saturated_seconds)
      appendf(out, ": SATURATED in %llu of %zu s\n",
              static_cast<unsigned long long>(h.saturated_seconds), r.series.size());
    else
      out += ": healthy\n";
  }
  if (h.trustworthy) return;
  out += "  NOT TRUSTWORTHY: these numbers describe the generator as much as the server\n";
  for (auto& reason : h.reasons)
    out += "    - " + reason + "\n";
}

}  // namespace

std::string text_summary(const RunResult& r) {
  std::string out;
  using ull = unsigned long long;
  if (r.model == "open")
    appendf(out, "%s: open model at %.0f req/s, %d threads, %.2f s\n", r.url.c_str(), r.rate,
            r.threads, r.duration_s);
  else
    appendf(out, "%s: %d connections, %d threads, %.2f s\n", r.url.c_str(), r.connections,
            r.threads, r.duration_s);
  appendf(out, "  requests   %llu (%.1f/s), errors %llu (%.2f%%)\n", static_cast<ull>(r.requests),
          r.rps(), static_cast<ull>(r.errors), r.error_ratio() * 100);
  const Histogram& h = r.latency;
  appendf(out, "  latency    p50 %s  p90 %s  p95 %s  p99 %s  p99.9 %s  max %s\n",
          ms(h.value_at(50)).c_str(), ms(h.value_at(90)).c_str(), ms(h.value_at(95)).c_str(),
          ms(h.value_at(99)).c_str(), ms(h.value_at(99.9)).c_str(), ms(h.max()).c_str());
  appendf(out, "             mean %s  stdev %s\n", format_ms(h.mean()).c_str(),
          format_ms(h.stdev()).c_str());
  const Histogram& s = r.service_time;
  appendf(out, "  service    p50 %s  p90 %s  p95 %s  p99 %s  p99.9 %s  max %s\n",
          ms(s.value_at(50)).c_str(), ms(s.value_at(90)).c_str(), ms(s.value_at(95)).c_str(),
          ms(s.value_at(99)).c_str(), ms(s.value_at(99.9)).c_str(), ms(s.max()).c_str());
  if (r.model == "open") {
    out +=
        "             (latency counts from the scheduled send, corrected for coordinated "
        "omission;\n              service time from the actual send, uncorrected)\n";
    appendf(out, "  late sends %llu (waited for a free connection at --max-inflight)\n",
            static_cast<ull>(r.late));
    if (r.health.target_rps > 0)
      appendf(out, "  achieved   %.1f/s of the %.1f/s target (%.1f%%)\n", r.health.achieved_rps,
              r.health.target_rps, r.health.achieved_ratio * 100);
  } else {
    out +=
        "             (closed model: each request is sent when the previous answer arrived, so\n"
        "              latency is the service time plus any connect; --rate corrects for "
        "coordinated omission)\n";
  }
  append_generator(out, r);
  if (r.connect_time.count())
    appendf(out, "  connect    p50 %s  p99 %s  max %s (%llu new connections)\n",
            ms(r.connect_time.value_at(50)).c_str(), ms(r.connect_time.value_at(99)).c_str(),
            ms(r.connect_time.max()).c_str(), static_cast<ull>(r.connect_time.count()));
  out += "  status    ";
  for (auto& [code, n] : r.statuses)
    appendf(out, " %d: %llu", code, static_cast<ull>(n));
  if (r.statuses.empty()) out += " none";
  out += "\n";
  if (r.errors) {
    out += "  errors    ";
    for (int i = 0; i < kErrorKinds; ++i)
      if (r.error_kinds[i])
        appendf(out, " %s: %llu", error_kind_name(static_cast<ErrorKind>(i)),
                static_cast<ull>(r.error_kinds[i]));
    out += "\n";
  }
  appendf(out, "  bytes      received %s, sent %s\n", bytes_text(r.bytes_in).c_str(),
          bytes_text(r.bytes_out).c_str());
  if (r.cache_hits + r.cache_misses)
    appendf(out, "  cache      hit ratio %.1f%% (%llu hits, %llu misses)\n",
            100.0 * static_cast<double>(r.cache_hits) /
                static_cast<double>(r.cache_hits + r.cache_misses),
            static_cast<ull>(r.cache_hits), static_cast<ull>(r.cache_misses));
  if (long rss = r.max_server_rss_kib(); rss >= 0) {
    double cpu_max = 0;
    for (auto& s : r.series)
      cpu_max = std::max(cpu_max, s.server_cpu_pct);
    appendf(out, "  server     max RSS %.1f MiB, max CPU %.0f%%\n", static_cast<double>(rss) / 1024,
            cpu_max);
  }
  if (r.by_name.size() > 1 || (r.by_name.size() == 1 && r.by_name.begin()->first != "default")) {
    out += "  by request\n";
    for (auto& [name, s] : r.by_name)
      appendf(out, "    %-16s %8llu  %5.1f%%  errors %llu  p50 %s  p95 %s  p99 %s\n", name.c_str(),
              static_cast<ull>(s.requests),
              r.requests ? 100.0 * static_cast<double>(s.requests) / static_cast<double>(r.requests)
                         : 0.0,
              static_cast<ull>(s.errors), ms(s.latency.value_at(50)).c_str(),
              ms(s.latency.value_at(95)).c_str(), ms(s.latency.value_at(99)).c_str());
  }
  if (!r.thresholds.empty()) {
    out += "  thresholds\n";
    for (auto& t : r.thresholds)
      out += "    " + t.line + "\n";
  }
  return out;
}

}  // namespace sluice::load
