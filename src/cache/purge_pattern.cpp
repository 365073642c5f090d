#include "cache/purge_pattern.hpp"

#include "cache/cache_key.hpp"

#include <charconv>

namespace sluice::cache {

PurgePattern::PurgePattern(std::string pattern) : text_(std::move(pattern)) {
  star_ = text_.find('*');
  if (star_ == std::string::npos) star_ = text_.size();
}

bool PurgePattern::matches(std::string_view target) const {
  std::string_view p = text_;
  if (exact()) return p == target;
  // Greedy glob with backtracking to the last star: linear for the usual one-star patterns.
  size_t pi = 0, ti = 0, star = std::string_view::npos, mark = 0;
  while (ti < target.size()) {
    if (pi < p.size() && p[pi] == '*') {
      star = pi++;
      mark = ti;
    } else if (pi < p.size() && p[pi] == target[ti]) {
      ++pi;
      ++ti;
    } else if (star != std::string_view::npos) {
      pi = star + 1;
      ti = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi] == '*')
    ++pi;
  return pi == p.size();
}

std::optional<std::string_view> path_segment(std::string_view path, int n) {
  int index = 0;
  size_t i = 0;
  while (i < path.size()) {
    while (i < path.size() && path[i] == '/')
      ++i;
    if (i >= path.size()) break;
    size_t end = path.find('/', i);
    if (end == std::string_view::npos) end = path.size();
    if (++index == n) return path.substr(i, end - i);
    i = end;
  }
  return std::nullopt;
}

std::optional<InvalidationTemplate> InvalidationTemplate::parse(std::string_view text,
                                                                std::string& error) {
  InvalidationTemplate t;
  t.text_ = std::string(text);
  if (text.empty() || (text[0] != '/' && text[0] != '{' && text[0] != '*')) {
    error = "an invalidate pattern starts with '/', '*' or '{path}'";
    return std::nullopt;
  }
  std::string literal;
  for (size_t i = 0; i < text.size();) {
    if (text[i] != '{') {
      literal.push_back(text[i++]);
      continue;
    }
    size_t close = text.find('}', i);
    if (close == std::string_view::npos) {
      error = "unterminated '{' in invalidate pattern";
      return std::nullopt;
    }
    std::string_view var = text.substr(i + 1, close - i - 1);
    int segment = 0;
    std::string name;
    if (var == "path") {
      segment = -1;
    } else if (var.starts_with("query:") && var.size() > 6) {
      segment = -2;
      name = std::string(var.substr(6));
    } else {
      auto [ptr, ec] = std::from_chars(var.data(), var.data() + var.size(), segment);
      if (ec != std::errc() || ptr != var.data() + var.size() || segment < 1 || segment > 64) {
        error = "unknown variable {" + std::string(var) +
                "} in invalidate pattern (expected {path}, a segment number such as {3}, or "
                "{query:NAME})";
        return std::nullopt;
      }
    }
    if (!literal.empty()) t.parts_.push_back({0, std::move(literal)});
    literal.clear();
    t.parts_.push_back({segment, std::move(name)});
    i = close + 1;
  }
  if (!literal.empty()) t.parts_.push_back({0, std::move(literal)});
  return t;
}

std::optional<std::string> InvalidationTemplate::expand(std::string_view path,
                                                        std::string_view query) const {
  std::string out;
  for (const Part& p : parts_) {
    std::optional<std::string_view> value;
    if (p.segment == 0) {
      out += p.literal;
      continue;
    }
    if (p.segment == -1)
      value = path;
    else if (p.segment == -2)
      value = find_query_param(query, p.literal);
    else
      value = path_segment(path, p.segment);
    if (!value || value->find('*') != std::string_view::npos) return std::nullopt;
    out += *value;
  }
  return out;
}

}  // namespace sluice::cache
