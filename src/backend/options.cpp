#include "backend/options.hpp"

#include <charconv>

namespace sluice::backend {
namespace {

bool parse_int(const std::string& text, long long min, long long max, long long& out) {
  long long v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size() || v < min || v > max) return false;
  out = v;
  return true;
}

// A duration with its unit; a bare "0" is accepted too, since zero needs no unit.
bool parse_duration_or_zero(const std::string& text, Duration& out) {
  if (text == "0") {
    out = Duration{0};
    return true;
  }
  auto d = parse_duration(text);
  if (!d) return false;
  out = *d;
  return true;
}

}  // namespace

bool parse_listen(const std::string& text, std::string& host, uint16_t& port) {
  size_t colon = text.rfind(':');
  if (colon == std::string::npos) return false;
  std::string h = text.substr(0, colon);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']')
    h = h.substr(1, h.size() - 2);
  else if (h.find(':') != std::string::npos)
    return false;  // IPv6 needs brackets
  long long p = 0;
  if (!parse_int(text.substr(colon + 1), 1, 65535, p)) return false;
  host = h.empty() ? "0.0.0.0" : h;
  port = static_cast<uint16_t>(p);
  return true;
}

std::optional<std::string> parse_options(const RawOptions& raw, Options& out) {
  Options o;
  if (!parse_listen(raw.listen, o.host, o.first_port))
    return "--listen: expected HOST:PORT with a port in 1..65535, got '" + raw.listen + "'";
  long long n = 0;
  if (!parse_int(raw.instances, 1, 1024, n))
    return "--instances: expected a whole number in 1..1024, got '" + raw.instances + "'";
  o.instances = static_cast<int>(n);
  if (o.first_port + o.instances - 1 > 65535)
    return "--instances: ports " + std::to_string(o.first_port) + ".." +
           std::to_string(o.first_port + o.instances - 1) + " go past 65535";
  auto dist = parse_latency_dist(raw.latency_dist);
  if (!dist)
    return "--latency-dist: expected lognormal, exponential or fixed, got '" + raw.latency_dist +
           "'";
  o.latency_dist = *dist;
  const auto hour = std::chrono::hours(1);
  if (!parse_duration_or_zero(raw.latency, o.latency) || o.latency > hour)
    return "--latency: expected a duration such as 20ms (at most 1h), got '" + raw.latency + "'";
  if (!parse_duration_or_zero(raw.add_latency, o.add_latency) || o.add_latency > hour)
    return "--add-latency: expected a duration such as 5ms (at most 1h), got '" + raw.add_latency +
           "'";
  if (!parse_duration_or_zero(raw.cpu_work, o.cpu_work) || o.cpu_work > std::chrono::seconds(10))
    return "--cpu-work: expected a duration such as 2ms (at most 10s), got '" + raw.cpu_work + "'";
  if (!parse_int(raw.max_concurrency, 1, 1000000, n))
    return "--max-concurrency: expected a whole number in 1..1000000, got '" + raw.max_concurrency +
           "'";
  o.max_concurrency = static_cast<int>(n);
  if (!parse_int(raw.threads, 1, 256, n))
    return "--threads: expected a whole number in 1..256, got '" + raw.threads + "'";
  o.threads = static_cast<int>(n);
  if (!raw.seed.empty()) {
    uint64_t seed = 0;
    auto [ptr, ec] = std::from_chars(raw.seed.data(), raw.seed.data() + raw.seed.size(), seed);
    if (ec != std::errc() || ptr != raw.seed.data() + raw.seed.size())
      return "--seed: expected a whole number, got '" + raw.seed + "'";
    o.seed = seed;
  }
  o.keepalive = !raw.no_keepalive;
  out = o;
  return std::nullopt;
}

}  // namespace sluice::backend
