#include "cache/cache_key.hpp"

#include <cstring>

namespace sluice::cache {
namespace {

// Separator after each substituted value; the escape byte protects values containing either.
constexpr char kSeparator = '\x1f';
constexpr char kEscape = '\x1e';

void append_escaped(std::string& out, std::string_view value) {
  if (!std::memchr(value.data(), kSeparator, value.size()) &&
      !std::memchr(value.data(), kEscape, value.size())) {
    out.append(value);
    return;
  }
  for (char c : value) {
    if (c == kSeparator || c == kEscape) {
      out.push_back(kEscape);
      out.push_back(c == kSeparator ? '1' : '0');
    } else {
      out.push_back(c);
    }
  }
}

void append_value(std::string& out, std::string_view value) {
  append_escaped(out, value);
  out.push_back(kSeparator);
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
  out.clear();
  for (const Part& p : parts_) {
    switch (p.kind) {
      case Kind::literal:
        out += p.text;
        break;
      case Kind::method:
        append_value(out, req.method);
        break;
      case Kind::host: {
        const size_t start = out.size();
        out.append(req.host).push_back(kSeparator);
        for (size_t i = start; i + 1 < out.size(); ++i) {
          char c = out[i];
          out[i] = c == kSeparator || c == kEscape ? '_' : http::ascii_lower(c);
        }
        break;
      }
      case Kind::path:
        append_value(out, req.path);
        break;
      case Kind::query:
        append_value(out, req.query);
        break;
      case Kind::header: {
        bool first = true;
        // A leading marker tells an absent header from an empty one.
        out.push_back('=');
        for_each_header(req.headers, p.text, [&](std::string_view v) {
          if (!first) out += ", ";
          first = false;
          append_escaped(out, v);
        });
        if (first) out.back() = '-';
        out.push_back(kSeparator);
        break;
      }
      case Kind::cookie:
      case Kind::query_param: {
        auto v =
            p.kind == Kind::cookie ? find_cookie(req, p.text) : find_query_param(req.query, p.text);
        out.push_back(v ? '=' : '-');
        if (v) append_escaped(out, *v);
        out.push_back(kSeparator);
        break;
      }
    }
  }
}

}  // namespace sluice::cache
