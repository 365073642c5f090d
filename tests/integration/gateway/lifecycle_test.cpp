// Connection lifecycles under faults: slowloris, limits, a dying endpoint, graceful shutdown.
#include <gtest/gtest.h>

#include <signal.h>

#include <thread>

#include "gateway_fixture.hpp"

using namespace sluice::test;
using namespace std::chrono_literals;

TEST(Lifecycle, SlowlorisGets408AtTheHeaderDeadline) {
  ScriptedBackend backend;
  GatewaySetup g;
  g.endpoints = {backend.port()};
  g.server_extra = "header_timeout = \"1s\"\n";
  auto gw = g.start();
  RawClient c(g.port);
  std::string req = get_request("/slow", "X-Padding: " + std::string(100, 'p') + "\r\n");
  auto start = std::chrono::steady_clock::now();
  bool closed = false;
  // One byte every 100 ms never completes the head within the deadline.
  for (size_t i = 0; i < req.size() - 2 && !closed; ++i) {
    if (!c.send(req.substr(i, 1))) closed = true;
    std::this_thread::sleep_for(100ms);
    if (std::chrono::steady_clock::now() - start > 1500ms) break;
  }
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 408);
  EXPECT_TRUE(c.peer_closed());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2500ms);
  EXPECT_TRUE(backend.requests().empty());
}

TEST(Lifecycle, HeaderLimits) {
  ScriptedBackend backend;
  GatewaySetup g;
  g.endpoints = {backend.port()};
  auto gw = g.start();
  auto send_one = [&](const std::string& raw) {
    RawClient c(g.port);
    c.send(raw);
    auto r = c.read_response();
    return r ? r->status : 0;
  };
  EXPECT_EQ(send_one(get_request("/" + std::string(9000, 'u'))), 414);
  EXPECT_EQ(send_one(get_request("/", "X-Big: " + std::string(70000, 'b') + "\r\n")), 431);
  std::string many;
  for (int i = 0; i < 101; ++i)
    many += "X-" + std::to_string(i) + ": v\r\n";
  EXPECT_EQ(send_one(get_request("/", many)), 431);
  EXPECT_TRUE(backend.requests().empty());
}

TEST(Lifecycle, IdleKeepAliveAndMaxRequests) {
  ScriptedBackend backend;
  GatewaySetup g;
  g.endpoints = {backend.port()};
  g.server_extra = "keepalive_timeout = \"300ms\"\nmax_requests_per_connection = 2\n";
  auto gw = g.start();
  {
    RawClient c(g.port);
    c.send(get_request("/1"));
    ASSERT_TRUE(c.read_response());
    EXPECT_TRUE(c.peer_closed(1500ms));
  }
  {
    RawClient c(g.port);
    c.send(get_request("/1"));
    auto r1 = c.read_response();
    c.send(get_request("/2"));
    auto r2 = c.read_response();
    ASSERT_TRUE(r1 && r2);
    EXPECT_EQ(r2->header("connection"), "close");
    EXPECT_TRUE(c.peer_closed());
  }
}

TEST(Lifecycle, KilledEndpointIsSkipped) {
  auto a = std::make_unique<ScriptedBackend>();
  ScriptedBackend b;
  GatewaySetup g;
  g.endpoints = {a->port(), b.port()};
  g.upstream_extra = "balance = \"round_robin\"\n";
  auto gw = g.start();
  int ok = 0, failed = 0;
  for (int i = 0; i < 400; ++i) {
    if (i == 100) a.reset();  // the endpoint dies mid-run
    auto r = http_request(g.port, "GET", "/k");
    (r && r->status == 200) ? ++ok : ++failed;
  }
  EXPECT_EQ(failed, 0);
  EXPECT_EQ(ok, 400);
  EXPECT_GE(b.requests().size(), 300u);
}

TEST(Lifecycle, IdleUpstreamClosedByBackendIsRetriedOnce) {
  // The backend closes every connection after answering, without saying so.
  ScriptedBackend backend([](const ReceivedRequest&) {
    BackendReply r;
    r.close_after = true;
    return r;
  });
  GatewaySetup g;
  g.endpoints = {backend.port()};
  auto gw = g.start();
  RawClient c(g.port);
  for (int i = 0; i < 20; ++i) {
    c.send(get_request("/again"));
    auto r = c.read_response();
    ASSERT_TRUE(r) << i;
    EXPECT_EQ(r->status, 200) << i;
  }
}

TEST(Lifecycle, GracefulShutdownFinishesRequestsInFlight) {
  ScriptedBackend backend([](const ReceivedRequest& q) {
    BackendReply r;
    if (q.target == "/slow") r.delay = 1500ms;
    return r;
  });
  GatewaySetup g;
  g.endpoints = {backend.port()};
  g.workers = 2;
  auto gw = g.start();
  RawClient idle(g.port);
  idle.send(get_request("/fast"));
  ASSERT_TRUE(idle.read_response());
  RawClient slow(g.port);
  slow.send(get_request("/slow"));
  std::this_thread::sleep_for(300ms);
  auto start = std::chrono::steady_clock::now();
  gw->process().signal(SIGTERM);
  auto r = slow.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->header("connection"), "close");
  auto status = gw->process().wait(10s);
  ASSERT_TRUE(status);
  EXPECT_EQ(*status, 0);
  EXPECT_TRUE(idle.peer_closed(100ms));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  EXPECT_FALSE(wait_for_port(g.port, 200ms));
}
