// State of one backend endpoint shared by every worker: atomics, plus the outlier detector
// whose small mutex is taken only when an endpoint is ejected.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "limits/outlier.hpp"
#include "upstream/upstream_config.hpp"

namespace sluice::upstream {

inline int64_t mono_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

struct alignas(64) EndpointState {
  HostPort address;
  std::string name;                           // "host:port", for logs and metrics
  std::atomic<uint32_t> open_connections{0};  // across workers; capped by max_connections
  std::atomic<uint32_t> active_requests{0};   // for least_conn
  std::atomic<int64_t> down_until_ns{0};      // passive marking after refused connects
  std::atomic<uint32_t> consecutive_failures{0};
  std::atomic<uint32_t> slot_waiters{0};  // workers waiting for a free connection slot
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> failures{0};

  // Passive ejection after consecutive failures or 5xx answers (outlier.*), with slow start.
  std::unique_ptr<limits::OutlierDetector> outlier;
  // Written by the active health check (health.*); endpoints start healthy.
  std::atomic<bool> healthy{true};

  // Out of service: a refused connect's back-off, ejected, or failing its health check.
  bool is_down(int64_t now) const {
    return down_until_ns.load(std::memory_order_relaxed) > now ||
           !healthy.load(std::memory_order_relaxed) || is_ejected(now);
  }
  bool is_ejected(int64_t now) const { return outlier && outlier->ejected(Duration(now)); }
  // "up", "refused" (connect back-off), "ejected" or "unhealthy", for /health/ready.
  const char* state_name(int64_t now) const;
  // Exponential back-off from the upstream's down_backoff up to max_down_backoff.
  void mark_down(const UpstreamConfig& cfg, int64_t now);
  void mark_up() {
    if (consecutive_failures.load(std::memory_order_relaxed) != 0) {
      consecutive_failures.store(0, std::memory_order_relaxed);
      down_until_ns.store(0, std::memory_order_relaxed);
    }
  }
  // Takes a connection slot if the cap allows.
  bool try_open_slot(uint32_t max) {
    uint32_t cur = open_connections.load(std::memory_order_relaxed);
    while (cur < max)
      if (open_connections.compare_exchange_weak(cur, cur + 1, std::memory_order_relaxed))
        return true;
    return false;
  }
  void close_slot() { open_connections.fetch_sub(1, std::memory_order_relaxed); }
};

// An upstream's shared state: its config and its endpoints, created once at start.
struct UpstreamState {
  const UpstreamConfig* config = nullptr;
  std::vector<std::unique_ptr<EndpointState>> endpoints;
  explicit UpstreamState(const UpstreamConfig& cfg);
  // Ready when at least one endpoint is not marked down.
  bool ready(int64_t now) const;
};

}  // namespace sluice::upstream
