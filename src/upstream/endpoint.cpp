#include "upstream/endpoint.hpp"

#include <algorithm>

namespace sluice::upstream {

void EndpointState::mark_down(const UpstreamConfig& cfg, int64_t now) {
  uint32_t failures_in_row = consecutive_failures.fetch_add(1, std::memory_order_relaxed);
  int64_t backoff = cfg.down_backoff.count();
  for (uint32_t i = 0; i < failures_in_row && backoff < cfg.max_down_backoff.count(); ++i)
    backoff *= 2;
  backoff = std::min<int64_t>(backoff, cfg.max_down_backoff.count());
  down_until_ns.store(now + backoff, std::memory_order_relaxed);
  failures.fetch_add(1, std::memory_order_relaxed);
}

const char* EndpointState::state_name(int64_t now) const {
  if (!healthy.load(std::memory_order_relaxed)) return "unhealthy";
  if (is_ejected(now)) return "ejected";
  if (down_until_ns.load(std::memory_order_relaxed) > now) return "refused";
  return "up";
}

UpstreamState::UpstreamState(const UpstreamConfig& cfg) : config(&cfg) {
  for (const auto& hp : cfg.endpoints) {
    auto ep = std::make_unique<EndpointState>();
    ep->address = hp;
    ep->name = hp.text();
    ep->outlier = std::make_unique<limits::OutlierDetector>(cfg.traffic.outlier);
    endpoints.push_back(std::move(ep));
  }
}

bool UpstreamState::ready(int64_t now) const {
  return std::any_of(endpoints.begin(), endpoints.end(),
                     [&](const auto& ep) { return !ep->is_down(now); });
}

}  // namespace sluice::upstream
