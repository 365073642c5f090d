// The slow-request log: a request above the threshold is logged with where its time went.
#include <gtest/gtest.h>

#include <thread>

#include "gateway_fixture.hpp"

using namespace sluice::test;
using namespace std::chrono_literals;

TEST(SlowRequestLog, NamesQueueUpstreamAndTransferTimes) {
  ScriptedBackend backend([](const ReceivedRequest& r) {
    BackendReply reply;
    if (r.target == "/slow") reply.delay = 300ms;
    return reply;
  });
  GatewaySetup g;
  g.endpoints = {backend.port()};
  g.server_extra = "slow_request_threshold = \"200ms\"\n";
  g.upstream_extra = "concurrency = 1\n";
  auto gw = g.start();
  std::thread first([&] { http_request(g.port, "GET", "/slow"); });
  std::this_thread::sleep_for(100ms);
  auto queued = http_request(g.port, "GET", "/fast");  // waits for the first one's slot
  first.join();
  ASSERT_TRUE(queued);
  ASSERT_TRUE(http_request(g.port, "GET", "/quick"));
  std::this_thread::sleep_for(100ms);
  std::string log = gw->stderr_text();
  size_t slow = log.find("slow request: GET test.local/slow");
  if (slow == std::string::npos) slow = log.find("/slow -> 200");
  ASSERT_NE(slow, std::string::npos) << log;
  size_t fast = log.find("/fast -> 200");
  ASSERT_NE(fast, std::string::npos) << log;
  std::string line = log.substr(fast, log.find('\n', fast) - fast);
  for (const char* part : {"queue ", "connect ", "upstream ", "transfer ", "route /"})
    EXPECT_NE(line.find(part), std::string::npos) << part << " in " << line;
  // The queue took most of it: at least 100 ms of the 300 ms the first request held the slot.
  double queue_ms = std::stod(line.substr(line.find("queue ") + 6));
  EXPECT_GT(queue_ms, 100.0) << line;
  EXPECT_EQ(log.find("/quick"), std::string::npos);
}
