// Request smuggling: every ambiguous framing is refused, the connection closed, and nothing
// after it reaches the backend.
#include <gtest/gtest.h>

#include "gateway_fixture.hpp"

using namespace sluice::test;

namespace {

struct Case {
  const char* name;
  std::string request;
  int status;
};

const std::string kSmuggled = "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n";

std::vector<Case> cases() {
  return {
      {"cl_and_te",
       "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\nTransfer-Encoding: "
       "chunked\r\n\r\n0\r\n\r\n",
       400},
      {"te_and_cl",
       "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: "
       "6\r\n\r\n0\r\n\r\n",
       400},
      {"duplicate_cl",
       "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 40\r\n\r\nabc", 400},
      {"same_duplicate_cl",
       "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc", 400},
      {"invalid_cl", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3x\r\n\r\nabc", 400},
      {"te_http10", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
      {"bad_chunk_size",
       "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\nabc\r\n0\r\n\r\n",
       400},
      {"bare_lf_chunk",
       "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc\r\n0\r\n\r\n", 400},
      {"obs_fold", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n  folded\r\n\r\n", 400},
      {"bare_cr", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n", 400},
      {"te_obs_fold",
       "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n", 400},
      {"unknown_coding",
       "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n", 501},
      {"space_in_te_name",
       "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n", 400},
  };
}

}  // namespace

TEST(Smuggling, AmbiguousFramingIsRefusedAndNothingFollows) {
  ScriptedBackend backend;
  GatewaySetup g;
  g.endpoints = {backend.port()};
  auto gw = g.start();
  for (const auto& c : cases()) {
    RawClient client(g.port);
    ASSERT_TRUE(client.send(c.request + kSmuggled)) << c.name;
    auto r = client.read_response();
    ASSERT_TRUE(r) << c.name;
    EXPECT_EQ(r->status, c.status) << c.name;
    EXPECT_EQ(r->header("connection"), "close") << c.name;
    EXPECT_TRUE(client.peer_closed()) << c.name;
  }
  EXPECT_TRUE(backend.requests().empty()) << backend.requests().front().head;
}

TEST(Smuggling, UpgradeBytesWaitFor101) {
  // The backend refuses the upgrade: what the client sent after the request is never parsed
  // as a request, and the connection closes.
  ScriptedBackend backend([](const ReceivedRequest&) {
    BackendReply r;
    r.raw = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
    return r;
  });
  GatewaySetup g;
  g.endpoints = {backend.port()};
  auto gw = g.start();
  RawClient c(g.port);
  c.send("GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n" +
         kSmuggled);
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_TRUE(c.peer_closed());
  auto reqs = backend.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].target, "/ws");
}

TEST(Smuggling, EarlyResponseNeverLeavesBodyBytesToParse) {
  ScriptedBackend backend;
  GatewaySetup g;
  g.endpoints = {backend.port()};
  g.route_extra = "max_body_size = \"100\"\n";
  auto gw = g.start();
  RawClient c(g.port);
  // The body is rejected before it is read; it contains what looks like a request.
  std::string body = kSmuggled + std::string(200 - kSmuggled.size(), 'x');
  c.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 200\r\n\r\n" + body);
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_TRUE(c.peer_closed());
  EXPECT_TRUE(backend.requests().empty());
}
