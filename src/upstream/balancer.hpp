// Picks an endpoint for a request: round robin, least connections, or power of two choices
// over EWMA latency, each scaled by the endpoint's slow-start weight after a recovery. One Balancer
// per upstream per worker; reads shared endpoint atomics.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "upstream/endpoint.hpp"

namespace sluice::upstream {

// Endpoints already tried by one request, as a bit set (up to 64 endpoints are tracked).
struct Excluded {
  uint64_t bits = 0;
  bool has(size_t i) const { return i < 64 && (bits >> i) & 1; }
  void add(size_t i) {
    if (i < 64) bits |= uint64_t{1} << i;
  }
};

class Balancer {
 public:
  Balancer(const UpstreamState& upstream, uint64_t seed);
  // An endpoint index, or -1 when every endpoint was tried. Endpoints marked down are used
  // only when nothing else is left, so a wrong mark never turns into a full outage.
  int pick(Excluded excluded, int64_t now);
  // Feeds a latency sample (time to response head) for p2c.
  void observe(size_t endpoint, int64_t latency_ns);

 private:
  int pick_round_robin(Excluded ex, int64_t now, bool allow_down);
  int pick_least_conn(Excluded ex, int64_t now, bool allow_down);
  int pick_p2c(Excluded ex, int64_t now, bool allow_down);
  bool usable(size_t i, Excluded ex, int64_t now, bool allow_down) const;
  // The endpoint's share during slow start (0.1..1), 1 otherwise.
  double weight(size_t i, int64_t now) const;

  const UpstreamState& upstream_;
  std::vector<double> ewma_ns_;
  size_t next_ = 0;
  std::minstd_rand rng_;
};

}  // namespace sluice::upstream
