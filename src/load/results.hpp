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

// One second of the run: what completed in it.
struct SecondSample {
  uint64_t requests = 0;
  uint64_t errors = 0;
  uint64_t bytes_in = 0;
  double target = 0;  // connections or rate aimed at
  SparseHistogram latency;
  long server_rss_kib = -1;  // -1: not watched
  double server_cpu_pct = -1;
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

std::string to_json(const RunResult& r);
// Reads a file written by to_json; on failure returns false with a one-line reason.
bool from_json(const std::string& text, RunResult& out, std::string& error);

// "22.0 ms" / "0.412 ms" / "1.50 s": latency for people.
std::string format_ms(double ns);

}  // namespace sluice::load
