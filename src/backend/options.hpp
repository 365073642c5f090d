// Command-line options of `sluice backend`, validated into typed settings.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "backend/latency.hpp"
#include "common/units.hpp"

namespace sluice::backend {

struct Options {
  std::string host = "127.0.0.1";
  uint16_t first_port = 9001;
  int instances = 1;  // listening on first_port .. first_port + instances - 1
  LatencyDist latency_dist = LatencyDist::lognormal;
  Duration latency = std::chrono::milliseconds(20);  // mean service time (a timer wait)
  Duration add_latency{0};                           // fixed extra service time
  Duration cpu_work{0};                              // busy loop per request, in service
  int max_concurrency = 100;                         // requests in service per instance
  bool keepalive = true;
  int threads = 1;
  std::optional<uint64_t> seed;
};

// The options as typed on the command line; every value is checked by parse_options.
struct RawOptions {
  std::string listen = "127.0.0.1:9001";
  std::string instances = "1";
  std::string latency = "20ms";
  std::string latency_dist = "lognormal";
  std::string add_latency = "0ms";
  std::string cpu_work = "0ms";
  std::string max_concurrency = "100";
  std::string threads = "1";
  std::string seed;
  bool no_keepalive = false;
};

// Fills `out` from `raw`; on bad input returns a one-line message naming the option.
std::optional<std::string> parse_options(const RawOptions& raw, Options& out);

// "127.0.0.1:9001", "[::1]:9001", ":9001" (all addresses). False when malformed.
bool parse_listen(const std::string& text, std::string& host, uint16_t& port);

}  // namespace sluice::backend
