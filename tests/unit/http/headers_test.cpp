// Field classification: every name the gateway and the cache tell apart, in any letter case,
// and the names that only look like them.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "http/headers.hpp"
#include "http/parser.hpp"

using namespace sluice::http;

namespace {

std::string upper(std::string s) {
  for (char& c : s)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
  return s;
}

}  // namespace

TEST(ClassifyField, KnowsEveryNameInAnyCase) {
  const std::vector<std::pair<std::string, Field>> names = {
      {"host", Field::host},
      {"expect", Field::expect},
      {"content-length", Field::content_length},
      {"x-forwarded-for", Field::x_forwarded_for},
      {"if-none-match", Field::if_none_match},
      {"if-modified-since", Field::if_modified_since},
      {"age", Field::age},
      {"authorization", Field::authorization},
      {"cache-control", Field::cache_control},
      {"content-location", Field::content_location},
      {"cookie", Field::cookie},
      {"date", Field::date},
      {"etag", Field::etag},
      {"expires", Field::expires},
      {"last-modified", Field::last_modified},
      {"pragma", Field::pragma},
      {"range", Field::range},
      {"set-cookie", Field::set_cookie},
      {"vary", Field::vary},
      {"x-cache", Field::x_cache},
      {"te", Field::te},
      {"trailer", Field::trailer},
      {"upgrade", Field::upgrade},
      {"connection", Field::connection},
      {"keep-alive", Field::keep_alive},
      {"transfer-encoding", Field::transfer_encoding},
  };
  for (const auto& [name, field] : names) {
    EXPECT_EQ(classify_field(name), field) << name;
    EXPECT_EQ(classify_field(upper(name)), field) << name;
  }
  for (const char* other : {"", "x", "hosts", "dates", "x-cachf", "content-type", "server",
                            "content-lengths", "tf", "proxy-", "proxz-connection"})
    EXPECT_EQ(classify_field(other), Field::other) << other;
}

TEST(ClassifyField, EveryProxyFieldIsHopByHop) {
  // Including those whose length is that of another hop-by-hop name (7, 10, 17).
  for (const char* name : {"Proxy-Authorization", "Proxy-Connection", "Proxy-X", "proxy-abcd",
                           "PROXY-ABCDEFGHIJK", "Proxy-Authenticate"}) {
    EXPECT_EQ(classify_field(name), Field::proxy) << name;
    EXPECT_TRUE(is_hop_by_hop(name)) << name;
  }
  for (const char* name : {"Host", "Content-Length", "Cache-Control", "X-Cache", "Via"})
    EXPECT_FALSE(is_hop_by_hop(name)) << name;
}

TEST(ClassifyField, TheParserClassifiesEveryField) {
  Parser p(Parser::Kind::response);
  const std::string msg =
      "HTTP/1.1 200 OK\r\nCache-Control: max-age=5 \r\nX-Other: 1\r\nProxy-X: y\r\n"
      "Content-Length: 0\r\n\r\n";
  p.start_message(msg.data());
  p.parse(msg.data(), msg.size());
  ASSERT_TRUE(p.head_done());
  const auto& h = p.head().headers;
  ASSERT_EQ(h.size(), 4u);
  EXPECT_EQ(h[0].field, Field::cache_control);
  EXPECT_EQ(h[0].value.in(msg.data()), "max-age=5");  // trimmed
  EXPECT_EQ(h[1].field, Field::other);
  EXPECT_EQ(h[2].field, Field::proxy);
  EXPECT_EQ(h[3].field, Field::content_length);
}
