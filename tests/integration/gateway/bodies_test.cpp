// Bodies stream both ways with bounded memory, in either framing.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "gateway_fixture.hpp"

using namespace sluice::test;

namespace {
constexpr uint64_t kGiB = 1ull << 30;

// Sends `total` bytes of body in pieces, as fast as the socket takes them.
bool send_body(RawClient& c, uint64_t total, bool chunked) {
  std::string piece(256 * 1024, 'z');
  std::string framed = chunked ? "40000\r\n" + piece + "\r\n" : piece;
  for (uint64_t sent = 0; sent < total; sent += piece.size())
    if (!c.send(framed)) return false;
  return !chunked || c.send("0\r\n\r\n");
}
}  // namespace

TEST(Bodies, OneGigabyteUploadChunkedAndSizedWithBoundedMemory) {
  ScriptedBackend backend([](const ReceivedRequest& q) {
    BackendReply r;
    std::string body = std::to_string(q.body_bytes);
    r.raw = "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    return r;
  });
  GatewaySetup g;
  g.endpoints = {backend.port()};
  g.route_extra = "max_body_size = \"2GB\"\n";
  auto gw = g.start();
  long rss_before = rss_kib(gw->process().pid());
  for (bool chunked : {true, false}) {
    RawClient c(g.port, std::chrono::seconds(60));
    std::string head = "POST /upload HTTP/1.1\r\nHost: x\r\n";
    head += chunked ? "Transfer-Encoding: chunked\r\n\r\n"
                    : "Content-Length: " + std::to_string(kGiB) + "\r\n\r\n";
    ASSERT_TRUE(c.send(head));
    long peak = 0;
    std::atomic<bool> done{false};
    std::thread watch([&] {
      while (!done) {
        peak = std::max(peak, rss_kib(gw->process().pid()));
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    });
    bool sent = send_body(c, kGiB, chunked);
    auto r = c.read_response();
    done = true;
    watch.join();
    ASSERT_TRUE(sent);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body, std::to_string(kGiB)) << (chunked ? "chunked" : "sized");
    EXPECT_LT(peak - rss_before, 8 * 1024) << "RSS grew by KiB, chunked=" << chunked;
  }
}

TEST(Bodies, OneGigabyteDownloadWithBoundedMemory) {
  ASSERT_TRUE(Nginx::available());
  TempDir files;
  {
    // A sparse file: no disk space, nginx sends it with sendfile.
    int fd = ::open((files / "big.bin").c_str(), O_CREAT | O_WRONLY, 0644);
    ASSERT_EQ(::ftruncate(fd, static_cast<off_t>(kGiB)), 0);
    ::close(fd);
  }
  NginxOptions opts;
  opts.locations = "location /files/ { alias " + files.path().string() +
                   "/; }\n"
                   "location /chunked/ { alias " +
                   files.path().string() + "/; chunked_transfer_encoding on; gzip off; }\n";
  Nginx nginx(opts);
  GatewaySetup g;
  g.endpoints = {nginx.port()};
  auto gw = g.start();
  long rss_before = rss_kib(gw->process().pid());
  RawClient c(g.port, std::chrono::seconds(60));
  ASSERT_TRUE(c.send(get_request("/files/big.bin")));
  // Read the head, then count the body without keeping it.
  std::string head;
  char buf[1 << 16];
  uint64_t body = 0;
  long peak = 0;
  size_t header_end = std::string::npos;
  while (true) {
    ssize_t n = ::recv(c.fd(), buf, sizeof buf, 0);
    if (n <= 0) break;
    if (header_end == std::string::npos) {
      head.append(buf, n);
      header_end = head.find("\r\n\r\n");
      if (header_end != std::string::npos) body = head.size() - header_end - 4;
    } else {
      body += n;
    }
    if (body >= kGiB) break;
    if ((body & ((64 << 20) - 1)) < static_cast<uint64_t>(n))
      peak = std::max(peak, rss_kib(gw->process().pid()));
  }
  EXPECT_NE(head.find("Content-Length: 1073741824"), std::string::npos) << head.substr(0, 300);
  EXPECT_EQ(body, kGiB);
  EXPECT_LT(peak - rss_before, 8 * 1024) << "RSS grew by KiB";
}

TEST(Bodies, ChunkedResponseIsRechunkedAndUntilCloseBecomesChunked) {
  ScriptedBackend backend([](const ReceivedRequest& q) {
    BackendReply r;
    if (q.target == "/close") {
      r.raw = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end";
      r.close_after = true;
    } else {
      r.raw =
          "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-T\r\n\r\n"
          "3;ext=1\r\nabc\r\n4\r\ndefg\r\n0\r\nX-T: 1\r\n\r\n";
    }
    return r;
  });
  GatewaySetup g;
  g.endpoints = {backend.port()};
  auto gw = g.start();
  RawClient c(g.port);
  c.send(get_request("/chunked"));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->chunked);
  EXPECT_EQ(r->body, "abcdefg");
  EXPECT_FALSE(r->has_header("trailer"));
  c.send(get_request("/close"));
  r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->chunked);
  EXPECT_EQ(r->body, "until the end");
  // The client connection survives the upstream's close.
  c.send(get_request("/chunked"));
  EXPECT_TRUE(c.read_response());
}
