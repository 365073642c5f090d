#include "metrics/http.hpp"

#include <array>
#include <cstdint>

namespace sluice::metrics {
namespace {

constexpr int kOwnSlot[] = {100, 101, 200, 201, 202, 204, 206, 301, 302, 303, 304,
                            307, 308, 400, 401, 403, 404, 405, 406, 408, 409, 410,
                            411, 412, 413, 414, 415, 416, 417, 421, 422, 426, 429,
                            431, 451, 499, 500, 501, 502, 503, 504, 505, 507, 508};
constexpr size_t kOwnCount = sizeof kOwnSlot / sizeof kOwnSlot[0];
// After the codes of their own: "1xx".."5xx", then "other" (outside 100..599).
constexpr size_t kClassSlot = kOwnCount;
constexpr size_t kOtherSlot = kOwnCount + 5;

constexpr std::array<uint8_t, 600> make_slot_table() {
  std::array<uint8_t, 600> t{};
  for (int code = 0; code < 600; ++code)
    t[code] = static_cast<uint8_t>(code < 100 ? kOtherSlot : kClassSlot + code / 100 - 1);
  for (size_t i = 0; i < kOwnCount; ++i)
    t[kOwnSlot[i]] = static_cast<uint8_t>(i);
  return t;
}
constexpr auto kSlotTable = make_slot_table();
static_assert(kOtherSlot < 256);

}  // namespace

std::vector<double> default_latency_buckets() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

size_t status_code_slot(int status) {
  return status >= 0 && status < 600 ? kSlotTable[status] : kOtherSlot;
}

const std::vector<std::string>& status_code_labels() {
  static const std::vector<std::string> labels = [] {
    std::vector<std::string> v;
    for (int code : kOwnSlot)
      v.push_back(std::to_string(code));
    for (const char* cls : {"1xx", "2xx", "3xx", "4xx", "5xx", "other"})
      v.emplace_back(cls);
    return v;
  }();
  return labels;
}

HttpMetrics::HttpMetrics(Registry& registry, const std::vector<std::string>& routes,
                         std::vector<double> buckets) {
  // Most route x code pairs never happen, so zero series are left out of the exposition.
  requests_ = registry.counter(kHttpRequestsTotal, "HTTP requests answered, by route and status.",
                               Series::product({{"route", routes}, {"code", status_code_labels()}}),
                               /*hide_zero=*/true);
  duration_ = registry.histogram(kHttpRequestDuration,
                                 "Time from the request's first byte to the response's last byte.",
                                 std::move(buckets), Series::product({{"route", routes}}));
}

}  // namespace sluice::metrics
