#include "metrics/registry.hpp"

#include <cmath>
#include <stdexcept>

namespace sluice::metrics {

const char* type_name(MetricType type) {
  switch (type) {
    case MetricType::counter:
      return "counter";
    case MetricType::gauge:
      return "gauge";
    case MetricType::histogram:
      return "histogram";
  }
  return "untyped";
}

bool valid_metric_name(std::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

bool valid_label_name(std::string_view name) {
  if (name.empty() || name.starts_with("__")) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

Series Series::none() {
  Series s;
  s.values.emplace_back();
  return s;
}

Series Series::product(std::vector<LabelDim> dims) {
  Series s;
  size_t total = 1;
  for (const auto& d : dims) {
    s.names.push_back(d.name);
    total *= d.values.size();
  }
  s.strides.assign(dims.size(), 1);
  for (size_t k = dims.size(); k-- > 1;)
    s.strides[k - 1] = s.strides[k] * dims[k].values.size();
  s.values.reserve(total);
  for (size_t flat = 0; flat < total; ++flat) {
    std::vector<std::string> tuple;
    for (size_t k = 0; k < dims.size(); ++k)
      tuple.push_back(dims[k].values[(flat / s.strides[k]) % dims[k].values.size()]);
    s.values.push_back(std::move(tuple));
  }
  return s;
}

Series Series::list(std::vector<std::string> names, std::vector<std::vector<std::string>> values) {
  for (const auto& v : values)
    if (v.size() != names.size())
      throw std::invalid_argument("series label values do not match the label names");
  Series s;
  s.names = std::move(names);
  s.values = std::move(values);
  return s;
}

WorkerMetrics::WorkerMetrics(size_t counters, size_t gauges, size_t sums)
    : counters_(new std::atomic<uint64_t>[counters]),
      gauges_(new std::atomic<int64_t>[gauges]),
      sums_(new std::atomic<double>[sums]) {
  for (size_t i = 0; i < counters; ++i)
    counters_[i].store(0, std::memory_order_relaxed);
  for (size_t i = 0; i < gauges; ++i)
    gauges_[i].store(0, std::memory_order_relaxed);
  for (size_t i = 0; i < sums; ++i)
    sums_[i].store(0, std::memory_order_relaxed);
}

void CallbackSink::add(double value, std::vector<std::string> label_values) {
  if (label_values.size() != out_.label_names.size()) return;  // a broken callback: skip it
  SampleSnapshot s;
  s.labels = std::move(label_values);
  s.value = value;
  out_.samples.push_back(std::move(s));
}

Registry::Family& Registry::add_family(const std::string& name, const std::string& help,
                                       MetricType type, Series series) {
  if (!valid_metric_name(name)) throw std::invalid_argument("invalid metric name: " + name);
  for (const auto& label : series.names)
    if (!valid_label_name(label) || (type == MetricType::histogram && label == "le"))
      throw std::invalid_argument("invalid label name '" + label + "' in " + name);
  for (const auto& f : families_)
    if (f.name == name) throw std::invalid_argument("metric registered twice: " + name);
  families_.push_back(Family{name, help, type, std::move(series)});
  return families_.back();
}

CounterFamily Registry::counter(const std::string& name, const std::string& help, Series series,
                                bool hide_zero) {
  std::lock_guard lock(mu_);
  if (!workers_.empty()) throw std::logic_error("counter registered after add_worker: " + name);
  Family& f = add_family(name, help, MetricType::counter, std::move(series));
  f.base = counter_slots_;
  f.hide_zero = hide_zero;
  counter_slots_ += static_cast<uint32_t>(f.series.size());
  CounterFamily h;
  h.base = f.base;
  h.count = static_cast<uint32_t>(f.series.size());
  h.strides = &f.series.strides;
  return h;
}

GaugeFamily Registry::gauge(const std::string& name, const std::string& help, Series series) {
  std::lock_guard lock(mu_);
  if (!workers_.empty()) throw std::logic_error("gauge registered after add_worker: " + name);
  Family& f = add_family(name, help, MetricType::gauge, std::move(series));
  f.base = gauge_slots_;
  gauge_slots_ += static_cast<uint32_t>(f.series.size());
  GaugeFamily h;
  h.base = f.base;
  h.count = static_cast<uint32_t>(f.series.size());
  h.strides = &f.series.strides;
  return h;
}

HistogramFamily Registry::histogram(const std::string& name, const std::string& help,
                                    std::vector<double> bounds, Series series) {
  for (size_t i = 0; i < bounds.size(); ++i)
    if (!std::isfinite(bounds[i]) || (i > 0 && bounds[i] <= bounds[i - 1]))
      throw std::invalid_argument("histogram bounds must be finite and increasing: " + name);
  std::lock_guard lock(mu_);
  if (!workers_.empty()) throw std::logic_error("histogram registered after add_worker: " + name);
  Family& f = add_family(name, help, MetricType::histogram, std::move(series));
  f.bounds = std::move(bounds);
  f.base = counter_slots_;
  f.sum_base = sum_slots_;
  counter_slots_ += static_cast<uint32_t>(f.series.size() * (f.bounds.size() + 1));
  sum_slots_ += static_cast<uint32_t>(f.series.size());
  HistogramFamily h;
  h.base = f.base;
  h.count = static_cast<uint32_t>(f.series.size());
  h.strides = &f.series.strides;
  h.sum_base = f.sum_base;
  h.bounds = &f.bounds;
  return h;
}

void Registry::callback(const std::string& name, const std::string& help, MetricType type,
                        std::vector<std::string> label_names, Callback fn) {
  if (type == MetricType::histogram)
    throw std::invalid_argument("callback metrics are counters or gauges: " + name);
  std::lock_guard lock(mu_);
  Series s;
  s.names = std::move(label_names);
  Family& f = add_family(name, help, type, std::move(s));
  f.callback = std::move(fn);
}

WorkerMetrics& Registry::add_worker() {
  std::lock_guard lock(mu_);
  // new, not make_unique: the constructor is private to keep the layout in the registry's hands.
  workers_.emplace_back(new WorkerMetrics(counter_slots_, gauge_slots_, sum_slots_));
  return *workers_.back();
}

size_t Registry::worker_count() const {
  std::lock_guard lock(mu_);
  return workers_.size();
}

void Registry::collect_family(const Family& f, FamilySnapshot& out) const {
  out.name = f.name;
  out.help = f.help;
  out.type = f.type;
  out.label_names = f.series.names;
  out.bounds = f.bounds;
  if (f.callback) {
    CallbackSink sink(out);
    f.callback(sink);
    return;
  }
  const size_t per_series = f.type == MetricType::histogram ? f.bounds.size() + 1 : 1;
  for (size_t s = 0; s < f.series.size(); ++s) {
    SampleSnapshot sample;
    if (f.type == MetricType::histogram) {
      sample.buckets.assign(per_series, 0);
      for (const auto& w : workers_) {
        for (size_t b = 0; b < per_series; ++b)
          sample.buckets[b] +=
              w->counters_[f.base + s * per_series + b].load(std::memory_order_relaxed);
        sample.sum += w->sums_[f.sum_base + s].load(std::memory_order_relaxed);
      }
      // Per-bucket counts become cumulative; the count is the +Inf bucket, so they agree.
      for (size_t b = 1; b < per_series; ++b)
        sample.buckets[b] += sample.buckets[b - 1];
      sample.count = sample.buckets.back();
    } else if (f.type == MetricType::counter) {
      uint64_t total = 0;
      for (const auto& w : workers_)
        total += w->counters_[f.base + s].load(std::memory_order_relaxed);
      if (f.hide_zero && total == 0) continue;
      sample.value = static_cast<double>(total);
    } else {
      int64_t total = 0;
      for (const auto& w : workers_)
        total += w->gauges_[f.base + s].load(std::memory_order_relaxed);
      sample.value = static_cast<double>(total);
    }
    sample.labels = f.series.values[s];
    out.samples.push_back(std::move(sample));
  }
}

Snapshot Registry::collect() const {
  std::lock_guard lock(mu_);
  Snapshot snap;
  snap.families.resize(families_.size());
  for (size_t i = 0; i < families_.size(); ++i)
    collect_family(families_[i], snap.families[i]);
  return snap;
}

const FamilySnapshot* Snapshot::find(const std::string& name) const {
  for (const auto& f : families)
    if (f.name == name) return &f;
  return nullptr;
}

}  // namespace sluice::metrics
