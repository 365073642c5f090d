// Proxying semantics against real backends: headers, keep-alive reuse, pipelining, methods.
#include <gtest/gtest.h>

#include <sys/socket.h>

#include <set>
#include <sstream>
#include <thread>

#include "gateway_fixture.hpp"

using namespace sluice::test;

TEST(Proxy, ForwardsAndRewritesHeaders) {
  ScriptedBackend backend;
  GatewaySetup g;
  g.endpoints = {backend.port()};
  auto gw = g.start();
  RawClient c(g.port);
  ASSERT_TRUE(
      c.send("GET /a/../b/./c?x=1 HTTP/1.1\r\nHost: test.local\r\nConnection: keep-alive, "
             "X-Secret\r\nX-Secret: 1\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\n"
             "Proxy-Authorization: x\r\nX-Forwarded-For: 10.0.0.1\r\nX-Custom: yes\r\n\r\n"));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "ok");
  EXPECT_EQ(r->header("via"), "1.1 sluice");
  auto reqs = backend.requests();
  ASSERT_EQ(reqs.size(), 1u);
  const auto& q = reqs[0];
  EXPECT_EQ(q.target, "/b/c?x=1");
  EXPECT_EQ(q.header("host"), "test.local");
  EXPECT_EQ(q.header("x-custom"), "yes");
  EXPECT_EQ(q.header("x-forwarded-for"), "10.0.0.1, 127.0.0.1");
  EXPECT_EQ(q.header("x-forwarded-proto"), "http");
  EXPECT_EQ(q.header("via"), "1.1 sluice");
  for (const char* hop : {"connection", "keep-alive", "te", "proxy-authorization", "x-secret"})
    EXPECT_EQ(q.count(hop), 0) << hop;
}

TEST(Proxy, AbsoluteFormTargetIsNormalised) {
  ScriptedBackend backend;
  GatewaySetup g;
  g.endpoints = {backend.port()};
  g.more = "[[route]]\npath = \"/only\"\nhost = \"api.example.com\"\nupstream = \"app\"\n";
  auto gw = g.start();
  RawClient c(g.port);
  c.send("GET http://api.example.com/only/x?y=2 HTTP/1.1\r\nHost: other\r\n\r\n");
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  auto reqs = backend.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].target, "/only/x?y=2");
  EXPECT_EQ(reqs[0].header("host"), "api.example.com");
}

TEST(Proxy, KeepAliveReusesAHandfulOfUpstreamConnections) {
  ASSERT_TRUE(Nginx::available());
  Nginx nginx;
  GatewaySetup g;
  g.endpoints = {nginx.port()};
  g.workers = 2;
  auto gw = g.start();
  constexpr int kClients = 8, kPerClient = 1250;
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < kClients; ++t)
    threads.emplace_back([&] {
      RawClient c(g.port);
      for (int i = 0; i < kPerClient; ++i) {
        if (!c.send(get_request("/n"))) return;
        auto r = c.read_response();
        if (!r || r->status != 200) return;
        ++ok;
      }
    });
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(ok.load(), kClients * kPerClient);
  gw->stop();
  nginx.stop();
  std::set<std::string> conns;
  size_t lines = 0;
  for (const auto& line : nginx.access_log()) {
    conns.insert(line.substr(0, line.find(' ')));
    ++lines;
  }
  EXPECT_EQ(lines, size_t{kClients * kPerClient});
  // At most one upstream connection per concurrent client, never one per request.
  EXPECT_LE(conns.size(), size_t{kClients}) << "distinct upstream connections";
}

TEST(Proxy, ConnectionCapHoldsAcrossWorkers) {
  ScriptedBackend backend([](const ReceivedRequest&) {
    BackendReply r;
    r.delay = std::chrono::milliseconds(20);
    return r;
  });
  GatewaySetup g;
  g.endpoints = {backend.port()};
  g.workers = 2;
  g.upstream_extra = "max_connections = 3\nconnect_timeout = \"5s\"\n";
  auto gw = g.start();
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 12; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 5; ++i) {
        RawClient c(g.port);
        c.send(get_request("/cap"));
        auto r = c.read_response();
        if (r && r->status == 200) ++ok;
      }
    });
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(ok.load(), 60);
  // The backend sees a close only when its reader wakes up, so a connection the gateway has
  // already closed can still be counted for a moment next to its replacement.
  EXPECT_LE(backend.max_open_connections(), 3 + 1);
  // Workers share the cap without closing and reopening connections all the time.
  EXPECT_LE(backend.connections(), 8);
}

TEST(Proxy, PipelinedRequestsAnsweredInOrder) {
  ScriptedBackend backend([](const ReceivedRequest& q) {
    BackendReply r;
    std::string body = "you asked " + q.target;
    r.raw = "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    return r;
  });
  GatewaySetup g;
  g.endpoints = {backend.port()};
  auto gw = g.start();
  RawClient c(g.port);
  c.send(get_request("/1") + get_request("/2") +
         "POST /3 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc" + get_request("/4"));
  for (const char* want : {"/1", "/2", "/3", "/4"}) {
    auto r = c.read_response();
    ASSERT_TRUE(r) << want;
    EXPECT_EQ(r->body, std::string("you asked ") + want);
  }
  auto reqs = backend.requests();
  ASSERT_EQ(reqs.size(), 4u);
  EXPECT_EQ(reqs[2].body, "abc");
}

TEST(Proxy, Http10HeadAndExpectContinue) {
  ScriptedBackend backend([](const ReceivedRequest& q) {
    BackendReply r;
    if (q.target == "/chunked")
      r.raw = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
    else
      r.raw = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
    return r;
  });
  GatewaySetup g;
  g.endpoints = {backend.port()};
  auto gw = g.start();
  {
    // HTTP/1.0 client, chunked upstream response: raw body, then close.
    RawClient c(g.port);
    c.send("GET /chunked HTTP/1.0\r\n\r\n");
    std::string all = c.read_until_close();
    EXPECT_NE(all.find("HTTP/1.1 200"), std::string::npos);
    EXPECT_EQ(all.find("Transfer-Encoding"), std::string::npos) << all;
    EXPECT_EQ(all.substr(all.size() - 5), "hello");
  }
  {
    // HTTP/1.0 keep-alive with a sized body stays open.
    RawClient c(g.port);
    c.send("GET /sized HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    auto r = c.read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->header("connection"), "keep-alive");
    c.send("GET /sized HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    EXPECT_TRUE(c.read_response());
  }
  {
    RawClient c(g.port);
    c.send("HEAD /sized HTTP/1.1\r\nHost: x\r\n\r\n");
    auto r = c.read_response(true);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->header("content-length"), "5");
    EXPECT_TRUE(r->body.empty());
    c.send(get_request("/sized"));
    auto r2 = c.read_response();
    ASSERT_TRUE(r2);
    EXPECT_EQ(r2->body, "hello");
  }
  {
    RawClient c(g.port);
    c.send("POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
    std::string interim;
    // The gateway says 100 Continue itself before the body is sent.
    char buf[64];
    ssize_t n = ::recv(c.fd(), buf, sizeof buf, 0);
    ASSERT_GT(n, 0);
    interim.assign(buf, n);
    EXPECT_EQ(interim.rfind("HTTP/1.1 100 Continue\r\n\r\n", 0), 0u) << interim;
    c.send("data");
    auto r = c.read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    auto reqs = backend.requests();
    EXPECT_EQ(reqs.back().body, "data");
    EXPECT_EQ(reqs.back().count("expect"), 0);
  }
}

TEST(Proxy, WebSocketUpgradeIsTunnelled) {
  BackendReply echo;
  echo.upgrade_echo = true;
  ScriptedBackend backend([&](const ReceivedRequest&) { return echo; });
  GatewaySetup g;
  g.endpoints = {backend.port()};
  auto gw = g.start();
  RawClient c(g.port);
  c.send(
      "GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\nEARLY");
  auto r = c.read_response(true);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 101);
  EXPECT_EQ(r->header("upgrade"), "websocket");
  c.send("PING");
  std::string got = c.take_buffered();
  auto end = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  while (got.find("EARLYPING") == std::string::npos && std::chrono::steady_clock::now() < end) {
    char buf[64];
    ssize_t n = ::recv(c.fd(), buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0) got.append(buf, n);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(got, "EARLYPING");
  auto reqs = backend.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].header("upgrade"), "websocket");
  EXPECT_EQ(reqs[0].header("connection"), "Upgrade");
}

TEST(Proxy, ErrorsNameTheCause) {
  ScriptedBackend silent([](const ReceivedRequest&) {
    BackendReply r;
    r.no_reply = true;
    return r;
  });
  uint16_t closed_port = free_port();
  GatewaySetup g;
  g.endpoints = {closed_port};
  g.route_extra = "methods = [\"GET\", \"POST\"]\n";
  g.more = "[upstream.silent]\nendpoints = [\"127.0.0.1:" + std::to_string(silent.port()) +
           "\"]\n[[route]]\npath = \"/slow/\"\nupstream = \"silent\"\ntimeout = \"300ms\"\n"
           "[[route]]\npath = \"/small/\"\nupstream = \"silent\"\nmax_body_size = \"10\"\n";
  auto gw = g.start();
  auto r = http_request(g.port, "GET", "/x");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 502);
  EXPECT_NE(r->body.find("upstream app"), std::string::npos) << r->body;
  r = http_request(g.port, "GET", "/slow/x");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 504);
  r = http_request(g.port, "DELETE", "/x");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 405);
  r = http_request(g.port, "POST", "/small/x", std::string(11, 'a'));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_NE(gw->stderr_text().find("upstream app"), std::string::npos);
}

TEST(Proxy, NoRouteIs404AndReadinessFollowsEndpoints) {
  uint16_t closed_port = free_port();
  GatewaySetup g;
  g.endpoints = {closed_port};
  g.more = "";
  std::string cfg = g.toml();
  // Replace the catch-all route with a narrower one.
  cfg.replace(cfg.find("path = \"/\""), 10, "path = \"/api/\"");
  Sluice gw(cfg, g.port);
  auto r = http_request(g.port, "GET", "/other");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  r = http_request(g.admin_port, "GET", "/health/live");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  r = http_request(g.admin_port, "GET", "/health/ready");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  http_request(g.port, "GET", "/api/x");  // refused: the only endpoint is marked down
  r = http_request(g.admin_port, "GET", "/health/ready");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503) << r->body;
}

TEST(Proxy, AccessLogHasOneJsonLinePerRequest) {
  ScriptedBackend backend;
  TempDir logs;
  GatewaySetup g;
  g.endpoints = {backend.port()};
  g.server_extra = "access_log = \"" + (logs / "access.log").string() + "\"\n";
  auto gw = g.start();
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(http_request(g.port, "GET", "/logged/\"q\"?n=" + std::to_string(i)));
  ASSERT_TRUE(http_request(g.port, "GET", "/x", "", {"Host: other"}));
  gw->stop();
  std::istringstream in(read_file(logs / "access.log"));
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);)
    lines.push_back(l);
  ASSERT_EQ(lines.size(), 6u);
  EXPECT_NE(lines[0].find("\"method\":\"GET\""), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("\"path\":\"/logged/\\\"q\\\"\""), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("\"status\":200"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("\"upstream\":\"127.0.0.1:" + std::to_string(backend.port()) + "\""),
            std::string::npos)
      << lines[0];
  EXPECT_NE(lines[0].find("\"route\":\"/\""), std::string::npos) << lines[0];
}
