#include <gtest/gtest.h>

#include "limits/trusted_proxies.hpp"
#include "request_fixture.hpp"

using namespace sluice::limits;
using sluice::limits::testing::FakeRequest;

namespace {

TrustedProxies proxies(std::initializer_list<const char*> cidrs) {
  std::vector<Cidr> v;
  for (auto c : cidrs)
    v.push_back(*Cidr::parse(c));
  return TrustedProxies(std::move(v));
}

std::string client_of(const TrustedProxies& t, const char* peer,
                      std::vector<std::pair<std::string, std::string>> headers) {
  FakeRequest r(peer, "/", std::move(headers));
  return resolve_client_ip(*IpAddress::parse(peer), t, r.base(), r.fields()).to_string();
}

}  // namespace

TEST(Cidr, ParsesV4AndV6) {
  auto c = Cidr::parse("10.0.0.0/8");
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->contains(*IpAddress::parse("10.200.1.1")));
  EXPECT_FALSE(c->contains(*IpAddress::parse("11.0.0.1")));
  EXPECT_FALSE(c->contains(*IpAddress::parse("::1")));
  auto v6 = Cidr::parse("fd00::/8");
  ASSERT_TRUE(v6);
  EXPECT_TRUE(v6->contains(*IpAddress::parse("fd12:3456::1")));
  EXPECT_FALSE(v6->contains(*IpAddress::parse("fe80::1")));
  auto host = Cidr::parse("192.168.1.5");
  EXPECT_TRUE(host->contains(*IpAddress::parse("192.168.1.5")));
  EXPECT_FALSE(host->contains(*IpAddress::parse("192.168.1.6")));
  EXPECT_TRUE(Cidr::parse("10.1.2.3/20")->contains(*IpAddress::parse("10.1.15.255")));
  EXPECT_FALSE(Cidr::parse("10.0.0.0/33"));
  EXPECT_FALSE(Cidr::parse("::/129"));
  EXPECT_FALSE(Cidr::parse("10.0.0/8"));
  EXPECT_FALSE(Cidr::parse("10.0.0.0/"));
  EXPECT_EQ(IpAddress::parse("[::1]")->to_string(), "::1");
}

TEST(TrustedProxies, UntrustedPeerCannotChooseItsBucket) {
  auto t = proxies({"10.0.0.0/8"});
  EXPECT_EQ(client_of(t, "203.0.113.9", {{"X-Forwarded-For", "1.2.3.4"}}), "203.0.113.9");
  EXPECT_EQ(client_of(proxies({}), "10.0.0.1", {{"X-Forwarded-For", "1.2.3.4"}}), "10.0.0.1");
}

TEST(TrustedProxies, RightmostUntrustedAddressIsTheClient) {
  auto t = proxies({"10.0.0.0/8", "fd00::/8"});
  // The client forged "6.6.6.6"; the proxy appended the address it saw.
  EXPECT_EQ(client_of(t, "10.0.0.2", {{"X-Forwarded-For", "6.6.6.6, 198.51.100.4"}}),
            "198.51.100.4");
  EXPECT_EQ(client_of(t, "10.0.0.2", {{"X-Forwarded-For", "6.6.6.6, 198.51.100.4, 10.0.0.3"}}),
            "198.51.100.4");
  // Several fields form one list, in order.
  EXPECT_EQ(
      client_of(t, "10.0.0.2",
                {{"X-Forwarded-For", "6.6.6.6"}, {"x-forwarded-for", "2001:db8::1, fd00::5"}}),
      "2001:db8::1");
  EXPECT_EQ(client_of(t, "10.0.0.2", {{"X-Forwarded-For", "198.51.100.4:5555"}}), "198.51.100.4");
  // A garbage element stops the walk at the last good hop.
  EXPECT_EQ(client_of(t, "10.0.0.2", {{"X-Forwarded-For", "junk, 10.0.0.9"}}), "10.0.0.9");
  // Only trusted hops: the leftmost is the best we know.
  EXPECT_EQ(client_of(t, "10.0.0.2", {{"X-Forwarded-For", "10.1.1.1,10.2.2.2"}}), "10.1.1.1");
  EXPECT_EQ(client_of(t, "10.0.0.2", {}), "10.0.0.2");
}
