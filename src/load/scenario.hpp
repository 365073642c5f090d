// Scenario files (TOML): run settings plus weighted requests with templates and checks.
// See docs/LOAD.md for the format.
#pragma once

#include <string>

#include "load/options.hpp"

namespace sluice::load {

// Reads `path` into `opts` (settings the command line may then override). On failure returns
// false with "FILE:LINE:COL: what" in `error`.
bool load_scenario(const std::string& path, LoadOptions& opts, std::string& error);

}  // namespace sluice::load
