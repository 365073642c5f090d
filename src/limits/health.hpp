// Active health checking of one endpoint as a state machine and a schedule; the gateway sends
// the probe (GET `path`, answered within `timeout` with a 2xx or 3xx) and reports the outcome.
//
// An endpoint starts healthy, becomes unhealthy after `unhealthy_after` failed probes in a row
// and healthy again after `healthy_after` passed probes in a row. Probes are spaced by `interval`
// with +-10% jitter, the first one at a random point of the first interval, so endpoints and
// gateways do not probe in lockstep.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "limits/clock.hpp"

namespace sluice::limits {

struct HealthCheckConfig {
  std::string path = "/health";
  Duration interval{std::chrono::seconds(2)};
  Duration timeout{std::chrono::seconds(1)};
  uint32_t unhealthy_after = 2;
  uint32_t healthy_after = 2;
};

enum class HealthTransition : uint8_t { none, became_healthy, became_unhealthy };

class HealthChecker {
 public:
  HealthChecker(const HealthCheckConfig& config, Duration now, uint64_t seed);

  // A 2xx or 3xx answer within the timeout passes.
  static bool passes(int status) { return status >= 200 && status < 400; }

  // Called by the thread that runs this endpoint's probes.
  HealthTransition on_probe(bool passed, Duration now);
  Duration next_probe_at() const { return next_probe_; }
  const HealthCheckConfig& config() const { return config_; }

  // Readable from any thread.
  bool healthy() const { return healthy_.load(std::memory_order_relaxed); }

 private:
  Duration jittered_interval();

  HealthCheckConfig config_;
  uint64_t rng_;
  std::atomic<bool> healthy_{true};
  uint32_t passes_in_row_ = 0;
  uint32_t failures_in_row_ = 0;
  Duration next_probe_;
};

}  // namespace sluice::limits
