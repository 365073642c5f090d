// Per-route timeouts: the whole exchange (total_timeout) and inactivity while a body streams
// (idle_timeout), beside the route's timeout for the response head.
#include <gtest/gtest.h>

#include <chrono>

#include "../gateway/gateway_fixture.hpp"

using namespace sluice::test;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

TEST(RouteTimeouts, TotalTimeoutCapsTheWholeExchange) {
  ScriptedBackend backend([](const ReceivedRequest&) {
    BackendReply r;
    r.delay = 1500ms;
    return r;
  });
  GatewaySetup g;
  g.endpoints = {backend.port()};
  g.route_extra = "timeout = \"30s\"\ntotal_timeout = \"300ms\"\n";
  auto gw = g.start();
  auto start = Clock::now();
  auto r = http_request(g.port, "GET", "/slow");
  auto took = Clock::now() - start;
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 504);
  EXPECT_GE(took, 250ms);
  EXPECT_LT(took, 1200ms);
}

TEST(RouteTimeouts, IdleTimeoutEndsAStalledBody) {
  ScriptedBackend backend([](const ReceivedRequest&) {
    BackendReply r;
    r.raw = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial";  // then silence
    return r;
  });
  GatewaySetup g;
  g.endpoints = {backend.port()};
  g.route_extra = "idle_timeout = \"300ms\"\n";
  auto gw = g.start();
  RawClient c(g.port);
  auto start = Clock::now();
  ASSERT_TRUE(c.send(get_request("/stall")));
  std::string got = c.read_until_close();
  auto took = Clock::now() - start;
  EXPECT_NE(got.find("partial"), std::string::npos);
  EXPECT_GE(took, 250ms);
  EXPECT_LT(took, 3s);  // the server-wide send_timeout is 60 s
}

TEST(RouteTimeouts, AreCheckedByCheck) {
  GatewaySetup g;
  g.endpoints = {9};
  g.route_extra = "total_timeout = \"soon\"\n";
  TempDir dir;
  write_file(dir / "bad.toml", g.toml());
  auto r = run_command({SLUICE_BINARY, "check", "--config", (dir / "bad.toml").string()});
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("route[0].total_timeout"), std::string::npos) << r.err;
}
