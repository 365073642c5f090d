#include "backend/cli.hpp"

namespace sluice::backend {

void add_commands(CLI::App& app, int& exit_code) {
  auto* b = app.add_subcommand("backend", "Run the deliberately slow reference backend");
  b->callback([&] { exit_code = 1; });
}

}  // namespace sluice::backend
