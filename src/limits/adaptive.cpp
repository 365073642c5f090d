#include "limits/adaptive.hpp"

#include <algorithm>
#include <cmath>

namespace sluice::limits {

AdaptiveLimit::AdaptiveLimit(AdaptiveParams params, Duration now)
    : params_(params),
      estimate_(std::clamp<double>(params.initial_limit, std::max<uint32_t>(params.min_limit, 1),
                                   std::max(params.max_limit, params.min_limit))),
      window_start_(now),
      next_probe_(now + params.probe_interval) {
  params_.min_limit = std::max<uint32_t>(params_.min_limit, 1);
  params_.max_limit = std::max(params_.max_limit, params_.min_limit);
}

uint32_t AdaptiveLimit::limit() const {
  if (probing_) return params_.min_limit;
  return static_cast<uint32_t>(estimate_);
}

bool AdaptiveLimit::on_sample(Duration now, Duration latency, uint32_t inflight_at_start,
                              bool dropped) {
  uint32_t before = limit();
  if (probing_) {
    // Only requests that started after the drop, at low concurrency, measure the no-load latency.
    if (!dropped && now - latency >= probe_start_ && inflight_at_start <= params_.min_limit) {
      ++probe_count_;
      probe_sum_ns_ += latency.count();
    }
    bool done = probe_count_ >= params_.probe_samples;
    if (done || now - probe_start_ > params_.window * 50) {
      if (done) no_load_ = Duration(probe_sum_ns_ / probe_count_);
      probing_ = false;
      next_probe_ = now + params_.probe_interval;
      window_start_ = now;
      samples_ = drops_ = max_inflight_ = 0;
      latency_sum_ns_ = 0;
    }
    return limit() != before;
  }
  ++samples_;
  if (dropped)
    ++drops_;
  else
    latency_sum_ns_ += latency.count();
  max_inflight_ = std::max(max_inflight_, inflight_at_start);
  if (samples_ >= params_.window_samples && now - window_start_ >= params_.window) end_window(now);
  if (!probing_ && now >= next_probe_ && no_load_.count() > 0) start_probe(now);
  return limit() != before;
}

void AdaptiveLimit::end_window(Duration now) {
  double target;
  uint32_t measured = samples_ - drops_;
  if (drops_ > 0 || measured == 0) {
    target = estimate_ * params_.backoff;
    estimate_ = target;  // a cut is applied at once, not smoothed
  } else {
    auto mean = Duration(latency_sum_ns_ / measured);
    if (no_load_.count() == 0 || mean < no_load_) no_load_ = std::max(mean, Duration(1));
    double gradient = params_.tolerance * static_cast<double>(no_load_.count()) /
                      static_cast<double>(std::max<int64_t>(mean.count(), 1));
    gradient = std::clamp(gradient, 0.5, 1.0);
    double headroom = std::max(1.0, params_.growth * estimate_);
    double g2 = gradient * gradient;
    target = estimate_ * gradient + headroom * g2 * g2;
    // Traffic that does not use the limit says nothing about a higher one.
    if (target > estimate_ && max_inflight_ * 2 < estimate_) target = estimate_;
    estimate_ = estimate_ * (1 - params_.smoothing) + target * params_.smoothing;
  }
  estimate_ = std::clamp<double>(estimate_, params_.min_limit, params_.max_limit);
  window_start_ = now;
  samples_ = drops_ = max_inflight_ = 0;
  latency_sum_ns_ = 0;
}

void AdaptiveLimit::start_probe(Duration now) {
  probing_ = true;
  probe_start_ = now;
  probe_count_ = 0;
  probe_sum_ns_ = 0;
}

}  // namespace sluice::limits
