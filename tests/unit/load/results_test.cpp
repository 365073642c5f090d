#include "load/results.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "load/compare.hpp"
#include "load/report_html.hpp"
#include "load/scenario.hpp"

namespace sluice::load {
namespace {

RunResult sample_run(uint64_t base, int64_t start_ms) {
  RunResult r;
  r.url = "http://127.0.0.1:1/";
  r.connections = 4;
  r.threads = 1;
  r.start_unix_ms = start_ms;
  r.duration_s = 3;
  for (int s = 0; s < 3; ++s) {
    SecondSample ss;
    Histogram h;
    for (uint64_t i = 1; i <= 100; ++i) {
      uint64_t v = base + i * 1000 * (s + 1);
      h.record(v);
      r.latency.record(v);
      r.service_time.record(v / 2);
    }
    ss.requests = 100;
    h.drain_into(ss.latency);
    r.series.push_back(ss);
  }
  r.requests = 300;
  r.errors = 3;
  r.error_kinds[static_cast<int>(ErrorKind::timeout)] = 3;
  r.statuses[200] = 297;
  r.by_name["read"].requests = 300;
  r.by_name["read"].latency = r.latency;
  r.thresholds.push_back({"p95<1s", true, "✓ p95 ...", 1.0});
  return r;
}

TEST(Results, JsonRoundTripIsExact) {
  RunResult r = sample_run(1'000'000, 1000);
  std::string text = to_json(r);
  for (const char* key :
       {"\"requests\"", "\"errors\"", "\"rps\"", "\"latency_ms\"", "\"p50\"", "\"p90\"", "\"p95\"",
        "\"p99\"", "\"p999\"", "\"max\"", "\"series\"", "\"histogram\"", "\"service_time_ms\""})
    EXPECT_NE(text.find(key), std::string::npos) << key;
  RunResult back;
  std::string error;
  ASSERT_TRUE(from_json(text, back, error)) << error;
  EXPECT_EQ(back.requests, 300u);
  EXPECT_EQ(back.errors, 3u);
  EXPECT_EQ(back.latency.count(), r.latency.count());
  for (double p : {50.0, 99.0, 99.9})
    EXPECT_EQ(back.latency.value_at(p), r.latency.value_at(p));
  EXPECT_EQ(back.latency.max(), r.latency.max());
  EXPECT_EQ(back.latency.sum(), r.latency.sum());
  ASSERT_EQ(back.series.size(), 3u);
  EXPECT_EQ(back.series[1].latency.count(), 100u);
  EXPECT_EQ(back.by_name["read"].latency.count(), 300u);
  EXPECT_EQ(to_json(back), text);
  EXPECT_FALSE(from_json("{\"schema\":\"other\"}", back, error));
  EXPECT_FALSE(from_json("{", back, error));
}

TEST(Results, JsonCarriesHealthAndFoldedSeries) {
  RunResult r = sample_run(1'000'000, 1000);
  r.model = "open";
  r.scheduled = 300;
  r.sent_in_window = 240;
  r.window_s = 3;
  for (auto& s : r.series) {
    s.sent = 80;
    s.due = 100;
    s.generator = {{55.5f, 1.25f, 0.5f, 0.02f, 0, false}, {93.0f, 2.0f, 30.0f, 0.5f, 60, true}};
    s.compute_percentiles();
  }
  r.series[1].saturated = true;
  // Seconds 0 and 1 folded into one interval, as a long run would.
  r.series[0].latency.merge(r.series[1].latency);
  r.series[0].span = 2;
  r.series[1].latency = {};
  r.series[1].span = 0;
  assess_health(r);
  EXPECT_FALSE(r.health.trustworthy);
  std::string text = to_json(r);
  for (const char* key : {"\"trustworthy\":false", "\"health\"", "\"generator_saturated\"",
                          "\"rate_not_reached\"", "\"span\":2", "\"span\":0",
                          "\"cpu_pct\":[55.5,93]", "\"stalled_ms\"", "\"sent\":80", "\"timeline\""})
    EXPECT_NE(text.find(key), std::string::npos) << key;
  RunResult back;
  std::string error;
  ASSERT_TRUE(from_json(text, back, error)) << error;
  EXPECT_FALSE(back.health.trustworthy);
  EXPECT_EQ(back.health.problems, r.health.problems);
  EXPECT_EQ(back.series[0].span, 2u);
  EXPECT_EQ(back.series[0].latency.count(), 200u);
  EXPECT_EQ(back.series[1].latency.count(), 0u);
  EXPECT_DOUBLE_EQ(back.series[1].p99_ms, r.series[1].p99_ms);
  ASSERT_EQ(back.series[2].generator.size(), 2u);
  EXPECT_FLOAT_EQ(back.series[2].generator[1].lag_ms, 30);
  EXPECT_EQ(to_json(back), text);
  // Merging with an unfolded run re-buckets both on 2-second intervals.
  RunResult merged;
  merged.generators = 0;
  merge_into(merged, back);
  merge_into(merged, sample_run(1'000'000, 1000));
  EXPECT_EQ(series_span(merged), 2u);
  uint64_t counted = 0;
  for (auto& s : merged.series)
    counted += s.latency.count();
  EXPECT_EQ(counted, 600u);
  EXPECT_FALSE(merged.health.trustworthy);
}

TEST(Results, HostileFilesAreRejectedOrClampedNotCrashed) {
  RunResult r;
  std::string error;
  const char* files[] = {
      R"({"schema":"sluice-load/1","requests":-5,"connections":1e300,"series":[{"bins":[[-1,2]]}]})",
      R"({"schema":"sluice-load/1","histogram":{"bins":[[1e30,1e30]],"min_ns":-1},"series":[]})",
      R"({"schema":"sluice-load/1","series":[{"span":1e12,"bins":[[5,1],[3,2],[5,4]]}]})",
      R"({"schema":"sluice-load/1","health":{"scheduled":-1,"busiest_thread":1e99}})",
  };
  for (const char* f : files) {
    RunResult out;
    if (from_json(f, out, error)) {
      (void)to_json(out);
      assess_health(out);
    }
  }
  ASSERT_TRUE(from_json(files[2], r, error)) << error;
  ASSERT_EQ(r.series[0].latency.bins.size(), 2u);  // sorted, duplicates added
  EXPECT_EQ(r.series[0].latency.bins[1].second, 5u);
}

TEST(Results, MergeAddsHistogramsAndAlignsSeconds) {
  RunResult a = sample_run(1'000'000, 10'000), b = sample_run(5'000'000, 11'000);
  RunResult all;
  all.generators = 0;
  merge_into(all, a);
  merge_into(all, b);
  EXPECT_EQ(all.generators, 2);
  EXPECT_EQ(all.requests, 600u);
  Histogram both = a.latency;
  both.merge(b.latency);
  EXPECT_EQ(all.latency.value_at(50), both.value_at(50));
  EXPECT_EQ(all.latency.value_at(99), both.value_at(99));
  ASSERT_EQ(all.series.size(), 4u);  // b started one second later
  EXPECT_EQ(all.series[0].requests, 100u);
  EXPECT_EQ(all.series[1].requests, 200u);
  EXPECT_EQ(all.series[3].requests, 100u);
  EXPECT_DOUBLE_EQ(all.duration_s, 4.0);
  EXPECT_TRUE(all.thresholds.empty());
}

TEST(Results, CompareTableAndHtml) {
  RunResult a = sample_run(1'000'000, 0), b = sample_run(2'000'000, 0);
  b.requests = 330;
  std::string text = compare_text(a, b);
  EXPECT_NE(text.find("throughput"), std::string::npos);
  EXPECT_NE(text.find("+10.0%"), std::string::npos) << text;
  EXPECT_NE(text.find("p99"), std::string::npos);
  EXPECT_NE(text.find("p95<1s"), std::string::npos);
  std::string html = compare_html(a, b);
  EXPECT_NE(html.find("<polyline"), std::string::npos);
  std::string page = html_report(a);
  EXPECT_NE(page.find("<svg"), std::string::npos);
  EXPECT_EQ(page.find("<script"), std::string::npos);
  EXPECT_EQ(page.find("http://cdn"), std::string::npos);
}

TEST(Scenario, ErrorsNameFileLineAndColumn) {
  std::string dir = testing::TempDir();
  std::string path = dir + "/bad.toml";
  {
    std::ofstream(path)
        << "url = \"http://127.0.0.1:1\"\n\n[[request]]\npath = \"/a\"\nweight = \"x\"\n";
  }
  LoadOptions o;
  std::string error;
  EXPECT_FALSE(load_scenario(path, o, error));
  EXPECT_EQ(error.rfind(path + ":5:10: ", 0), 0u) << error;
  { std::ofstream(path) << "url = \"http://127.0.0.1:1\"\n[[request]]\npath = \"/a\nx"; }
  EXPECT_FALSE(load_scenario(path, o, error));
  EXPECT_EQ(error.rfind(path + ":3:", 0), 0u) << error;
  { std::ofstream(path) << "conections = 3\n[[request]]\npath = \"/\"\n"; }
  EXPECT_FALSE(load_scenario(path, o, error));
  EXPECT_NE(error.find(":1:1: unknown setting 'conections'"), std::string::npos) << error;
  { std::ofstream(path) << "[[request]]\npath = \"/${zipf:0}\"\n"; }
  EXPECT_FALSE(load_scenario(path, o, error));
  EXPECT_NE(error.find(":2:8: bad template"), std::string::npos) << error;
  { std::ofstream(path) << "[[request]]\npath = \"/\"\nthresholds = [\"p95<soon\"]\n"; }
  EXPECT_FALSE(load_scenario(path, o, error));
  EXPECT_NE(error.find(":3:"), std::string::npos) << error;
}

TEST(Scenario, LoadsRequestsAndThresholds) {
  std::string dir = testing::TempDir();
  std::string path = dir + "/ok.toml";
  {
    std::ofstream(path)
        << "url = \"http://127.0.0.1:9\"\nconnections = 3\nduration = \"2s\"\n"
           "thresholds = [\"p99<1s\"]\n[headers]\nAccept = \"*/*\"\n"
           "[[request]]\nname = \"read\"\nweight = 80\npath = \"/p/${randint:1:9}\"\n"
           "expect = [200, 304]\nthresholds = [\"p95<300ms\"]\n"
           "[[request]]\nname = \"write\"\nmethod = \"POST\"\nweight = 20\n"
           "path = \"/cart\"\nbody = \"{}\"\nheaders = { \"Content-Type\" = \"application/json\" "
           "}\n";
  }
  LoadOptions o;
  std::string error;
  ASSERT_TRUE(load_scenario(path, o, error)) << error;
  EXPECT_EQ(o.connections, 3);
  EXPECT_EQ(o.duration, std::chrono::seconds(2));
  ASSERT_EQ(o.requests.size(), 2u);
  EXPECT_EQ(o.requests[0].expect, (std::vector<int>{200, 304}));
  EXPECT_EQ(o.requests[1].headers.size(), 2u);
  EXPECT_EQ(o.scenario_thresholds, std::vector<std::string>{"read:p95<300ms"});
  EXPECT_EQ(o.thresholds, std::vector<std::string>{"p99<1s"});
}

}  // namespace
}  // namespace sluice::load
