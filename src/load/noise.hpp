// How far a run's numbers could move by chance, estimated from the run's own timeline: the
// per-second (or per-interval) histograms are grouped into consecutive blocks, and the run is
// drawn again from its blocks with replacement (a block bootstrap), many times. The spread of a
// statistic across the redrawn runs is its noise; `sluice compare` calls a difference "within
// noise" when the 95 % interval of the change includes zero (docs/LOAD.md).
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>

#include "load/results.hpp"

namespace sluice::load {

enum class Stat { rps, p50, p90, p95, p99, p999, max, mean, errors, error_rate, count_ };
constexpr size_t kStats = static_cast<size_t>(Stat::count_);
using StatValues = std::array<double, kStats>;  // latencies in ns

const char* stat_name(Stat s);                              // "rps", "p99", "error_rate", ...
std::optional<Stat> stat_from_name(std::string_view name);  // also "errors%" spellings
bool higher_is_better(Stat s);

// The run's own value of every statistic.
StatValues point_values(const RunResult& r);

// Fewer blocks than this say nothing about the spread: no estimate.
constexpr size_t kMinBlocks = 5;
constexpr size_t kMaxBlocks = 50;
constexpr int kReplicates = 400;
constexpr double kNoiseZ = 2.576;  // a 99 % interval: few false alarms in a CI gate
// The half-width, in standard errors, of that 99 % interval when the spread is estimated from
// `blocks` blocks: Student's t with blocks - 1 degrees of freedom, since a standard error from a
// handful of blocks is itself uncertain (with 6 blocks, 4.03 rather than 2.58). kNoiseZ beyond.
double noise_multiplier(size_t blocks);
// Changes smaller than this are never called significant: runs on one machine differ by that
// much for reasons no timeline shows.
constexpr double kMinMeaningfulChange = 0.01;

struct Change {
  double before = 0, after = 0;   // point values
  double rel = 0;                 // after / before - 1; 0 when before is 0
  double abs = 0;                 // after - before
  bool estimated = false;         // both runs had enough blocks for a noise estimate
  double rel_lo = 0, rel_hi = 0;  // 99 % interval of the relative change
  double abs_lo = 0, abs_hi = 0;  // of the absolute change
  bool significant = false;
  double noise_rel() const { return (rel_hi - rel_lo) / 2; }
};

struct NoiseReport {
  std::array<Change, kStats> changes;
  size_t blocks_before = 0, blocks_after = 0;
  bool estimated = false;
  const Change& operator[](Stat s) const { return changes[static_cast<size_t>(s)]; }
};

// Deterministic: the same two files always give the same answer.
NoiseReport estimate_noise(const RunResult& before, const RunResult& after);

}  // namespace sluice::load
