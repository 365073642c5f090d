#include "gateway/cli.hpp"

#include <cstdio>

#include "gateway/config.hpp"
#include "gateway/server.hpp"

namespace sluice::gateway {
namespace {

// Exit status for a configuration that does not validate.
constexpr int kInvalidConfig = 2;

std::optional<GatewayConfig> load_or_report(const std::string& path) {
  config::Diagnostics diag(path);
  auto cfg = load_config(path, diag);
  if (!cfg) std::fputs(diag.render().c_str(), stderr);
  return cfg;
}

}  // namespace

void add_commands(CLI::App& app, int& exit_code) {
  static std::string serve_config, check_config;
  auto* serve = app.add_subcommand("serve", "Run the HTTP gateway");
  serve->add_option("-c,--config", serve_config, "Configuration file (TOML)")->required();
  serve->callback([&] {
    auto cfg = load_or_report(serve_config);
    exit_code = cfg ? run_server(*cfg) : kInvalidConfig;
  });

  auto* check = app.add_subcommand("check", "Validate a configuration file and exit");
  check->add_option("-c,--config", check_config, "Configuration file (TOML)")->required();
  check->callback([&] {
    auto cfg = load_or_report(check_config);
    if (cfg) std::printf("%s: ok\n", check_config.c_str());
    exit_code = cfg ? 0 : kInvalidConfig;
  });
}

}  // namespace sluice::gateway
