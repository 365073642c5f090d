// Registers the load subcommands on the sluice command line.
#pragma once

#include <CLI/CLI.hpp>

namespace sluice::load {

// Adds this module's subcommands; their callbacks store the process exit status in exit_code.
void add_commands(CLI::App& app, int& exit_code);

}  // namespace sluice::load
