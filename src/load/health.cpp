#include "load/health.hpp"

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>

namespace sluice::load {
namespace {

int64_t thread_cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

std::string printf_string(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
std::string printf_string(const char* fmt, ...) {
  char buf[320];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  return buf;
}

// Completions over sends in the seconds where the run was in its steady state: after the first
// second (plus the fastest response time, for slow services) and before the schedule ended. A
// server that keeps up answers as many as were sent; one that does not falls behind here even
// when every send left on time. 1 when no such second exists (runs under two seconds).
double steady_completion_ratio(const RunResult& r) {
  double min_latency_s = static_cast<double>(r.latency.min()) / 1e9;
  size_t skip = 1 + static_cast<size_t>(min_latency_s);
  size_t end = std::min(r.series.size(), static_cast<size_t>(r.window_s + 1e-9));
  uint64_t sent = 0, completed = 0;
  for (size_t t = skip; t < end; ++t) {
    sent += r.series[t].sent;
    completed += r.series[t].requests - std::min(r.series[t].requests, r.series[t].dropped);
  }
  if (sent == 0) return 1;
  return std::min(1.0, static_cast<double>(completed) / static_cast<double>(sent));
}

}  // namespace

ThreadClock::~ThreadClock() {
  if (schedstat_fd_ >= 0) ::close(schedstat_fd_);
}

void ThreadClock::start(int64_t now_ns) {
  // Kept open: one pread a second, no allocation. Absent on kernels without schedstats.
  schedstat_fd_ = ::open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);
  last_wall_ = now_ns;
  last_cpu_ = thread_cpu_ns();
  if (!read_wait(last_wait_, last_runs_)) last_wait_ = -1;
}

bool ThreadClock::read_wait(int64_t& wait_ns, int64_t& runs) {
  if (schedstat_fd_ < 0) return false;
  char buf[96];
  ssize_t n = ::pread(schedstat_fd_, buf, sizeof buf - 1, 0);
  if (n <= 0) return false;
  buf[n] = '\0';
  // "<ns on a CPU> <ns waiting on a run queue> <timeslices>"
  char* end = nullptr;
  std::strtoll(buf, &end, 10);
  if (end == buf) return false;
  char* after = nullptr;
  long long wait = std::strtoll(end, &after, 10);
  if (after == end) return false;
  char* last = nullptr;
  long long slices = std::strtoll(after, &last, 10);
  wait_ns = wait;
  runs = last == after ? 0 : slices;
  return true;
}

ThreadSecond ThreadClock::sample(int64_t now_ns, int64_t lag_ns, int64_t stalled_ns) {
  ThreadSecond s;
  int64_t wall = now_ns - last_wall_;
  int64_t cpu = thread_cpu_ns();
  int64_t wait = -1, runs = 0;
  bool have_wait = last_wait_ >= 0 && read_wait(wait, runs);
  // Shares are clamped: the kernel books a long wait when it ends, and seconds that follow a
  // stall are short (their ticks were overdue), so raw ratios can exceed 100 %.
  auto share = [&](int64_t part) {
    return static_cast<float>(
        std::clamp(100.0 * static_cast<double>(part) / static_cast<double>(wall), 0.0, 100.0));
  };
  if (wall > 0) {
    s.cpu_pct = share(cpu - last_cpu_);
    if (have_wait) s.wait_pct = share(wait - last_wait_);
  }
  int64_t wakeups = have_wait ? runs - last_runs_ : 0;
  if (wakeups > 0)
    s.sched_delay_ms = static_cast<float>(static_cast<double>(wait - last_wait_) /
                                          static_cast<double>(wakeups) / 1e6);
  s.lag_ms = static_cast<float>(static_cast<double>(lag_ns) / 1e6);
  s.stalled_ms = static_cast<float>(static_cast<double>(stalled_ns) / 1e6);
  bool judged = wall >= kMinJudgedWindowNs;
  s.saturated = (judged && s.cpu_pct >= kSaturatedCpuPct) ||
                (judged && wakeups >= kMinJudgedWakeups && s.sched_delay_ms >= kMaxSchedDelayMs) ||
                s.stalled_ms >= kMaxStalledMs;
  last_wall_ = now_ns;
  last_cpu_ = cpu;
  last_wait_ = have_wait ? wait : -1;
  last_runs_ = runs;
  return s;
}

bool second_behind(double due, uint64_t sent, int threads, bool poisson) {
  if (due <= 0) return false;
  double allowed = (1 - kMinAchievedRatio) * due + threads + (poisson ? 3 * std::sqrt(due) : 0);
  return static_cast<double>(sent) + allowed < due;
}

std::string generator_advice() {
  return "add threads (-t) or generator machines (sluice merge)";
}

uint32_t series_span(const RunResult& r) {
  uint32_t span = 1;
  for (auto& s : r.series)
    span = std::max(span, s.span);
  return span;
}

void assess_health(RunResult& r) {
  Health h;
  uint64_t late = 0;
  for (size_t t = 0; t < r.series.size(); ++t) {
    const SecondSample& s = r.series[t];
    h.saturated_seconds += s.saturated;
    h.untrustworthy_seconds += !s.trustworthy();
    late += s.late;
    // The closing partial second is too short to judge shares: it does not set the maxima.
    if (t + 1 == r.series.size() && t > 0) continue;
    for (size_t i = 0; i < s.generator.size(); ++i) {
      const ThreadSecond& g = s.generator[i];
      if (g.cpu_pct > h.max_cpu_pct) {
        h.max_cpu_pct = g.cpu_pct;
        h.busiest_thread = static_cast<int>(i);
      }
      h.max_wait_pct = std::max<double>(h.max_wait_pct, g.wait_pct);
      h.max_lag_ms = std::max<double>(h.max_lag_ms, g.lag_ms);
      h.max_sched_delay_ms = std::max<double>(h.max_sched_delay_ms, g.sched_delay_ms);
    }
  }
  auto two_decimals = [](double v) { return std::round(v * 100) / 100; };
  h.max_cpu_pct = two_decimals(h.max_cpu_pct);
  h.max_wait_pct = two_decimals(h.max_wait_pct);
  h.max_lag_ms = two_decimals(h.max_lag_ms);
  h.max_sched_delay_ms = std::round(h.max_sched_delay_ms * 1000) / 1000;
  h.dropped = r.error_kinds[static_cast<int>(ErrorKind::dropped)];
  if (r.model == "open" && r.scheduled > 0 && r.window_s > 0) {
    h.target_rps = static_cast<double>(r.scheduled) / r.window_s;
    double sent_ratio = static_cast<double>(r.sent_in_window) / static_cast<double>(r.scheduled);
    h.achieved_ratio = std::min({1.0, sent_ratio, steady_completion_ratio(r)});
    h.achieved_rps = h.target_rps * h.achieved_ratio;
  }
  if (h.saturated_seconds > 0) {
    h.problems.push_back("generator_saturated");
    h.reasons.push_back(
        printf_string("the generator was saturated in %.0f of %.0f seconds (thread CPU up to "
                      "%.0f%%, a wait for a CPU of up to %.2f ms at each wake-up, the event loop "
                      "up to %.0f ms late): ",
                      static_cast<double>(h.saturated_seconds),
                      static_cast<double>(r.series.size()), h.max_cpu_pct, h.max_sched_delay_ms,
                      h.max_lag_ms) +
        "the latency includes the generator's own delays; " + generator_advice());
  }
  if (h.achieved_ratio < kMinAchievedRatio) {
    h.problems.push_back("rate_not_reached");
    std::string why;
    if (h.saturated_seconds > 0)
      why = "the generator could not keep up";
    else if (late > 0 || h.dropped > 0)
      why = "requests waited for a free connection (--max-inflight): the server did not keep up";
    else
      why = "the server answered fewer requests than were sent: it did not keep up";
    h.reasons.push_back(printf_string("achieved %.1f req/s of the %.1f req/s target (%.1f%%, "
                                      "needs %.0f%%): ",
                                      h.achieved_rps, h.target_rps, h.achieved_ratio * 100,
                                      kMinAchievedRatio * 100) +
                        why);
  }
  if (h.dropped > 0) {
    h.problems.push_back("dropped_sends");
    h.reasons.push_back(
        printf_string("%.0f sends were dropped: they waited longer than --timeout for a free "
                      "connection (raise --max-inflight or lower the rate)",
                      static_cast<double>(h.dropped)));
  }
  h.trustworthy = h.problems.empty();
  r.health = std::move(h);
}

}  // namespace sluice::load
