// Scraped metric values, summed over workers, and their Prometheus text and JSON renderings.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::metrics {

enum class MetricType { counter, gauge, histogram };
const char* type_name(MetricType type);

struct SampleSnapshot {
  std::vector<std::string> labels;  // values, in the order of FamilySnapshot::label_names
  double value = 0;                 // counter or gauge
  std::vector<uint64_t> buckets;    // histogram: cumulative counts, one per bound, then +Inf
  double sum = 0;                   // histogram
  uint64_t count = 0;               // histogram, equal to the +Inf bucket
};

struct FamilySnapshot {
  std::string name;
  std::string help;
  MetricType type = MetricType::counter;
  std::vector<std::string> label_names;
  std::vector<double> bounds;  // histogram
  std::vector<SampleSnapshot> samples;
};

struct Snapshot {
  std::vector<FamilySnapshot> families;
  const FamilySnapshot* find(const std::string& name) const;
};

// Prometheus text exposition format 0.0.4.
std::string render_text(const Snapshot& snapshot);
// {"name":{"type":..,"help":..,"series":[{"labels":{..},"value":..}, ..]}, ..}; histogram series
// carry "count", "sum" and "buckets":[{"le":0.005,"count":..}, .., {"le":"+Inf","count":..}].
std::string render_json(const Snapshot& snapshot);

// Escaping rules of the text format.
std::string escape_label_value(std::string_view value);
std::string escape_help(std::string_view help);
// Shortest text that reads back as the same double; "+Inf", "-Inf", "NaN".
std::string format_number(double value);

}  // namespace sluice::metrics
