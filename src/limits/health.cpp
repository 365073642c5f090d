#include "limits/health.hpp"

namespace sluice::limits {

HealthChecker::HealthChecker(const HealthCheckConfig& config, Duration now, uint64_t seed)
    : config_(config), rng_(seed | 1) {
  uint64_t span = static_cast<uint64_t>(std::max<int64_t>(config_.interval.count(), 1));
  rng_ ^= rng_ << 13;
  rng_ ^= rng_ >> 7;
  rng_ ^= rng_ << 17;
  next_probe_ = now + Duration(static_cast<int64_t>(rng_ % span));
}

Duration HealthChecker::jittered_interval() {
  rng_ ^= rng_ << 13;  // xorshift64
  rng_ ^= rng_ >> 7;
  rng_ ^= rng_ << 17;
  int64_t i = config_.interval.count();
  int64_t tenth = i / 10;
  if (tenth <= 0) return config_.interval;
  return Duration(i - tenth + static_cast<int64_t>(rng_ % static_cast<uint64_t>(2 * tenth + 1)));
}

HealthTransition HealthChecker::on_probe(bool passed, Duration now) {
  next_probe_ = now + jittered_interval();
  if (passed) {
    failures_in_row_ = 0;
    ++passes_in_row_;
    if (!healthy() && passes_in_row_ >= config_.healthy_after) {
      healthy_.store(true, std::memory_order_relaxed);
      return HealthTransition::became_healthy;
    }
  } else {
    passes_in_row_ = 0;
    ++failures_in_row_;
    if (healthy() && failures_in_row_ >= config_.unhealthy_after) {
      healthy_.store(false, std::memory_order_relaxed);
      return HealthTransition::became_unhealthy;
    }
  }
  return HealthTransition::none;
}

}  // namespace sluice::limits
