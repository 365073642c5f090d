#include "backend/cli.hpp"

#include <cstdio>

#include "backend/options.hpp"
#include "backend/server.hpp"

namespace sluice::backend {

void add_commands(CLI::App& app, int& exit_code) {
  auto* b = app.add_subcommand("backend", "Run the deliberately slow reference backend");
  // Values are taken as text and checked by parse_options, for one clear line per mistake.
  auto raw = std::make_shared<RawOptions>();
  b->add_option("--listen", raw->listen, "HOST:PORT of the first instance")
      ->type_name("HOST:PORT")
      ->capture_default_str();
  b->add_option("--instances", raw->instances, "Instances on consecutive ports")
      ->type_name("N")
      ->capture_default_str();
  b->add_option("--latency", raw->latency, "Mean service time (a timer wait, not CPU)")
      ->type_name("DURATION")
      ->capture_default_str();
  b->add_option("--latency-dist", raw->latency_dist,
                "Service time distribution: lognormal (sigma 0.5), exponential or fixed")
      ->type_name("NAME")
      ->capture_default_str();
  b->add_option("--add-latency", raw->add_latency, "Fixed service time added to every request")
      ->type_name("DURATION")
      ->capture_default_str();
  b->add_option("--cpu-work", raw->cpu_work, "Busy loop per request, on the event loop")
      ->type_name("DURATION")
      ->capture_default_str();
  b->add_option("--max-concurrency", raw->max_concurrency,
                "Requests in service per instance; the rest wait in a FIFO queue")
      ->type_name("N")
      ->capture_default_str();
  b->add_option("--threads", raw->threads, "Event loop threads (instances are spread over them)")
      ->type_name("N")
      ->capture_default_str();
  b->add_option("--seed", raw->seed, "Seed of the service time generator (default: random)")
      ->type_name("N");
  b->add_flag("--no-keepalive", raw->no_keepalive, "Close the connection after every response");
  b->allow_extras();
  b->callback([b, raw, &exit_code] {
    if (!b->remaining().empty()) {
      std::fprintf(stderr, "sluice backend: unknown argument '%s' (see sluice backend --help)\n",
                   b->remaining().front().c_str());
      exit_code = 2;
      return;
    }
    Options options;
    if (auto error = parse_options(*raw, options)) {
      std::fprintf(stderr, "sluice backend: %s\n", error->c_str());
      exit_code = 2;
      return;
    }
    try {
      exit_code = run_backend(options);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "sluice backend: %s\n", e.what());
      exit_code = 1;
    }
  });
}

}  // namespace sluice::backend
