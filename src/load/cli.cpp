#include "load/cli.hpp"

#include <cstdio>
#include <fstream>
#include <sstream>

#include "load/capacity.hpp"
#include "load/compare.hpp"
#include "load/engine.hpp"
#include "load/fail_if.hpp"
#include "load/report_html.hpp"
#include "load/report_text.hpp"
#include "load/scenario.hpp"
#include "load/thresholds.hpp"

namespace sluice::load {
namespace {

struct LoadFlags {
  std::string url, duration, timeout, stages, body, scenario, arrival, slo, json, html, method;
  std::string series_memory;
  bool allow_saturated = false;
  int connections = 0, threads = 0, max_inflight = 0;
  double rate = 0;
  uint64_t requests = 0;
  std::vector<std::string> headers, thresholds;
  bool no_keepalive = false, find_capacity = false, quiet = false;
  int watch_pid = 0;
};

int fail(const char* cmd, int code, const std::string& message) {
  std::fprintf(stderr, "sluice %s: %s\n", cmd, message.c_str());
  return code;
}

// A failed threshold wins; otherwise a run with pass/fail conditions whose numbers cannot be
// trusted does not pass, unless the caller accepts that.
int verdict(const char* cmd, bool conditions, bool passed,
            const std::vector<const RunResult*>& runs, bool allow_saturated) {
  if (!passed) return kExitThresholdsFailed;
  if (!conditions || allow_saturated) return kExitOk;
  for (auto* r : runs)
    if (!r->health.trustworthy)
      return fail(cmd, kExitUntrustworthy,
                  "the result is not trustworthy (see above); --allow-saturated accepts it");
  return kExitOk;
}

bool read_text(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::stringstream s;
  s << in.rdbuf();
  out = s.str();
  return true;
}

bool write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  return static_cast<bool>(out.flush());
}

// Scenario first, then every flag given on the command line on top of it.
int build_options(CLI::App& cmd, const LoadFlags& f, LoadOptions& o, std::string& error) {
  if (!f.scenario.empty() && !load_scenario(f.scenario, o, error)) return kExitBadScenario;
  auto given = [&](const char* name) { return cmd.count(name) > 0; };
  if (!f.url.empty()) o.url = f.url;
  if (o.url.empty()) {
    error = "missing URL (sluice load URL, or url = ... in the scenario)";
    return kExitUsage;
  }
  if (given("--connections") && given("--rate")) {
    error = "-c and --rate exclude each other (closed or open model)";
    return kExitUsage;
  }
  if (given("--duration") && given("--requests")) {
    error = "-d and -n exclude each other";
    return kExitUsage;
  }
  if (given("--connections")) {
    if (f.connections < 1) return error = "-c must be at least 1", kExitUsage;
    o.connections = f.connections;
    o.rate = 0;
    o.open_model = false;
  }
  if (given("--rate")) {
    if (f.rate <= 0 && !given("--stages")) return error = "--rate must be above 0", kExitUsage;
    o.rate = f.rate;
    o.open_model = true;
  }
  if (given("--arrival")) {
    if (f.arrival != "constant" && f.arrival != "poisson")
      return error = "--arrival must be constant or poisson", kExitUsage;
    o.poisson = f.arrival == "poisson";
  }
  if (given("--max-inflight")) {
    if (f.max_inflight < 1) return error = "--max-inflight must be at least 1", kExitUsage;
    o.max_inflight = f.max_inflight;
  }
  if (given("--duration")) {
    auto d = parse_duration(f.duration);
    if (!d || d->count() <= 0)
      return error = "bad duration '" + f.duration + "' (e.g. 10s, 2m)", kExitUsage;
    o.duration = *d;
    o.request_count = 0;
  }
  if (given("--requests")) {
    if (f.requests == 0) return error = "-n must be at least 1", kExitUsage;
    o.request_count = f.requests;
    o.duration = {};
  }
  if (given("--threads")) {
    if (f.threads < 1 || f.threads > 1024) return error = "-t must be 1..1024", kExitUsage;
    o.threads = f.threads;
  }
  if (given("--timeout")) {
    auto d = parse_duration(f.timeout);
    if (!d || d->count() <= 0) return error = "bad --timeout '" + f.timeout + "'", kExitUsage;
    o.timeout = *d;
  }
  if (given("--stages") && !parse_stages(f.stages, o.stages, error)) return kExitUsage;
  if (given("--method")) {
    for (char c : f.method)
      if (c < 'A' || c > 'Z') return error = "bad method '" + f.method + "'", kExitUsage;
    o.method = f.method;
  }
  if (given("--header")) o.headers = f.headers;
  if (given("--body")) {
    o.has_body = true;
    o.body = f.body;
    if (f.body.starts_with("@") && !read_text(f.body.substr(1), o.body))
      return error = "cannot read body file " + f.body.substr(1), kExitFileError;
  }
  if (!o.requests.empty() && (given("--method") || given("--header") || given("--body"))) {
    error = "-m, -H and --body describe a single request; a scenario has its own";
    return kExitUsage;
  }
  for (auto& t : f.thresholds)
    o.thresholds.push_back(t);
  if (f.no_keepalive) o.keepalive = false;
  if (given("--json")) o.json_file = f.json;
  if (given("--html")) o.html_file = f.html;
  if (given("--watch-pid")) o.watch_pid = f.watch_pid;
  if (given("--series-memory")) {
    auto size = parse_size(f.series_memory);
    if (!size || *size < (64u << 10))
      return error = "bad --series-memory '" + f.series_memory + "' (at least 64KiB, e.g. 64MiB)",
             kExitUsage;
    o.series_memory = *size;
  }
  o.progress = !f.quiet;
  return kExitOk;
}

int run_load_command(CLI::App& cmd, const LoadFlags& f) {
  LoadOptions o;
  std::string error;
  if (int rc = build_options(cmd, f, o, error); rc != kExitOk) return fail("load", rc, error);
  std::vector<Threshold> thresholds;
  for (auto& t : o.thresholds)
    if (!parse_threshold_list(t, thresholds, error)) return fail("load", kExitBadThreshold, error);
  for (auto& t : o.scenario_thresholds)
    if (!parse_threshold_list(t, thresholds, error)) return fail("load", kExitBadScenario, error);
  std::vector<Threshold> slo;
  if (f.find_capacity) {
    if (f.slo.empty())
      return fail("load", kExitUsage, "--find-capacity needs --slo 'p95<200ms,...'");
    if (!parse_threshold_list(f.slo, slo, error)) return fail("load", kExitBadThreshold, error);
  } else if (!f.slo.empty()) {
    return fail("load", kExitUsage, "--slo goes with --find-capacity");
  }
  Plan plan;
  plan.opts = o;
  if (f.find_capacity) plan.opts.open_model = true, plan.opts.rate = std::max(o.rate, 1.0);
  if (int rc = prepare_plan(plan, error); rc != kExitOk) return fail("load", rc, error);
  if (f.find_capacity) {
    CapacityReport report = find_capacity(plan, slo);
    std::fputs(capacity_text(report).c_str(), stdout);
    std::fflush(stdout);
    if (!o.json_file.empty() && !write_text(o.json_file, capacity_json(report)))
      return fail("load", kExitFileError, "cannot write " + o.json_file);
    if (!o.html_file.empty() && !write_text(o.html_file, capacity_html(report)))
      return fail("load", kExitFileError, "cannot write " + o.html_file);
    if (report.generator_limited() && !f.allow_saturated)
      return fail("load", kExitUntrustworthy,
                  "the generator was the limit, not the server; --allow-saturated accepts the "
                  "lower bound");
    return report.found ? kExitOk : kExitThresholdsFailed;
  }
  RunResult r = run_load(plan);
  evaluate_all(thresholds, r);
  std::fputs(text_summary(r).c_str(), stdout);
  std::fflush(stdout);
  if (!o.json_file.empty() && !write_text(o.json_file, to_json(r)))
    return fail("load", kExitFileError, "cannot write " + o.json_file);
  if (!o.html_file.empty() && !write_text(o.html_file, html_report(r)))
    return fail("load", kExitFileError, "cannot write " + o.html_file);
  return verdict("load", !thresholds.empty(), r.thresholds_passed(), {&r}, f.allow_saturated);
}

bool read_result(const std::string& path, RunResult& r, std::string& error) {
  std::string text;
  if (!read_text(path, text)) {
    error = "cannot read " + path;
    return false;
  }
  if (!from_json(text, r, error)) {
    error = path + ": " + error;
    return false;
  }
  return true;
}

struct CompareArgs {
  std::vector<std::string> files, gates;
  std::string html;
  bool allow_saturated = false;
};

int run_compare(const CompareArgs& args) {
  std::vector<Gate> gates;
  std::string error;
  for (auto& text : args.gates) {
    auto g = parse_gate(text, error);
    if (!g) return fail("compare", kExitBadThreshold, error);
    gates.push_back(std::move(*g));
  }
  RunResult before, after;
  if (!read_result(args.files[0], before, error) || !read_result(args.files[1], after, error))
    return fail("compare", kExitFileError, error);
  Comparison c = compare_runs(before, after, gates);
  std::fputs(compare_text(before, after, c).c_str(), stdout);
  std::fflush(stdout);
  if (!args.html.empty() && !write_text(args.html, compare_html(before, after, c)))
    return fail("compare", kExitFileError, "cannot write " + args.html);
  return verdict("compare", !gates.empty(), !c.any_fired(), {&before, &after},
                 args.allow_saturated);
}

int run_merge(const std::vector<std::string>& inputs, const std::string& out,
              const std::string& html, const std::vector<std::string>& threshold_texts,
              bool allow_saturated) {
  std::vector<Threshold> thresholds;
  std::string error;
  for (auto& t : threshold_texts)
    if (!parse_threshold_list(t, thresholds, error)) return fail("merge", kExitBadThreshold, error);
  RunResult merged;
  merged.generators = 0;
  for (auto& path : inputs) {
    RunResult r;
    if (!read_result(path, r, error)) return fail("merge", kExitFileError, error);
    merge_into(merged, r);
  }
  evaluate_all(thresholds, merged);
  std::fputs(text_summary(merged).c_str(), stdout);
  if (!out.empty() && !write_text(out, to_json(merged)))
    return fail("merge", kExitFileError, "cannot write " + out);
  if (!html.empty() && !write_text(html, html_report(merged)))
    return fail("merge", kExitFileError, "cannot write " + html);
  return verdict("merge", !thresholds.empty(), merged.thresholds_passed(), {&merged},
                 allow_saturated);
}

}  // namespace

void add_commands(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<LoadFlags>();
  auto* load = app.add_subcommand("load", "Generate HTTP load and report latency and throughput");
  auto& f = *flags;
  load->add_option("url", f.url, "Target, http://host[:port]/path");
  load->add_option("-c,--connections", f.connections, "Closed model: keep-alive connections");
  load->add_option("--rate", f.rate, "Open model: requests per second, whatever the server does");
  load->add_option("--arrival", f.arrival, "Open model arrivals: constant (default) or poisson");
  load->add_option("--max-inflight", f.max_inflight, "Open model: most requests in flight (1000)");
  load->add_option("-d,--duration", f.duration, "How long to run (10s by default)");
  load->add_option("-n,--requests", f.requests, "How many requests to send");
  load->add_option("-t,--threads", f.threads, "Threads (one per core by default)");
  load->add_option("-m,--method", f.method, "Request method (GET)");
  load->add_option("-H,--header", f.headers, "Request header 'Name: value' (repeatable)")
      ->allow_extra_args(false);
  load->add_option("--body", f.body, "Request body: TEXT, or @FILE");
  load->add_option("--timeout", f.timeout, "Per-request timeout (30s)");
  load->add_option("--stages", f.stages, "Ramp the target linearly: '30s:100,2m:200,30s:0'");
  load->add_option("--threshold", f.thresholds,
                   "Pass/fail condition, e.g. 'p95<200ms' (repeatable)")
      ->allow_extra_args(false);
  load->add_flag("--no-keepalive", f.no_keepalive, "A new connection per request");
  load->add_option("--json", f.json, "Write the full result as JSON");
  load->add_option("--html", f.html, "Write a self-contained HTML report");
  load->add_option("--watch-pid", f.watch_pid, "Sample this process's RSS and CPU each second");
  load->add_flag("--find-capacity", f.find_capacity, "Find the highest rate that meets --slo");
  load->add_option("--slo", f.slo, "SLO for --find-capacity: 'p95<200ms,errors<1%'");
  load->add_option("--scenario", f.scenario, "Scenario file (TOML)");
  load->add_flag("-q,--quiet", f.quiet, "No live progress line");
  load->add_flag("--allow-saturated", f.allow_saturated,
                 "Pass thresholds even when the generator's numbers cannot be trusted");
  load->add_option("--series-memory", f.series_memory,
                   "Memory for the per-second histograms before old seconds are merged (64MiB)");
  load->callback([load, flags, &exit_code] {
    try {
      exit_code = run_load_command(*load, *flags);
    } catch (const std::exception& e) {
      exit_code = fail("load", kExitInternal, e.what());
    }
  });

  auto c = std::make_shared<CompareArgs>();
  auto* compare = app.add_subcommand("compare", "Before/after table of two load results (JSON)");
  compare->add_option("files", c->files, "BEFORE.json AFTER.json")->required()->expected(2);
  compare->add_option("--html", c->html, "Also write the comparison as HTML");
  compare
      ->add_option("--fail-if", c->gates,
                   "Exit 1 on a regression beyond noise, e.g. 'p99>+10%' (repeatable)")
      ->allow_extra_args(false);
  compare->add_flag("--allow-saturated", c->allow_saturated,
                    "Judge the gates even when a run's numbers cannot be trusted");
  compare->callback([c, &exit_code] {
    try {
      exit_code = run_compare(*c);
    } catch (const std::exception& e) {
      exit_code = fail("compare", kExitInternal, e.what());
    }
  });

  struct MergeArgs {
    std::vector<std::string> inputs, thresholds;
    std::string json, html;
    bool allow_saturated = false;
  };
  auto m = std::make_shared<MergeArgs>();
  auto* merge = app.add_subcommand("merge", "Combine load results from several generators exactly");
  merge->add_option("files", m->inputs, "Result files (JSON)")->required();
  merge->add_option("--json", m->json, "Write the merged result here");
  merge->add_option("--html", m->html, "Write an HTML report of the merged result");
  merge->add_option("--threshold", m->thresholds, "Evaluate on the merged result (repeatable)")
      ->allow_extra_args(false);
  merge->add_flag("--allow-saturated", m->allow_saturated,
                  "Pass thresholds even when a generator's numbers cannot be trusted");
  merge->callback([m, &exit_code] {
    try {
      exit_code = run_merge(m->inputs, m->json, m->html, m->thresholds, m->allow_saturated);
    } catch (const std::exception& e) {
      exit_code = fail("merge", kExitInternal, e.what());
    }
  });
}

}  // namespace sluice::load
