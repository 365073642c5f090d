#include "load/cli.hpp"

namespace sluice::load {

void add_commands(CLI::App& app, int& exit_code) {
  auto* load = app.add_subcommand("load", "Generate HTTP load and report latency and throughput");
  load->callback([&] { exit_code = 1; });
}

}  // namespace sluice::load
