#include "metrics/registry.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <thread>
#include <vector>

#include "exposition.hpp"
#include "metrics/snapshot.hpp"

using namespace sluice::metrics;

TEST(Registry, CountersSumAcrossThreads) {
  Registry reg;
  auto requests = reg.counter("t_requests_total", "Requests.",
                              Series::product({{"route", {"a", "b"}}, {"code", {"200", "500"}}}));
  constexpr int kWorkers = 4;
  constexpr uint64_t kPerWorker = 200000;
  std::vector<WorkerMetrics*> workers;
  for (int i = 0; i < kWorkers; ++i)
    workers.push_back(&reg.add_worker());

  std::atomic<bool> done{false};
  std::atomic<int> scrapes{0};
  std::thread scraper([&] {
    // Scrapes race with the increments: totals must only ever grow.
    double last = 0;
    while (!done.load()) {
      auto snap = reg.collect();
      double total = 0;
      for (const auto& s : snap.find("t_requests_total")->samples)
        total += s.value;
      EXPECT_GE(total, last);
      last = total;
      ++scrapes;
    }
  });
  std::vector<std::thread> threads;
  for (int w = 0; w < kWorkers; ++w)
    threads.emplace_back([&, w] {
      for (uint64_t i = 0; i < kPerWorker; ++i) {
        workers[w]->add(requests.at(i % 2, 0));
        if (i % 4 == 0) workers[w]->add(requests.at(1, 1), 2);
      }
    });
  for (auto& t : threads)
    t.join();
  done = true;
  scraper.join();
  EXPECT_GT(scrapes.load(), 0);

  auto snap = reg.collect();
  const auto* f = snap.find("t_requests_total");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(f->samples.size(), 4u);
  EXPECT_EQ(f->samples[0].labels, (std::vector<std::string>{"a", "200"}));
  EXPECT_EQ(f->samples[0].value, kWorkers * kPerWorker / 2);
  EXPECT_EQ(f->samples[1].labels, (std::vector<std::string>{"a", "500"}));
  EXPECT_EQ(f->samples[1].value, 0);
  EXPECT_EQ(f->samples[2].value, kWorkers * kPerWorker / 2);
  EXPECT_EQ(f->samples[3].labels, (std::vector<std::string>{"b", "500"}));
  EXPECT_EQ(f->samples[3].value, kWorkers * kPerWorker / 4 * 2);
}

TEST(Registry, HistogramBucketsAreCumulativeAndMatchCount) {
  Registry reg;
  auto h = reg.histogram("t_seconds", "Durations.", {0.1, 0.5, 1},
                         Series::product({{"route", {"x", "y"}}}));
  auto& w1 = reg.add_worker();
  auto& w2 = reg.add_worker();
  for (double v : {0.05, 0.1, 0.3})
    w1.observe(h.at(0), v);  // 0.1 falls in le="0.1"
  for (double v : {0.7, 2.0, 5.0})
    w2.observe(h.at(0), v);
  w2.observe(h.at(1), 0.2);

  auto snap = reg.collect();
  const auto* f = snap.find("t_seconds");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(f->samples.size(), 2u);
  const auto& x = f->samples[0];
  EXPECT_EQ(x.buckets, (std::vector<uint64_t>{2, 3, 4, 6}));
  EXPECT_EQ(x.count, 6u);
  EXPECT_DOUBLE_EQ(x.sum, 0.05 + 0.1 + 0.3 + 0.7 + 2.0 + 5.0);
  for (size_t b = 1; b < x.buckets.size(); ++b)
    EXPECT_GE(x.buckets[b], x.buckets[b - 1]);
  EXPECT_EQ(f->samples[1].buckets, (std::vector<uint64_t>{0, 1, 1, 1}));

  std::string error;
  auto text = exposition::parse_text(render_text(snap), error);
  ASSERT_TRUE(text) << error;
  EXPECT_EQ(text->value("t_seconds_bucket", {{"route", "x"}, {"le", "+Inf"}}), 6);
  EXPECT_EQ(text->value("t_seconds_count", {{"route", "x"}}), 6);
  EXPECT_EQ(text->value("t_seconds_bucket", {{"route", "x"}, {"le", "0.5"}}), 3);
}

TEST(Registry, HistogramsUnderConcurrentObservation) {
  Registry reg;
  auto h = reg.histogram("t_latency_seconds", "Latency.", {0.001, 0.01, 0.1});
  std::vector<WorkerMetrics*> workers = {&reg.add_worker(), &reg.add_worker(), &reg.add_worker()};
  std::atomic<bool> done{false};
  std::thread scraper([&] {
    while (!done.load()) {
      auto snap = reg.collect();
      const auto& s = snap.find("t_latency_seconds")->samples[0];
      for (size_t b = 1; b < s.buckets.size(); ++b)
        EXPECT_GE(s.buckets[b], s.buckets[b - 1]);
      EXPECT_EQ(s.count, s.buckets.back());
    }
  });
  std::vector<std::thread> threads;
  for (auto* w : workers)
    threads.emplace_back([w, id = h.at(0)] {
      for (int i = 0; i < 100000; ++i)
        w->observe(id, (i % 4) * 0.005);
    });
  for (auto& t : threads)
    t.join();
  done = true;
  scraper.join();
  auto snap = reg.collect();
  const auto& s = snap.find("t_latency_seconds")->samples[0];
  EXPECT_EQ(s.count, 300000u);
  // 0 | 0.005, 0.01 | 0.015 | none above 0.1
  EXPECT_EQ(s.buckets, (std::vector<uint64_t>{75000, 225000, 300000, 300000}));
}

TEST(Registry, GaugesSumOverWorkers) {
  Registry reg;
  auto g =
      reg.gauge("t_connections", "Connections.", Series::product({{"state", {"active", "idle"}}}));
  auto& w1 = reg.add_worker();
  auto& w2 = reg.add_worker();
  w1.add(g.at(0), 3);
  w1.add(g.at(0), -1);
  w2.set(g.at(0), 5);
  w2.add(g.at(1), 1);
  auto snap = reg.collect();
  const auto* f = snap.find("t_connections");
  EXPECT_EQ(f->samples[0].value, 7);
  EXPECT_EQ(f->samples[1].value, 1);
}

TEST(Registry, CallbacksRunAtScrapeTime) {
  Registry reg;
  std::atomic<int> depth{4};
  reg.callback("t_queue_depth", "Queued.", MetricType::gauge, {"upstream"}, [&](CallbackSink& out) {
    out.add(depth.load(), {"api"});
    out.add(0.5, {"static"});
    out.add(1, {"too", "many"});  // wrong arity: dropped
  });
  auto snap = reg.collect();
  const auto* f = snap.find("t_queue_depth");
  ASSERT_EQ(f->samples.size(), 2u);
  EXPECT_EQ(f->samples[0].value, 4);
  depth = 9;
  EXPECT_EQ(reg.collect().find("t_queue_depth")->samples[0].value, 9);
  std::string text = render_text(reg.collect());
  EXPECT_NE(text.find("t_queue_depth{upstream=\"static\"} 0.5\n"), std::string::npos) << text;
}

TEST(Registry, HideZeroLeavesOutUntouchedSeries) {
  Registry reg;
  auto c = reg.counter("t_codes_total", "Codes.", Series::product({{"code", {"200", "404"}}}),
                       /*hide_zero=*/true);
  auto& w = reg.add_worker();
  w.add(c.at(1));
  auto snap = reg.collect();
  ASSERT_EQ(snap.find("t_codes_total")->samples.size(), 1u);
  EXPECT_EQ(snap.find("t_codes_total")->samples[0].labels[0], "404");
  // The family's HELP and TYPE stay, even with every series hidden.
  Registry empty;
  empty.counter("t_none_total", "None.", Series::none(), true);
  EXPECT_EQ(render_text(empty.collect()),
            "# HELP t_none_total None.\n# TYPE t_none_total counter\n");
}

TEST(Registry, RejectsBadRegistrations) {
  Registry reg;
  EXPECT_THROW(reg.counter("bad-name", "x"), std::invalid_argument);
  EXPECT_THROW(reg.counter("1abc", "x"), std::invalid_argument);
  EXPECT_THROW(reg.counter("ok_total", "x", Series::product({{"bad label", {"v"}}})),
               std::invalid_argument);
  EXPECT_THROW(reg.histogram("h", "x", {1, 0.5}), std::invalid_argument);
  EXPECT_THROW(reg.histogram("h2", "x", {1}, Series::product({{"le", {"v"}}})),
               std::invalid_argument);
  EXPECT_THROW(Series::list({"a", "b"}, {{"only-one"}}), std::invalid_argument);
  reg.counter("dup_total", "x");
  EXPECT_THROW(reg.counter("dup_total", "x"), std::invalid_argument);
  reg.add_worker();
  EXPECT_THROW(reg.counter("late_total", "x"), std::logic_error);
  EXPECT_NO_THROW(reg.callback("late_gauge", "x", MetricType::gauge, {}, [](CallbackSink&) {}));
}

TEST(Registry, ListSeriesKeepTheirOrder) {
  Registry reg;
  auto c = reg.counter("t_rejected_total", "Rejected.",
                       Series::list({"route", "limit"}, {{"api", "per_ip"}, {"login", "burst"}}));
  auto& w = reg.add_worker();
  w.add(c.at(1), 3);
  auto snap = reg.collect();
  const auto& s = snap.find("t_rejected_total")->samples;
  EXPECT_EQ(s[1].labels, (std::vector<std::string>{"login", "burst"}));
  EXPECT_EQ(s[1].value, 3);
}
