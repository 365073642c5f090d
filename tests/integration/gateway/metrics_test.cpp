// The admin listener's /metrics and /stats account for every request.
#include <gtest/gtest.h>

#include <map>
#include <sstream>

#include "gateway_fixture.hpp"

using namespace sluice::test;

namespace {

// "name{labels} value" lines of a Prometheus text exposition, keyed by everything before the value.
std::map<std::string, double> samples(const std::string& text) {
  std::map<std::string, double> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    size_t space = line.rfind(' ');
    out[line.substr(0, space)] = std::stod(line.substr(space + 1));
  }
  return out;
}

}  // namespace

TEST(Metrics, CountersAccountForEveryRequestAndHistogramsAreConsistent) {
  ScriptedBackend backend;
  GatewaySetup g;
  g.endpoints = {backend.port()};
  g.workers = 2;
  std::string cfg = g.toml();
  cfg.replace(cfg.find("path = \"/\""), 10, "path = \"/api/\"");
  Sluice gw(cfg, g.port);
  for (int i = 0; i < 40; ++i)
    ASSERT_TRUE(http_request(g.port, "GET", "/api/x"));
  for (int i = 0; i < 7; ++i)
    ASSERT_TRUE(http_request(g.port, "GET", "/elsewhere"));
  auto r = http_request(g.admin_port, "GET", "/metrics");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->header("content-type").find("text/plain"), std::string::npos);
  auto m = samples(r->body);
  EXPECT_EQ(m["sluice_http_requests_total{route=\"/api/\",code=\"200\"}"], 40) << r->body;
  EXPECT_EQ(m["sluice_http_requests_total{route=\"none\",code=\"404\"}"], 7) << r->body;
  EXPECT_EQ(m["sluice_http_request_duration_seconds_count{route=\"/api/\"}"], 40);
  // Buckets are cumulative and end at _count.
  double previous = 0;
  int buckets = 0;
  for (auto& [key, value] : m) {
    if (key.rfind("sluice_http_request_duration_seconds_bucket{route=\"/api/\"", 0) != 0) continue;
    ++buckets;
    if (key.find("le=\"+Inf\"") != std::string::npos) {
      EXPECT_EQ(value, 40);
    }
  }
  EXPECT_GT(buckets, 3);
  std::istringstream in(r->body);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("sluice_http_request_duration_seconds_bucket{route=\"/api/\"", 0) != 0) continue;
    double v = std::stod(line.substr(line.rfind(' ') + 1));
    EXPECT_GE(v, previous) << line;
    previous = v;
  }
  EXPECT_GT(m["process_resident_memory_bytes"], 0);
  auto stats = http_request(g.admin_port, "GET", "/stats");
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->status, 200);
  EXPECT_NE(stats->body.find("sluice_http_requests_total"), std::string::npos);
}
