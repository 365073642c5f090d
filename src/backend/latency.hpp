// Service time distributions of the reference backend.
#pragma once

#include <optional>
#include <random>
#include <string_view>

#include "common/units.hpp"

namespace sluice::backend {

// fixed: always the mean. exponential: memoryless, long tail (p99 = 4.6 x mean).
// lognormal: sigma 0.5 around the mean, the usual shape of a real service (p99 ~ 2.8 x mean).
enum class LatencyDist { fixed, exponential, lognormal };

std::optional<LatencyDist> parse_latency_dist(std::string_view text);
const char* latency_dist_name(LatencyDist dist);

class LatencyModel {
 public:
  static constexpr double kLognormalSigma = 0.5;
  // Samples are capped at this multiple of the mean so that no request waits unboundedly.
  static constexpr double kMaxFactor = 50.0;

  LatencyModel(LatencyDist dist, Duration mean, uint64_t seed);
  Duration sample();
  Duration mean() const { return mean_; }

 private:
  LatencyDist dist_;
  Duration mean_;
  std::mt19937_64 rng_;
  std::exponential_distribution<double> exponential_;
  std::lognormal_distribution<double> lognormal_;
};

}  // namespace sluice::backend
