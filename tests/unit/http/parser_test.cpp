#include "http/parser.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace sluice::http;

namespace {

struct Parsed {
  ParseStatus status;
  int error = 0;
  std::string body;
  size_t consumed = 0;
};

// Feeds `input` in pieces of `step` bytes, like a socket would, through one message.
Parsed parse_request(const std::string& input, size_t step = 1 << 20, Limits limits = {}) {
  Parser p(Parser::Kind::request, limits);
  p.start_message(input.data());
  Parsed out{};
  size_t pos = 0;
  while (true) {
    size_t n = std::min(step, input.size() - pos);
    if (p.head_done()) {
      // After the head, bytes need not stay contiguous; keep feeding from the same buffer.
    }
    auto r = p.parse(input.data() + pos, n);
    pos += r.consumed;
    for (auto s : p.body_spans())
      out.body.append(s);
    if (r.status == ParseStatus::head_complete) continue;
    if (r.status == ParseStatus::need_more) {
      if (pos >= input.size()) {
        out.status = r.status;
        break;
      }
      continue;
    }
    out.status = r.status;
    out.error = p.error_status();
    break;
  }
  out.consumed = pos;
  return out;
}

}  // namespace

TEST(Parser, SimpleGet) {
  std::string req = "GET /a?b=1 HTTP/1.1\r\nHost: x\r\nX-Y:  v  \r\n\r\n";
  Parser p(Parser::Kind::request);
  p.start_message(req.data());
  auto r = p.parse(req.data(), req.size());
  ASSERT_EQ(r.status, ParseStatus::head_complete);
  EXPECT_EQ(p.head().target.in(p.base()), "/a?b=1");
  EXPECT_EQ(p.header("x-y"), "v");
  EXPECT_TRUE(p.head().keep_alive);
  r = p.parse(req.data() + r.consumed, req.size() - r.consumed);
  EXPECT_EQ(r.status, ParseStatus::message_complete);
}

TEST(Parser, ByteAtATime) {
  std::string req = "POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello";
  auto out = parse_request(req, 1);
  EXPECT_EQ(out.status, ParseStatus::message_complete);
  EXPECT_EQ(out.body, "hello");
}

TEST(Parser, Chunked) {
  std::string req =
      "POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;e=1\r\n "
      "world\r\n0\r\n\r\n";
  auto out = parse_request(req, 3);
  EXPECT_EQ(out.status, ParseStatus::message_complete);
  EXPECT_EQ(out.body, "hello world");
}

TEST(Parser, PipelinedStopsAfterFirst) {
  std::string req = "GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\n";
  auto out = parse_request(req);
  EXPECT_EQ(out.status, ParseStatus::message_complete);
  EXPECT_EQ(out.consumed, req.size() / 2);
}

struct BadCase {
  const char* name;
  std::string request;
  int status;
};

class ParserRejects : public ::testing::TestWithParam<BadCase> {};

TEST_P(ParserRejects, WithStatus) {
  const auto& c = GetParam();
  for (size_t step : {size_t{1}, size_t{7}, size_t{1 << 20}}) {
    auto out = parse_request(c.request, step);
    EXPECT_EQ(out.status, ParseStatus::error) << c.name << " step " << step;
    EXPECT_EQ(out.error, c.status) << c.name << " step " << step;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Smuggling, ParserRejects,
    ::testing::Values(
        BadCase{"cl_and_te",
                "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: "
                "chunked\r\n\r\n0\r\n\r\n",
                400},
        BadCase{"te_and_cl",
                "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: "
                "3\r\n\r\n0\r\n\r\n",
                400},
        BadCase{"duplicate_cl",
                "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc",
                400},
        BadCase{"cl_list", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3, 3\r\n\r\nabc", 400},
        BadCase{"invalid_cl", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +3\r\n\r\nabc", 400},
        BadCase{"negative_cl", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400},
        BadCase{"te_http10", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
        BadCase{"bad_chunk_size",
                "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
                "chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
                400},
        BadCase{"chunk_size_overflow",
                "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                "fffffffffffffffff\r\nx\r\n0\r\n\r\n",
                400},
        BadCase{
            "bare_lf_chunk",
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n",
            400},
        BadCase{
            "bare_lf_after_chunk_data",
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\n0\r\n\r\n",
            400},
        BadCase{"obs_fold_empty_first_line",
                "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n",
                400},
        BadCase{"obs_fold", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n", 400},
        BadCase{"bare_cr_value", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n", 400},
        BadCase{"bare_cr_line", "GET / HTTP/1.1\rHost: x\r\n\r\n", 400},
        BadCase{"space_before_colon", "GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400},
        BadCase{"unknown_coding",
                "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
                501},
        BadCase{"chunked_not_last",
                "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n",
                400},
        BadCase{"te_identity", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity\r\n\r\n",
                501},
        BadCase{"two_te_headers",
                "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: "
                "chunked\r\n\r\n0\r\n\r\n",
                400},
        BadCase{"two_hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},
        BadCase{"no_host", "GET / HTTP/1.1\r\n\r\n", 400},
        BadCase{"bad_method", "G@T / HTTP/1.1\r\nHost: x\r\n\r\n", 400},
        BadCase{"bad_version", "GET / HTTP/1.x\r\nHost: x\r\n\r\n", 400},
        BadCase{"nul_in_header",
                std::string("GET / HTTP/1.1\r\nHost: x\r\nX: a\0b\r\n\r\n",
                            sizeof("GET / HTTP/1.1\r\nHost: x\r\nX: a\0b\r\n\r\n") - 1),
                400},
        BadCase{"bad_expect", "GET / HTTP/1.1\r\nHost: x\r\nExpect: magic\r\n\r\n", 417}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(Parser, LongUrlIs414) {
  std::string req = "GET /" + std::string(9000, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n";
  EXPECT_EQ(parse_request(req, 100).error, 414);
}

TEST(Parser, TooManyHeadersIs431) {
  std::string req = "GET / HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 101; ++i)
    req += "X-" + std::to_string(i) + ": v\r\n";
  req += "\r\n";
  EXPECT_EQ(parse_request(req).error, 431);
}

TEST(Parser, HugeHeaderBlockIs431) {
  std::string req = "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(70000, 'a') + "\r\n\r\n";
  EXPECT_EQ(parse_request(req, 4096).error, 431);
  EXPECT_EQ(parse_request(req).error, 431);
}

TEST(Parser, UpgradeRequest) {
  std::string req =
      "GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\nRAW";
  Parser p(Parser::Kind::request);
  p.start_message(req.data());
  auto r = p.parse(req.data(), req.size());
  ASSERT_EQ(r.status, ParseStatus::head_complete);
  EXPECT_TRUE(p.head().upgrade);
  size_t pos = r.consumed;
  r = p.parse(req.data() + pos, req.size() - pos);
  EXPECT_EQ(r.status, ParseStatus::upgrade);
  EXPECT_EQ(req.substr(pos + r.consumed), "RAW");
}

TEST(Parser, ResponseToHeadHasNoBody) {
  std::string resp = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n";
  Parser p(Parser::Kind::response);
  p.start_message(resp.data());
  p.set_response_has_no_body(true);
  auto r = p.parse(resp.data(), resp.size());
  ASSERT_EQ(r.status, ParseStatus::head_complete);
  size_t pos = r.consumed;
  r = p.parse(resp.data() + pos, resp.size() - pos);
  EXPECT_EQ(r.status, ParseStatus::message_complete);
  pos += r.consumed;
  p.set_response_has_no_body(false);
  p.start_message(resp.data() + pos);
  r = p.parse(resp.data() + pos, resp.size() - pos);
  ASSERT_EQ(r.status, ParseStatus::head_complete);
  EXPECT_EQ(p.head().status, 204);
}

TEST(Parser, ResponseUntilClose) {
  std::string resp = "HTTP/1.1 200 OK\r\n\r\nabc";
  Parser p(Parser::Kind::response);
  p.start_message(resp.data());
  auto r = p.parse(resp.data(), resp.size());
  ASSERT_EQ(r.status, ParseStatus::head_complete);
  EXPECT_TRUE(p.body_until_close());
  r = p.parse(resp.data() + r.consumed, resp.size() - r.consumed);
  EXPECT_EQ(r.status, ParseStatus::need_more);
  EXPECT_EQ(p.finish().status, ParseStatus::message_complete);
}

TEST(Parser, Http10KeepAlive) {
  std::string req = "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n";
  Parser p(Parser::Kind::request);
  p.start_message(req.data());
  ASSERT_EQ(p.parse(req.data(), req.size()).status, ParseStatus::head_complete);
  EXPECT_TRUE(p.head().http10());
  EXPECT_TRUE(p.head().keep_alive);
}
