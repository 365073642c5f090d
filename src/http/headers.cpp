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

Field classify_field(std::string_view name) {
  switch (name.size()) {
    case 2:
      return equals_lower(name, "te") ? Field::te : Field::other;
    case 4:
      if (equals_lower(name, "host")) return Field::host;
      break;
    case 6:
      if (equals_lower(name, "expect")) return Field::expect;
      break;
    case 7:
      if (equals_lower(name, "trailer")) return Field::trailer;
      return equals_lower(name, "upgrade") ? Field::upgrade : Field::other;
    case 10:
      if (equals_lower(name, "connection")) return Field::connection;
      return equals_lower(name, "keep-alive") ? Field::keep_alive : Field::other;
    case 13:
      if (equals_lower(name, "if-none-match")) return Field::if_none_match;
      break;
    case 14:
      if (equals_lower(name, "content-length")) return Field::content_length;
      break;
    case 15:
      if (equals_lower(name, "x-forwarded-for")) return Field::x_forwarded_for;
      break;
    case 17:
      if (equals_lower(name, "transfer-encoding")) return Field::transfer_encoding;
      return equals_lower(name, "if-modified-since") ? Field::if_modified_since : Field::other;
    default:
      break;
  }
  return name.size() > 6 && equals_lower(name.substr(0, 6), "proxy-") ? Field::proxy : Field::other;
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
