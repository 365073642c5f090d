#include "limits/classes.hpp"

#include <algorithm>
#include <cmath>

namespace sluice::limits {

TrafficClasses::TrafficClasses(std::vector<TrafficClassSpec> named) {
  double used = 0;
  for (const auto& c : named)
    used += c.share;
  specs_.push_back({"", std::max(0.0, 1.0 - used)});
  for (auto& c : named)
    if (specs_.size() < kMaxClasses) specs_.push_back(std::move(c));
}

int TrafficClasses::index_of(std::string_view name) const {
  for (size_t i = 0; i < specs_.size(); ++i)
    if (specs_[i].name == name) return static_cast<int>(i);
  return -1;
}

uint32_t TrafficClasses::reserved(size_t cls, uint32_t limit) const {
  // A small epsilon keeps 0.8 * 10 at 8 despite binary fractions.
  return static_cast<uint32_t>(std::floor(specs_[cls].share * limit + 1e-9));
}

uint32_t TrafficClasses::queue_capacity(size_t cls, uint32_t queue_limit) const {
  if (queue_limit == 0) return 0;
  auto n = static_cast<uint32_t>(std::ceil(specs_[cls].share * queue_limit - 1e-9));
  return std::max<uint32_t>(n, 1);
}

}  // namespace sluice::limits
