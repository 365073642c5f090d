#include "metrics/process.hpp"

#include <dirent.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace sluice::metrics {
namespace {

std::string read_small_file(const char* path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Seconds since the epoch at boot, from the btime line of /proc/stat.
std::optional<double> boot_time() {
  std::ifstream in("/proc/stat");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("btime ", 0) == 0) return std::strtod(line.c_str() + 6, nullptr);
  return std::nullopt;
}

double count_open_fds() {
  DIR* dir = ::opendir("/proc/self/fd");
  if (!dir) return 0;
  double n = 0;
  while (dirent* e = ::readdir(dir))
    if (e->d_name[0] != '.') ++n;
  ::closedir(dir);
  return n - 1;  // the descriptor of the listing itself
}

}  // namespace

std::optional<ProcStat> parse_proc_stat(std::string_view line) {
  // The command name is in parentheses and may hold spaces or ')': fields resume after the last.
  size_t close = line.rfind(')');
  if (close == std::string_view::npos) return std::nullopt;
  std::string rest(line.substr(close + 1));
  std::istringstream in(rest);
  // After the name: state(3) ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt
  // utime(14) stime(15) cutime cstime priority nice num_threads itrealvalue starttime(22).
  std::string field;
  ProcStat st;
  for (int index = 3; index <= 22 && (in >> field); ++index) {
    if (index == 14)
      st.utime = std::strtoull(field.c_str(), nullptr, 10);
    else if (index == 15)
      st.stime = std::strtoull(field.c_str(), nullptr, 10);
    else if (index == 22) {
      st.starttime = std::strtoull(field.c_str(), nullptr, 10);
      return st;
    }
  }
  return std::nullopt;
}

std::optional<ProcessStats> read_process_stats() {
  auto stat = parse_proc_stat(read_small_file("/proc/self/stat"));
  if (!stat) return std::nullopt;
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(::sysconf(_SC_PAGESIZE));
  ProcessStats p;
  p.cpu_seconds = static_cast<double>(stat->utime + stat->stime) / ticks;
  p.start_time_seconds = boot_time().value_or(0) + static_cast<double>(stat->starttime) / ticks;
  unsigned long long size = 0, resident = 0;
  if (std::sscanf(read_small_file("/proc/self/statm").c_str(), "%llu %llu", &size, &resident) == 2)
    p.resident_bytes = static_cast<double>(resident) * page;
  p.open_fds = count_open_fds();
  return p;
}

void register_process_metrics(Registry& registry) {
  using T = MetricType;
  registry.callback("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
                    T::counter, {}, [](CallbackSink& out) {
                      if (auto p = read_process_stats()) out.add(p->cpu_seconds);
                    });
  registry.callback("process_resident_memory_bytes", "Resident memory size in bytes.", T::gauge, {},
                    [](CallbackSink& out) {
                      if (auto p = read_process_stats()) out.add(p->resident_bytes);
                    });
  registry.callback("process_open_fds", "Number of open file descriptors.", T::gauge, {},
                    [](CallbackSink& out) {
                      if (auto p = read_process_stats()) out.add(p->open_fds);
                    });
  // Constant for the life of the process: read once.
  const double start = read_process_stats().value_or(ProcessStats{}).start_time_seconds;
  registry.callback("process_start_time_seconds",
                    "Start time of the process since unix epoch in seconds.", T::gauge, {},
                    [start](CallbackSink& out) { out.add(start); });
}

}  // namespace sluice::metrics
