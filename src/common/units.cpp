#include "common/units.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace sluice {
namespace {

// Splits "1.5ms" into 1.5 and "ms"; nullopt when there is no leading number.
std::optional<std::pair<double, std::string_view>> split_number(std::string_view text) {
  while (!text.empty() && text.front() == ' ')
    text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ')
    text.remove_suffix(1);
  size_t i = 0;
  while (i < text.size() && ((text[i] >= '0' && text[i] <= '9') || text[i] == '.'))
    ++i;
  if (i == 0) return std::nullopt;
  double value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + i, value);
  if (ec != std::errc() || ptr != text.data() + i || !std::isfinite(value)) return std::nullopt;
  std::string_view unit = text.substr(i);
  while (!unit.empty() && unit.front() == ' ')
    unit.remove_prefix(1);
  return std::pair{value, unit};
}

}  // namespace

std::optional<Duration> parse_duration(std::string_view text) {
  auto parts = split_number(text);
  if (!parts) return std::nullopt;
  auto [value, unit] = *parts;
  double ns_per_unit;
  if (unit == "ns")
    ns_per_unit = 1;
  else if (unit == "us" || unit == "µs")
    ns_per_unit = 1e3;
  else if (unit == "ms")
    ns_per_unit = 1e6;
  else if (unit == "s")
    ns_per_unit = 1e9;
  else if (unit == "m" || unit == "min")
    ns_per_unit = 60e9;
  else if (unit == "h")
    ns_per_unit = 3600e9;
  else
    return std::nullopt;
  double ns = value * ns_per_unit;
  if (ns > 1e18) return std::nullopt;
  return Duration(static_cast<int64_t>(std::llround(ns)));
}

std::optional<uint64_t> parse_size(std::string_view text) {
  auto parts = split_number(text);
  if (!parts) return std::nullopt;
  auto [value, unit] = *parts;
  double mult;
  if (unit.empty() || unit == "B")
    mult = 1;
  else if (unit == "KB" || unit == "KiB" || unit == "k" || unit == "K")
    mult = 1024.0;
  else if (unit == "MB" || unit == "MiB" || unit == "M")
    mult = 1024.0 * 1024;
  else if (unit == "GB" || unit == "GiB" || unit == "G")
    mult = 1024.0 * 1024 * 1024;
  else if (unit == "TB" || unit == "TiB" || unit == "T")
    mult = 1024.0 * 1024 * 1024 * 1024;
  else
    return std::nullopt;
  double bytes = value * mult;
  if (bytes > 1.8e19) return std::nullopt;
  return static_cast<uint64_t>(std::llround(bytes));
}

std::string format_duration(Duration d) {
  char buf[32];
  double ns = static_cast<double>(d.count());
  if (ns < 1e3)
    std::snprintf(buf, sizeof buf, "%.0fns", ns);
  else if (ns < 1e6)
    std::snprintf(buf, sizeof buf, "%.1fus", ns / 1e3);
  else if (ns < 1e9)
    std::snprintf(buf, sizeof buf, "%.1fms", ns / 1e6);
  else
    std::snprintf(buf, sizeof buf, "%.2fs", ns / 1e9);
  return buf;
}

}  // namespace sluice
