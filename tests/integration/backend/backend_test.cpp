// `sluice backend` as a real process on loopback.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "common/address.hpp"
#include "support/harness.hpp"

using namespace sluice::test;

namespace {

// `count` consecutive free ports.
uint16_t free_ports(int count) {
  uint16_t first = sluice::free_loopback_ports(count);
  return first ? first : free_port();
}

class Backend {
 public:
  explicit Backend(std::vector<std::string> args, int instances = 1) {
    // A port can still be taken between the check and the bind: then try other ports.
    for (int attempt = 0; attempt < 5; ++attempt) {
      port_ = free_ports(instances);
      std::vector<std::string> argv = {SLUICE_BINARY, "backend",
                                       "--listen",    "127.0.0.1:" + std::to_string(port_),
                                       "--instances", std::to_string(instances)};
      argv.insert(argv.end(), args.begin(), args.end());
      proc_ = Process::spawn(argv, "", (dir_ / "stderr.log").string());
      if (wait_until_listening(instances)) return;
      proc_.stop(SIGKILL, 2s);
    }
    throw std::runtime_error("backend did not start: " + read_file(dir_ / "stderr.log"));
  }
  // Every instance accepts, or the process has exited (a port was taken), within 5 s.
  bool wait_until_listening(int instances) {
    for (int i = 0; i < instances; ++i) {
      auto port = static_cast<uint16_t>(port_ + i);
      bool up = false;
      for (int tries = 0; tries < 50 && !up && proc_.running(); ++tries)
        up = wait_for_port(port, 100ms);
      if (!up) return false;
    }
    return proc_.running();
  }
  uint16_t port(int i = 0) const { return static_cast<uint16_t>(port_ + i); }
  Process& process() { return proc_; }
  std::string stats(int i = 0) {
    auto r = http_request(port(i), "GET", "/stats");
    return r ? r->body : "";
  }

 private:
  TempDir dir_;
  uint16_t port_ = 0;
  Process proc_;
};

}  // namespace

TEST(Backend, ItemsAreCacheableJson) {
  Backend b({"--latency", "1ms"});
  auto r = http_request(b.port(), "GET", "/api/items/42");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->header("Cache-Control"), "public, max-age=60");
  EXPECT_EQ(r->header("Content-Type"), "application/json");
  EXPECT_EQ(r->header("X-Backend-Instance"), std::to_string(b.port()));
  std::string etag = r->header("ETag");
  ASSERT_FALSE(etag.empty());
  EXPECT_EQ(r->body.rfind("{\"id\":\"42\",", 0), 0u) << r->body;

  auto again = http_request(b.port(), "GET", "/api/items/42", "", {"If-None-Match: " + etag});
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 304);
  EXPECT_EQ(again->header("ETag"), etag);
  EXPECT_TRUE(again->body.empty());

  auto head = http_request(b.port(), "HEAD", "/api/items/42");
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->header("Content-Length"), std::to_string(r->body.size()));
}

TEST(Backend, OrdersReadTheBody) {
  Backend b({"--latency", "1ms"});
  auto r = http_request(b.port(), "POST", "/api/orders", "{\"item\":42}");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 201);
  EXPECT_EQ(r->header("Cache-Control"), "no-store");
  EXPECT_EQ(json_number(r->body, "received_bytes"), 11);

  RawClient c(b.port());
  ASSERT_TRUE(
      c.send("POST /api/orders HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
             "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"));
  auto chunked = c.read_response();
  ASSERT_TRUE(chunked);
  EXPECT_EQ(chunked->status, 201);
  EXPECT_EQ(json_number(chunked->body, "received_bytes"), 11);
}

TEST(Backend, HealthStatusAndErrors) {
  Backend b({"--latency", "1ms"});
  auto health = http_request(b.port(), "GET", "/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  auto status = http_request(b.port(), "GET", "/api/status/503");
  ASSERT_TRUE(status);
  EXPECT_EQ(status->status, 503);
  auto missing = http_request(b.port(), "GET", "/nope");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  auto wrong = http_request(b.port(), "DELETE", "/api/orders");
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 405);
  EXPECT_EQ(wrong->header("Allow"), "POST");
  auto bad = http_request(b.port(), "GET", "/api/slow?ms=x");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
}

TEST(Backend, KeepAliveAndPipelining) {
  Backend b({"--latency", "1ms"});
  RawClient c(b.port());
  ASSERT_TRUE(
      c.send("GET /api/items/1 HTTP/1.1\r\nHost: x\r\n\r\n"
             "GET /api/items/2 HTTP/1.1\r\nHost: x\r\n\r\n"
             "POST /api/orders HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi"
             "GET /health HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto r1 = c.read_response(), r2 = c.read_response(), r3 = c.read_response(),
       r4 = c.read_response();
  ASSERT_TRUE(r1 && r2 && r3 && r4);
  EXPECT_NE(r1->body.find("\"id\":\"1\""), std::string::npos);
  EXPECT_NE(r2->body.find("\"id\":\"2\""), std::string::npos);
  EXPECT_EQ(r3->status, 201);
  EXPECT_EQ(r4->status, 200);
  EXPECT_FALSE(c.peer_closed(100ms));
  // The readiness probe, this connection, and the one of /stats.
  EXPECT_EQ(json_number(b.stats(), "connections_accepted"), 3);
}

TEST(Backend, MaxConcurrencyHoldsAndQueues) {
  Backend b({"--max-concurrency", "10"});
  std::atomic<int> ok{0};
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> clients;
  for (int i = 0; i < 30; ++i)
    clients.emplace_back([&] {
      auto r = http_request(b.port(), "GET", "/api/slow?ms=200");
      if (r && r->status == 200) ++ok;
    });
  for (auto& t : clients)
    t.join();
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(ok.load(), 30);
  EXPECT_GE(elapsed, 590ms);  // three rounds of 200 ms
  EXPECT_LT(elapsed, 1100ms);
  std::string stats = b.stats();
  EXPECT_EQ(json_number(stats, "max_concurrency_observed"), 10) << stats;
  EXPECT_EQ(json_number(stats, "requests_served"), 30) << stats;
  EXPECT_EQ(json_number(stats, "in_service"), 0) << stats;
  EXPECT_EQ(json_number(stats, "queued"), 0) << stats;
}

TEST(Backend, QueueIsVisibleInStats) {
  Backend b({"--max-concurrency", "2"});
  std::vector<std::thread> clients;
  for (int i = 0; i < 5; ++i)
    clients.emplace_back([&] { http_request(b.port(), "GET", "/api/slow?ms=300"); });
  std::this_thread::sleep_for(150ms);
  std::string stats = b.stats();  // /stats is outside the cap, so it answers right away
  EXPECT_EQ(json_number(stats, "in_service"), 2) << stats;
  EXPECT_EQ(json_number(stats, "queued"), 3) << stats;
  for (auto& t : clients)
    t.join();
}

TEST(Backend, InstancesOnConsecutivePorts) {
  Backend b({"--latency", "1ms", "--max-concurrency", "3"}, 3);
  for (int i = 0; i < 3; ++i) {
    auto r = http_request(b.port(i), "GET", "/api/items/7");
    ASSERT_TRUE(r) << i;
    EXPECT_EQ(r->header("X-Backend-Instance"), std::to_string(b.port(i)));
  }
  http_request(b.port(1), "GET", "/api/items/8");
  EXPECT_EQ(json_number(b.stats(0), "requests_served"), 1);
  EXPECT_EQ(json_number(b.stats(1), "requests_served"), 2);
  EXPECT_EQ(json_number(b.stats(2), "instance"), b.port(2));
}

TEST(Backend, NoKeepaliveClosesEveryConnection) {
  Backend b({"--latency", "1ms", "--no-keepalive"});
  RawClient c(b.port());
  ASSERT_TRUE(c.send("GET /api/items/1 HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->header("Connection"), "close");
  EXPECT_TRUE(c.peer_closed(2s));
}

TEST(Backend, MalformedRequestGets400AndClose) {
  Backend b({"--latency", "1ms"});
  RawClient c(b.port());
  ASSERT_TRUE(
      c.send("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(r->header("Connection"), "close");
  EXPECT_TRUE(c.peer_closed(2s));
}

TEST(Backend, AddLatencyIsAddedToEveryRequest) {
  Backend b({"--latency", "0", "--add-latency", "150ms"});
  auto start = std::chrono::steady_clock::now();
  auto r = http_request(b.port(), "GET", "/api/items/1");
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(r);
  EXPECT_GE(elapsed, 150ms);
  EXPECT_LT(elapsed, 1s);
}

TEST(Backend, SignalsExitZero) {
  for (int sig : {SIGTERM, SIGINT}) {
    Backend b({"--latency", "1ms"});
    // A request in flight and an idle connection must not hold the shutdown up.
    RawClient idle(b.port());
    std::thread busy([&] { http_request(b.port(), "GET", "/api/slow?ms=5000"); });
    std::this_thread::sleep_for(100ms);
    EXPECT_EQ(b.process().stop(sig, 3s), 0) << "signal " << sig;
    busy.join();
  }
}

TEST(Backend, BadCommandLineExitsTwoWithOneLine) {
  const std::vector<std::vector<std::string>> bad = {
      {"--latency", "20"},           {"--instances", "zero"},    {"--listen", "localhost"},
      {"--latency-dist", "uniform"}, {"--max-concurrency", "0"}, {"--bogus"},
  };
  for (const auto& args : bad) {
    std::vector<std::string> argv = {SLUICE_BINARY, "backend"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = run_command(argv, 5s);
    EXPECT_EQ(r.status, 2) << args[0];
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_NE(r.err.find(args[0]), std::string::npos) << r.err;
  }
}

TEST(Backend, LargeHeadsGrowTheBufferAndHugeOnesAreRefused) {
  Backend b({"--latency", "0"});
  RawClient c(b.port());
  std::string big(30000, 'x');
  ASSERT_TRUE(c.send("GET /api/items/1 HTTP/1.1\r\nHost: x\r\nX-Big: " + big +
                     "\r\n\r\nGET /api/items/2 HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto r1 = c.read_response(), r2 = c.read_response();
  ASSERT_TRUE(r1 && r2);
  EXPECT_EQ(r1->status, 200);
  EXPECT_NE(r2->body.find("\"id\":\"2\""), std::string::npos);

  RawClient huge(b.port());
  ASSERT_TRUE(huge.send(
      "GET /api/items/1 HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(70000, 'x') + "\r\n\r\n"));
  auto r = huge.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 431);
  EXPECT_TRUE(huge.peer_closed(2s));
}

TEST(Backend, ExpectContinueAndHttp10) {
  Backend b({"--latency", "0"});
  RawClient c(b.port());
  ASSERT_TRUE(c.send(
      "POST /api/orders HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n"));
  std::this_thread::sleep_for(50ms);
  ASSERT_TRUE(c.send("abcd"));
  auto r = c.read_response();  // skips the interim 100
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 201);
  EXPECT_EQ(json_number(r->body, "received_bytes"), 4);

  RawClient old(b.port());
  ASSERT_TRUE(old.send("GET /health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  auto kept = old.read_response();
  ASSERT_TRUE(kept);
  EXPECT_EQ(kept->header("Connection"), "keep-alive");
  ASSERT_TRUE(old.send("GET /health HTTP/1.0\r\n\r\n"));
  auto closed = old.read_response();
  ASSERT_TRUE(closed);
  EXPECT_EQ(closed->header("Connection"), "close");
  EXPECT_TRUE(old.peer_closed(2s));
}
