// Traffic control shows in /metrics: every request sent upstream, every rate-limit rejection by
// route and limit, every shed request, and the endpoint's health.
#include <gtest/gtest.h>

#include <regex>
#include <thread>

#include "../gateway/gateway_fixture.hpp"

using namespace sluice::test;
using namespace std::chrono_literals;

namespace {

// The value of the first series whose line starts with `series` (name and labels), or -1.
double metric(const std::string& text, const std::string& series) {
  size_t at = text.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + series.size() + 2));
}

}  // namespace

TEST(TrafficMetrics, CountRejectionsShedsAndUpstreamRequests) {
  ScriptedBackend backend([](const ReceivedRequest& r) {
    BackendReply reply;
    if (r.target == "/slow") reply.delay = 400ms;
    return reply;
  });
  GatewaySetup g;
  g.endpoints = {backend.port()};
  g.route_extra =
      "name = \"api\"\nrate_limit = [{ key = \"ip\", rate = \"1/min\", burst = 3, "
      "name = \"per-ip\" }]\nmax_concurrent = 1\n";
  auto gw = g.start();
  std::thread slow([&] { http_request(g.port, "GET", "/slow"); });
  std::this_thread::sleep_for(150ms);
  auto shed = http_request(g.port, "GET", "/fast");  // the route's one slot is taken
  slow.join();
  ASSERT_TRUE(shed);
  EXPECT_EQ(shed->status, 503);
  auto ok = http_request(g.port, "GET", "/fast");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  for (int i = 0; i < 2; ++i)
    EXPECT_EQ(http_request(g.port, "GET", "/fast")->status, 429);

  std::this_thread::sleep_for(100ms);  // connection gauges follow the workers' 20 ms tick
  auto m = http_request(g.admin_port, "GET", "/metrics");
  ASSERT_TRUE(m);
  const std::string& t = m->body;
  std::string ep = "upstream=\"app\",endpoint=\"127.0.0.1:" + std::to_string(backend.port()) + "\"";
  EXPECT_EQ(metric(t, "sluice_upstream_requests_total{" + ep + "}"), 2) << t;
  EXPECT_EQ(metric(t, "sluice_upstream_request_duration_seconds_count{" + ep + "}"), 2);
  EXPECT_EQ(metric(t, "sluice_upstream_endpoint_healthy{" + ep + "}"), 1);
  EXPECT_EQ(metric(t, "sluice_upstream_connections{" + ep + ",state=\"active\"}"), 0);
  EXPECT_EQ(metric(t, "sluice_ratelimit_rejected_total{route=\"api\",limit=\"per-ip\"}"), 2);
  EXPECT_EQ(metric(t, "sluice_admission_shed_total{route=\"api\"}"), 1);
  EXPECT_EQ(metric(t, "sluice_http_requests_total{route=\"api\",code=\"429\"}"), 2);
  EXPECT_EQ(metric(t, "sluice_http_requests_total{route=\"api\",code=\"503\"}"), 1);
  EXPECT_EQ(metric(t, "sluice_http_requests_total{route=\"api\",code=\"200\"}"), 2);
  EXPECT_EQ(metric(t, "sluice_upstream_queue_depth{upstream=\"app\"}"), 0);
}
