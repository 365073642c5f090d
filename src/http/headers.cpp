#include "http/headers.hpp"

namespace sluice::http {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

bool has_token(std::string_view value, std::string_view token) {
  bool found = false;
  for_each_token(value, [&](std::string_view t) { found = found || iequals(t, token); });
  return found;
}

Field classify_field(std::string_view n) {
  auto is = [n](std::string_view lower) { return equals_lower(n, lower); };
  const char c = n.empty() ? '\0' : ascii_lower(n[0]);
  // Lengths below 7 cannot be a Proxy-* name; the others fall through to that check.
  switch (n.size()) {
    case 2:
      return is("te") ? Field::te : Field::other;
    case 3:
      return is("age") ? Field::age : Field::other;
    case 4:
      if (c == 'h') return is("host") ? Field::host : Field::other;
      if (c == 'd') return is("date") ? Field::date : Field::other;
      if (c == 'e') return is("etag") ? Field::etag : Field::other;
      if (c == 'v') return is("vary") ? Field::vary : Field::other;
      return Field::other;
    case 5:
      return is("range") ? Field::range : Field::other;
    case 6:
      if (c == 'e') return is("expect") ? Field::expect : Field::other;
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
      if (is("content-length")) return Field::content_length;
      break;
    case 15:
      if (is("x-forwarded-for")) return Field::x_forwarded_for;
      break;
    case 16:
      if (is("content-location")) return Field::content_location;
      break;
    case 17:
      if (c == 'i') return is("if-modified-since") ? Field::if_modified_since : Field::other;
      if (c == 't') return is("transfer-encoding") ? Field::transfer_encoding : Field::other;
      break;
    default:
      break;
  }
  return c == 'p' && n.size() > 6 && equals_lower(n.substr(0, 6), "proxy-") ? Field::proxy
                                                                            : Field::other;
}

std::string_view status_reason(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 101:
      return "Switching Protocols";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 206:
      return "Partial Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 304:
      return "Not Modified";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 411:
      return "Length Required";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 417:
      return "Expectation Failed";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "Unknown";
  }
}

}  // namespace sluice::http
