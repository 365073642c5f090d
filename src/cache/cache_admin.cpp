#include "cache/cache_admin.hpp"

#include "cache/cache_key.hpp"

namespace sluice::cache {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

AdminResponse error(int status, std::string_view message) {
  return {status, "{\"error\":\"" + std::string(message) + "\"}"};
}

AdminResponse purged(size_t n) {
  return {200, "{\"purged\":" + std::to_string(n) + "}"};
}

}  // namespace

std::optional<std::string> percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out.push_back(text[i]);
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;
    int hi = hex_value(text[i + 1]);
    int lo = hex_value(text[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

std::optional<AdminResponse> handle_cache_admin(ResponseCache& cache, std::string_view method,
                                                std::string_view path, std::string_view query) {
  if (path.substr(0, 7) != "/cache/") return std::nullopt;
  auto param = [&](std::string_view name) -> std::optional<std::string> {
    auto raw = find_query_param(query, name);
    if (!raw || raw->empty()) return std::nullopt;
    return percent_decode(*raw);
  };
  if (path == "/cache/stats") {
    if (method != "GET" && method != "HEAD") return error(405, "use GET");
    return AdminResponse{200, cache.stats_json()};
  }
  if (path == "/cache/invalidate") {
    if (method != "DELETE" && method != "POST") return error(405, "use DELETE");
    auto pattern = param("pattern");
    if (!pattern) return error(400, "pattern is required, e.g. ?pattern=/api/projects*");
    return purged(cache.invalidate(*pattern));
  }
  if (path == "/cache/tag") {
    if (method != "DELETE" && method != "POST") return error(405, "use DELETE");
    auto tag = param("tag");
    if (!tag) return error(400, "tag is required, e.g. ?tag=product-42");
    return purged(cache.purge_tag(*tag));
  }
  if (path == "/cache/clear") {
    if (method != "DELETE" && method != "POST") return error(405, "use DELETE");
    return purged(cache.clear());
  }
  return error(404, "unknown cache endpoint");
}

}  // namespace sluice::cache
