#include "backend/routes.hpp"

#include <charconv>
#include <cstdio>

#include "http/headers.hpp"

namespace sluice::backend {
namespace {

bool valid_item_id(std::string_view id) {
  if (id.empty() || id.size() > kMaxItemIdLength) return false;
  for (char c : id) {
    bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

bool parse_number(std::string_view text, int min, int max, int& out) {
  int v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() || v < min || v > max)
    return false;
  out = v;
  return true;
}

// Value of `name` in a query string, or nullopt-like empty view with found = false.
std::string_view query_param(std::string_view query, std::string_view name, bool& found) {
  found = false;
  std::string_view value;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    size_t eq = pair.find('=');
    if (pair.substr(0, eq) == name) {
      found = true;
      value = eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
    }
  }
  return value;
}

uint64_t fnv1a(std::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

}  // namespace

Route route_request(llhttp_method_t method, std::string_view target) {
  Route r;
  std::string_view path = target, query;
  if (size_t q = target.find('?'); q != std::string_view::npos) {
    path = target.substr(0, q);
    query = target.substr(q + 1);
  }
  const bool get = method == HTTP_GET || method == HTTP_HEAD;
  auto resource = [&](RouteKind kind, const char* allow, bool allowed) {
    r.allow = allow;
    r.kind = allowed ? kind : RouteKind::method_not_allowed;
    r.head = allowed && method == HTTP_HEAD;
  };
  constexpr std::string_view items = "/api/items/", status = "/api/status/";
  if (path.starts_with(items)) {
    std::string_view id = path.substr(items.size());
    if (!valid_item_id(id)) return r;
    resource(RouteKind::item, "GET, HEAD", get);
    if (r.kind == RouteKind::item) r.item_id = id;
  } else if (path == "/api/orders") {
    resource(RouteKind::order, "POST", method == HTTP_POST);
  } else if (path == "/api/slow") {
    resource(RouteKind::slow, "GET, HEAD", get);
    bool found = false;
    std::string_view ms = query_param(query, "ms", found);
    if (r.kind == RouteKind::slow && (!found || !parse_number(ms, 0, kMaxSlowMs, r.number))) {
      r.kind = RouteKind::bad_request;
      r.error = "ms must be a whole number of milliseconds in 0..60000";
    }
  } else if (path.starts_with(status)) {
    int code = 0;
    if (!parse_number(path.substr(status.size()), 0, 999, code)) return r;
    resource(RouteKind::status, "GET, HEAD", get);
    r.number = code;
    if (r.kind == RouteKind::status && (code < 200 || code > 599)) {
      r.kind = RouteKind::bad_request;
      r.error = "status must be in 200..599";
    }
  } else if (path == "/health") {
    resource(RouteKind::health, "GET, HEAD", get);
  } else if (path == "/stats") {
    resource(RouteKind::stats, "GET, HEAD", get);
  }
  return r;
}

std::string item_etag(std::string_view id) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "\"%016llx\"", static_cast<unsigned long long>(fnv1a(id)));
  return buf;
}

std::string item_body(std::string_view id) {
  uint64_t h = fnv1a(id);
  std::string body = "{\"id\":\"";
  body.append(id);  // valid ids need no JSON escaping
  body += "\",\"name\":\"Item ";
  body.append(id);
  char tail[96];
  std::snprintf(tail, sizeof tail, "\",\"price_cents\":%llu,\"in_stock\":%s}",
                static_cast<unsigned long long>(100 + h % 100000),
                (h >> 20) % 5 ? "true" : "false");
  body += tail;
  return body;
}

bool etag_matches(std::string_view if_none_match, std::string_view etag) {
  auto opaque = [](std::string_view t) { return t.starts_with("W/") ? t.substr(2) : t; };
  bool match = false;
  http::for_each_token(if_none_match, [&](std::string_view tok) {
    if (tok == "*" || opaque(tok) == opaque(etag)) match = true;
  });
  return match;
}

}  // namespace sluice::backend
