// Access log as JSON lines, buffered per worker and appended with one write(2) per flush.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace sluice::gateway {

struct AccessRecord {
  std::string_view client;
  std::string_view method;
  std::string_view host;
  std::string_view path;
  int status = 0;
  uint64_t bytes_sent = 0;
  int64_t duration_ns = 0;
  std::string_view upstream;  // endpoint name; empty when answered by the gateway
  std::string_view route;
};

class AccessLog {
 public:
  explicit AccessLog(int fd) : fd_(fd) {}
  ~AccessLog() { flush(); }
  bool enabled() const { return fd_ >= 0; }
  void record(const AccessRecord& r);
  void flush();

 private:
  int fd_;
  std::string buf_;
  int64_t cached_second_ = -1;
  char time_prefix_[64] = {};
};

}  // namespace sluice::gateway
