// sluice: one binary, one subcommand per job. Each module registers its own subcommands.
#include <CLI/CLI.hpp>

#include <cstdio>

#include "backend/cli.hpp"
#include "demo/cli.hpp"
#include "gateway/cli.hpp"
#include "load/cli.hpp"

#ifndef SLUICE_VERSION
#define SLUICE_VERSION "dev"
#endif

int main(int argc, char** argv) {
  CLI::App app{"sluice: keeps web services fast under load"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "sluice " SLUICE_VERSION);
  int exit_code = 0;
  sluice::gateway::add_commands(app, exit_code);
  sluice::load::add_commands(app, exit_code);
  sluice::backend::add_commands(app, exit_code);
  sluice::demo::add_commands(app, exit_code);
  auto* help = app.add_subcommand("help", "Show the commands and their options");
  help->callback([&] {
    std::fputs(app.get_formatter()->make_help(&app, "sluice", CLI::AppFormatMode::Normal).c_str(),
               stdout);
    exit_code = 0;
  });
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return exit_code;
}
