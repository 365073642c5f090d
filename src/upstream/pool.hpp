// Keep-alive connections to the endpoints of one upstream, owned by one worker.
//
// Idle connections are reused last-in first-out, so a few stay warm and the rest age out.
// The per-endpoint connection cap holds across workers through EndpointState's slot count:
// every open connection owns one slot, released when the connection object is destroyed.
#pragma once

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>

#include <memory>
#include <vector>

#include "common/async.hpp"
#include "upstream/endpoint.hpp"

namespace sluice::upstream {

class UpstreamConnection {
 public:
  // The caller has taken a slot on `endpoint` (EndpointState::try_open_slot).
  UpstreamConnection(asio::io_context& io, EndpointState& endpoint, size_t index,
                     uint32_t& worker_open)
      : socket(io), state(&endpoint), endpoint(index), worker_open_(worker_open) {
    ++worker_open_;
  }
  ~UpstreamConnection() {
    // Close before freeing the slot, so another worker never opens one more than the cap.
    asio::error_code ignored;
    socket.close(ignored);
    --worker_open_;
    state->close_slot();
  }
  UpstreamConnection(const UpstreamConnection&) = delete;
  UpstreamConnection& operator=(const UpstreamConnection&) = delete;

  TcpSocket socket;
  EndpointState* state;
  size_t endpoint;
  int64_t idle_since_ns = 0;
  uint64_t requests = 0;  // completed exchanges; > 0 means reused

 private:
  uint32_t& worker_open_;  // this worker's open connections to the endpoint
};

using ConnectionPtr = std::unique_ptr<UpstreamConnection>;

class ConnectionPool {
 public:
  // `workers` sharing the endpoints' caps: each keeps its fair share when others starve.
  ConnectionPool(asio::io_context& io, UpstreamState& upstream, size_t workers);
  ~ConnectionPool();

  // An idle connection still believed open, or nullptr.
  ConnectionPtr take_idle(size_t endpoint, int64_t now);
  // A fresh, unconnected socket if the endpoint's cap allows one, else nullptr.
  ConnectionPtr open(size_t endpoint);
  // Returns a connection after a complete exchange that left it reusable.
  void give_back(ConnectionPtr conn, int64_t now);
  // Closes idle connections past idle_timeout.
  void sweep(int64_t now);
  // When another worker waits for a slot of an endpoint and this one holds more than its fair
  // share, closes idle connections down to that share. give_back() does the same for busy
  // workers; this covers a worker whose connections sit idle.
  void yield_to_waiters();
  void close_idle();

  // A request of this worker is waiting for a slot on `endpoint` (for fairness across workers).
  void add_waiter(size_t endpoint);
  void remove_waiter(size_t endpoint);

  UpstreamState& upstream() { return upstream_; }
  const UpstreamState& upstream() const { return upstream_; }
  size_t idle_count() const;
  size_t idle_count(size_t endpoint) const { return idle_[endpoint].size(); }
  // This worker's open connections to the endpoint, idle or in use.
  size_t open_count(size_t endpoint) const { return local_open_[endpoint]; }

 private:
  asio::io_context& io_;
  UpstreamState& upstream_;
  std::vector<std::vector<ConnectionPtr>> idle_;  // per endpoint, most recent last
  std::vector<uint32_t> local_waiters_;
  std::vector<uint32_t> local_open_;
  uint32_t fair_share_;
};

}  // namespace sluice::upstream
