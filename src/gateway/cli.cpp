#include "gateway/cli.hpp"

namespace sluice::gateway {

void add_commands(CLI::App& app, int& exit_code) {
  auto* serve = app.add_subcommand("serve", "Run the HTTP gateway");
  serve->callback([&] { exit_code = 1; });
}

}  // namespace sluice::gateway
