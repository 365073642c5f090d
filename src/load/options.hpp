// Everything a load run is told: from the command line, a scenario file, or both.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "common/units.hpp"
#include "load/templates.hpp"

namespace sluice::load {

// Exit statuses of `sluice load`, `compare` and `merge` (documented in docs/LOAD.md).
enum ExitCode : int {
  kExitOk = 0,
  kExitThresholdsFailed = 1,
  kExitUsage = 2,
  kExitBadThreshold = 3,
  kExitBadScenario = 4,
  kExitUnreachable = 5,
  kExitFileError = 6,
  kExitUntrustworthy = 7,  // the generator's numbers cannot be trusted (docs/LOAD.md)
  kExitInternal = 70,
};

struct Target {
  std::string host;
  uint16_t port = 80;
  std::string path = "/";  // with the query
  std::string authority;   // Host header value
};
// "http://host[:port][/path]"; false with a one-line reason otherwise.
bool parse_url(const std::string& text, Target& out, std::string& error);

struct RequestSpec {
  std::string name = "default";
  double weight = 1;
  std::string method = "GET";
  Template target;
  std::vector<std::pair<std::string, Template>> headers;
  Template body;
  bool has_body = false;
  std::vector<int> expect;  // empty: any 2xx
  bool constant = false;    // rendered once, in `prerendered`
  std::string prerendered;
};

struct Stage {
  Duration length{};
  double target = 0;
};

struct LoadOptions {
  std::string url;
  int connections = 0;      // 0 with no rate: the default of 64
  double rate = 0;          // > 0: open model
  bool open_model = false;  // --rate given: stages ramp the rate
  Duration duration{};      // 0: 10 s unless a request count or stages are given
  uint64_t request_count = 0;
  int threads = 0;  // 0: one per core
  std::string method = "GET";
  std::vector<std::string> headers;
  std::string body;
  bool has_body = false;
  Duration timeout = std::chrono::seconds(30);
  std::vector<Stage> stages;
  std::vector<std::string> thresholds;
  bool keepalive = true;
  bool poisson = false;
  int max_inflight = 0;      // open model; 0: 1000
  size_t series_memory = 0;  // 0: the default budget for per-second histograms
  std::string json_file;
  std::string html_file;
  pid_t watch_pid = 0;
  bool progress = true;
  std::vector<RequestSpec> requests;  // from a scenario; empty: one request from the flags
  std::vector<std::string> scenario_thresholds;  // NAME:expr from the scenario
};

// "30s:100,2m:200,30s:0".
bool parse_stages(const std::string& text, std::vector<Stage>& out, std::string& error);
// Target at `t` since the start: linear between stage ends, starting from `initial`.
double stage_target(const std::vector<Stage>& stages, double initial, Duration t);
Duration stages_length(const std::vector<Stage>& stages);
// Change of the target per second at `t` (the slope of the current stage).
double stage_slope(const std::vector<Stage>& stages, double initial, Duration t);

// Renders `spec` as request bytes into `out` (cleared first); `scratch` holds a dynamic body.
void render_request(const RequestSpec& spec, const Target& target, bool close_connection, Rng& rng,
                    std::string& out, std::string& scratch);
// Fills spec.constant / spec.prerendered when nothing in it is dynamic.
void prerender(RequestSpec& spec, const Target& target, bool close_connection);

}  // namespace sluice::load
