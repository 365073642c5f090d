// The outcome of one load run (or of several merged), as measured and as stored in JSON.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "load/histogram.hpp"

namespace sluice::load {

enum class ErrorKind : int {
  connect_refused,
  connect_error,
  timeout,
  reset,
  closed,
  protocol,
  non_2xx,
  check_failed,
  dropped,
  count_
};
constexpr int kErrorKinds = static_cast<int>(ErrorKind::count_);
const char* error_kind_name(ErrorKind kind);
using ErrorCounts = std::array<uint64_t, kErrorKinds>;

// How one generator thread fared in one second, measured by the thread itself.
struct ThreadSecond {
  float cpu_pct = 0;         // CPU time of the thread over the wall time of the second
  float wait_pct = -1;       // time it was runnable but waited for a CPU; -1: not known
  float lag_ms = 0;          // the most any timer of its event loop ran late
  float sched_delay_ms = 0;  // mean wait for a CPU each time it was woken up
  float stalled_ms = 0;      // time its event loop was more than 20 ms behind (10 ms heartbeat)
  bool saturated = false;
};

// One second of the run: what completed in it.
struct SecondSample {
  uint64_t requests = 0;
  uint64_t errors = 0;
  uint64_t bytes_in = 0;
  double target = 0;  // connections or rate aimed at
  // Open model: requests sent in this second, of which late (waited for a free connection) and
  // dropped (waited past --timeout), and the number the schedule asked for in it.
  uint64_t sent = 0, late = 0, dropped = 0;
  double due = 0;
  // The latency histogram of seconds [t, t + span). Long runs fold old seconds into intervals
  // of 2, 4, ... seconds to bound memory: the first second of an interval holds its histogram,
  // the others have span 0 and keep only the percentiles below.
  SparseHistogram latency;
  uint32_t span = 1;
  double p50_ms = 0, p90_ms = 0, p99_ms = 0, max_ms = 0;  // of this second alone
  std::vector<ThreadSecond> generator;                    // one per generator thread
  bool saturated = false;    // a generator thread was saturated in this second
  bool behind = false;       // open model: clearly fewer sends than the schedule asked for
  long server_rss_kib = -1;  // -1: not watched
  double server_cpu_pct = -1;
  bool trustworthy() const { return !saturated && !behind && dropped == 0; }
  // Fills the percentiles from the histogram (when it covers this second alone).
  void compute_percentiles();
};

// Whether the numbers of a run describe the server, or partly the generator (docs/LOAD.md).
struct Health {
  bool trustworthy = true;
  std::vector<std::string> problems;  // generator_saturated, rate_not_reached, dropped_sends
  std::vector<std::string> reasons;   // the same in plain words, with what to do about it
  uint64_t saturated_seconds = 0;
  uint64_t untrustworthy_seconds = 0;
  double max_cpu_pct = 0, max_wait_pct = -1, max_lag_ms = 0, max_sched_delay_ms = 0;
  int busiest_thread = 0;
  double target_rps = 0, achieved_rps = 0, achieved_ratio = 1;  // open model only
  uint64_t dropped = 0;
};

struct NameStats {
  uint64_t requests = 0;
  uint64_t errors = 0;
  Histogram latency;
};

struct ThresholdOutcome {
  std::string expression;
  bool passed = false;
  std::string line;  // "✓ p95 22.0 ms (requirement < 200 ms)"
  double measured = 0;
};

struct RunResult {
  // What was asked.
  std::string url;
  std::string model = "closed";  // closed | open
  int connections = 0;
  double rate = 0;
  int threads = 0;
  int64_t start_unix_ms = 0;
  double duration_s = 0;
  int generators = 1;  // > 1 after a merge

  // What was measured.
  uint64_t requests = 0;  // completed, successfully or not
  uint64_t errors = 0;
  ErrorCounts error_kinds{};
  std::map<int, uint64_t> statuses;
  uint64_t bytes_in = 0;
  uint64_t bytes_out = 0;
  uint64_t late = 0;
  uint64_t cache_hits = 0;
  uint64_t cache_misses = 0;
  Histogram latency;       // from the intended send time (coordinated-omission corrected)
  Histogram service_time;  // from the actual send time
  Histogram connect_time;  // new connections only
  std::map<std::string, NameStats> by_name;
  std::vector<SecondSample> series;
  std::vector<ThresholdOutcome> thresholds;
  // Open model, for the achieved-rate check (sums across threads and generators): arrivals the
  // schedule put before its end, how many of them were sent before it, and its length.
  uint64_t scheduled = 0;
  uint64_t sent_in_window = 0;
  double window_s = 0;
  size_t series_bytes = 0;  // heap bytes of the per-second histograms at the end of the run
  size_t series_budget = 0;
  Health health;

  double rps() const { return duration_s > 0 ? static_cast<double>(requests) / duration_s : 0; }
  double error_ratio() const {
    return requests ? static_cast<double>(errors) / static_cast<double>(requests) : 0;
  }
  long max_server_rss_kib() const;
  bool thresholds_passed() const;
};

// Adds `other` into `into`: counters summed, histograms merged bin by bin, series aligned on
// wall-clock seconds (generators running side by side).
void merge_into(RunResult& into, const RunResult& other);

// Fills r.health from the series and counters (after a run, a merge or reading a file).
void assess_health(RunResult& r);
// Seconds covered by the histogram resolution of the series (1 unless folded).
uint32_t series_span(const RunResult& r);

std::string to_json(const RunResult& r);
// Reads a file written by to_json; on failure returns false with a one-line reason.
bool from_json(const std::string& text, RunResult& out, std::string& error);

// "22.0 ms" / "0.412 ms" / "1.50 s": latency for people.
std::string format_ms(double ns);

}  // namespace sluice::load
