#include "gateway/server.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <memory>
#include <thread>

#include "cache/cache_admin.hpp"
#include "common/log.hpp"
#include "gateway/admin.hpp"
#include "gateway/dashboard.hpp"
#include "gateway/worker.hpp"
#include "metrics/snapshot.hpp"

namespace sluice::gateway {
namespace {

void register_metrics(AdminServer& admin, const SharedState& shared) {
  // Scrapes run on the admin thread; workers' values are read without stopping them.
  admin.handle("GET", "/metrics", [&shared](const AdminRequest&) {
    return AdminResponse{200, "text/plain; version=0.0.4; charset=utf-8",
                         metrics::render_text(shared.metrics.collect())};
  });
  admin.handle("GET", "/stats", [&shared](const AdminRequest&) {
    return AdminResponse{200, "application/json", metrics::render_json(shared.metrics.collect())};
  });
  admin.handle("GET", "/", [](const AdminRequest&) { return dashboard_page(); });
}

void register_health(AdminServer& admin, const SharedState& shared) {
  admin.handle("", "/health/live", [](const AdminRequest&) {
    return AdminResponse{200, "text/plain; charset=utf-8", "live\n"};
  });
  admin.handle("", "/health/ready", [&shared](const AdminRequest&) {
    int64_t now = upstream::mono_ns();
    std::string body = "{\"ready\":";
    bool ready = true;
    std::string detail;
    for (const auto& up : shared.upstreams) {
      bool r = up->ready(now);
      ready = ready && r;
      if (!detail.empty()) detail += ",";
      detail +=
          "\"" + up->config->name + "\":{\"ready\":" + (r ? "true" : "false") + ",\"endpoints\":{";
      bool first = true;
      for (const auto& ep : up->endpoints) {
        detail +=
            std::string(first ? "" : ",") + "\"" + ep->name + "\":\"" + ep->state_name(now) + "\"";
        first = false;
      }
      detail += "}}";
    }
    body += std::string(ready ? "true" : "false") + ",\"upstreams\":{" + detail + "}}\n";
    return AdminResponse{ready ? 200 : 503, "application/json", body};
  });
}

// Purges run here, on the admin thread: over millions of entries they take a while, and the
// workers' loops never wait for them.
void register_cache(AdminServer& admin, SharedState& shared) {
  if (!shared.cache) return;
  for (const char* path : {"/cache/stats", "/cache/invalidate", "/cache/tag", "/cache/clear"})
    admin.handle("", path, [&shared](const AdminRequest& req) {
      auto r = cache::handle_cache_admin(*shared.cache, req.method, req.path, req.query);
      return AdminResponse{r->status, "application/json", r->body + "\n"};
    });
}

}  // namespace

int run_server(const GatewayConfig& config) {
  log::Level level;
  if (log::parse_level(config.server.log_level, level)) log::set_level(level);

  // Signals are taken synchronously by this thread; workers never see them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  SharedState shared(config);
  if (!config.server.access_log.empty()) {
    shared.access_log_fd =
        ::open(config.server.access_log.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (shared.access_log_fd < 0) {
      LOG_ERROR("cannot open access log %s: %s", config.server.access_log.c_str(),
                std::strerror(errno));
      return 1;
    }
  }

  std::vector<std::unique_ptr<Worker>> workers;
  for (size_t i = 0; i < config.server.workers; ++i) {
    workers.push_back(std::make_unique<Worker>(shared, i));
    try {
      workers.back()->listen();
    } catch (const std::system_error& e) {
      LOG_ERROR("cannot listen on %s: %s", config.server.listen.front().text().c_str(),
                e.code().message().c_str());
      return 1;
    }
  }
  std::unique_ptr<AdminServer> admin;
  if (config.server.admin) {
    admin = std::make_unique<AdminServer>(*config.server.admin);
    register_health(*admin, shared);
    register_metrics(*admin, shared);
    register_cache(*admin, shared);
    try {
      admin->start();
    } catch (const std::system_error& e) {
      LOG_ERROR("cannot listen on admin address %s: %s", config.server.admin->text().c_str(),
                e.code().message().c_str());
      return 1;
    }
  }

  std::atomic<size_t> finished{0};
  std::vector<std::thread> threads;
  for (auto& w : workers)
    threads.emplace_back([&w, &finished] {
      w->run();
      finished.fetch_add(1);
    });
  std::string listening;
  for (const auto& l : config.server.listen)
    listening += (listening.empty() ? "" : ", ") + l.text();
  LOG_INFO("sluice serving on %s with %zu worker%s", listening.c_str(), workers.size(),
           workers.size() == 1 ? "" : "s");

  int sig = 0;
  sigwait(&signals, &sig);
  LOG_INFO("received %s: draining (up to %s)", sig == SIGTERM ? "SIGTERM" : "SIGINT",
           format_duration(config.server.drain_timeout).c_str());
  for (auto& w : workers)
    w->drain();
  for (auto& policies : shared.upstream_policies)
    policies->gate.cancel_all();  // queued requests are shed now rather than at their timeout
  auto deadline = std::chrono::steady_clock::now() + config.server.drain_timeout;
  while (finished.load() < workers.size() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  if (finished.load() < workers.size()) {
    LOG_WARN("drain timeout reached; closing remaining connections");
    for (auto& w : workers)
      w->stop();
  }
  for (auto& t : threads)
    t.join();
  if (admin) admin->stop();
  workers.clear();
  if (shared.access_log_fd >= 0) ::close(shared.access_log_fd);
  LOG_INFO("stopped");
  return 0;
}

}  // namespace sluice::gateway
