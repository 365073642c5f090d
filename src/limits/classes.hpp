// Traffic classes: named shares of an upstream's concurrency.
//
// A class with share s is guaranteed floor(s * limit) concurrent requests and s of the queue.
// Capacity a class does not use can be borrowed by the others, but only while no class is
// waiting below its guarantee; freed slots go first to such a class, so a flood of one class
// can delay another by at most one request completion, never starve it.
//
// Class 0 is the default class (routes without `priority`); its share is what the named classes
// leave over (all of it when there are none).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::limits {

struct TrafficClassSpec {
  std::string name;
  double share = 0;  // 0..1
};

class TrafficClasses {
 public:
  static constexpr size_t kMaxClasses = 8;

  TrafficClasses() : TrafficClasses(std::vector<TrafficClassSpec>{}) {}
  // Shares must sum to at most 1 (the parser checks); the default class takes the rest.
  explicit TrafficClasses(std::vector<TrafficClassSpec> named);

  size_t size() const { return specs_.size(); }
  // "" is the default class; -1 when unknown.
  int index_of(std::string_view name) const;
  const std::string& name(size_t cls) const { return specs_[cls].name; }
  double share(size_t cls) const { return specs_[cls].share; }
  uint32_t reserved(size_t cls, uint32_t limit) const;
  uint32_t queue_capacity(size_t cls, uint32_t queue_limit) const;

 private:
  std::vector<TrafficClassSpec> specs_;  // [0] is the default class
};

}  // namespace sluice::limits
