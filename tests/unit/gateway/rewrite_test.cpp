#include "gateway/rewrite.hpp"

#include <gtest/gtest.h>

using namespace sluice;
using namespace sluice::gateway;

namespace {
struct Parsed {
  std::string bytes;
  http::Parser parser;
  explicit Parsed(std::string b, http::Parser::Kind kind) : bytes(std::move(b)), parser(kind) {
    parser.start_message(bytes.data());
    auto r = parser.parse(bytes.data(), bytes.size());
    EXPECT_EQ(r.status, http::ParseStatus::head_complete);
  }
};
}  // namespace

TEST(Rewrite, UpstreamRequestDropsHopByHopAndAddsForwarding) {
  Parsed req(
      "POST /x HTTP/1.1\r\nHost: a\r\nConnection: close, X-Drop\r\nX-Drop: 1\r\nUpgrade: h2c\r\n"
      "X-Forwarded-For: 1.1.1.1\r\nX-Forwarded-For: 2.2.2.2\r\nTransfer-Encoding: chunked\r\n"
      "Expect: 100-continue\r\nX-Keep: yes\r\n\r\n",
      http::Parser::Kind::request);
  std::string out;
  UpstreamRequest info{"POST", "/x", "a", "9.9.9.9", false};
  build_upstream_request(req.parser, info, out);
  EXPECT_EQ(out,
            "POST /x HTTP/1.1\r\nHost: a\r\nX-Keep: yes\r\n"
            "X-Forwarded-For: 1.1.1.1, 2.2.2.2, 9.9.9.9\r\nX-Forwarded-Proto: http\r\n"
            "Via: 1.1 sluice\r\nTransfer-Encoding: chunked\r\n\r\n");
}

TEST(Rewrite, ClientResponseFraming) {
  Parsed resp(
      "HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\n"
      "Transfer-Encoding: chunked\r\nX-App: 1\r\n\r\n",
      http::Parser::Kind::response);
  std::string out;
  ClientResponse info;
  EXPECT_EQ(choose_framing(resp.parser.head(), info), BodyFraming::chunked);
  build_client_response(resp.parser, info, BodyFraming::chunked, out);
  EXPECT_EQ(out,
            "HTTP/1.1 200 OK\r\nX-App: 1\r\nVia: 1.1 sluice\r\nTransfer-Encoding: chunked\r\n\r\n");
  info.client_http10 = true;
  EXPECT_EQ(choose_framing(resp.parser.head(), info), BodyFraming::until_close);
  build_client_response(resp.parser, info, BodyFraming::until_close, out);
  EXPECT_EQ(out, "HTTP/1.1 200 OK\r\nX-App: 1\r\nVia: 1.1 sluice\r\nConnection: close\r\n\r\n");
}

TEST(Rewrite, HeadAndNotModifiedKeepContentLength) {
  Parsed resp("HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\nETag: \"x\"\r\n\r\n",
              http::Parser::Kind::response);
  ClientResponse info;
  EXPECT_EQ(choose_framing(resp.parser.head(), info), BodyFraming::none);
  std::string out;
  build_client_response(resp.parser, info, BodyFraming::none, out);
  EXPECT_NE(out.find("Content-Length: 99\r\n"), std::string::npos);
  EXPECT_EQ(out.find("Transfer-Encoding"), std::string::npos);
}

TEST(Rewrite, ChunkHeader) {
  char buf[20];
  EXPECT_EQ(std::string(buf, chunk_header(0x1a3, buf)), "1a3\r\n");
  EXPECT_EQ(std::string(buf, chunk_header(1, buf)), "1\r\n");
}
