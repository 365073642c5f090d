// Lock-free per-worker metrics, summed across workers at scrape time.
//
// Setup (config load, one thread): register every family on a Registry, then call add_worker()
// once per worker thread; the first add_worker() freezes the layout. Hot path (each worker on its
// own thread): WorkerMetrics::add / set / observe with ids taken from the family handles; each is
// an array index and a relaxed atomic load and store: no lock, no allocation, no lookup.
// Scrape (any thread): collect() sums every worker's values and runs the callbacks; render_text()
// and render_json() in render.hpp format the result.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "metrics/snapshot.hpp"

namespace sluice::metrics {

// One label and every value it can take.
struct LabelDim {
  std::string name;
  std::vector<std::string> values;
};

// The label names of a family and the value tuple of each of its series.
struct Series {
  std::vector<std::string> names;
  std::vector<std::vector<std::string>> values;
  std::vector<size_t> strides;  // from product(): series of (i, j, ...) is i * s0 + j * s1 + ...

  static Series none();  // a single series without labels
  // Every combination, the last label varying fastest.
  static Series product(std::vector<LabelDim> dims);
  // Exactly these tuples, when not every combination exists (each route with its own limits).
  static Series list(std::vector<std::string> names, std::vector<std::vector<std::string>> values);
  size_t size() const { return values.size(); }
};

struct CounterId {
  uint32_t slot = 0;
};
struct GaugeId {
  uint32_t slot = 0;
};
struct HistogramId {
  uint32_t first_bucket = 0;  // bounds.size() + 1 slots; the last counts values above every bound
  uint32_t sum_slot = 0;
  const std::vector<double>* bounds = nullptr;
};

// Where a family's series live in each worker's arrays. Cheap to copy; valid while the Registry.
struct FamilyIndex {
  uint32_t base = 0;
  uint32_t count = 0;
  const std::vector<size_t>* strides = nullptr;

  // One index per label, for families made with Series::product.
  template <class... I>
  uint32_t flat(I... idx) const {
    const size_t i[] = {static_cast<size_t>(idx)...};
    size_t f = 0;
    for (size_t k = 0; k < sizeof...(I); ++k)
      f += i[k] * (*strides)[k];
    return static_cast<uint32_t>(f);
  }
};

struct CounterFamily : FamilyIndex {
  CounterId at(size_t series) const { return {base + static_cast<uint32_t>(series)}; }
  template <class... I>
  CounterId at(size_t first, I... rest) const requires(sizeof...(I) > 0) {
    return {base + flat(first, rest...)};
  }
};

struct GaugeFamily : FamilyIndex {
  GaugeId at(size_t series) const { return {base + static_cast<uint32_t>(series)}; }
  template <class... I>
  GaugeId at(size_t first, I... rest) const requires(sizeof...(I) > 0) {
    return {base + flat(first, rest...)};
  }
};

struct HistogramFamily : FamilyIndex {
  uint32_t sum_base = 0;
  const std::vector<double>* bounds = nullptr;
  HistogramId at(size_t series) const {
    auto s = static_cast<uint32_t>(series);
    return {base + s * static_cast<uint32_t>(bounds->size() + 1), sum_base + s, bounds};
  }
  template <class... I>
  HistogramId at(size_t first, I... rest) const requires(sizeof...(I) > 0) {
    return at(flat(first, rest...));
  }
};

// One worker's values. Written by its own thread only; read by the scraping thread.
class WorkerMetrics {
 public:
  WorkerMetrics(const WorkerMetrics&) = delete;
  WorkerMetrics& operator=(const WorkerMetrics&) = delete;

  void add(CounterId c, uint64_t n = 1) { bump(counters_[c.slot], n); }
  // Gauges owned by the worker (connections it holds, requests it queues); the scrape shows the
  // sum over workers.
  void add(GaugeId g, int64_t delta) {
    auto& v = gauges_[g.slot];
    v.store(v.load(std::memory_order_relaxed) + delta, std::memory_order_relaxed);
  }
  void set(GaugeId g, int64_t value) { gauges_[g.slot].store(value, std::memory_order_relaxed); }
  void observe(const HistogramId& h, double value) {
    const std::vector<double>& b = *h.bounds;
    size_t i = 0;
    while (i < b.size() && value > b[i])
      ++i;  // a dozen buckets: a scan is as fast as a search
    bump(counters_[h.first_bucket + i], 1);
    auto& sum = sums_[h.sum_slot];
    sum.store(sum.load(std::memory_order_relaxed) + value, std::memory_order_relaxed);
  }

 private:
  friend class Registry;
  WorkerMetrics(size_t counters, size_t gauges, size_t sums);
  // One writer, so a load and a store suffice: no locked read-modify-write on the hot path.
  static void bump(std::atomic<uint64_t>& v, uint64_t n) {
    v.store(v.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  std::unique_ptr<std::atomic<uint64_t>[]> counters_;  // counters, then histogram buckets
  std::unique_ptr<std::atomic<int64_t>[]> gauges_;
  std::unique_ptr<std::atomic<double>[]> sums_;
};

// Scrape-time values of a callback family: one add() per series.
class CallbackSink {
 public:
  void add(double value, std::vector<std::string> label_values = {});

 private:
  friend class Registry;
  explicit CallbackSink(FamilySnapshot& out) : out_(out) {}
  FamilySnapshot& out_;
};
using Callback = std::function<void(CallbackSink&)>;

class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Family registration throws std::invalid_argument on a bad or duplicate name, and
  // std::logic_error once a worker exists.
  // hide_zero: leave out series still at 0 (for wide tables such as route x status code).
  CounterFamily counter(const std::string& name, const std::string& help,
                        Series series = Series::none(), bool hide_zero = false);
  GaugeFamily gauge(const std::string& name, const std::string& help,
                    Series series = Series::none());
  // bounds: upper bounds, strictly increasing, finite; +Inf is implicit.
  HistogramFamily histogram(const std::string& name, const std::string& help,
                            std::vector<double> bounds, Series series = Series::none());
  // A counter or gauge computed at scrape time, on the scraping thread; `fn` must be thread-safe
  // and must not call back into the registry. These may be registered at any time.
  void callback(const std::string& name, const std::string& help, MetricType type,
                std::vector<std::string> label_names, Callback fn);

  // A new worker's zeroed storage, owned by the registry, alive as long as it.
  WorkerMetrics& add_worker();
  size_t worker_count() const;

  // Sums over all workers, in registration order.
  Snapshot collect() const;

 private:
  struct Family {
    std::string name;
    std::string help;
    MetricType type;
    Series series;
    std::vector<double> bounds;
    uint32_t base = 0;
    uint32_t sum_base = 0;
    bool hide_zero = false;
    Callback callback;
  };
  Family& add_family(const std::string& name, const std::string& help, MetricType type,
                     Series series);
  void collect_family(const Family& f, FamilySnapshot& out) const;

  mutable std::mutex mu_;        // setup and scrape only, never taken by a worker
  std::deque<Family> families_;  // a deque: handles point into it
  std::vector<std::unique_ptr<WorkerMetrics>> workers_;
  uint32_t counter_slots_ = 0;
  uint32_t gauge_slots_ = 0;
  uint32_t sum_slots_ = 0;
};

// Valid Prometheus metric and label names.
bool valid_metric_name(std::string_view name);
bool valid_label_name(std::string_view name);

}  // namespace sluice::metrics
