#include "load/noise.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "load/templates.hpp"

namespace sluice::load {
namespace {

struct Block {
  SparseHistogram latency;
  uint64_t requests = 0, errors = 0;
  double seconds = 0;
};

// Whole intervals of the series, grouped into at most kMaxBlocks consecutive blocks.
std::vector<Block> make_blocks(const RunResult& r) {
  std::vector<Block> units;
  size_t n = r.series.size();
  for (size_t t = 0; t < n; ++t) {
    const SecondSample& s = r.series[t];
    if (s.span > 0 || units.empty()) units.emplace_back();
    Block& u = units.back();
    if (s.span > 0) u.latency = s.latency;
    u.requests += s.requests;
    u.errors += s.errors;
    // The last entry may be a partial second.
    double len = t + 1 < n ? 1.0 : std::clamp(r.duration_s - static_cast<double>(n - 1), 0.05, 1.0);
    u.seconds += len;
  }
  if (units.size() <= kMaxBlocks) return units;
  size_t per = (units.size() + kMaxBlocks - 1) / kMaxBlocks;
  std::vector<Block> blocks;
  for (size_t i = 0; i < units.size(); i += per) {
    Block b;
    for (size_t j = i; j < std::min(units.size(), i + per); ++j) {
      b.latency.merge(units[j].latency);
      b.requests += units[j].requests;
      b.errors += units[j].errors;
      b.seconds += units[j].seconds;
    }
    blocks.push_back(std::move(b));
  }
  return blocks;
}

// Percentile of dense counts with the Histogram::value_at rule.
uint64_t dense_value_at(const std::vector<uint64_t>& counts, uint32_t lo, uint32_t hi,
                        uint64_t total, uint64_t max, double p) {
  uint64_t wanted = static_cast<uint64_t>(std::ceil(p / 100.0 * static_cast<double>(total)));
  if (wanted == 0) wanted = 1;
  uint64_t seen = 0;
  for (uint32_t i = lo; i <= hi; ++i) {
    seen += counts[i];
    if (seen >= wanted) return std::min(Histogram::highest_equivalent(i), max);
  }
  return max;
}

// Redraws the run from its blocks `kReplicates` times; one StatValues per redraw.
std::vector<StatValues> bootstrap(const std::vector<Block>& blocks, uint64_t seed) {
  std::vector<StatValues> out;
  out.reserve(kReplicates);
  std::vector<uint64_t> counts(Histogram::kBinCount, 0);
  Rng rng(seed);
  for (int rep = 0; rep < kReplicates; ++rep) {
    uint64_t requests = 0, errors = 0, total = 0, max = 0;
    double seconds = 0, sum = 0;
    uint32_t lo = Histogram::kBinCount, hi = 0;
    for (size_t k = 0; k < blocks.size(); ++k) {
      const Block& b = blocks[rng.below(blocks.size())];
      requests += b.requests;
      errors += b.errors;
      seconds += b.seconds;
      sum += static_cast<double>(b.latency.sum);
      max = std::max(max, b.latency.max);
      for (auto& [i, c] : b.latency.bins) {
        counts[i] += c;
        total += c;
      }
      if (!b.latency.bins.empty()) {
        lo = std::min(lo, b.latency.bins.front().first);
        hi = std::max(hi, b.latency.bins.back().first);
      }
    }
    StatValues v{};
    auto at = [&](Stat s) -> double& { return v[static_cast<size_t>(s)]; };
    at(Stat::rps) = seconds > 0 ? static_cast<double>(requests) / seconds : 0;
    at(Stat::errors) = static_cast<double>(errors);
    at(Stat::error_rate) =
        requests ? static_cast<double>(errors) / static_cast<double>(requests) : 0;
    if (total) {
      if (max == 0) max = Histogram::highest_equivalent(hi);
      const std::pair<Stat, double> percentiles[] = {
          {Stat::p50, 50}, {Stat::p90, 90}, {Stat::p95, 95}, {Stat::p99, 99}, {Stat::p999, 99.9}};
      for (auto& [stat, p] : percentiles)
        at(stat) = static_cast<double>(dense_value_at(counts, lo, hi, total, max, p));
      at(Stat::max) = static_cast<double>(max);
      at(Stat::mean) = sum / static_cast<double>(total);
      std::fill(counts.begin() + lo, counts.begin() + hi + 1, 0);
    }
    out.push_back(v);
  }
  return out;
}

// The observed change plus or minus `k` standard errors of the redrawn changes.
void interval(const std::vector<double>& d, double point, double k, double& lo, double& hi) {
  double mean = 0, var = 0;
  for (double x : d)
    mean += x;
  mean /= static_cast<double>(d.size());
  for (double x : d)
    var += (x - mean) * (x - mean);
  double se = d.size() > 1 ? std::sqrt(var / static_cast<double>(d.size() - 1)) : 0;
  lo = point - k * se;
  hi = point + k * se;
}

}  // namespace

double noise_multiplier(size_t blocks) {
  // Two-sided 99 % quantiles of Student's t for 1..30 degrees of freedom.
  static constexpr double kT[] = {63.657, 9.925, 5.841, 4.604, 4.032, 3.707, 3.499, 3.355,
                                  3.250,  3.169, 3.106, 3.055, 3.012, 2.977, 2.947, 2.921,
                                  2.898,  2.878, 2.861, 2.845, 2.831, 2.819, 2.807, 2.797,
                                  2.787,  2.779, 2.771, 2.763, 2.756, 2.750};
  if (blocks < 2) return kT[0];
  size_t df = blocks - 1;
  if (df <= 30) return kT[df - 1];
  // Between 30 (2.750) and 60 (2.660) degrees of freedom, close enough to linear.
  return df <= 60 ? 2.750 - 0.090 * static_cast<double>(df - 30) / 30.0 : kNoiseZ;
}

const char* stat_name(Stat s) {
  static const char* const names[] = {"rps",  "p50", "p90",  "p95",    "p99",
                                      "p999", "max", "mean", "errors", "error_rate"};
  return names[static_cast<size_t>(s)];
}

std::optional<Stat> stat_from_name(std::string_view name) {
  for (size_t i = 0; i < kStats; ++i)
    if (name == stat_name(static_cast<Stat>(i))) return static_cast<Stat>(i);
  if (name == "p99.9") return Stat::p999;
  if (name == "throughput") return Stat::rps;
  return std::nullopt;
}

bool higher_is_better(Stat s) {
  return s == Stat::rps;
}

StatValues point_values(const RunResult& r) {
  StatValues v{};
  auto at = [&](Stat s) -> double& { return v[static_cast<size_t>(s)]; };
  const Histogram& h = r.latency;
  at(Stat::rps) = r.rps();
  at(Stat::p50) = static_cast<double>(h.value_at(50));
  at(Stat::p90) = static_cast<double>(h.value_at(90));
  at(Stat::p95) = static_cast<double>(h.value_at(95));
  at(Stat::p99) = static_cast<double>(h.value_at(99));
  at(Stat::p999) = static_cast<double>(h.value_at(99.9));
  at(Stat::max) = static_cast<double>(h.max());
  at(Stat::mean) = h.mean();
  at(Stat::errors) = static_cast<double>(r.errors);
  at(Stat::error_rate) = r.error_ratio();
  return v;
}

NoiseReport estimate_noise(const RunResult& before, const RunResult& after) {
  NoiseReport report;
  StatValues pb = point_values(before), pa = point_values(after);
  for (size_t i = 0; i < kStats; ++i) {
    Change& c = report.changes[i];
    c.before = pb[i];
    c.after = pa[i];
    c.abs = pa[i] - pb[i];
    c.rel = pb[i] != 0 ? pa[i] / pb[i] - 1 : 0;
  }
  std::vector<Block> bb = make_blocks(before), ba = make_blocks(after);
  report.blocks_before = bb.size();
  report.blocks_after = ba.size();
  report.estimated = bb.size() >= kMinBlocks && ba.size() >= kMinBlocks;
  if (!report.estimated) return report;
  auto rb = bootstrap(bb, 0x5eed'b0075'7a9ULL), ra = bootstrap(ba, 0x5eed'b0075'7abULL);
  const double k = noise_multiplier(std::min(bb.size(), ba.size()));
  for (size_t i = 0; i < kStats; ++i) {
    Change& c = report.changes[i];
    std::vector<double> rel, abs;
    for (int k = 0; k < kReplicates; ++k) {
      double b = rb[static_cast<size_t>(k)][i], a = ra[static_cast<size_t>(k)][i];
      abs.push_back(a - b);
      if (b != 0) rel.push_back(a / b - 1);
    }
    c.estimated = true;
    interval(abs, c.abs, k, c.abs_lo, c.abs_hi);
    if (c.before != 0 && !rel.empty()) {
      interval(rel, c.rel, k, c.rel_lo, c.rel_hi);
    } else {
      c.rel_lo = c.rel_hi = 0;
    }
    bool excludes_zero = c.abs_lo > 0 || c.abs_hi < 0;
    bool meaningful = c.before == 0 ? c.abs != 0 : std::abs(c.rel) >= kMinMeaningfulChange;
    c.significant = excludes_zero && meaningful;
  }
  return report;
}

}  // namespace sluice::load
