// Standard process metrics from /proc, computed at scrape time.
#pragma once

#include <optional>
#include <string_view>

#include "metrics/registry.hpp"

namespace sluice::metrics {

// process_resident_memory_bytes, process_cpu_seconds_total, process_open_fds,
// process_start_time_seconds (Unix time), as the Prometheus client libraries name them.
void register_process_metrics(Registry& registry);

struct ProcessStats {
  double resident_bytes = 0;
  double cpu_seconds = 0;
  double open_fds = 0;
  double start_time_seconds = 0;
};
// Reads this process's numbers; nullopt when /proc cannot be read.
std::optional<ProcessStats> read_process_stats();

// The fields of a /proc/<pid>/stat line: utime and stime (ticks), starttime (ticks after boot).
struct ProcStat {
  unsigned long long utime = 0, stime = 0, starttime = 0;
};
std::optional<ProcStat> parse_proc_stat(std::string_view line);

}  // namespace sluice::metrics
