// Request routing and response bodies of the reference backend: pure functions, no I/O.
#pragma once

#include <llhttp.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace sluice::backend {

enum class RouteKind {
  item,                // GET /api/items/{id}: cacheable JSON
  order,               // POST /api/orders: 201, not cacheable
  slow,                // GET /api/slow?ms=N: N ms in service
  status,              // GET /api/status/{code}: answers that status
  health,              // GET /health: immediate, outside the concurrency cap
  stats,               // GET /stats: immediate, outside the concurrency cap
  bad_request,         // known path, bad parameter
  not_found,           //
  method_not_allowed,  // known path, other method; see Route::allow
};

struct Route {
  RouteKind kind = RouteKind::not_found;
  std::string item_id;  // item
  int number = 0;       // slow: milliseconds; status: the code
  const char* allow = "";
  const char* error = "";  // bad_request: why
  bool head = false;       // HEAD of a GET resource: same headers, no body

  // Whether the request goes through the concurrency cap and the service time.
  bool in_service() const {
    return kind == RouteKind::item || kind == RouteKind::order || kind == RouteKind::slow ||
           kind == RouteKind::status;
  }
};

constexpr int kMaxSlowMs = 60000;
constexpr size_t kMaxItemIdLength = 64;

Route route_request(llhttp_method_t method, std::string_view target);

// Deterministic per item, identical on every instance, so caches and revalidation work across them.
std::string item_etag(std::string_view id);
std::string item_body(std::string_view id);
// If-None-Match (a list of entity tags or "*") matches `etag`, weak comparison.
bool etag_matches(std::string_view if_none_match, std::string_view etag);

}  // namespace sluice::backend
