#include "cache/message_view.hpp"

namespace sluice::cache {
using http::iequals;

Field classify_field(std::string_view n) {
  // The length and one letter narrow each name to one candidate.
  // Each case compares only names of the case's length.
  auto is = [n](std::string_view lower) { return http::equals_lower(n, lower); };
  const char c = n.empty() ? '\0' : http::ascii_lower(n[0]);
  switch (n.size()) {
    case 2:
      return is("te") ? Field::te : Field::other;
    case 3:
      return is("age") ? Field::age : Field::other;
    case 4:
      if (c == 'd') return is("date") ? Field::date : Field::other;
      if (c == 'e') return is("etag") ? Field::etag : Field::other;
      if (c == 'v') return is("vary") ? Field::vary : Field::other;
      return Field::other;
    case 5:
      return is("range") ? Field::range : Field::other;
    case 6:
      if (c == 'c') return is("cookie") ? Field::cookie : Field::other;
      if (c == 'p') return is("pragma") ? Field::pragma : Field::other;
      return Field::other;
    case 7:
      if (c == 'e') return is("expires") ? Field::expires : Field::other;
      if (c == 't') return is("trailer") ? Field::trailer : Field::other;
      if (c == 'u') return is("upgrade") ? Field::upgrade : Field::other;
      if (c == 'x') return is("x-cache") ? Field::x_cache : Field::other;
      break;
    case 10:
      if (c == 'c') return is("connection") ? Field::connection : Field::other;
      if (c == 'k') return is("keep-alive") ? Field::keep_alive : Field::other;
      if (c == 's') return is("set-cookie") ? Field::set_cookie : Field::other;
      break;
    case 13:
      if (c == 'a') return is("authorization") ? Field::authorization : Field::other;
      if (c == 'c') return is("cache-control") ? Field::cache_control : Field::other;
      if (c == 'i') return is("if-none-match") ? Field::if_none_match : Field::other;
      if (c == 'l') return is("last-modified") ? Field::last_modified : Field::other;
      break;
    case 14:
      return is("content-length") ? Field::content_length : Field::other;
    case 16:
      return is("content-location") ? Field::content_location : Field::other;
    case 17:
      if (c == 'i') return is("if-modified-since") ? Field::if_modified_since : Field::other;
      if (c == 't') return is("transfer-encoding") ? Field::transfer_encoding : Field::other;
      break;
    default:
      break;
  }
  return c == 'p' && n.size() > 6 && iequals(n.substr(0, 6), "proxy-") ? Field::proxy
                                                                       : Field::other;
}

bool is_hop_by_hop(Field f) {
  switch (f) {
    case Field::connection:
    case Field::keep_alive:
    case Field::proxy:
    case Field::te:
    case Field::trailer:
    case Field::transfer_encoding:
    case Field::upgrade:
      return true;
    default:
      return false;
  }
}

std::string_view find_header(std::span<const HeaderView> headers, Field field) {
  for (const HeaderView& h : headers)
    if (h.field == field) return h.value;
  return {};
}

bool has_header(std::span<const HeaderView> headers, Field field) {
  for (const HeaderView& h : headers)
    if (h.field == field) return true;
  return false;
}

std::string_view find_header(std::span<const HeaderView> headers, std::string_view name) {
  if (Field f = classify_field(name); f != Field::other && f != Field::proxy)
    return find_header(headers, f);
  for (const HeaderView& h : headers)
    if (iequals(h.name, name)) return h.value;
  return {};
}

bool has_header(std::span<const HeaderView> headers, std::string_view name) {
  if (Field f = classify_field(name); f != Field::other && f != Field::proxy)
    return has_header(headers, f);
  for (const HeaderView& h : headers)
    if (iequals(h.name, name)) return true;
  return false;
}

void collect_headers(const http::MessageHead& head, const char* base,
                     std::vector<HeaderView>& out) {
  out.clear();
  for (const http::HeaderField& f : head.headers)
    out.emplace_back(f.name.in(base), http::trim(f.value.in(base)));
}

void split_target(std::string_view target, std::string_view& path, std::string_view& query) {
  size_t q = target.find('?');
  if (q == std::string_view::npos) {
    path = target;
    query = {};
  } else {
    path = target.substr(0, q);
    query = target.substr(q + 1);
  }
}

}  // namespace sluice::cache
