#include "limits/outlier.hpp"

#include <algorithm>

namespace sluice::limits {

bool OutlierDetector::record(AttemptResult result, Duration now, bool ejection_allowed) {
  if (result == AttemptResult::success) {
    if (failures_.load(std::memory_order_relaxed)) failures_.store(0, std::memory_order_relaxed);
    if (server_errors_.load(std::memory_order_relaxed))
      server_errors_.store(0, std::memory_order_relaxed);
    return false;
  }
  bool trip;
  if (result == AttemptResult::failure) {
    uint32_t n = failures_.fetch_add(1) + 1;
    trip = config_.consecutive_failures > 0 && n >= config_.consecutive_failures;
  } else {
    uint32_t n = server_errors_.fetch_add(1) + 1;
    trip = config_.consecutive_5xx > 0 && n >= config_.consecutive_5xx;
  }
  if (!trip || !ejection_allowed) return false;
  std::lock_guard lock(mu_);
  if (ejected(now)) return false;  // another thread ejected it first
  // Time spent healthy since the last ejection forgives earlier ones.
  if (ejections_ > 0 && config_.base_ejection.count() > 0) {
    int64_t healthy_for = now.count() - last_ejection_end_;
    auto forgiven =
        static_cast<uint64_t>(std::max<int64_t>(healthy_for, 0) / config_.base_ejection.count());
    ejections_ = forgiven >= ejections_ ? 0 : ejections_ - static_cast<uint32_t>(forgiven);
  }
  ++ejections_;
  int64_t d = config_.base_ejection.count();
  for (uint32_t i = 1; i < ejections_ && d < config_.max_ejection.count(); ++i)
    d *= 2;
  d = std::min(d, config_.max_ejection.count());
  last_ejection_end_ = now.count() + d;
  ejected_until_.store(last_ejection_end_);
  ramp_start_.store(last_ejection_end_);
  failures_.store(0);
  server_errors_.store(0);
  return true;
}

void OutlierDetector::start_slow_start(Duration now) {
  ramp_start_.store(now.count());
}

uint32_t OutlierDetector::ejections() const {
  std::lock_guard lock(mu_);
  return ejections_;
}

}  // namespace sluice::limits
