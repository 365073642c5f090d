// The reference backend's event loop: N instances on consecutive ports, each its own service.
#pragma once

#include "backend/options.hpp"

namespace sluice::backend {

// Serves until SIGTERM or SIGINT; returns the process exit status (0 after a signal).
int run_backend(const Options& options);

}  // namespace sluice::backend
