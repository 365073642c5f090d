// What a rate limit counts by: the request view the gateway hands over, the key specification
// (`ip`, `header:NAME`, `query:NAME`, `cookie:NAME`, or several of them) and the tier conditions.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "http/parser.hpp"
#include "limits/trusted_proxies.hpp"

namespace sluice::limits {

// A request as the policies see it; nothing is copied. Header slices are relative to `base`.
struct RequestView {
  IpAddress client;         // after resolve_client_ip
  std::string_view target;  // "/path?query" as sent
  const char* base = nullptr;
  std::span<const http::HeaderField> headers;

  std::string_view path() const;
  std::string_view query() const;  // after '?', empty when none
  // The first field named `name` with a non-empty value.
  std::optional<std::string_view> header(std::string_view name) const;
  // The raw (still percent-encoded) value of the first `name=` parameter.
  std::optional<std::string_view> query_param(std::string_view name) const;
  std::optional<std::string_view> cookie(std::string_view name) const;
};

struct KeyPart {
  enum class Kind : uint8_t { ip = 1, header, query, cookie };
  Kind kind = Kind::ip;
  std::string name;  // header, parameter or cookie name; empty for ip
};

struct KeySpec {
  std::vector<KeyPart> parts;

  // "ip", "header:X-Api-Key", "query:api_key", "cookie:session"; nullopt when malformed.
  static std::optional<KeyPart> parse_part(std::string_view text);
  // Human form for metrics labels: "ip+header:X-Api-Key".
  std::string describe() const;
};

// Appends the bucket key of `request` to `out`. `ip` counts IPv4 clients by address and IPv6
// clients by /64 prefix. Returns false when a part is absent (a header,
// parameter or cookie missing or empty): the limit then does not apply to the request. Parts are
// length-prefixed so that combinations cannot collide, and query values are percent-decoded so
// that two spellings of one value share a bucket.
bool append_key(const KeySpec& spec, const RequestView& request, std::string& out);

// Tier conditions: a limit applies only when every `when_header` is present and no
// `unless_header` is.
struct TierCondition {
  std::vector<std::string> when_header;
  std::vector<std::string> unless_header;

  bool applies(const RequestView& request) const;
};

}  // namespace sluice::limits
