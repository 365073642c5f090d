#include "load/engine.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <asio/connect.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <latch>
#include <sstream>
#include <thread>

#include "http/headers.hpp"
#include "load/timeline.hpp"
#include "load/watch.hpp"
#include "load/worker.hpp"

namespace sluice::load {
namespace {

int64_t unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void raise_fd_limit() {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
  }
}

// One connection attempt before the run, so a wrong address fails fast with a clear message.
int probe(Plan& plan, std::string& error) {
  asio::io_context io;
  asio::ip::tcp::resolver resolver(io);
  asio::error_code ec;
  auto results = resolver.resolve(plan.target.host, std::to_string(plan.target.port), ec);
  if (ec || results.empty()) {
    error = "cannot resolve host '" + plan.target.host + "': " + ec.message();
    return kExitUnreachable;
  }
  asio::ip::tcp::socket sock(io);
  asio::error_code connect_ec = asio::error::timed_out;
  asio::ip::tcp::endpoint chosen;
  asio::async_connect(sock, results,
                      [&](const asio::error_code& e, const asio::ip::tcp::endpoint& ep) {
                        connect_ec = e;
                        chosen = ep;
                      });
  io.run_for(std::min<Duration>(plan.opts.timeout, std::chrono::seconds(5)));
  if (connect_ec) {
    error = "cannot connect to " + plan.target.authority + ": " + connect_ec.message();
    return kExitUnreachable;
  }
  plan.endpoint = chosen;
  return kExitOk;
}

}  // namespace

int prepare_plan(Plan& plan, std::string& error) {
  auto& o = plan.opts;
  if (!parse_url(o.url, plan.target, error)) return kExitUsage;
  plan.open_model = o.rate > 0 || o.open_model;
  unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  plan.threads = o.threads > 0 ? o.threads : static_cast<int>(cores);
  plan.rate = o.rate;
  plan.connections = plan.open_model ? 0 : (o.connections > 0 ? o.connections : 64);
  if (!plan.open_model && o.stages.empty()) plan.threads = std::min(plan.threads, plan.connections);
  plan.max_inflight = o.max_inflight > 0 ? o.max_inflight : 1000;
  plan.series_budget = o.series_memory > 0 ? o.series_memory : kDefaultSeriesBudget;
  plan.duration = o.duration;
  if (!o.stages.empty()) plan.duration = stages_length(o.stages);
  if (plan.duration.count() == 0 && o.request_count == 0) plan.duration = std::chrono::seconds(10);
  if (plan.open_model) plan.max_inflight = std::max(plan.max_inflight, plan.threads);

  plan.requests = o.requests;
  if (plan.requests.empty()) {
    RequestSpec spec;
    spec.method = o.method;
    std::string e;
    spec.target = *Template::compile(plan.target.path, "", e);  // literal: no '${' expansion
    for (auto& h : o.headers) {
      size_t colon = h.find(':');
      if (colon == std::string::npos || colon == 0) {
        error = "bad header '" + h + "': expected 'Name: value'";
        return kExitUsage;
      }
      auto value = Template::compile(std::string(http::trim(h.substr(colon + 1))), "", error);
      if (!value) return kExitUsage;
      spec.headers.emplace_back(h.substr(0, colon), std::move(*value));
    }
    if (o.has_body) {
      auto body = Template::compile(o.body, "", error);
      if (!body) return kExitUsage;
      spec.body = std::move(*body);
      spec.has_body = true;
    }
    plan.requests.push_back(std::move(spec));
  }
  double acc = 0;
  plan.cumulative_weight.clear();
  for (auto& r : plan.requests) {
    prerender(r, plan.target, !o.keepalive);
    acc += r.weight;
    plan.cumulative_weight.push_back(acc);
  }
  if (acc <= 0) {
    error = "the request weights add up to zero";
    return kExitBadScenario;
  }
  return probe(plan, error);
}

namespace {

// The live progress line: elapsed / total, req/s, p99 of the last finished second, errors.
void draw_progress(const Plan& plan, const SharedState& shared, uint64_t total, uint64_t errors,
                   uint64_t last_second_requests, const SecondSample* last) {
  double elapsed = static_cast<double>(now_ns() - shared.start_ns) / 1e9;
  char total_text[48];
  if (plan.duration.count() > 0)
    std::snprintf(total_text, sizeof total_text, "%.0fs / %.0fs", elapsed,
                  static_cast<double>(plan.duration.count()) / 1e9);
  else
    std::snprintf(total_text, sizeof total_text, "%llu / %llu requests",
                  static_cast<unsigned long long>(total),
                  static_cast<unsigned long long>(plan.opts.request_count));
  char line[240];
  std::snprintf(line, sizeof line, "\r  %s  %9llu req/s  p99 %s  errors %llu%s   ", total_text,
                static_cast<unsigned long long>(last_second_requests),
                format_ms(last ? last->p99_ms * 1e6 : 0).c_str(),
                static_cast<unsigned long long>(errors),
                last && last->saturated ? "  GENERATOR SATURATED" : "");
  std::fputs(line, stderr);
}

}  // namespace

RunResult run_load(const Plan& plan, bool quiet) {
  raise_fd_limit();
  SharedState shared;
  if (plan.opts.request_count) shared.budget = static_cast<int64_t>(plan.opts.request_count);
  std::vector<std::unique_ptr<Worker>> workers;
  for (int i = 0; i < plan.threads; ++i) {
    int conns = plan.connections / plan.threads + (i < plan.connections % plan.threads ? 1 : 0);
    workers.push_back(std::make_unique<Worker>(plan, shared, i, conns, plan.rate / plan.threads));
  }
  Timeline timeline(plan.threads, plan.open_model, plan.opts.poisson, plan.series_budget);
  if (plan.duration.count() > 0)
    timeline.reserve(static_cast<size_t>(plan.duration.count() / 1'000'000'000) + 2);
  // The clock starts when every worker is prepared, so their warm-up is not part of the run.
  std::latch prepared(plan.threads), go(1);
  std::atomic<int> running{plan.threads};
  std::vector<std::thread> threads;
  for (auto& w : workers)
    threads.emplace_back([&w, &running, &prepared, &go] {
      w->prepare();
      prepared.count_down();
      go.wait();
      w->run();
      running.fetch_sub(1);
    });
  prepared.wait();
  shared.start_ns = now_ns();
  int64_t start_unix = unix_ms();
  go.count_down();

  // Seconds are merged across threads here, off the request path, as soon as all have them.
  std::vector<SecondSample> batch;
  auto collect = [&] {
    for (int i = 0; i < plan.threads; ++i) {
      bool last = workers[static_cast<size_t>(i)]->take_seconds(batch);
      for (auto& s : batch)
        timeline.add(i, std::move(s));
      batch.clear();
      if (last) timeline.thread_done(i);
    }
    timeline.settle();
  };

  bool show = !quiet && plan.opts.progress && isatty(STDERR_FILENO);
  ProcessWatch watch(plan.opts.watch_pid);
  std::vector<std::pair<long, double>> server_samples;
  uint64_t last_requests = 0;
  int64_t next_tick = shared.start_ns + 1'000'000'000;
  while (running.load() > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    collect();
    if (now_ns() < next_tick) continue;
    next_tick += 1'000'000'000;
    if (plan.opts.watch_pid) server_samples.push_back(watch.sample());
    if (show) {
      uint64_t total = 0, errors = 0;
      for (auto& w : workers) {
        total += w->stats().live_requests.load(std::memory_order_relaxed);
        errors += w->stats().live_errors.load(std::memory_order_relaxed);
      }
      draw_progress(plan, shared, total, errors, total - last_requests, timeline.last());
      last_requests = total;
    }
  }
  for (auto& t : threads)
    t.join();
  collect();
  if (show) std::fputs("\r\033[K", stderr);

  RunResult r;
  r.url = plan.opts.url;
  r.model = plan.open_model ? "open" : "closed";
  r.connections = plan.connections;
  r.rate = plan.rate;
  r.threads = plan.threads;
  r.start_unix_ms = start_unix;
  int64_t end = shared.start_ns;
  for (auto& w : workers)
    end = std::max(end, w->finished_at());
  r.duration_s = static_cast<double>(end - shared.start_ns) / 1e9;
  for (auto& w : workers) {
    auto& s = w->stats();
    r.requests += s.requests;
    r.errors += s.errors;
    for (int i = 0; i < kErrorKinds; ++i)
      r.error_kinds[i] += s.error_kinds[i];
    for (int code = 0; code < 600; ++code)
      if (s.statuses[code]) r.statuses[code] += s.statuses[code];
    r.bytes_in += s.bytes_in;
    r.bytes_out += s.bytes_out;
    r.late += s.late;
    r.cache_hits += s.cache_hits;
    r.cache_misses += s.cache_misses;
    r.latency.merge(s.latency);
    r.service_time.merge(s.service);
    if (!plan.opts.keepalive) r.connect_time.merge(s.connect);
    for (size_t i = 0; i < s.by_name.size(); ++i) {
      if (!s.by_name[i]) continue;
      auto& n = r.by_name[plan.requests[i].name];
      n.requests += s.by_name[i]->requests;
      n.errors += s.by_name[i]->errors;
      n.latency.merge(s.by_name[i]->latency);
    }
    if (plan.open_model) {
      r.scheduled += s.scheduled;
      r.sent_in_window += s.sent_in_window;
      r.window_s = std::max(r.window_s, w->schedule_seconds());
    }
  }
  r.series_bytes = timeline.histogram_bytes();
  r.series_budget = plan.series_budget;
  r.series = timeline.finish();
  for (size_t t = 0; t < r.series.size() && t < server_samples.size(); ++t) {
    r.series[t].server_rss_kib = server_samples[t].first;
    r.series[t].server_cpu_pct = server_samples[t].second;
  }
  assess_health(r);
  return r;
}

}  // namespace sluice::load
