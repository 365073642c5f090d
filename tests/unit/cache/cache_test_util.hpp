// Shared helpers for the cache tests: owned requests/responses that expose views.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "cache/cache_config.hpp"
#include "cache/cached_response.hpp"
#include "cache/message_view.hpp"

namespace sluice::cache::testing {

// Sanitizers change memory use and speed: tests skip their resource bounds under them.
#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kSanitized = true;
#else
inline constexpr bool kSanitized = false;
#endif

struct Message {
  std::vector<std::pair<std::string, std::string>> fields;
  std::vector<HeaderView> views;
  Message& with(std::string name, std::string value) {
    fields.emplace_back(std::move(name), std::move(value));
    return *this;
  }
  std::span<const HeaderView> headers() {
    views.clear();
    for (auto& [n, v] : fields)
      views.push_back({n, v});
    return views;
  }
};

struct Request : Message {
  std::string method = "GET", host = "example.com", path = "/", query;
  Request(std::string m = "GET", std::string p = "/", std::string q = "")
      : method(std::move(m)), path(std::move(p)), query(std::move(q)) {}
  Request& with(std::string name, std::string value) {
    Message::with(std::move(name), std::move(value));
    return *this;
  }
  RequestView view() { return {method, host, path, query, headers()}; }
};

struct Response : Message {
  int status = 200;
  explicit Response(int s = 200) : status(s) {}
  Response& with(std::string name, std::string value) {
    Message::with(std::move(name), std::move(value));
    return *this;
  }
  ResponseView view() { return {status, {}, headers()}; }
};

inline RouteCacheConfig route_with_ttl(std::chrono::seconds ttl) {
  RouteCacheConfig c;
  c.ttl = ttl;
  return c;
}

inline TimePoint at(int64_t seconds) {
  return TimePoint(std::chrono::seconds(1'800'000'000 + seconds));
}

}  // namespace sluice::cache::testing

#include <memory>

namespace sluice::cache::testing {

// A small entry for store-level tests: fresh until `fresh_until`, with `body_size` bytes.
inline std::shared_ptr<CachedResponse> simple_entry(std::string target, TimePoint fresh_until,
                                                    size_t body_size = 16,
                                                    std::vector<std::string> tags = {}) {
  auto e = std::make_shared<CachedResponse>();
  e->assign("HTTP/1.1 200 OK\r\n", std::string(body_size, 'x'), "", target);
  e->status = 200;
  e->fresh_until = fresh_until;
  e->tags = std::move(tags);
  e->charge = allocation_size(sizeof(CachedResponse) + 16) +
              allocation_size(e->data.capacity() + 1) + 64 * e->tags.size();
  return e;
}

}  // namespace sluice::cache::testing
