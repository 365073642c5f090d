// Upstream resilience end to end: retries to another endpoint, ejection of an endpoint that
// never answers, and active health checks taking an endpoint out and back in.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "../gateway/gateway_fixture.hpp"

using namespace sluice::test;
using namespace std::chrono_literals;

namespace {

BackendReply answer(int status) {
  BackendReply r;
  r.raw = "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Length: 2\r\n\r\nno";
  return r;
}

// Polls /health/ready until its body contains `want`, for at most `limit`.
bool wait_ready_body(uint16_t admin_port, const std::string& want,
                     std::chrono::milliseconds limit) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    auto r = http_request(admin_port, "GET", "/health/ready");
    if (r && r->body.find(want) != std::string::npos) return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

}  // namespace

TEST(Retry, GetGoesToAnotherEndpointWhenOneAnswers503) {
  ScriptedBackend failing([](const ReceivedRequest&) { return answer(503); });
  ScriptedBackend healthy;
  GatewaySetup g;
  g.endpoints = {failing.port(), healthy.port()};
  g.upstream_extra = "balance = \"round_robin\"\nretries = { backoff = \"1ms\" }\n";
  auto gw = g.start();
  for (int i = 0; i < 4; ++i) {
    auto r = http_request(g.port, "GET", "/");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200) << i;
  }
  EXPECT_GE(failing.requests().size(), 1u);
  EXPECT_EQ(healthy.requests().size(), 4u);
}

TEST(Retry, PostIsNotRetried) {
  ScriptedBackend failing([](const ReceivedRequest&) { return answer(503); });
  ScriptedBackend healthy;
  GatewaySetup g;
  g.endpoints = {failing.port(), healthy.port()};
  g.upstream_extra = "balance = \"round_robin\"\n";
  auto gw = g.start();
  int unavailable = 0;
  for (int i = 0; i < 4; ++i) {
    auto r = http_request(g.port, "POST", "/", "body");
    ASSERT_TRUE(r);
    if (r->status == 503) ++unavailable;
  }
  EXPECT_EQ(unavailable, 2);  // round robin: every other POST reaches the failing endpoint
  EXPECT_EQ(failing.requests().size() + healthy.requests().size(), 4u);
}

TEST(Retry, ResetBeforeTheResponseIsRetriedElsewhere) {
  ScriptedBackend resetting([](const ReceivedRequest&) {
    BackendReply r;
    r.close_no_reply = true;
    return r;
  });
  ScriptedBackend healthy;
  GatewaySetup g;
  g.endpoints = {resetting.port(), healthy.port()};
  g.upstream_extra = "balance = \"round_robin\"\nretries = { backoff = \"1ms\" }\n";
  auto gw = g.start();
  for (int i = 0; i < 4; ++i) {
    auto r = http_request(g.port, "GET", "/");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200) << i;
  }
  EXPECT_GE(resetting.requests().size(), 1u);
}

TEST(Outlier, EndpointThatNeverAnswersTimesOutThenIsEjected) {
  ScriptedBackend silent([](const ReceivedRequest&) {
    BackendReply r;
    r.no_reply = true;
    return r;
  });
  ScriptedBackend healthy;
  GatewaySetup g;
  g.endpoints = {silent.port(), healthy.port()};
  g.upstream_extra =
      "balance = \"round_robin\"\noutlier = { consecutive_failures = 2, base_ejection = \"30s\" "
      "}\n";
  g.route_extra = "timeout = \"200ms\"\n";
  auto gw = g.start();
  int timeouts = 0;
  for (int i = 0; i < 4; ++i) {
    auto r = http_request(g.port, "GET", "/");
    ASSERT_TRUE(r);
    if (r->status == 504) ++timeouts;
  }
  EXPECT_EQ(timeouts, 2);
  EXPECT_TRUE(wait_ready_body(g.admin_port, "\"ejected\"", 1s));
  size_t silent_before = silent.requests().size();
  for (int i = 0; i < 6; ++i) {
    auto r = http_request(g.port, "GET", "/");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200) << i;
  }
  EXPECT_EQ(silent.requests().size(), silent_before);
}

TEST(HealthCheck, MarksAnEndpointDownAndBackUp) {
  std::atomic<bool> sick{false};
  ScriptedBackend backend([&](const ReceivedRequest& q) {
    if (q.target == "/health" && sick.load()) return answer(500);
    return BackendReply{};
  });
  GatewaySetup g;
  g.endpoints = {backend.port()};
  g.upstream_extra =
      "health = { path = \"/health\", interval = \"100ms\", timeout = \"100ms\", "
      "unhealthy_after = 2, healthy_after = 2 }\n";
  auto gw = g.start();
  EXPECT_TRUE(wait_ready_body(g.admin_port, "\"up\"", 2s));
  sick = true;
  EXPECT_TRUE(wait_ready_body(g.admin_port, "\"unhealthy\"", 3s));
  auto r = http_request(g.admin_port, "GET", "/health/ready");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  sick = false;
  EXPECT_TRUE(wait_ready_body(g.admin_port, "\"up\"", 3s));
  r = http_request(g.admin_port, "GET", "/health/ready");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}
