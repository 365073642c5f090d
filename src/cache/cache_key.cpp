#include "cache/cache_key.hpp"

#include <cstring>

namespace sluice::cache {
namespace {

// Separator after each substituted value; the escape byte protects values containing either.
constexpr char kSeparator = '\x1f';
constexpr char kEscape = '\x1e';

// Writes `value` at `out` with the separator and escape bytes escaped; returns the end. Needs
// room for twice the value.
char* put_escaped(char* out, std::string_view value) {
  if (value.empty()) return out;  // its data() may be null, which memchr must not see
  if (!std::memchr(value.data(), kSeparator, value.size()) &&
      !std::memchr(value.data(), kEscape, value.size())) {
    std::memcpy(out, value.data(), value.size());
    return out + value.size();
  }
  for (char c : value) {
    if (c == kSeparator || c == kEscape) {
      *out++ = kEscape;
      *out++ = c == kSeparator ? '1' : '0';
    } else {
      *out++ = c;
    }
  }
  return out;
}

}  // namespace

std::optional<std::string_view> find_cookie(const RequestView& req, std::string_view name) {
  std::optional<std::string_view> found;
  for_each_header(req.headers, "cookie", [&](std::string_view line) {
    while (!found && !line.empty()) {
      size_t semi = line.find(';');
      std::string_view pair = http::trim(line.substr(0, semi));
      line = semi == std::string_view::npos ? std::string_view{} : line.substr(semi + 1);
      size_t eq = pair.find('=');
      if (eq == std::string_view::npos) continue;
      if (http::trim(pair.substr(0, eq)) == name) found = http::trim(pair.substr(eq + 1));
    }
  });
  return found;
}

std::optional<std::string_view> find_query_param(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    size_t eq = pair.find('=');
    std::string_view key = pair.substr(0, eq);
    if (key == name) return eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
  }
  return std::nullopt;
}

KeyTemplate::KeyTemplate() {
  std::string error;
  *this = *parse(kDefaultKeyTemplate, error);
}

std::optional<KeyTemplate> KeyTemplate::parse(std::string_view text, std::string& error) {
  KeyTemplate t{Empty{}};
  t.text_ = std::string(text);
  std::string literal;
  size_t i = 0;
  while (i < text.size()) {
    char c = text[i];
    if (c == '}') {
      error = "unbalanced '}' in key template";
      return std::nullopt;
    }
    if (c != '{') {
      literal.push_back(c);
      ++i;
      continue;
    }
    size_t close = text.find('}', i);
    if (close == std::string_view::npos) {
      error = "unterminated '{' in key template";
      return std::nullopt;
    }
    if (!literal.empty()) t.parts_.push_back({Kind::literal, std::move(literal)});
    literal.clear();
    std::string_view var = text.substr(i + 1, close - i - 1);
    i = close + 1;
    size_t colon = var.find(':');
    std::string_view kind = var.substr(0, colon);
    std::string_view name = colon == std::string_view::npos ? "" : var.substr(colon + 1);
    Part part{Kind::literal, std::string(name)};
    if (colon == std::string_view::npos) {
      if (kind == "method")
        part.kind = Kind::method;
      else if (kind == "host")
        part.kind = Kind::host;
      else if (kind == "path")
        part.kind = Kind::path;
      else if (kind == "query")
        part.kind = Kind::query;
      else {
        error = "unknown key variable {" + std::string(var) +
                "} (expected method, host, path, query, header:NAME, cookie:NAME or query:NAME)";
        return std::nullopt;
      }
    } else {
      if (name.empty()) {
        error = "{" + std::string(kind) + ":} needs a name";
        return std::nullopt;
      }
      if (kind == "header")
        part.kind = Kind::header;
      else if (kind == "cookie")
        part.kind = Kind::cookie;
      else if (kind == "query")
        part.kind = Kind::query_param;
      else {
        error = "unknown key variable {" + std::string(var) + "}";
        return std::nullopt;
      }
    }
    t.note(part);
    t.parts_.push_back(std::move(part));
  }
  if (!literal.empty()) t.parts_.push_back({Kind::literal, std::move(literal)});
  return t;
}

void KeyTemplate::note(const Part& part) {
  if (part.kind == Kind::method) keys_method_ = true;
  if (part.kind == Kind::cookie) keys_cookie_ = true;
  if (part.kind == Kind::header) {
    if (http::iequals(part.text, "authorization")) keys_authorization_ = true;
    if (http::iequals(part.text, "cookie")) keys_cookie_ = true;
  }
}

void KeyTemplate::add_header(std::string_view name) {
  Part part{Kind::header, std::string(name)};
  note(part);
  parts_.push_back(std::move(part));
  text_ += "{header:" + std::string(name) + "}";
}

void KeyTemplate::build(const RequestView& req, std::string& out) const {
  // The key is written through a pointer into a buffer sized for the worst case (every value
  // escaped to twice its size, a marker and a separator per part), then trimmed.
  size_t bound = 0;
  for (const Part& p : parts_) {
    bound += 2;
    switch (p.kind) {
      case Kind::literal:
        bound += p.text.size();
        break;
      case Kind::method:
        bound += 2 * req.method.size();
        break;
      case Kind::host:
        bound += req.host.size();
        break;
      case Kind::path:
        bound += 2 * req.path.size();
        break;
      case Kind::query:
      case Kind::query_param:
        bound += 2 * req.query.size();
        break;
      case Kind::header:
      case Kind::cookie:
        for_each_header(req.headers, p.kind == Kind::header ? std::string_view(p.text) : "cookie",
                        [&](std::string_view v) { bound += 2 * v.size() + 2; });
        break;
    }
  }
  out.resize(bound);
  char* const begin = out.data();
  char* o = begin;
  for (const Part& p : parts_) {
    switch (p.kind) {
      case Kind::literal:
        std::memcpy(o, p.text.data(), p.text.size());
        o += p.text.size();
        break;
      case Kind::method:
        o = put_escaped(o, req.method);
        *o++ = kSeparator;
        break;
      case Kind::host:
        for (char c : req.host)
          *o++ = c == kSeparator || c == kEscape ? '_' : http::ascii_lower(c);
        *o++ = kSeparator;
        break;
      case Kind::path:
        o = put_escaped(o, req.path);
        *o++ = kSeparator;
        break;
      case Kind::query:
        o = put_escaped(o, req.query);
        *o++ = kSeparator;
        break;
      case Kind::header: {
        // A leading marker tells an absent header from an empty one.
        char* marker = o++;
        *marker = '-';
        for_each_header(req.headers, p.text, [&](std::string_view v) {
          if (*marker == '=') {
            *o++ = ',';
            *o++ = ' ';
          }
          *marker = '=';
          o = put_escaped(o, v);
        });
        *o++ = kSeparator;
        break;
      }
      case Kind::cookie:
      case Kind::query_param: {
        auto v =
            p.kind == Kind::cookie ? find_cookie(req, p.text) : find_query_param(req.query, p.text);
        *o++ = v ? '=' : '-';
        if (v) o = put_escaped(o, *v);
        *o++ = kSeparator;
        break;
      }
    }
  }
  out.resize(static_cast<size_t>(o - begin));
}

}  // namespace sluice::cache
