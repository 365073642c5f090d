#include "gateway/router.hpp"

#include <algorithm>

#include "http/headers.hpp"

namespace sluice::gateway {
namespace {

// RFC 3986 5.2.4, applied to a path that starts with "/".
void remove_dot_segments(std::string_view in, std::string& out) {
  out.clear();
  size_t i = 0;
  while (i < in.size()) {
    size_t next = in.find('/', i + 1);
    if (next == std::string_view::npos) next = in.size();
    std::string_view seg = in.substr(i, next - i);  // "/name"
    if (seg == "/.") {
      if (next == in.size()) out.push_back('/');
    } else if (seg == "/..") {
      size_t cut = out.rfind('/');
      out.resize(cut == std::string::npos ? 0 : cut);
      if (next == in.size()) out.push_back('/');
    } else {
      out.append(seg);
    }
    i = next;
  }
  if (out.empty()) out.push_back('/');
}

}  // namespace

bool normalise_target(std::string_view target, NormalisedTarget& out) {
  out.authority = {};
  out.query = {};
  out.has_query = false;
  if (target.empty()) return false;
  if (target.front() != '/') {
    size_t scheme_end = target.find("://");
    if (scheme_end == std::string_view::npos) return false;
    std::string_view scheme = target.substr(0, scheme_end);
    if (!http::iequals(scheme, "http") && !http::iequals(scheme, "https")) return false;
    std::string_view rest = target.substr(scheme_end + 3);
    size_t path_start = rest.find_first_of("/?");
    out.authority = rest.substr(0, path_start);
    if (out.authority.empty() || out.authority.find('@') != std::string_view::npos) return false;
    target = path_start == std::string_view::npos ? std::string_view("/") : rest.substr(path_start);
    if (target.front() == '?') {
      out.query = target.substr(1);
      out.has_query = true;
      out.path = "/";
      return true;
    }
  }
  size_t q = target.find('?');
  std::string_view path = target.substr(0, q);
  if (q != std::string_view::npos) {
    out.query = target.substr(q + 1);
    out.has_query = true;
  }
  size_t hash = path.find('#');
  if (hash != std::string_view::npos) return false;
  if (path.find("/.") == std::string_view::npos)
    out.path.assign(path);
  else
    remove_dot_segments(path, out.path);
  return true;
}

Router::Router(const std::vector<RouteConfig>& routes) : routes_(routes) {
  for (size_t i = 0; i < routes.size(); ++i)
    by_length_.push_back(i);
  // Longest prefix first; among equals, host-specific routes first, then file order.
  std::stable_sort(by_length_.begin(), by_length_.end(), [&](size_t a, size_t b) {
    if (routes[a].path.size() != routes[b].path.size())
      return routes[a].path.size() > routes[b].path.size();
    return !routes[a].host.empty() && routes[b].host.empty();
  });
}

int Router::match(std::string_view host, std::string_view path, llhttp_method_t method) const {
  // Host comparisons ignore the port and case.
  std::string_view bare_host = host;
  if (!bare_host.empty() && bare_host.front() != '[') {
    size_t colon = bare_host.rfind(':');
    if (colon != std::string_view::npos) bare_host = bare_host.substr(0, colon);
  }
  bool method_mismatch = false;
  for (size_t i : by_length_) {
    const RouteConfig& r = routes_[i];
    if (path.compare(0, r.path.size(), r.path) != 0) continue;
    if (!r.host.empty() && !http::iequals(r.host, bare_host)) continue;
    if (!r.methods.empty() &&
        std::find(r.methods.begin(), r.methods.end(), method) == r.methods.end()) {
      method_mismatch = true;
      continue;
    }
    return static_cast<int>(i);
  }
  return method_mismatch ? kMethodNotAllowed : kNoRoute;
}

}  // namespace sluice::gateway
