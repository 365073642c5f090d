// The text summary printed after a run.
#pragma once

#include <string>

#include "load/results.hpp"

namespace sluice::load {

std::string text_summary(const RunResult& r);

}  // namespace sluice::load
