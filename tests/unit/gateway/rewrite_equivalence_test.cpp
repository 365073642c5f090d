// The tuned header rewriting against the reference implementation, over random messages.
#include <gtest/gtest.h>

#include <charconv>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "gateway/rewrite.hpp"
#include "http/headers.hpp"

namespace {
// The header rewriting as it was before it was tuned, kept as the reference the tuned one must
// match byte for byte.
namespace reference {

using namespace sluice;
using namespace sluice::gateway;

constexpr std::string_view kVia = "1.1 sluice";

bool is_hop_by_hop(std::string_view name) {
  switch (name.size()) {
    case 2:
      if (http::iequals(name, "te")) return true;
      break;
    case 7:
      if (http::iequals(name, "trailer") || http::iequals(name, "upgrade")) return true;
      break;
    case 10:
      if (http::iequals(name, "connection") || http::iequals(name, "keep-alive")) return true;
      break;
    case 17:
      if (http::iequals(name, "transfer-encoding")) return true;
      break;
    default:
      break;
  }
  return name.size() > 6 && http::iequals(name.substr(0, 6), "proxy-");
}

class ConnectionOptions {
 public:
  explicit ConnectionOptions(const http::Parser& msg) {
    const char* base = msg.base();
    for (const auto& h : msg.head().headers) {
      std::string_view name = h.name.in(base);
      if (name.size() != 10 || !http::iequals(name, "connection")) continue;
      http::for_each_token(h.value.in(base), [&](std::string_view t) {
        // keep-alive and close are options, not field names; most messages list only them.
        if (http::iequals(t, "keep-alive") || http::iequals(t, "close")) return;
        if (count_ < kMax) names_[count_++] = t;
      });
    }
  }
  bool names(std::string_view field) const {
    if (count_ == 0) return false;
    for (size_t i = 0; i < count_; ++i)
      if (http::iequals(names_[i], field)) return true;
    return false;
  }

 private:
  static constexpr size_t kMax = 32;  // beyond this, further options are ignored
  std::string_view names_[kMax];
  size_t count_ = 0;
};

void append_header(std::string& out, std::string_view name, std::string_view value) {
  size_t at = out.size();
  out.resize(at + name.size() + value.size() + 4);
  char* p = out.data() + at;
  if (!name.empty()) std::memcpy(p, name.data(), name.size());
  p += name.size();
  *p++ = ':';
  *p++ = ' ';
  if (!value.empty()) std::memcpy(p, value.data(), value.size());
  p += value.size();
  *p++ = '\r';
  *p = '\n';
}

void append_number(std::string& out, uint64_t v) {
  char buf[24];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, p);
}

bool dropped(std::span<const std::string> names, std::string_view field) {
  for (const auto& n : names)
    if (http::iequals(n, field)) return true;
  return false;
}

void build_upstream_request(const http::Parser& request, const UpstreamRequest& info,
                            std::string& out) {
  const char* base = request.base();
  const auto& head = request.head();
  const ConnectionOptions connection(request);
  out.clear();
  out.append(info.method).append(" ").append(info.target).append(" HTTP/1.1\r\n");
  append_header(out, "Host", info.host);
  std::string_view upgrade;
  bool forwarded_for = false;
  for (const auto& h : head.headers) {
    std::string_view name = h.name.in(base);
    std::string_view value = h.value.in(base);
    if (http::iequals(name, "host") || http::iequals(name, "content-length") ||
        http::iequals(name, "expect"))
      continue;
    if (http::iequals(name, "x-forwarded-for")) {
      forwarded_for = true;  // merged into one field below
      continue;
    }
    if (http::iequals(name, "upgrade")) upgrade = value;
    if (is_hop_by_hop(name) || connection.names(name)) continue;
    if (info.drop_conditionals &&
        (http::iequals(name, "if-none-match") || http::iequals(name, "if-modified-since")))
      continue;
    append_header(out, name, value);
  }
  out.append(info.extra_fields);
  out.append("X-Forwarded-For: ");
  if (forwarded_for) {
    for (const auto& h : head.headers)
      if (http::iequals(h.name.in(base), "x-forwarded-for"))
        out.append(h.value.in(base)).append(", ");
  }
  out.append(info.client_ip).append("\r\n");
  append_header(out, "X-Forwarded-Proto", "http");
  append_header(out, "Via", kVia);
  if (info.upgrade) {
    append_header(out, "Connection", "Upgrade");
    append_header(out, "Upgrade", upgrade);
  }
  if (head.chunked) {
    append_header(out, "Transfer-Encoding", "chunked");
  } else if (head.content_length) {
    out.append("Content-Length: ");
    append_number(out, *head.content_length);
    out.append("\r\n");
  }
  out.append("\r\n");
}

void build_client_response(const http::Parser& response, const ClientResponse& info,
                           BodyFraming framing, std::string& out, std::string_view extra_headers) {
  const char* base = response.base();
  const auto& head = response.head();
  const ConnectionOptions connection(response);
  const bool upgrade = head.status == 101;
  out.clear();
  out.append("HTTP/1.1 ");
  append_number(out, static_cast<uint64_t>(head.status));
  out.append(" ");
  std::string_view reason = head.reason.in(base);
  out.append(reason.empty() ? http::status_reason(head.status) : reason);
  out.append("\r\n");
  for (const auto& h : head.headers) {
    std::string_view name = h.name.in(base);
    std::string_view value = h.value.in(base);
    if (http::iequals(name, "content-length")) {
      // Passed on for HEAD and 304 (it describes the representation) and for sized bodies.
      if (framing == BodyFraming::none || framing == BodyFraming::content_length)
        append_header(out, name, value);
      continue;
    }
    if (upgrade && http::iequals(name, "upgrade")) {
      append_header(out, name, value);
      continue;
    }
    if (is_hop_by_hop(name) || connection.names(name)) continue;
    if (dropped(info.drop_fields, name)) continue;
    append_header(out, name, value);
  }
  append_header(out, "Via", kVia);
  if (upgrade) {
    append_header(out, "Connection", "Upgrade");
  } else if (framing == BodyFraming::chunked) {
    append_header(out, "Transfer-Encoding", "chunked");
  }
  if (!upgrade) {
    if (!info.keep_alive || framing == BodyFraming::until_close)
      append_header(out, "Connection", "close");
    else if (info.client_http10)
      append_header(out, "Connection", "keep-alive");
  }
  out.append(extra_headers);
  out.append("\r\n");
}

}  // namespace reference

using namespace sluice;
using namespace sluice::gateway;

const std::vector<std::string> kNames = {"Host",
                                         "Connection",
                                         "Keep-Alive",
                                         "TE",
                                         "Trailer",
                                         "Upgrade",
                                         "Transfer-Encoding",
                                         "Proxy-Authorization",
                                         "Proxy-Connection",
                                         "Proxy-X",
                                         "Proxy-abcd",
                                         "Proxy-abcdefghijk",
                                         "Proxy-ab",
                                         "Proxy-abcdefgh",
                                         "Content-Length",
                                         "Expect",
                                         "X-Forwarded-For",
                                         "If-None-Match",
                                         "If-Modified-Since",
                                         "X-Drop",
                                         "X-Keep",
                                         "Server",
                                         "Date",
                                         "Content-Type",
                                         "ETag",
                                         "Tx",
                                         "Upgradex",
                                         "Connectiox",
                                         "Transfer-Encodinx",
                                         "X-Tag",
                                         "Cache-Tag",
                                         "Hostx",
                                         "Hist",
                                         "X-Forwarded-Fox",
                                         "If-Modified-Sincx",
                                         "Set-Cookie",
                                         "Vary",
                                         "A"};

std::string random_case(std::string s, std::mt19937& rng) {
  for (char& c : s)
    if (rng() % 2)
      c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    else
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string value_for(const std::string& name, std::mt19937& rng) {
  std::string lower = name;
  for (char& c : lower)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "connection") {
    std::string v;
    int n = 1 + static_cast<int>(rng() % 3);
    for (int i = 0; i < n; ++i) {
      if (i) v += ", ";
      v += random_case(rng() % 3 == 0 ? "keep-alive" : kNames[rng() % kNames.size()], rng);
    }
    return v;
  }
  if (lower == "content-length") return "5";
  if (lower == "transfer-encoding") return "chunked";
  if (lower == "expect") return "100-continue";
  return "v" + std::to_string(rng() % 1000);
}

struct Message {
  std::string bytes;
  http::Parser parser;
  bool ok = false;
  Message(std::string b, http::Parser::Kind kind) : bytes(std::move(b)), parser(kind) {
    parser.start_message(bytes.data());
    ok = parser.parse(bytes.data(), bytes.size()).status == http::ParseStatus::head_complete;
  }
};

std::string random_fields(std::mt19937& rng, bool request) {
  std::string out;
  if (request) out += random_case("host", rng) + ": a.example\r\n";
  int n = static_cast<int>(rng() % 9);
  for (int i = 0; i < n; ++i) {
    const std::string& name = kNames[rng() % kNames.size()];
    if (request && http::iequals(name, "host")) continue;
    out += random_case(name, rng) + ": " + value_for(name, rng) + "\r\n";
  }
  return out;
}

TEST(RewriteEquivalence, UpstreamRequestMatchesReference) {
  std::mt19937 rng(7);
  int compared = 0;
  for (int i = 0; i < 20000; ++i) {
    Message m("GET /p?q HTTP/1.1\r\n" + random_fields(rng, true) + "\r\n",
              http::Parser::Kind::request);
    if (!m.ok) continue;
    UpstreamRequest info{"GET", "/p?q", "a.example", "10.0.0.1", (rng() % 2) != 0};
    info.drop_conditionals = rng() % 2;
    if (rng() % 3 == 0) info.extra_fields = "If-None-Match: \"e\"\r\n";
    std::string expected, actual = "stale";
    reference::build_upstream_request(m.parser, info, expected);
    build_upstream_request(m.parser, info, actual);
    ASSERT_EQ(actual, expected) << m.bytes;
    ++compared;
  }
  EXPECT_GT(compared, 5000);
}

TEST(RewriteEquivalence, ClientResponseMatchesReference) {
  std::mt19937 rng(11);
  const std::vector<std::string> tags = {"X-Tag", "cache-tag"};
  const int statuses[] = {200, 101, 204, 304, 404, 503, 299};
  int compared = 0;
  for (int i = 0; i < 20000; ++i) {
    int status = statuses[rng() % std::size(statuses)];
    std::string reason = rng() % 4 == 0 ? "" : "Whatever";
    Message m("HTTP/1.1 " + std::to_string(status) + " " + reason + "\r\n" +
                  random_fields(rng, false) + "\r\n",
              http::Parser::Kind::response);
    if (!m.ok) continue;
    ClientResponse info;
    info.request_was_head = rng() % 4 == 0;
    info.client_http10 = rng() % 3 == 0;
    info.keep_alive = rng() % 3 != 0;
    if (rng() % 2) info.drop_fields = tags;
    std::string extra = rng() % 2 ? "RateLimit-Limit: 5\r\n" : "";
    BodyFraming framing = choose_framing(m.parser.head(), info);
    std::string expected, actual = "stale";
    reference::build_client_response(m.parser, info, framing, expected, extra);
    build_client_response(m.parser, info, framing, actual, extra);
    ASSERT_EQ(actual, expected) << m.bytes;
    ++compared;
  }
  EXPECT_GT(compared, 5000);
}

TEST(RewriteEquivalence, HopByHopMatchesReference) {
  for (const auto& name : kNames) {
    std::mt19937 rng(3);
    for (int i = 0; i < 8; ++i) {
      std::string n = random_case(name, rng);
      EXPECT_EQ(http::is_hop_by_hop(n), reference::is_hop_by_hop(n)) << n;
    }
  }
}

}  // namespace
