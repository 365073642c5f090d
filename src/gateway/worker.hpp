// One worker thread: its own event loop, listening sockets (SO_REUSEPORT), upstream pools and
// buffers. Nothing here is shared with other workers except the atomics in EndpointState.
#pragma once

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "cache/response_cache.hpp"
#include "common/async.hpp"
#include "common/buffer.hpp"
#include "gateway/access_log.hpp"
#include "gateway/config.hpp"
#include "gateway/gateway_metrics.hpp"
#include "gateway/router.hpp"
#include "limits/admission.hpp"
#include "limits/gcra.hpp"
#include "metrics/http.hpp"
#include "metrics/registry.hpp"
#include "upstream/balancer.hpp"
#include "upstream/endpoint.hpp"
#include "upstream/pool.hpp"

namespace sluice::gateway {

// Built once at start and shared by all workers; the traffic policies are thread-safe by design
// (sharded buckets, atomic counters), the rest is read-only.
struct SharedState {
  explicit SharedState(const GatewayConfig& cfg);
  const GatewayConfig& config;
  std::vector<std::unique_ptr<upstream::UpstreamState>> upstreams;
  limits::BucketTable rate_buckets;
  std::vector<std::unique_ptr<limits::UpstreamPolicies>> upstream_policies;  // per upstream
  std::vector<std::unique_ptr<limits::RoutePolicies>> route_policies;        // per route
  Router router;
  int access_log_fd = -1;
  metrics::Registry metrics;
  // Route labels are the configured routes, then "none" for requests that matched no route.
  std::unique_ptr<metrics::HttpMetrics> http_metrics;
  // One store for all workers (sharded, see cache/); null when no route caches. Its route ids
  // are the gateway's route indexes.
  std::unique_ptr<cache::ResponseCache> cache;
  std::unique_ptr<GatewayMetrics> gateway_metrics;  // upstream, cache and admission families
};

// Something with a deadline, checked by the worker's tick. Firing is repeated on every tick
// while the deadline stays in the past, so a completion racing the cancel is still caught.
class Watched {
 public:
  virtual ~Watched() = default;
  virtual void on_deadline() = 0;
  int64_t deadline_ns = INT64_MAX;

 private:
  friend class Worker;
  Watched* prev_ = nullptr;
  Watched* next_ = nullptr;
};

struct WorkerCounters {
  uint64_t connections_accepted = 0;
  uint64_t requests = 0;
  uint64_t responses[6] = {};  // by status class: [1]=1xx .. [5]=5xx
  uint64_t upstream_retries = 0;
};

class ClientConnection;

class Worker {
 public:
  Worker(SharedState& shared, size_t index);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Binds this worker's listening sockets; throws std::system_error.
  void listen();
  void run();
  // Thread-safe. Stop accepting, let requests in flight finish, close idle connections.
  void drain();
  // Thread-safe. Ends the event loop now.
  void stop();

  asio::io_context& io() { return io_; }
  SharedState& shared() { return shared_; }
  const GatewayConfig& config() const { return shared_.config; }
  size_t index() const { return index_; }
  bool draining() const { return draining_; }
  BufferPool& buffers() { return buffers_; }
  // Small buffers for connections waiting for their next request.
  BufferPool& idle_buffers() { return idle_buffers_; }
  upstream::ConnectionPool& pool(size_t upstream) { return *pools_[upstream]; }
  upstream::Balancer& balancer(size_t upstream) { return balancers_[upstream]; }
  AccessLog& access_log() { return access_log_; }
  WorkerCounters& counters() { return counters_; }
  metrics::WorkerMetrics& metrics() { return *metrics_; }
  size_t connection_count() const { return connections_.size(); }

  void watch(Watched& w);
  void unwatch(Watched& w);
  void add_connection(ClientConnection* c);
  void remove_connection(ClientConnection* c);

 private:
  Task<void> accept_loop(TcpAcceptor& acceptor);
  Task<void> tick_loop();
  // This worker's connections per endpoint, as gauges (read at scrape time, summed).
  void publish_connection_gauges(size_t upstream);
  void begin_drain();

  SharedState& shared_;
  size_t index_;
  // One thread per loop: no locking on socket operations; post() from other threads stays safe.
  asio::io_context io_{ASIO_CONCURRENCY_HINT_UNSAFE_IO};
  std::vector<std::unique_ptr<TcpAcceptor>> acceptors_;
  BufferPool buffers_{16 * 1024};
  BufferPool idle_buffers_{2 * 1024};
  std::vector<std::unique_ptr<upstream::ConnectionPool>> pools_;
  std::vector<upstream::Balancer> balancers_;
  AccessLog access_log_;
  WorkerCounters counters_;
  metrics::WorkerMetrics* metrics_;
  Watched* watched_ = nullptr;
  std::vector<ClientConnection*> connections_;
  bool draining_ = false;
};

}  // namespace sluice::gateway
