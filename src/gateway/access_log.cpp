#include "gateway/access_log.hpp"

#include "common/json_text.hpp"

#include <time.h>
#include <unistd.h>

#include <cstdio>

namespace sluice::gateway {

void AccessLog::record(const AccessRecord& r) {
  if (fd_ < 0) return;
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  if (ts.tv_sec != cached_second_) {
    cached_second_ = ts.tv_sec;
    tm t;
    gmtime_r(&ts.tv_sec, &t);
    std::snprintf(time_prefix_, sizeof time_prefix_, "%04d-%02d-%02dT%02d:%02d:%02d",
                  t.tm_year + 1900, t.tm_mon + 1, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec);
  }
  char num[96];
  buf_ += "{\"time\":\"";
  buf_ += time_prefix_;
  std::snprintf(num, sizeof num, ".%03ldZ\",\"client\":\"", ts.tv_nsec / 1000000);
  buf_ += num;
  append_json_escaped(buf_, r.client);
  buf_ += "\",\"method\":\"";
  append_json_escaped(buf_, r.method);
  buf_ += "\",\"host\":\"";
  append_json_escaped(buf_, r.host);
  buf_ += "\",\"path\":\"";
  append_json_escaped(buf_, r.path);
  std::snprintf(num, sizeof num, "\",\"status\":%d,\"bytes_sent\":%llu,\"duration_ms\":%.3f",
                r.status, static_cast<unsigned long long>(r.bytes_sent), r.duration_ns / 1e6);
  buf_ += num;
  buf_ += ",\"upstream\":\"";
  append_json_escaped(buf_, r.upstream);
  buf_ += "\",\"route\":\"";
  append_json_escaped(buf_, r.route);
  buf_ += "\"}\n";
  if (buf_.size() > 64 * 1024) flush();
}

void AccessLog::flush() {
  size_t off = 0;
  while (off < buf_.size()) {
    ssize_t n = ::write(fd_, buf_.data() + off, buf_.size() - off);
    if (n <= 0) break;
    off += static_cast<size_t>(n);
  }
  buf_.clear();
}

}  // namespace sluice::gateway
