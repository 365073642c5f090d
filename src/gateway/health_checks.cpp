#include "gateway/health_checks.hpp"
#include "common/async.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/write.hpp>

#include <algorithm>
#include <array>
#include <random>
#include <string>

#include "common/log.hpp"
#include "gateway/worker.hpp"
#include "limits/health.hpp"

namespace sluice::gateway {
namespace {

// The status of "HTTP/1.x NNN ..." at the start of `text`, or 0.
int status_of(std::string_view text) {
  if (text.size() < 12 || text.substr(0, 7) != "HTTP/1." || text[8] != ' ') return 0;
  int status = 0;
  for (size_t i = 9; i < 12; ++i) {
    if (text[i] < '0' || text[i] > '9') return 0;
    status = status * 10 + (text[i] - '0');
  }
  return status;
}

// One probe: GET path on a new connection, passed when a 2xx or 3xx status line arrives in time.
Task<bool> probe(Worker& w, const upstream::EndpointState& ep, const std::string& request,
                 Duration timeout) {
  TcpSocket socket(w.io());
  SteadyTimer deadline(w.io());
  deadline.expires_after(timeout);
  deadline.async_wait([&socket](const asio::error_code& ec) {
    if (!ec) {
      asio::error_code ignored;
      socket.close(ignored);
    }
  });
  auto [cec] = co_await socket.async_connect(ep.address.endpoint, use_nothrow);
  if (cec) co_return false;
  auto [wec, wn] = co_await asio::async_write(socket, asio::buffer(request), use_nothrow);
  if (wec) co_return false;
  std::array<char, 64> head{};
  size_t got = 0;
  while (got < 12) {
    auto [rec, n] = co_await socket.async_read_some(
        asio::buffer(head.data() + got, head.size() - got), use_nothrow);
    if (rec) break;
    got += n;
  }
  deadline.cancel();
  co_return limits::HealthChecker::passes(status_of(std::string_view(head.data(), got)));
}

Task<void> probe_loop(Worker& w, const upstream::UpstreamState& up, size_t index,
                      limits::HealthCheckConfig config, uint64_t seed) {
  auto& ep = *up.endpoints[index];
  const std::string request = "GET " + config.path + " HTTP/1.1\r\nHost: " + ep.name +
                              "\r\nUser-Agent: sluice-health\r\nConnection: close\r\n\r\n";
  limits::HealthChecker checker(config, limits::steady_now(), seed);
  SteadyTimer timer(w.io());
  while (!w.draining()) {
    Duration wait = checker.next_probe_at() - limits::steady_now();
    if (wait.count() > 0) {
      // Short steps, so that a draining worker is not kept alive by a long interval.
      timer.expires_after(std::min<Duration>(wait, std::chrono::milliseconds(100)));
      co_await timer.async_wait(use_nothrow);
      continue;
    }
    bool passed = co_await probe(w, ep, request, config.timeout);
    auto now = limits::steady_now();
    switch (checker.on_probe(passed, now)) {
      case limits::HealthTransition::became_unhealthy:
        ep.healthy.store(false, std::memory_order_relaxed);
        LOG_WARN("upstream %s endpoint %s: health check failed; out of service",
                 up.config->name.c_str(), ep.name.c_str());
        break;
      case limits::HealthTransition::became_healthy:
        ep.healthy.store(true, std::memory_order_relaxed);
        if (ep.outlier) ep.outlier->start_slow_start(now);
        LOG_INFO("upstream %s endpoint %s: health check passed; back in service",
                 up.config->name.c_str(), ep.name.c_str());
        break;
      case limits::HealthTransition::none:
        break;
    }
  }
}

}  // namespace

void start_health_checks(Worker& w) {
  const SharedState& shared = w.shared();
  std::random_device seeds;
  for (size_t u = 0; u < shared.upstreams.size(); ++u) {
    const auto& health = shared.upstream_policies[u]->health;
    if (!health) continue;
    for (size_t e = 0; e < shared.upstreams[u]->endpoints.size(); ++e)
      asio::co_spawn(w.io(), probe_loop(w, *shared.upstreams[u], e, *health, seeds()),
                     asio::detached);
  }
}

}  // namespace sluice::gateway
