#include "gateway/worker.hpp"
#include "common/async.hpp"
#include "gateway/health_checks.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include <algorithm>

#include "common/log.hpp"
#include "gateway/client_connection.hpp"
#include "metrics/process.hpp"

namespace sluice::gateway {

using asio::ip::tcp;

SharedState::SharedState(const GatewayConfig& cfg)
    : config(cfg), rate_buckets(cfg.server.traffic.rate_limit_keys), router(cfg.routes) {
  for (const auto& u : cfg.upstreams) {
    upstreams.push_back(std::make_unique<upstream::UpstreamState>(u));
    upstream_policies.push_back(std::make_unique<limits::UpstreamPolicies>(u.traffic));
  }
  for (size_t i = 0; i < cfg.routes.size(); ++i) {
    const RouteConfig& r = cfg.routes[i];
    route_policies.push_back(std::make_unique<limits::RoutePolicies>(
        static_cast<uint32_t>(i), r.traffic, rate_buckets, r.traffic_class));
  }
  std::vector<std::string> route_labels;
  for (const auto& r : cfg.routes)
    route_labels.push_back(r.name);
  route_labels.push_back("none");
  if (cfg.caching()) {
    std::vector<cache::CacheRoute> cache_routes;
    for (const auto& r : cfg.routes)
      cache_routes.push_back({r.name, r.cache.value_or(cache::RouteCacheConfig{})});
    cache = std::make_unique<cache::ResponseCache>(cfg.cache, std::move(cache_routes));
  }
  http_metrics = std::make_unique<metrics::HttpMetrics>(metrics, route_labels);
  metrics::register_process_metrics(metrics);
  gateway_metrics = std::make_unique<GatewayMetrics>(*this);
}

Worker::Worker(SharedState& shared, size_t index)
    : shared_(shared),
      index_(index),
      access_log_(shared.access_log_fd),
      metrics_(&shared.metrics.add_worker()) {
  for (size_t i = 0; i < shared.upstreams.size(); ++i) {
    pools_.push_back(std::make_unique<upstream::ConnectionPool>(io_, *shared.upstreams[i],
                                                                shared.config.server.workers));
    balancers_.emplace_back(*shared.upstreams[i], index * 7919 + i + 1);
  }
}

Worker::~Worker() {
  access_log_.flush();
  // Connections' sockets belong to io_; destroy pools first while io_ is alive.
  pools_.clear();
}

void Worker::listen() {
  for (const auto& hp : shared_.config.server.listen) {
    auto a = std::make_unique<TcpAcceptor>(io_);
    a->open(hp.endpoint.protocol());
    a->set_option(asio::socket_base::reuse_address(true));
    int one = 1;
    ::setsockopt(a->native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    a->bind(hp.endpoint);
    a->listen(4096);
    acceptors_.push_back(std::move(a));
  }
}

void Worker::run() {
  for (auto& a : acceptors_)
    asio::co_spawn(io_, accept_loop(*a), asio::detached);
  asio::co_spawn(io_, tick_loop(), asio::detached);
  if (index_ == 0) start_health_checks(*this);  // one prober per gateway, not per worker
  io_.run();
}

void Worker::drain() {
  asio::post(io_, [this] { begin_drain(); });
}

void Worker::stop() {
  io_.stop();
}

void Worker::begin_drain() {
  if (draining_) return;
  draining_ = true;
  for (auto& a : acceptors_) {
    asio::error_code ec;
    a->close(ec);
  }
  for (auto* c : std::vector<ClientConnection*>(connections_))
    c->on_drain();
  for (auto& p : pools_)
    p->close_idle();
}

Task<void> Worker::accept_loop(TcpAcceptor& acceptor) {
  const uint32_t max_connections = shared_.config.server.max_connections;
  SteadyTimer pause(io_);
  while (!draining_) {
    auto [ec, socket] = co_await acceptor.async_accept(use_nothrow);
    if (ec) {
      if (ec == asio::error::operation_aborted || draining_) break;
      // Out of descriptors or similar: back off briefly instead of spinning.
      LOG_WARN("accept failed: %s", ec.message().c_str());
      pause.expires_after(std::chrono::milliseconds(50));
      co_await pause.async_wait(use_nothrow);
      continue;
    }
    ++counters_.connections_accepted;
    if (connections_.size() >= max_connections) {
      asio::error_code ignored;
      socket.close(ignored);
      continue;
    }
    auto conn = std::make_shared<ClientConnection>(*this, std::move(socket));
    asio::co_spawn(
        io_, [conn]() { return conn->run(); }, asio::detached);
  }
}

void Worker::watch(Watched& w) {
  w.next_ = watched_;
  w.prev_ = nullptr;
  if (watched_) watched_->prev_ = &w;
  watched_ = &w;
}

void Worker::unwatch(Watched& w) {
  if (w.prev_)
    w.prev_->next_ = w.next_;
  else if (watched_ == &w)
    watched_ = w.next_;
  if (w.next_) w.next_->prev_ = w.prev_;
  w.prev_ = w.next_ = nullptr;
}

void Worker::add_connection(ClientConnection* c) {
  connections_.push_back(c);
}

void Worker::remove_connection(ClientConnection* c) {
  auto it = std::find(connections_.rbegin(), connections_.rend(), c);
  if (it != connections_.rend()) {
    *it = connections_.back();
    connections_.pop_back();
  }
}

void Worker::publish_connection_gauges(size_t u) {
  const auto& ids = shared_.gateway_metrics->upstreams();
  const upstream::ConnectionPool& pool = *pools_[u];
  for (size_t ep = 0; ep < pool.upstream().endpoints.size(); ++ep) {
    size_t flat = shared_.gateway_metrics->endpoint(u, ep);
    size_t idle = pool.idle_count(ep);
    metrics_->set(ids.connections(flat, metrics::ConnectionState::idle),
                  static_cast<int64_t>(idle));
    metrics_->set(ids.connections(flat, metrics::ConnectionState::active),
                  static_cast<int64_t>(pool.open_count(ep) - idle));
  }
}

// Deadlines, idle-pool sweeps and log flushes on one timer, so the request path only stores
// a deadline value instead of arming a timer per operation.
Task<void> Worker::tick_loop() {
  SteadyTimer timer(io_);
  int64_t last_sweep = 0;
  while (true) {
    timer.expires_after(std::chrono::milliseconds(20));
    co_await timer.async_wait(use_nothrow);
    int64_t now = upstream::mono_ns();
    for (Watched* w = watched_; w;) {
      Watched* next = w->next_;
      if (w->deadline_ns <= now) w->on_deadline();
      w = next;
    }
    for (size_t u = 0; u < pools_.size(); ++u) {
      pools_[u]->yield_to_waiters();
      publish_connection_gauges(u);
    }
    if (now - last_sweep > 1'000'000'000) {
      for (auto& p : pools_)
        p->sweep(now);
      last_sweep = now;
    }
    access_log_.flush();
    if (draining_ && connections_.empty()) break;
  }
  for (auto& p : pools_)
    p->close_idle();
}

}  // namespace sluice::gateway
