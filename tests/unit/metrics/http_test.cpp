#include "metrics/http.hpp"

#include <gtest/gtest.h>

#include <set>

#include "exposition.hpp"
#include "metrics/families.hpp"
#include "metrics/process.hpp"

using namespace sluice::metrics;

TEST(HttpMetrics, StatusCodesMapToBoundedLabels) {
  const auto& labels = status_code_labels();
  EXPECT_EQ(labels[status_code_slot(200)], "200");
  EXPECT_EQ(labels[status_code_slot(503)], "503");
  EXPECT_EQ(labels[status_code_slot(299)], "2xx");
  EXPECT_EQ(labels[status_code_slot(418)], "4xx");
  EXPECT_EQ(labels[status_code_slot(599)], "5xx");
  EXPECT_EQ(labels[status_code_slot(150)], "1xx");
  EXPECT_EQ(labels[status_code_slot(99)], "other");
  EXPECT_EQ(labels[status_code_slot(600)], "other");
  EXPECT_EQ(labels[status_code_slot(-1)], "other");
  EXPECT_EQ(std::set<std::string>(labels.begin(), labels.end()).size(), labels.size());
}

TEST(HttpMetrics, ContractNamesAndLabels) {
  Registry reg;
  HttpMetrics http(reg, {"api", "static"});
  auto& w1 = reg.add_worker();
  auto& w2 = reg.add_worker();
  http.record(w1, 0, 200, 0.004);
  http.record(w2, 0, 200, 0.02);
  http.record(w2, 1, 404, 0.0005);
  http.record(w1, 1, 418, 0.3);
  std::string error;
  auto text = exposition::parse_text(render_text(reg.collect()), error);
  ASSERT_TRUE(text) << error;
  EXPECT_EQ(text->type.at("sluice_http_requests_total"), "counter");
  EXPECT_EQ(text->type.at("sluice_http_request_duration_seconds"), "histogram");
  EXPECT_EQ(text->value("sluice_http_requests_total", {{"route", "api"}, {"code", "200"}}), 2);
  EXPECT_EQ(text->value("sluice_http_requests_total", {{"route", "static"}, {"code", "404"}}), 1);
  EXPECT_EQ(text->value("sluice_http_requests_total", {{"route", "static"}, {"code", "4xx"}}), 1);
  EXPECT_FALSE(text->value("sluice_http_requests_total", {{"route", "api"}, {"code", "500"}}));
  EXPECT_EQ(text->value("sluice_http_request_duration_seconds_count", {{"route", "api"}}), 2);
  EXPECT_EQ(text->value("sluice_http_request_duration_seconds_bucket",
                        {{"route", "api"}, {"le", "0.005"}}),
            1);
  EXPECT_EQ(text->value("sluice_http_request_duration_seconds_bucket",
                        {{"route", "static"}, {"le", "+Inf"}}),
            2);
}

TEST(Families, HelpersRegisterTogether) {
  Registry reg;
  std::vector<EndpointLabels> endpoints = {{"api", "127.0.0.1:9001"}, {"api", "127.0.0.1:9002"}};
  UpstreamMetrics up(reg, endpoints, default_latency_buckets());
  CacheMetrics cache(reg, {"api"});
  LimitMetrics limits(reg, {"api"}, {{"api", "per_client"}});
  register_queue_depth(reg, {"api"}, [](size_t) { return 3.0; });
  register_endpoint_health(reg, endpoints, [](size_t i) { return i == 0; });
  register_process_metrics(reg);
  auto& w = reg.add_worker();
  w.add(up.connections(1, ConnectionState::idle), 4);
  w.add(up.retries(0));
  w.observe(up.latency(1), 0.01);
  w.add(cache.lookup(0, CacheResult::stale));
  w.add(cache.stored_bytes(), 1000);
  w.add(limits.rejected(0));
  w.add(limits.shed(0), 2);

  std::string error;
  auto text = exposition::parse_text(render_text(reg.collect()), error);
  ASSERT_TRUE(text) << error;
  EXPECT_EQ(text->value("sluice_upstream_connections",
                        {{"upstream", "api"}, {"endpoint", "127.0.0.1:9002"}, {"state", "idle"}}),
            4);
  EXPECT_EQ(text->value("sluice_upstream_connections",
                        {{"upstream", "api"}, {"endpoint", "127.0.0.1:9002"}, {"state", "active"}}),
            0);
  EXPECT_EQ(text->value("sluice_upstream_retries_total",
                        {{"upstream", "api"}, {"endpoint", "127.0.0.1:9001"}}),
            1);
  EXPECT_EQ(text->value("sluice_cache_lookups_total", {{"route", "api"}, {"result", "stale"}}), 1);
  EXPECT_EQ(text->value("sluice_cache_stored_bytes"), 1000);
  EXPECT_EQ(
      text->value("sluice_ratelimit_rejected_total", {{"route", "api"}, {"limit", "per_client"}}),
      1);
  EXPECT_EQ(text->value("sluice_admission_shed_total", {{"route", "api"}}), 2);
  EXPECT_EQ(text->value("sluice_upstream_queue_depth", {{"upstream", "api"}}), 3);
  EXPECT_EQ(text->value("sluice_upstream_endpoint_healthy",
                        {{"upstream", "api"}, {"endpoint", "127.0.0.1:9002"}}),
            0);
  EXPECT_TRUE(exposition::valid_json(render_json(reg.collect())));
}

TEST(Process, MetricsFromProc) {
  Registry reg;
  register_process_metrics(reg);
  std::string error;
  auto text = exposition::parse_text(render_text(reg.collect()), error);
  ASSERT_TRUE(text) << error;
  EXPECT_EQ(text->type.at("process_cpu_seconds_total"), "counter");
  EXPECT_GT(text->value("process_resident_memory_bytes").value_or(0), 1e5);
  EXPECT_GE(text->value("process_open_fds").value_or(0), 3);
  EXPECT_GE(text->value("process_cpu_seconds_total").value_or(-1), 0);
  double start = text->value("process_start_time_seconds").value_or(0);
  double now = static_cast<double>(std::time(nullptr));
  EXPECT_GT(start, now - 3600);
  EXPECT_LE(start, now + 1);
}

TEST(Process, StatLineWithAnAwkwardName) {
  auto st = parse_proc_stat(
      "123 (a) b (c)) S 1 123 123 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 1 0 9876 1000 10");
  ASSERT_TRUE(st);
  EXPECT_EQ(st->utime, 250u);
  EXPECT_EQ(st->stime, 50u);
  EXPECT_EQ(st->starttime, 9876u);
  EXPECT_FALSE(parse_proc_stat("garbage"));
}
