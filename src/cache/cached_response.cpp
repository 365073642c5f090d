#include "cache/cached_response.hpp"

#include <charconv>
#include <cstring>

namespace sluice::cache {

std::string_view cache_status_name(CacheStatus status) {
  switch (status) {
    case CacheStatus::hit:
      return "HIT";
    case CacheStatus::miss:
      return "MISS";
    case CacheStatus::stale:
      return "STALE";
    case CacheStatus::bypass:
      return "BYPASS";
    case CacheStatus::expired:
      return "EXPIRED";
  }
  return "MISS";
}

int64_t CachedResponse::age_seconds(TimePoint now) const {
  auto resident = std::chrono::duration_cast<std::chrono::seconds>(now - stored_at).count();
  return initial_age + (resident > 0 ? resident : 0);
}

size_t render_dynamic_headers(const CachedResponse& entry, TimePoint now, CacheStatus status,
                              std::string_view extra, char* out, size_t cap) {
  std::string_view name = cache_status_name(status);
  char age[24];
  auto [end, ec] = std::to_chars(age, age + sizeof age, entry.age_seconds(now));
  (void)ec;
  size_t age_len = static_cast<size_t>(end - age);
  size_t need = 5 + age_len + 2 + 9 + name.size() + 2 + extra.size() + 2;
  if (need > cap) return 0;
  char* p = out;
  auto put = [&p](std::string_view s) {
    std::memcpy(p, s.data(), s.size());
    p += s.size();
  };
  put("Age: ");
  put({age, age_len});
  put("\r\nX-Cache: ");
  put(name);
  put("\r\n");
  put(extra);
  put("\r\n");
  return need;
}

void CachedResponse::assign(std::string_view head, std::string_view body,
                            std::string_view not_modified, std::string_view target) {
  data.clear();
  data.reserve(head.size() + body.size() + not_modified.size() + target.size());
  data.append(head).append(body).append(not_modified).append(target);
  head_size = static_cast<uint32_t>(head.size());
  body_size = static_cast<uint32_t>(body.size());
  not_modified_size = static_cast<uint32_t>(not_modified.size());
}

size_t allocation_size(size_t capacity) {
  if (capacity == 0) return 0;
  // glibc: 8 bytes of chunk header, 16-byte granularity, 32-byte minimum chunk.
  size_t chunk = (capacity + 8 + 15) & ~size_t{15};
  return chunk < 32 ? 32 : chunk;
}

}  // namespace sluice::cache
