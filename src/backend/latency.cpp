#include "backend/latency.hpp"

#include <algorithm>
#include <cmath>

namespace sluice::backend {

std::optional<LatencyDist> parse_latency_dist(std::string_view text) {
  if (text == "fixed") return LatencyDist::fixed;
  if (text == "exponential") return LatencyDist::exponential;
  if (text == "lognormal") return LatencyDist::lognormal;
  return std::nullopt;
}

const char* latency_dist_name(LatencyDist dist) {
  switch (dist) {
    case LatencyDist::fixed:
      return "fixed";
    case LatencyDist::exponential:
      return "exponential";
    case LatencyDist::lognormal:
      return "lognormal";
  }
  return "?";
}

// The lognormal's mu is chosen so that its mean exp(mu + sigma^2 / 2) equals the requested mean.
LatencyModel::LatencyModel(LatencyDist dist, Duration mean, uint64_t seed)
    : dist_(dist),
      mean_(mean),
      rng_(seed),
      exponential_(1.0),
      lognormal_(-kLognormalSigma * kLognormalSigma / 2, kLognormalSigma) {}

Duration LatencyModel::sample() {
  if (mean_.count() <= 0) return Duration{0};
  double factor = 1.0;
  switch (dist_) {
    case LatencyDist::fixed:
      return mean_;
    case LatencyDist::exponential:
      factor = exponential_(rng_);
      break;
    case LatencyDist::lognormal:
      factor = lognormal_(rng_);
      break;
  }
  factor = std::min(factor, kMaxFactor);
  return Duration(static_cast<int64_t>(std::llround(factor * static_cast<double>(mean_.count()))));
}

}  // namespace sluice::backend
