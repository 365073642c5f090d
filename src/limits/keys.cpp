#include "limits/keys.hpp"

#include <cctype>

#include "http/headers.hpp"

namespace sluice::limits {

std::string_view RequestView::path() const {
  return target.substr(0, target.find('?'));
}

std::string_view RequestView::query() const {
  size_t q = target.find('?');
  if (q == std::string_view::npos) return {};
  std::string_view rest = target.substr(q + 1);
  return rest.substr(0, rest.find('#'));
}

std::optional<std::string_view> RequestView::header(std::string_view name) const {
  for (const auto& f : headers) {
    if (!http::iequals(f.name.in(base), name)) continue;
    std::string_view v = http::trim(f.value.in(base));
    if (!v.empty()) return v;
  }
  return std::nullopt;
}

std::optional<std::string_view> RequestView::query_param(std::string_view name) const {
  std::string_view q = query();
  while (!q.empty()) {
    size_t amp = q.find('&');
    std::string_view pair = q.substr(0, amp);
    size_t eq = pair.find('=');
    if (pair.substr(0, eq) == name)
      return eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
    if (amp == std::string_view::npos) break;
    q.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

std::optional<std::string_view> RequestView::cookie(std::string_view name) const {
  for (const auto& f : headers) {
    if (!http::iequals(f.name.in(base), "cookie")) continue;
    std::string_view v = f.value.in(base);
    while (!v.empty()) {
      size_t semi = v.find(';');
      std::string_view pair = http::trim(v.substr(0, semi));
      size_t eq = pair.find('=');
      if (eq != std::string_view::npos && http::trim(pair.substr(0, eq)) == name) {
        std::string_view value = http::trim(pair.substr(eq + 1));
        if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
          value = value.substr(1, value.size() - 2);
        return value;
      }
      if (semi == std::string_view::npos) break;
      v.remove_prefix(semi + 1);
    }
  }
  return std::nullopt;
}

std::optional<KeyPart> KeySpec::parse_part(std::string_view text) {
  if (text == "ip") return KeyPart{KeyPart::Kind::ip, {}};
  size_t colon = text.find(':');
  if (colon == std::string_view::npos || colon + 1 == text.size()) return std::nullopt;
  std::string_view kind = text.substr(0, colon);
  std::string name(text.substr(colon + 1));
  if (kind == "header") {
    for (char c : name)  // RFC 9110 token characters
      if (!(std::isalnum(static_cast<unsigned char>(c)) ||
            std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos))
        return std::nullopt;
    return KeyPart{KeyPart::Kind::header, std::move(name)};
  }
  if (kind == "query") return KeyPart{KeyPart::Kind::query, std::move(name)};
  if (kind == "cookie") return KeyPart{KeyPart::Kind::cookie, std::move(name)};
  return std::nullopt;
}

std::string KeySpec::describe() const {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += '+';
    switch (p.kind) {
      case KeyPart::Kind::ip:
        out += "ip";
        break;
      case KeyPart::Kind::header:
        out += "header:" + p.name;
        break;
      case KeyPart::Kind::query:
        out += "query:" + p.name;
        break;
      case KeyPart::Kind::cookie:
        out += "cookie:" + p.name;
        break;
    }
  }
  return out;
}

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void append_length(std::string& out, size_t n) {
  out += static_cast<char>(n & 0xff);
  out += static_cast<char>((n >> 8) & 0xff);
}

void append_value(std::string& out, KeyPart::Kind kind, std::string_view v) {
  out += static_cast<char>(kind);
  append_length(out, v.size());
  out.append(v);
}

void append_decoded_query(std::string& out, std::string_view v) {
  out += static_cast<char>(KeyPart::Kind::query);
  size_t len_at = out.size();
  append_length(out, 0);
  size_t start = out.size();
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '+') {
      out += ' ';
    } else if (v[i] == '%' && i + 2 < v.size() && hex_value(v[i + 1]) >= 0 &&
               hex_value(v[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(v[i + 1]) * 16 + hex_value(v[i + 2]));
      i += 2;
    } else {
      out += v[i];
    }
  }
  size_t n = out.size() - start;
  out[len_at] = static_cast<char>(n & 0xff);
  out[len_at + 1] = static_cast<char>((n >> 8) & 0xff);
}

}  // namespace

bool append_key(const KeySpec& spec, const RequestView& request, std::string& out) {
  for (const auto& part : spec.parts) {
    switch (part.kind) {
      case KeyPart::Kind::ip: {
        // An IPv6 client usually holds a whole /64: its addresses share one bucket.
        size_t significant = request.client.is_v4() ? 16 : 8;
        out += static_cast<char>(KeyPart::Kind::ip);
        out.append(reinterpret_cast<const char*>(request.client.bytes.data()), significant);
        break;
      }
      case KeyPart::Kind::header: {
        auto v = request.header(part.name);
        if (!v) return false;
        append_value(out, part.kind, *v);
        break;
      }
      case KeyPart::Kind::query: {
        auto v = request.query_param(part.name);
        if (!v || v->empty()) return false;
        append_decoded_query(out, *v);
        break;
      }
      case KeyPart::Kind::cookie: {
        auto v = request.cookie(part.name);
        if (!v || v->empty()) return false;
        append_value(out, part.kind, *v);
        break;
      }
    }
  }
  return true;
}

bool TierCondition::applies(const RequestView& request) const {
  for (const auto& h : when_header)
    if (!request.header(h)) return false;
  for (const auto& h : unless_header)
    if (request.header(h)) return false;
  return true;
}

}  // namespace sluice::limits
