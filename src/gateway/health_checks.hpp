// Active health checks: one probe loop per endpoint of every upstream with `health`, run on one
// worker. Each loop writes the endpoint's shared `healthy` flag, which every worker's balancer
// reads, so an endpoint failing its probes is taken out of service everywhere.
#pragma once

#include <asio/awaitable.hpp>

#include "common/async.hpp"

namespace sluice::gateway {

class Worker;

// Spawns the probe loops on `worker`; they end when the worker drains.
void start_health_checks(Worker& worker);

}  // namespace sluice::gateway
