// The adaptive limit against a simulated backend: 10 workers, 20 ms per job, FIFO queueing
// beyond 10, driven by 100 closed-loop clients. Time is simulated; nothing sleeps.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <deque>
#include <queue>
#include <random>
#include <vector>

#include "limits/adaptive.hpp"

using namespace sluice::limits;
using namespace std::chrono_literals;

namespace {

struct SimResult {
  std::vector<double> limits;         // sampled every 100 ms after warm-up
  std::vector<int64_t> latencies_ns;  // admitted requests after warm-up
  uint64_t admitted = 0;
  uint64_t shed = 0;
};

SimResult simulate(AdaptiveLimit& limiter, int workers, Duration service, int clients, Duration run,
                   Duration warmup) {
  struct Event {
    Duration at;
    enum Kind { send, job_done, sample } kind;
    int client;
    bool operator>(const Event& o) const { return at > o.at; }
  };
  struct Job {
    int client;
    Duration started;
    uint32_t inflight_at_start;
  };
  std::priority_queue<Event, std::vector<Event>, std::greater<>> events;
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<int64_t> jitter(-service.count() / 10, service.count() / 10);
  std::uniform_int_distribution<int64_t> spread(0, 20'000'000);
  std::vector<Job> in_service;  // at most `workers`
  std::deque<Job> backend_queue;
  std::vector<Job> running(clients);
  uint32_t in_flight = 0;
  SimResult out;

  for (int c = 0; c < clients; ++c)
    events.push({Duration(spread(rng)), Event::send, c});
  events.push({warmup, Event::sample, -1});
  auto start_job = [&](Duration now, const Job& j) {
    running[j.client] = j;
    events.push({now + service + Duration(jitter(rng)), Event::job_done, j.client});
  };
  int busy = 0;
  while (!events.empty()) {
    Event e = events.top();
    events.pop();
    Duration now = e.at;
    if (now > run) break;
    switch (e.kind) {
      case Event::sample:
        out.limits.push_back(limiter.limit());
        events.push({now + 100ms, Event::sample, -1});
        break;
      case Event::send:
        if (in_flight < limiter.limit()) {
          ++in_flight;
          ++out.admitted;
          Job j{e.client, now, in_flight};
          if (busy < workers) {
            ++busy;
            start_job(now, j);
          } else {
            backend_queue.push_back(j);
          }
        } else {
          ++out.shed;  // shed at once; the client comes back a little later
          events.push({now + 5ms, Event::send, e.client});
        }
        break;
      case Event::job_done: {
        const Job j = running[e.client];
        Duration latency = now - j.started;
        --in_flight;
        limiter.on_sample(now, latency, j.inflight_at_start);
        if (now >= warmup) out.latencies_ns.push_back(latency.count());
        --busy;
        if (!backend_queue.empty()) {
          ++busy;
          start_job(now, backend_queue.front());
          backend_queue.pop_front();
        }
        events.push({now, Event::send, e.client});
        break;
      }
    }
  }
  return out;
}

double percentile(std::vector<int64_t> v, double p) {
  std::sort(v.begin(), v.end());
  return static_cast<double>(v[static_cast<size_t>(p * static_cast<double>(v.size() - 1))]);
}

}  // namespace

TEST(AdaptiveLimit, SettlesNearBackendConcurrency) {
  AdaptiveLimit limiter;  // defaults: nobody told it about the 10 workers
  SimResult r = simulate(limiter, 10, 20ms, 100, 90s, 10s);
  ASSERT_FALSE(r.limits.empty());
  std::vector<double> sorted = r.limits;
  std::sort(sorted.begin(), sorted.end());
  double median = sorted[sorted.size() / 2];
  double p05 = sorted[sorted.size() / 20];
  double p95 = sorted[sorted.size() * 19 / 20];
  EXPECT_GE(median, 7);
  EXPECT_LE(median, 15);
  EXPECT_GE(p05, 2);  // probes briefly drop to min_limit
  EXPECT_LE(p95, 15);
  double p50_ms = percentile(r.latencies_ns, 0.5) / 1e6;
  double p99_ms = percentile(r.latencies_ns, 0.99) / 1e6;
  EXPECT_LE(p50_ms, 25) << "p50 " << p50_ms;
  EXPECT_LE(p99_ms, 30) << "p99 " << p99_ms;
  // The backend stays busy: close to 10 jobs / 20 ms = 500/s over the 80 s measured.
  double throughput = static_cast<double>(r.latencies_ns.size()) / 80.0;
  EXPECT_GE(throughput, 450) << throughput;
  EXPECT_GT(r.shed, r.admitted);  // 90 of 100 clients are over capacity
  EXPECT_NEAR(static_cast<double>(limiter.no_load_latency().count()) / 1e6, 20, 2.5);
  std::printf("adaptive: median limit %.1f, p50 %.1f ms, p99 %.1f ms, %.0f/s\n", median, p50_ms,
              p99_ms, throughput);
}

TEST(AdaptiveLimit, FollowsCapacityChange) {
  AdaptiveLimit limiter;
  simulate(limiter, 10, 20ms, 100, 30s, 30s);
  uint32_t at_ten = limiter.limit();
  AdaptiveParams p;
  AdaptiveLimit fresh(p);
  SimResult r = simulate(fresh, 40, 20ms, 100, 60s, 30s);
  std::vector<double> sorted = r.limits;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_LE(at_ten, 15u);
  EXPECT_GE(sorted[sorted.size() / 2], 30);
  EXPECT_LE(sorted[sorted.size() / 2], 55);
}

TEST(AdaptiveLimit, DropsBackOffAndBoundsHold) {
  AdaptiveParams p;
  p.initial_limit = 100;
  p.min_limit = 5;
  p.max_limit = 200;
  AdaptiveLimit limiter(p);
  Duration now = 0s;
  for (int w = 0; w < 50; ++w) {
    now += 101ms;
    for (int i = 0; i < 10; ++i)
      limiter.on_sample(now, 20ms, 100, /*dropped=*/true);
  }
  EXPECT_EQ(limiter.limit(), 5u);
  // Light traffic (in-flight far below the limit) does not inflate it.
  AdaptiveLimit idle(p);
  for (int w = 0; w < 100; ++w) {
    now += 101ms;
    for (int i = 0; i < 10; ++i)
      idle.on_sample(now, 20ms, 3);
  }
  EXPECT_EQ(idle.limit(), 100u);
}
