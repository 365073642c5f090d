// Adaptive concurrency limit from latency, in the spirit of Netflix's gradient limiter and
// Envoy's adaptive concurrency filter.
//
// Samples (latency of an admitted request from dispatch to response head) are grouped in windows.
// At the end of each window the limit moves toward
//     limit * g + headroom * g^4,   g = clamp(tolerance * no_load / window_mean, 0.5, 1)
// where no_load is the lowest window mean seen since the last probe and headroom is
// max(1, growth * limit). While the backend does not queue (g == 1) the limit grows by the
// headroom; once it queues, the window mean grows with the excess, so limit * g falls back to the
// backend's real concurrency and the shrunken headroom keeps the limit just above it. A window
// with dropped requests (timeouts, resets, overload answers) cuts the limit by `backoff`.
//
// Every `probe_interval` the limit drops to `min_limit` until `probe_samples` requests that
// started at that low concurrency have finished, and their mean becomes the new no-load latency;
// so no_load follows a backend that became slower or faster instead of only ratcheting down.
//
// Not thread-safe: the ConcurrencyGate serializes calls.
#pragma once

#include <cstdint>

#include "limits/clock.hpp"

namespace sluice::limits {

struct AdaptiveParams {
  uint32_t initial_limit = 4;
  uint32_t min_limit = 2;
  uint32_t max_limit = 1000;
  Duration window{std::chrono::milliseconds(100)};  // at least this long...
  uint32_t window_samples = 10;                     // ...and at least this many samples
  double tolerance = 1.0;  // latency ratio accepted before the limit shrinks
  double growth = 0.1;     // headroom as a fraction of the limit (at least 1)
  double smoothing = 0.5;  // weight of the new target against the current limit
  double backoff = 0.9;    // factor applied after a window with drops
  Duration probe_interval{std::chrono::seconds(30)};
  uint32_t probe_samples = 10;
};

class AdaptiveLimit {
 public:
  explicit AdaptiveLimit(AdaptiveParams params = {}, Duration now = Duration{0});

  // One finished request. `inflight_at_start` counts the request itself. Returns true when
  // limit() changed.
  bool on_sample(Duration now, Duration latency, uint32_t inflight_at_start, bool dropped = false);

  uint32_t limit() const;
  double estimated_limit() const { return estimate_; }
  Duration no_load_latency() const { return no_load_; }
  bool probing() const { return probing_; }
  const AdaptiveParams& params() const { return params_; }

 private:
  void end_window(Duration now);
  void start_probe(Duration now);

  AdaptiveParams params_;
  double estimate_;
  Duration no_load_{0};
  // current window
  Duration window_start_;
  uint32_t samples_ = 0;
  uint32_t drops_ = 0;
  uint32_t max_inflight_ = 0;
  int64_t latency_sum_ns_ = 0;
  // probing for the no-load latency
  bool probing_ = false;
  Duration probe_start_{0};
  Duration next_probe_;
  uint32_t probe_count_ = 0;
  int64_t probe_sum_ns_ = 0;
};

}  // namespace sluice::limits
