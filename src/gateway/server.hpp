// Runs the gateway: workers, admin listener, signals and graceful shutdown.
#pragma once

#include "gateway/config.hpp"

namespace sluice::gateway {

// Blocks until SIGTERM or SIGINT has drained the gateway. Returns the process exit status.
int run_server(const GatewayConfig& config);

}  // namespace sluice::gateway
