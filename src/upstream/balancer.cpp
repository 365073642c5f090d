#include "upstream/balancer.hpp"

#include <algorithm>

namespace sluice::upstream {

Balancer::Balancer(const UpstreamState& upstream, uint64_t seed)
    : upstream_(upstream),
      ewma_ns_(upstream.endpoints.size(), 0.0),
      next_(seed % std::max<size_t>(1, upstream.endpoints.size())),
      rng_(static_cast<uint32_t>(seed * 2654435761u + 1)) {}

bool Balancer::usable(size_t i, Excluded ex, int64_t now, bool allow_down) const {
  return !ex.has(i) && (allow_down || !upstream_.endpoints[i]->is_down(now));
}

double Balancer::weight(size_t i, int64_t now) const {
  const auto& outlier = upstream_.endpoints[i]->outlier;
  return outlier ? std::max(0.1, outlier->weight(Duration(now))) : 1.0;
}

int Balancer::pick(Excluded excluded, int64_t now) {
  for (bool allow_down : {false, true}) {
    int i = -1;
    switch (upstream_.config->balance) {
      case Balance::round_robin:
        i = pick_round_robin(excluded, now, allow_down);
        break;
      case Balance::least_conn:
        i = pick_least_conn(excluded, now, allow_down);
        break;
      case Balance::p2c:
        i = pick_p2c(excluded, now, allow_down);
        break;
    }
    if (i >= 0) return i;
  }
  return -1;
}

int Balancer::pick_round_robin(Excluded ex, int64_t now, bool allow_down) {
  size_t n = upstream_.endpoints.size();
  // An endpoint in slow start takes its turn with probability `weight`; when every candidate
  // passes up its turn, the first usable one is taken.
  int fallback = -1;
  for (size_t k = 0; k < n; ++k) {
    size_t i = (next_ + k) % n;
    if (!usable(i, ex, now, allow_down)) continue;
    double w = weight(i, now);
    if (w >= 1.0 || static_cast<double>(rng_() % 1000) < w * 1000.0) {
      next_ = i + 1;
      return static_cast<int>(i);
    }
    if (fallback < 0) fallback = static_cast<int>(i);
  }
  if (fallback >= 0) next_ = static_cast<size_t>(fallback) + 1;
  return fallback;
}

int Balancer::pick_least_conn(Excluded ex, int64_t now, bool allow_down) {
  size_t n = upstream_.endpoints.size();
  int best = -1;
  double best_score = 0;
  // Rotating start breaks ties evenly instead of always favouring the first endpoint.
  for (size_t k = 0; k < n; ++k) {
    size_t i = (next_ + k) % n;
    if (!usable(i, ex, now, allow_down)) continue;
    uint32_t active = upstream_.endpoints[i]->active_requests.load(std::memory_order_relaxed);
    double score = (active + 1.0) / weight(i, now);
    if (best < 0 || score < best_score) best = static_cast<int>(i), best_score = score;
  }
  ++next_;
  return best;
}

int Balancer::pick_p2c(Excluded ex, int64_t now, bool allow_down) {
  size_t n = upstream_.endpoints.size();
  int candidates[64];
  int count = 0;
  for (size_t i = 0; i < n && count < 64; ++i)
    if (usable(i, ex, now, allow_down)) candidates[count++] = static_cast<int>(i);
  if (count == 0) return -1;
  if (count == 1) return candidates[0];
  // Two distinct random candidates.
  int ia = static_cast<int>(rng_() % count);
  int ib = static_cast<int>(rng_() % (count - 1));
  if (ib >= ia) ++ib;
  int a = candidates[ia], b = candidates[ib];
  auto score = [&](int i) {
    double active = upstream_.endpoints[i]->active_requests.load(std::memory_order_relaxed);
    // Unmeasured endpoints score as fast so they get probed.
    return (ewma_ns_[i] + 1.0) * (active + 1.0) / weight(i, now);
  };
  return score(a) <= score(b) ? a : b;
}

void Balancer::observe(size_t endpoint, int64_t latency_ns) {
  double& e = ewma_ns_[endpoint];
  e = e == 0.0 ? static_cast<double>(latency_ns) : e + 0.3 * (latency_ns - e);
}

}  // namespace sluice::upstream
