// An immutable stored response, shared by every worker that serves it.
//
// The head is serialized once at store time (status line and end-to-end header fields, each
// ending in CRLF, without the blank line), so a hit is served with one vectored write of
//   [head()] [render_dynamic_headers(): Age, X-Cache, caller's extra lines, blank line] [body()]
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/units.hpp"

namespace sluice::cache {

using Clock = std::chrono::system_clock;
using TimePoint = Clock::time_point;

enum class CacheStatus : uint8_t { hit, miss, stale, bypass, expired };
std::string_view cache_status_name(CacheStatus status);  // "HIT", "MISS", ...

struct CachedResponse {
  // One buffer for every byte the entry serves or matches: the head, the body, the head of the
  // 304 answer (status line and validator fields) and the target, so a store allocates once.
  std::string data;
  uint32_t head_size = 0;
  uint32_t body_size = 0;
  uint32_t not_modified_size = 0;
  uint32_t etag_offset = 0;  // the ETag value, as sent by the origin (e.g. W/"v1"), in the head
  uint32_t etag_size = 0;
  int status = 0;
  uint16_t route = 0;
  bool head_only = false;  // stored from a HEAD response: there is no body to serve a GET
  // Not a response but a marker: the key's last response could not be stored, so until the
  // marker expires its requests go upstream at once instead of queueing behind one another.
  bool pass = false;
  std::optional<int64_t> last_modified;  // unix seconds
  std::optional<int64_t> date;           // unix seconds
  TimePoint stored_at{};
  TimePoint fresh_until{};
  Duration stale_while_revalidate{0};
  Duration stale_if_error{0};
  int64_t initial_age = 0;  // seconds the response had already aged when stored
  std::vector<std::string> vary_names;
  std::vector<std::string> vary_values;  // the storing request's values, parallel to vary_names
  std::vector<std::string> tags;
  size_t charge = 0;  // bytes accounted for this response, allocation overhead included

  std::string_view head() const { return {data.data(), head_size}; }
  std::string_view body() const { return {data.data() + head_size, body_size}; }
  std::string_view not_modified_head() const {
    return {data.data() + head_size + body_size, not_modified_size};
  }
  // Path, plus "?query" when present: what purge patterns match.
  std::string_view target() const {
    size_t start = size_t{head_size} + body_size + not_modified_size;
    return {data.data() + start, data.size() - start};
  }
  std::string_view etag() const { return {data.data() + etag_offset, etag_size}; }
  // Fills `data` from its four parts (for entries not built from a response: markers, tests).
  void assign(std::string_view head, std::string_view body, std::string_view not_modified,
              std::string_view target);

  bool fresh(TimePoint now) const { return now < fresh_until; }
  // Expired, but inside the stale-while-revalidate window.
  bool revalidatable_stale(TimePoint now) const {
    return !fresh(now) && now < fresh_until + stale_while_revalidate;
  }
  // May be served when the origin fails (stale-if-error window).
  bool usable_on_error(TimePoint now) const {
    return fresh(now) || now < fresh_until + stale_if_error;
  }
  // Whether the entry is still of any use (fresh or in a stale window).
  bool retainable(TimePoint now) const {
    return now < fresh_until + std::max(stale_while_revalidate, stale_if_error);
  }
  int64_t age_seconds(TimePoint now) const;
};

// Writes "Age: N\r\nX-Cache: STATUS\r\n", then `extra` (whole field lines, e.g.
// "Connection: close\r\n"), then the blank line. Returns the length, or 0 when `cap` is too
// small (64 bytes plus extra always suffice).
size_t render_dynamic_headers(const CachedResponse& entry, TimePoint now, CacheStatus status,
                              std::string_view extra, char* out, size_t cap);

// The bytes of the allocation that holds `capacity` bytes, as malloc rounds them.
size_t allocation_size(size_t capacity);

}  // namespace sluice::cache
