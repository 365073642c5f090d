// Cache keys built from a per-route template, and lookups of the request fields they name.
//
// Template syntax: literal text with substitutions in braces.
//   {method} {host} {path} {query}       the request's method, host (lower-cased), path, raw query
//   {header:NAME}                        all values of header NAME, joined by ", "
//   {cookie:NAME}                        the value of cookie NAME
//   {query:NAME}                         the (raw) value of query parameter NAME
// Each substitution is followed by a separator byte and its value escaped, so that two different
// requests can never produce the same key by shifting bytes between adjacent substitutions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cache/message_view.hpp"

namespace sluice::cache {

inline constexpr std::string_view kDefaultKeyTemplate = "{method} {host}{path}?{query}";

// The value of cookie `name` in the request's Cookie header(s); nullopt when absent.
std::optional<std::string_view> find_cookie(const RequestView& req, std::string_view name);
// The raw value of query parameter `name` ("" for a bare `?name`); nullopt when absent.
std::optional<std::string_view> find_query_param(std::string_view query, std::string_view name);

class KeyTemplate {
 public:
  enum class Kind { literal, method, host, path, query, header, cookie, query_param };
  struct Part {
    Kind kind;
    std::string text;  // the literal, or the header/cookie/parameter name
  };

  KeyTemplate();  // the default template
  // nullopt with `error` set when the template is malformed.
  static std::optional<KeyTemplate> parse(std::string_view text, std::string& error);

  // Adds `{header:NAME}` (used for the route's `vary` headers).
  void add_header(std::string_view name);
  // Writes the key into `out` (cleared first); reuse `out` across requests to avoid allocation.
  void build(const RequestView& req, std::string& out) const;

  // Whether the key separates users by their Authorization header or by a cookie.
  bool keys_authorization() const { return keys_authorization_; }
  bool keys_cookie() const { return keys_cookie_; }
  bool keys_method() const { return keys_method_; }
  const std::vector<Part>& parts() const { return parts_; }
  const std::string& text() const { return text_; }

 private:
  struct Empty {};
  explicit KeyTemplate(Empty) {}
  void note(const Part& part);
  std::vector<Part> parts_;
  std::string text_;
  bool keys_authorization_ = false;
  bool keys_cookie_ = false;
  bool keys_method_ = false;
};

}  // namespace sluice::cache
