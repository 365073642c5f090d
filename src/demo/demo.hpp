// `sluice demo`: a slow reference service measured directly, then through the gateway, with a
// before/after report. Every part runs as a child process of this binary, so the demo uses the
// same commands a user would.
#pragma once

#include <string>

#include "common/units.hpp"

namespace sluice::demo {

struct DemoOptions {
  Duration phase = std::chrono::seconds(20);  // load time of each phase
  int connections = 200;
  int instances = 4;
  int max_concurrency = 10;  // per backend instance
  std::string latency = "20ms";
  std::string json_file;
  std::string html_file;
};

int run_demo(const DemoOptions& options);

}  // namespace sluice::demo
