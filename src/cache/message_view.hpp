// Lightweight, non-owning views of a request and a response, as the cache's policy sees them.
//
// The gateway fills these from its parser's header slices into a scratch vector it reuses per
// connection, so building a view allocates nothing once the vector has grown. Each field knows
// which of the names the cache cares about it is, classified once by the parser, so the policy's
// many "is there a Cache-Control?" questions compare a byte per field instead of a name.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "http/headers.hpp"
#include "http/parser.hpp"

namespace sluice::cache {

using http::classify_field;
using http::Field;
using http::is_hop_by_hop;

struct HeaderView {
  HeaderView() = default;
  HeaderView(std::string_view n, std::string_view v)
      : name(n), value(v), field(classify_field(n)) {}
  HeaderView(std::string_view n, std::string_view v, Field f) : name(n), value(v), field(f) {}
  std::string_view name;
  std::string_view value;
  Field field = Field::other;
};

// First value of the field (case-insensitive name), empty when absent.
std::string_view find_header(std::span<const HeaderView> headers, Field field);
std::string_view find_header(std::span<const HeaderView> headers, std::string_view name);
bool has_header(std::span<const HeaderView> headers, Field field);
bool has_header(std::span<const HeaderView> headers, std::string_view name);

// Calls fn(value) for every field line of the field, in order.
template <class Fn>
void for_each_header(std::span<const HeaderView> headers, Field field, Fn&& fn) {
  for (const HeaderView& h : headers)
    if (h.field == field) fn(h.value);
}
template <class Fn>
void for_each_header(std::span<const HeaderView> headers, std::string_view name, Fn&& fn) {
  if (Field f = classify_field(name); f != Field::other && f != Field::proxy)
    return for_each_header(headers, f, fn);
  for (const HeaderView& h : headers)
    if (http::iequals(h.name, name)) fn(h.value);
}

struct RequestView {
  std::string_view method;  // "GET", "HEAD", "POST", ...
  std::string_view host;    // Host header (or authority), compared case-insensitively
  std::string_view path;    // without the query
  std::string_view query;   // after '?', empty when absent
  std::span<const HeaderView> headers;

  std::string_view header(Field f) const { return find_header(headers, f); }
  std::string_view header(std::string_view name) const { return find_header(headers, name); }
  bool has(Field f) const { return has_header(headers, f); }
  bool has(std::string_view name) const { return has_header(headers, name); }
};

struct ResponseView {
  int status = 0;
  std::string_view reason;  // empty: the standard reason phrase is used
  std::span<const HeaderView> headers;

  std::string_view header(Field f) const { return find_header(headers, f); }
  std::string_view header(std::string_view name) const { return find_header(headers, name); }
  bool has(Field f) const { return has_header(headers, f); }
  bool has(std::string_view name) const { return has_header(headers, name); }
};

// Appends the header fields of a parsed head to `out` (cleared first) as views into `base`.
void collect_headers(const http::MessageHead& head, const char* base, std::vector<HeaderView>& out);

// Splits a request target into path and query.
void split_target(std::string_view target, std::string_view& path, std::string_view& query);

}  // namespace sluice::cache
