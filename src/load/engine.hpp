// Runs a load plan: one thread per core, each with its own io_context, connections and
// histograms, merged into one RunResult at the end.
#pragma once

#include <asio/ip/tcp.hpp>

#include <functional>
#include <string>
#include <vector>

#include "load/options.hpp"
#include "load/results.hpp"

namespace sluice::load {

struct Plan {
  LoadOptions opts;
  Target target;
  asio::ip::tcp::endpoint endpoint;
  std::vector<RequestSpec> requests;
  std::vector<double> cumulative_weight;  // for weighted picks
  bool open_model = false;
  int threads = 1;
  int connections = 0;  // closed model
  double rate = 0;      // open model
  Duration duration{};  // 0: until the request count is used up
  int max_inflight = 1000;
  size_t series_budget = 0;  // bytes for the per-second histograms (--series-memory)
};

// Resolves the target and fills the derived fields; on error returns an exit code and a message.
int prepare_plan(Plan& plan, std::string& error);

// Runs the plan; `quiet` suppresses the live progress line.
RunResult run_load(const Plan& plan, bool quiet = false);

}  // namespace sluice::load
