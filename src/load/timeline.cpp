#include "load/timeline.hpp"

#include <algorithm>

#include "load/health.hpp"

namespace sluice::load {

Timeline::Timeline(int threads, bool open_model, bool poisson, size_t budget_bytes)
    : threads_(threads),
      open_model_(open_model),
      poisson_(poisson),
      budget_(budget_bytes > 0 ? budget_bytes : kDefaultSeriesBudget),
      delivered_(static_cast<size_t>(threads), 0),
      done_(static_cast<size_t>(threads), false) {}

void Timeline::add(int thread, SecondSample&& s) {
  size_t t = delivered_[static_cast<size_t>(thread)]++;
  if (seconds_.size() <= t) seconds_.resize(t + 1);
  SecondSample& to = seconds_[t];
  to.requests += s.requests;
  to.errors += s.errors;
  to.bytes_in += s.bytes_in;
  to.target += s.target;
  to.sent += s.sent;
  to.late += s.late;
  to.dropped += s.dropped;
  to.due += s.due;
  to.saturated = to.saturated || s.saturated;
  if (to.latency.bins.empty())
    to.latency = std::move(s.latency);
  else
    to.latency.merge(s.latency);
  if (to.generator.size() != static_cast<size_t>(threads_))
    to.generator.resize(static_cast<size_t>(threads_));
  if (!s.generator.empty()) to.generator[static_cast<size_t>(thread)] = s.generator.front();
}

void Timeline::thread_done(int thread) {
  done_[static_cast<size_t>(thread)] = true;
}

void Timeline::settle() {
  while (finalized_ < seconds_.size()) {
    for (int i = 0; i < threads_; ++i)
      if (!done_[static_cast<size_t>(i)] && delivered_[static_cast<size_t>(i)] <= finalized_)
        return;
    finalize(finalized_++);
  }
}

void Timeline::finalize(size_t second) {
  SecondSample& s = seconds_[second];
  s.compute_percentiles();
  s.behind = open_model_ && second_behind(s.due, s.sent, threads_, poisson_);
  size_t i = second / span_;
  if (intervals_.size() <= i) intervals_.resize(i + 1);
  bytes_ -= intervals_[i].bytes();
  if (intervals_[i].bins.empty()) {
    uint64_t max = intervals_[i].max, sum = intervals_[i].sum;
    intervals_[i] = std::move(s.latency);
    intervals_[i].max = std::max(intervals_[i].max, max);
    intervals_[i].sum += sum;
  } else {
    intervals_[i].merge(s.latency);
  }
  intervals_[i].bins.shrink_to_fit();
  bytes_ += intervals_[i].bytes();
  s.latency = SparseHistogram{};
  // One fold per second at most: the work is spread, and a fold that frees little is not
  // repeated at once.
  if (bytes_ > budget_ && intervals_.size() > 1) fold();
}

void Timeline::fold() {
  std::vector<SparseHistogram> folded((intervals_.size() + 1) / 2);
  bytes_ = 0;
  for (size_t i = 0; i < folded.size(); ++i) {
    folded[i] = std::move(intervals_[2 * i]);
    if (2 * i + 1 < intervals_.size()) folded[i].merge(intervals_[2 * i + 1]);
    folded[i].bins.shrink_to_fit();
    bytes_ += folded[i].bytes();
  }
  intervals_ = std::move(folded);
  span_ *= 2;
}

std::vector<SecondSample> Timeline::finish() {
  std::fill(done_.begin(), done_.end(), true);
  settle();
  // The closing partial second is kept only when something happened in it.
  if (seconds_.size() > 1 && seconds_.back().requests == 0 && seconds_.back().sent == 0)
    seconds_.pop_back();
  std::vector<SecondSample> out = std::move(seconds_);
  for (size_t t = 0; t < out.size(); ++t) {
    if (t % span_ == 0) {
      out[t].latency = std::move(intervals_[t / span_]);
      out[t].span = static_cast<uint32_t>(std::min<size_t>(span_, out.size() - t));
    } else {
      out[t].span = 0;
    }
  }
  seconds_.clear();
  intervals_.clear();
  return out;
}

}  // namespace sluice::load
