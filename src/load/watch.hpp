// Samples another process's resident memory and CPU use from /proc (for --watch-pid).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <utility>

namespace sluice::load {

class ProcessWatch {
 public:
  explicit ProcessWatch(pid_t pid);
  // (RSS in KiB, CPU % since the previous sample); (-1, -1) when the process is gone.
  std::pair<long, double> sample();

 private:
  bool read(uint64_t& cpu_ticks, long& rss_kib);
  pid_t pid_;
  uint64_t last_ticks_ = 0;
  int64_t last_ns_ = 0;
};

}  // namespace sluice::load
