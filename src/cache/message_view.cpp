#include "cache/message_view.hpp"

namespace sluice::cache {
using http::iequals;

std::string_view find_header(std::span<const HeaderView> headers, Field field) {
  for (const HeaderView& h : headers)
    if (h.field == field) return h.value;
  return {};
}

bool has_header(std::span<const HeaderView> headers, Field field) {
  for (const HeaderView& h : headers)
    if (h.field == field) return true;
  return false;
}

std::string_view find_header(std::span<const HeaderView> headers, std::string_view name) {
  if (Field f = classify_field(name); f != Field::other && f != Field::proxy)
    return find_header(headers, f);
  for (const HeaderView& h : headers)
    if (iequals(h.name, name)) return h.value;
  return {};
}

bool has_header(std::span<const HeaderView> headers, std::string_view name) {
  if (Field f = classify_field(name); f != Field::other && f != Field::proxy)
    return has_header(headers, f);
  for (const HeaderView& h : headers)
    if (iequals(h.name, name)) return true;
  return false;
}

void collect_headers(const http::MessageHead& head, const char* base,
                     std::vector<HeaderView>& out) {
  out.clear();
  for (const http::HeaderField& f : head.headers)
    out.emplace_back(f.name.in(base), f.value.in(base), f.field);
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
