// Client addresses and the trusted-proxy rule for X-Forwarded-For.
//
// The client address is the socket peer, unless the peer is a trusted proxy: then the
// X-Forwarded-For chain is walked from the right, skipping trusted hops, and the first untrusted
// address is the client. Entries left of it were written by the client and are never believed,
// so a client cannot choose its own rate-limit bucket.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "http/parser.hpp"

namespace sluice::limits {

// An IPv4 or IPv6 address; IPv4 is stored as an IPv4-mapped IPv6 address (::ffff:a.b.c.d).
struct IpAddress {
  std::array<uint8_t, 16> bytes{};

  static std::optional<IpAddress> parse(std::string_view text);  // "10.0.0.1", "::1", "[::1]"
  static IpAddress from_v4(uint32_t host_order);
  bool is_v4() const;
  std::string to_string() const;
  bool operator==(const IpAddress&) const = default;
};

struct Cidr {
  IpAddress network;
  uint8_t prefix = 128;  // in IPv6 bits; an IPv4 /24 is stored as /120

  // "10.0.0.0/8", "192.168.1.1" (a single host), "fd00::/8".
  static std::optional<Cidr> parse(std::string_view text);
  bool contains(const IpAddress& a) const;
};

class TrustedProxies {
 public:
  TrustedProxies() = default;
  explicit TrustedProxies(std::vector<Cidr> cidrs) : cidrs_(std::move(cidrs)) {}
  bool contains(const IpAddress& a) const;
  bool empty() const { return cidrs_.empty(); }
  const std::vector<Cidr>& cidrs() const { return cidrs_; }

 private:
  std::vector<Cidr> cidrs_;
};

// The client of a request: `peer` when it is not trusted, otherwise the rightmost untrusted
// address of the X-Forwarded-For fields (all of them, in order). A malformed entry stops the walk
// at the last address known to be good.
IpAddress resolve_client_ip(const IpAddress& peer, const TrustedProxies& trusted, const char* base,
                            std::span<const http::HeaderField> headers);

}  // namespace sluice::limits
