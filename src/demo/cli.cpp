#include "demo/cli.hpp"

#include "demo/demo.hpp"

namespace sluice::demo {

void add_commands(CLI::App& app, int& exit_code) {
  static DemoOptions options;
  static std::string duration = "20s";
  auto* demo = app.add_subcommand(
      "demo", "Measure a slow reference service directly and through the gateway");
  demo->add_option("--duration", duration, "Load time of each phase")->capture_default_str();
  demo->add_option("-c,--connections", options.connections, "Client connections")
      ->capture_default_str()
      ->check(CLI::Range(1, 20000));
  demo->add_option("--json", options.json_file, "Write {\"before\": ..., \"after\": ...} here");
  demo->add_option("--html", options.html_file, "Write the before/after report page here");
  demo->callback([&] {
    auto d = parse_duration(duration);
    if (!d || d->count() <= 0) {
      std::fprintf(stderr, "sluice demo: invalid --duration \"%s\"\n", duration.c_str());
      exit_code = 2;
      return;
    }
    options.phase = *d;
    exit_code = run_demo(options);
  });
}

}  // namespace sluice::demo
