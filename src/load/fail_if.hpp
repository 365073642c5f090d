// `sluice compare --fail-if EXPR`: a regression gate on two runs.
//
//   METRIC OP VALUE
//   METRIC  rps | p50 | p90 | p95 | p99 | p999 | max | mean | errors | error_rate
//   OP      >   (fires when the metric went above)   <   (fires when it went below)
//   VALUE   +10%  -5%     a relative change from BASE (signed)
//           +5ms  -100    an absolute change in the metric's unit (signed; error_rate: +0.5pt)
//           250ms  900    a level NEW must not cross (unsigned; error_rate: 1%)
//
// A change gate fires only when the change is beyond the limit and outside the noise of the two
// runs (docs/LOAD.md); error counts are exact and have no noise.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "load/noise.hpp"

namespace sluice::load {

struct Gate {
  enum class Kind { relative, absolute, level };
  std::string expression;
  Stat stat = Stat::p99;
  bool above = true;  // '>'
  Kind kind = Kind::relative;
  double value = 0;  // a fraction (relative); ns, req/s, a count or a ratio otherwise
};

// One expression; nullopt with a one-line `error` saying what is wrong and what would be right.
std::optional<Gate> parse_gate(std::string_view text, std::string& error);

struct GateOutcome {
  std::string expression;
  bool fired = false;
  std::string line;  // "✗ p99>+10%: p99 +53.2% (22.0 ms -> 33.7 ms, noise ±9.1%): regression"
};

GateOutcome evaluate_gate(const Gate& gate, const NoiseReport& noise);

// Whether the metric's changes are judged against noise (latency and throughput) or exactly.
bool has_noise(Stat s);
// "22.0 ms", "1234.5/s", "12", "0.50%": a metric's value for people.
std::string format_stat(Stat s, double v);

}  // namespace sluice::load
