// Header-name helpers shared by the gateway, the load tester and the backend.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace sluice::http {

inline char ascii_lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

inline bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  return true;
}

std::string_view trim(std::string_view s);

// Calls fn(token) for each comma-separated element of a header value, trimmed, empties skipped.
template <class Fn>
void for_each_token(std::string_view value, Fn&& fn) {
  size_t start = 0;
  while (start <= value.size()) {
    size_t comma = value.find(',', start);
    if (comma == std::string_view::npos) comma = value.size();
    std::string_view tok = trim(value.substr(start, comma - start));
    if (!tok.empty()) fn(tok);
    start = comma + 1;
  }
}

bool has_token(std::string_view value, std::string_view token);

// Whether `s` equals `lower` (lower-case, same size) ignoring the case of `s`.
inline bool equals_lower(std::string_view s, std::string_view lower) {
  for (size_t i = 0; i < lower.size(); ++i)
    if (ascii_lower(s[i]) != lower[i]) return false;
  return true;
}

// The fields the gateway and its cache treat specially. The parser classifies each field once
// (HeaderField::field), so later stages compare a byte instead of a name.
enum class Field : uint8_t {
  other,
  host,
  expect,
  content_length,
  x_forwarded_for,
  if_none_match,
  if_modified_since,
  age,
  authorization,
  cache_control,
  content_location,
  cookie,
  date,
  etag,
  expires,
  last_modified,
  pragma,
  range,
  set_cookie,
  vary,
  x_cache,
  // hop-by-hop (RFC 9110 7.6.1), last so that one comparison tells them:
  te,
  trailer,
  upgrade,
  connection,
  keep_alive,
  transfer_encoding,
  proxy,  // any Proxy-* field
};
// One switch on the name's length and first letter narrows it to one candidate name.
Field classify_field(std::string_view name);
inline bool is_hop_by_hop(Field f) {
  return f >= Field::te;
}

// Connection-level fields that a proxy must not forward (RFC 9110 7.6.1), plus Proxy-*.
inline bool is_hop_by_hop(std::string_view name) {
  return is_hop_by_hop(classify_field(name));
}

std::string_view status_reason(int status);

}  // namespace sluice::http
