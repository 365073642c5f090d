#include "limits/trusted_proxies.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

#include "http/headers.hpp"

namespace sluice::limits {

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  text = http::trim(text);
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']')
    text = text.substr(1, text.size() - 2);
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  char buf[INET6_ADDRSTRLEN];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  IpAddress out;
  in_addr v4;
  if (inet_pton(AF_INET, buf, &v4) == 1) {
    out.bytes[10] = 0xff;
    out.bytes[11] = 0xff;
    std::memcpy(out.bytes.data() + 12, &v4, 4);
    return out;
  }
  in6_addr v6;
  if (inet_pton(AF_INET6, buf, &v6) == 1) {
    std::memcpy(out.bytes.data(), &v6, 16);
    return out;
  }
  return std::nullopt;
}

IpAddress IpAddress::from_v4(uint32_t host_order) {
  IpAddress out;
  out.bytes[10] = 0xff;
  out.bytes[11] = 0xff;
  for (int i = 0; i < 4; ++i)
    out.bytes[12 + i] = static_cast<uint8_t>(host_order >> (24 - 8 * i));
  return out;
}

bool IpAddress::is_v4() const {
  for (int i = 0; i < 10; ++i)
    if (bytes[i] != 0) return false;
  return bytes[10] == 0xff && bytes[11] == 0xff;
}

std::string IpAddress::to_string() const {
  char buf[INET6_ADDRSTRLEN] = {};
  if (is_v4())
    inet_ntop(AF_INET, bytes.data() + 12, buf, sizeof buf);
  else
    inet_ntop(AF_INET6, bytes.data(), buf, sizeof buf);
  return buf;
}

std::optional<Cidr> Cidr::parse(std::string_view text) {
  text = http::trim(text);
  size_t slash = text.find('/');
  auto addr = IpAddress::parse(text.substr(0, slash));
  if (!addr) return std::nullopt;
  unsigned max_bits = addr->is_v4() ? 32 : 128;
  unsigned bits = max_bits;
  if (slash != std::string_view::npos) {
    std::string_view len = text.substr(slash + 1);
    auto [ptr, ec] = std::from_chars(len.data(), len.data() + len.size(), bits);
    if (len.empty() || ec != std::errc() || ptr != len.data() + len.size() || bits > max_bits)
      return std::nullopt;
  }
  Cidr c;
  c.prefix = static_cast<uint8_t>(addr->is_v4() ? bits + 96 : bits);
  c.network = *addr;
  for (unsigned i = c.prefix; i < 128; ++i)
    c.network.bytes[i / 8] &= static_cast<uint8_t>(~(0x80u >> (i % 8)));
  return c;
}

bool Cidr::contains(const IpAddress& a) const {
  unsigned full = prefix / 8;
  if (std::memcmp(a.bytes.data(), network.bytes.data(), full) != 0) return false;
  unsigned rest = prefix % 8;
  if (rest == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xff00u >> rest);
  return (a.bytes[full] & mask) == network.bytes[full];
}

bool TrustedProxies::contains(const IpAddress& a) const {
  for (const auto& c : cidrs_)
    if (c.contains(a)) return true;
  return false;
}

namespace {

// An X-Forwarded-For element may carry a port ("1.2.3.4:5678", "[::1]:80").
std::optional<IpAddress> parse_forwarded_element(std::string_view tok) {
  if (auto a = IpAddress::parse(tok)) return a;
  if (!tok.empty() && tok.front() == '[') {
    size_t close = tok.find(']');
    if (close != std::string_view::npos) return IpAddress::parse(tok.substr(1, close - 1));
    return std::nullopt;
  }
  size_t colon = tok.find(':');
  if (colon != std::string_view::npos && tok.find(':', colon + 1) == std::string_view::npos)
    return IpAddress::parse(tok.substr(0, colon));
  return std::nullopt;
}

}  // namespace

IpAddress resolve_client_ip(const IpAddress& peer, const TrustedProxies& trusted, const char* base,
                            std::span<const http::HeaderField> headers) {
  if (trusted.empty() || !trusted.contains(peer)) return peer;
  IpAddress client = peer;
  // Walk every X-Forwarded-For element from the right: last field first, last element first.
  for (size_t h = headers.size(); h-- > 0;) {
    if (!http::iequals(headers[h].name.in(base), "x-forwarded-for")) continue;
    std::string_view value = headers[h].value.in(base);
    size_t end = value.size();
    while (true) {
      size_t comma = end == 0 ? std::string_view::npos : value.rfind(',', end - 1);
      size_t start = comma == std::string_view::npos ? 0 : comma + 1;
      std::string_view tok = http::trim(value.substr(start, end - start));
      if (!tok.empty()) {
        auto addr = parse_forwarded_element(tok);
        if (!addr) return client;
        client = *addr;
        if (!trusted.contains(client)) return client;
      }
      if (comma == std::string_view::npos) break;
      end = comma;
    }
  }
  return client;
}

}  // namespace sluice::limits
