// Registers `sluice demo`.
#pragma once

#include <CLI/CLI.hpp>

namespace sluice::demo {

void add_commands(CLI::App& app, int& exit_code);

}  // namespace sluice::demo
