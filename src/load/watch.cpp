#include "load/watch.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

namespace sluice::load {
namespace {
int64_t mono_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
}  // namespace

ProcessWatch::ProcessWatch(pid_t pid) : pid_(pid) {
  long rss;
  if (pid_ > 0 && read(last_ticks_, rss)) last_ns_ = mono_ns();
}

bool ProcessWatch::read(uint64_t& cpu_ticks, long& rss_kib) {
  std::ifstream stat("/proc/" + std::to_string(pid_) + "/stat");
  std::string text;
  if (!std::getline(stat, text)) return false;
  // The command name may hold spaces: fields are counted after its closing parenthesis.
  size_t close = text.rfind(')');
  if (close == std::string::npos) return false;
  std::istringstream fields(text.substr(close + 2));
  std::string f;
  uint64_t utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> f; ++i) {
    if (i == 14) utime = std::stoull(f);
    if (i == 15) stime = std::stoull(f);
  }
  cpu_ticks = utime + stime;
  std::ifstream statm("/proc/" + std::to_string(pid_) + "/statm");
  long size = 0, resident = 0;
  if (!(statm >> size >> resident)) return false;
  rss_kib = resident * (sysconf(_SC_PAGESIZE) / 1024);
  return true;
}

std::pair<long, double> ProcessWatch::sample() {
  uint64_t ticks;
  long rss;
  if (pid_ <= 0 || !read(ticks, rss)) return {-1, -1};
  int64_t now = mono_ns();
  double cpu = 0;
  if (last_ns_ && now > last_ns_)
    cpu = static_cast<double>(ticks - last_ticks_) / static_cast<double>(sysconf(_SC_CLK_TCK)) /
          (static_cast<double>(now - last_ns_) / 1e9) * 100.0;
  last_ticks_ = ticks;
  last_ns_ = now;
  return {rss, cpu};
}

}  // namespace sluice::load
