// Passive outlier ejection of one endpoint, with exponential back-off and slow start.
//
// Consecutive failures (connect errors, resets, timeouts) or consecutive 5xx answers eject the
// endpoint for base_ejection * 2^(n-1), capped at max_ejection, where n counts recent ejections
// (it decays by one for every base_ejection spent healthy). When an ejection ends, or when the
// active health check sees the endpoint recover, its weight ramps linearly from 10% to 100% over
// `slow_start`, so a recovered endpoint is not flooded at once.
//
// Safe from any thread: the success path is two relaxed loads; ejection takes a small mutex.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>

#include "limits/clock.hpp"

namespace sluice::limits {

struct OutlierConfig {
  uint32_t consecutive_failures = 5;  // 0 disables
  uint32_t consecutive_5xx = 5;       // 0 disables
  Duration base_ejection{std::chrono::seconds(30)};
  Duration max_ejection{std::chrono::seconds(300)};
  Duration slow_start{std::chrono::seconds(30)};  // 0 disables
  uint32_t max_ejected_percent = 50;  // of an upstream's endpoints, checked by the caller
};

enum class AttemptResult : uint8_t {
  success,       // any answer that is not a 5xx
  server_error,  // a 5xx answer
  failure,       // connect error, reset, or timeout
};

class OutlierDetector {
 public:
  explicit OutlierDetector(const OutlierConfig& config) : config_(config) {}

  // Returns true when this result ejected the endpoint. `ejection_allowed` is false when the
  // upstream already has max_ejected_percent of its endpoints ejected.
  bool record(AttemptResult result, Duration now, bool ejection_allowed = true);
  bool ejected(Duration now) const { return now.count() < ejected_until_.load(); }
  // 0.1..1 during slow start, 1 otherwise; 0 while ejected. Inline: balancers call it per pick.
  double weight(Duration now) const {
    if (ejected(now)) return 0;
    int64_t ramp = config_.slow_start.count();
    int64_t start = ramp_start_.load(std::memory_order_relaxed);
    if (ramp <= 0 || start == INT64_MIN || now.count() < start) return 1;
    int64_t since = now.count() - start;
    if (since >= ramp) return 1;
    return 0.1 + 0.9 * static_cast<double>(since) / static_cast<double>(ramp);
  }
  // Starts a slow-start ramp now (after an active health check saw the endpoint recover).
  void start_slow_start(Duration now);
  uint32_t ejections() const;
  Duration ejected_until() const { return Duration(ejected_until_.load()); }

 private:
  OutlierConfig config_;
  std::atomic<uint32_t> failures_{0};
  std::atomic<uint32_t> server_errors_{0};
  std::atomic<int64_t> ejected_until_{INT64_MIN};
  std::atomic<int64_t> ramp_start_{INT64_MIN};
  mutable std::mutex mu_;
  uint32_t ejections_ = 0;         // recent, decaying
  int64_t last_ejection_end_ = 0;  // when the last ejection ended
};

}  // namespace sluice::limits
