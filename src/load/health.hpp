// Generator self-health: each worker thread measures its own CPU, the time it waited for a CPU
// and how late its event loop ran, once a second, on the same timeline as the load. A run whose
// generator was saturated, that did not reach its target rate, or that dropped sends, is marked
// as not trustworthy (docs/LOAD.md, "Self-health").
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "load/results.hpp"

namespace sluice::load {

// A thread-second is saturated when the thread used this share of a CPU; or when, each time it
// woke up, it waited this long on average for a CPU (starved: every measurement it took is late
// by that much); or when its event loop spent kMaxStalledMs of the second more than
// kMaxLoopLagMs behind (a 10 ms heartbeat measures that, so one short hiccup is not saturation).
constexpr double kSaturatedCpuPct = 90;
constexpr double kMaxSchedDelayMs = 1;
constexpr double kMaxLoopLagMs = 20;
constexpr double kMaxStalledMs = 50;
constexpr int64_t kHeartbeatNs = 10'000'000;
// CPU shares of windows shorter than this (a run of a few milliseconds, the closing partial
// second) say little and are not judged.
constexpr int64_t kMinJudgedWindowNs = 250'000'000;
// A mean wait per wake-up over fewer wake-ups than this is one unlucky sample, not starvation.
constexpr int64_t kMinJudgedWakeups = 20;
// The open model must deliver this share of the scheduled requests.
constexpr double kMinAchievedRatio = 0.98;

// Reads the calling thread's CPU time and run-queue wait. Construct and sample on the measured
// thread only: it reads /proc/thread-self.
class ThreadClock {
 public:
  ThreadClock() = default;
  ~ThreadClock();
  ThreadClock(const ThreadClock&) = delete;
  ThreadClock& operator=(const ThreadClock&) = delete;

  void start(int64_t now_ns);
  // What the thread did since the previous call; `lag_ns` is the worst timer delay its loop saw
  // in that time, `stalled_ns` how long it was more than kMaxLoopLagMs behind.
  ThreadSecond sample(int64_t now_ns, int64_t lag_ns, int64_t stalled_ns);

 private:
  bool read_wait(int64_t& wait_ns, int64_t& runs);
  int schedstat_fd_ = -1;
  int64_t last_wall_ = 0, last_cpu_ = 0, last_wait_ = 0, last_runs_ = 0;
};

// Open model: whether a second's sends fell clearly short of its schedule. `threads` one-off
// rounding per thread is allowed, and with Poisson arrivals three standard deviations.
bool second_behind(double due, uint64_t sent, int threads, bool poisson);

// Advice for the capacity search and the summary.
std::string generator_advice();

}  // namespace sluice::load
