#include "cache/message_view.hpp"

namespace sluice::cache {

std::string_view find_header(std::span<const HeaderView> headers, std::string_view name) {
  for (const HeaderView& h : headers)
    if (http::iequals(h.name, name)) return h.value;
  return {};
}

bool has_header(std::span<const HeaderView> headers, std::string_view name) {
  for (const HeaderView& h : headers)
    if (http::iequals(h.name, name)) return true;
  return false;
}

void collect_headers(const http::MessageHead& head, const char* base,
                     std::vector<HeaderView>& out) {
  out.clear();
  for (const http::HeaderField& f : head.headers)
    out.push_back({f.name.in(base), http::trim(f.value.in(base))});
}

void split_target(std::string_view target, std::string_view& path, std::string_view& query) {
  size_t q = target.find('?');
  if (q == std::string_view::npos) {
    path = target;
    query = {};
  } else {
    path = target.substr(0, q);
    query = target.substr(q + 1);
  }
}

}  // namespace sluice::cache
