// The cache's part of the admin listener: maps admin requests to ResponseCache calls.
//
//   GET    /cache/stats                       200, the stats JSON
//   DELETE /cache/invalidate?pattern=GLOB     200, {"purged":N}   (pattern percent-decoded)
//   DELETE /cache/tag?tag=TAG                 200, {"purged":N}
//   DELETE /cache/clear                       200, {"purged":N}
// A known path with another method answers 405; a missing parameter 400; other paths under
// /cache/ 404. Purges over millions of entries take a while: run this off the workers' loops.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "cache/response_cache.hpp"

namespace sluice::cache {

struct AdminResponse {
  int status = 200;
  std::string body;  // JSON
};

// nullopt when `path` is not under /cache/ (another module's admin endpoint).
std::optional<AdminResponse> handle_cache_admin(ResponseCache& cache, std::string_view method,
                                                std::string_view path, std::string_view query);

// Percent-decodes a query parameter value ('+' stays '+'); nullopt when malformed.
std::optional<std::string> percent_decode(std::string_view text);

}  // namespace sluice::cache
