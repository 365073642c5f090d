// Time as seen by the traffic policies: nanoseconds on the steady clock, passed in explicitly so
// that every policy can be driven by simulated time in tests.
#pragma once

#include <chrono>

#include "common/units.hpp"

namespace sluice::limits {

using sluice::Duration;

inline Duration steady_now() {
  return std::chrono::duration_cast<Duration>(std::chrono::steady_clock::now().time_since_epoch());
}

// Whole seconds, rounded up, as used by Retry-After and RateLimit-Reset.
inline uint32_t ceil_seconds(Duration d) {
  if (d.count() <= 0) return 0;
  return static_cast<uint32_t>((d.count() + 999'999'999) / 1'000'000'000);
}

}  // namespace sluice::limits
