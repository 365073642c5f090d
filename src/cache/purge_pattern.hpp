// Purge patterns: globs over a cached response's target (its path, plus "?query" when present).
//
// `*` matches any run of bytes (including '/' and '?'); every other byte matches itself.
// "/api/projects*" matches "/api/projects", "/api/projects/42" and "/api/projects?page=2".
// A pattern without `*` names exactly one target.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::cache {

class PurgePattern {
 public:
  explicit PurgePattern(std::string pattern);
  bool matches(std::string_view target) const;
  // The bytes every match starts with; an ordered index of targets narrows a purge to them.
  std::string_view literal_prefix() const { return std::string_view(text_).substr(0, star_); }
  bool exact() const { return star_ == text_.size(); }
  const std::string& text() const { return text_; }

 private:
  std::string text_;
  size_t star_;  // position of the first '*', or size()
};

// An `invalidate` entry of a route, expanded per unsafe request. Substitutions:
//   {path}   the request's path
//   {N}      the N-th segment of the request's path, counting from 1:
//            for "/api/projects/42", {1} = "api", {2} = "projects", {3} = "42"
// An entry whose segment is missing from the request expands to nothing (it is skipped).
class InvalidationTemplate {
 public:
  static std::optional<InvalidationTemplate> parse(std::string_view text, std::string& error);
  // nullopt when a named segment or query parameter is missing, or a substituted value holds
  // a '*' (a client must not widen the purge).
  std::optional<std::string> expand(std::string_view path, std::string_view query = {}) const;
  const std::string& text() const { return text_; }

 private:
  struct Part {
    int segment;  // 0: literal, -1: whole path, -2: query parameter `literal`, N: segment N
    std::string literal;
  };
  std::vector<Part> parts_;
  std::string text_;
};

// The N-th (1-based) segment of `path`; nullopt when it has fewer segments.
std::optional<std::string_view> path_segment(std::string_view path, int n);

}  // namespace sluice::cache
