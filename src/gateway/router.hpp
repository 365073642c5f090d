// Chooses the route for a request: host and method must match, then the longest path prefix.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "gateway/config.hpp"

namespace sluice::gateway {

// The request target in the form routing and forwarding use.
struct NormalisedTarget {
  std::string_view authority;  // from an absolute-form target; empty otherwise
  std::string path;            // dot segments removed, starts with "/"
  std::string_view query;      // without "?"; empty when absent
  bool has_query = false;
};

// Parses origin-form ("/a/b?q") or absolute-form ("http://host/a?q"); false if neither.
bool normalise_target(std::string_view target, NormalisedTarget& out);

class Router {
 public:
  explicit Router(const std::vector<RouteConfig>& routes);
  static constexpr int kNoRoute = -1;
  static constexpr int kMethodNotAllowed = -2;  // a route has the path but not the method
  // Index into the routes, or kNoRoute / kMethodNotAllowed.
  int match(std::string_view host, std::string_view path, llhttp_method_t method) const;

 private:
  const std::vector<RouteConfig>& routes_;
  std::vector<size_t> by_length_;  // route indices, longest prefix first
};

}  // namespace sluice::gateway
